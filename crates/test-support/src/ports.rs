//! Loopback ports for servers a test starts and must name before they listen (a `redis-server`,
//! an nginx upstream, a restart on the same port).
//!
//! A port found by binding port 0 comes from the kernel's ephemeral range, the same range every
//! outgoing connection of every test takes its local port from: between the probe and the server's
//! bind, a busy machine's connections can take it. These ports come from 20000-31999, below the
//! ephemeral range (32768 and up by default), where only other tests' picks can land, and each
//! process starts its walk at a place of its own.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

const FIRST: u32 = 20_000;
const SPAN: u32 = 12_000;

/// Whether nothing listens on loopback `port` now.
pub fn port_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A loopback port free now, outside the ephemeral range; every call of one process returns a
/// different port (until 12,000 calls).
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Spread processes over the span (Knuth's multiplicative hash of the pid).
    let start = std::process::id().wrapping_mul(2_654_435_761) % SPAN;
    for _ in 0..SPAN {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN;
        let port = (FIRST + offset) as u16;
        if port_free(port) {
            return port;
        }
    }
    panic!("no free loopback port in 20000-31999");
}
