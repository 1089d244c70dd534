//! The official Python SDK's 2024-11-05 HTTP+SSE server (interop/python/sse_server.py) on a
//! free loopback port, for the tests of our client and of `bridge URL` against it. Needs
//! `PEERS_PY`, the Python of scripts/peers.sh (scripts/interop.sh sets it).

#![allow(unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The running server; killed and reaped when dropped.
pub struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts it and waits until it listens; its `/sse` URL.
pub async fn start_python_sse_server() -> (Peer, String) {
    let python = std::env::var("PEERS_PY")
        .expect("PEERS_PY must name the Python of scripts/peers.sh (run via scripts/interop.sh)");
    let port = mcp_http_test_support::ports::free_port();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../interop/python/sse_server.py"
    );
    let child = Command::new(python)
        .arg(script)
        .arg(port.to_string())
        .env("PYTHONWARNINGS", "ignore")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut peer = Peer(child);
    // Importing the SDK takes seconds on a loaded machine.
    for _ in 0..600 {
        if let Some(status) = peer.0.try_wait().unwrap() {
            panic!("the Python SSE server exited with {status}");
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (peer, format!("http://127.0.0.1:{port}/sse"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the Python SSE server did not start on port {port}");
}
