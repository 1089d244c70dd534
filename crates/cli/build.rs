//! Links the release `mcp-http` binary with the code a quick call runs first and together in
//! `.text` (PF-115): `hot-path.ld` lists the sections it is in, in order, and
//! `scripts/hot-order.sh` makes it again from callgrind runs of the four modes.
//!
//! A quick call on a server that idles between calls runs on cold caches; spread over the
//! binary's 17 MB of code it touches ~190 distinct 4 KiB pages, the raw hyper floor ~93; with
//! these first, ~70 (BENCHMARKS.md, "code pages"). Only for the release binary of an
//! x86_64 Linux GNU target linked by rustc's default linker (the script's `INSERT` is LLD's and
//! GNU ld's syntax); `MCP_HTTP_NO_HOT_ORDER=1` leaves the default layout. A section the list
//! names that the build does not have (another compiler, changed code) is not moved: the binary
//! is the same, only laid out as by default.

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=hot-path.ld");
    println!("cargo:rerun-if-env-changed=MCP_HTTP_NO_HOT_ORDER");
    println!("cargo:rerun-if-env-changed=MCP_HTTP_LINK_MAP");
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    let linux_gnu = env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    // A linker configured by the user (mold, for one) may not read linker scripts.
    let own_linker = env::var_os("RUSTC_LINKER").is_some()
        || env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|f| f.contains("linker"));
    let off = env::var_os("MCP_HTTP_NO_HOT_ORDER").is_some_and(|v| !v.is_empty() && v != "0");
    let Ok(dir) = env::var("CARGO_MANIFEST_DIR") else {
        return;
    };
    let script = Path::new(&dir).join("hot-path.ld");
    let path = script.to_string_lossy();
    // `-Wl,` splits its argument at commas.
    if release && linux_gnu && !own_linker && !off && script.is_file() && !path.contains(',') {
        println!("cargo:rustc-link-arg-bin=mcp-http=-Wl,-T,{path}");
        // scripts/hot-order.sh reads the sections' names from the link map.
        if let Some(map) = env::var("MCP_HTTP_LINK_MAP")
            .ok()
            .filter(|m| !m.contains(','))
        {
            println!("cargo:rustc-link-arg-bin=mcp-http=-Wl,-Map,{map}");
        }
    }
}
