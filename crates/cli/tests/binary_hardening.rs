//! The binary keeps its hardening under PF-98's build flags (`.cargo/config.toml`): position
//! independent, `BIND_NOW`, a GNU_RELRO segment, read by `readelf` (binutils, which the linker
//! comes with).

use std::process::Command;

fn readelf(args: &[&str]) -> Option<String> {
    let output = Command::new("readelf")
        .args(args)
        .arg(env!("CARGO_BIN_EXE_mcp-http"))
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn the_binary_is_pie_bind_now_with_a_relro_segment() {
    let Some(headers) = readelf(&["-h", "-l"]) else {
        panic!("readelf (binutils) is needed to check the binary's hardening");
    };
    assert!(
        headers.contains("DYN (Position-Independent Executable file)")
            || headers.contains("DYN (Shared object file)"),
        "not position independent:\n{headers}"
    );
    assert!(
        headers.contains("GNU_RELRO"),
        "no GNU_RELRO segment:\n{headers}"
    );
    let dynamic = readelf(&["-d"]).unwrap_or_default();
    assert!(
        dynamic.contains("BIND_NOW") || dynamic.contains("Flags: NOW"),
        "not BIND_NOW:\n{dynamic}"
    );
}
