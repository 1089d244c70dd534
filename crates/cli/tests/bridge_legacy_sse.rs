//! `mcp-http bridge URL` in front of a 2024-11-05 HTTP+SSE server (the official Python SDK's,
//! interop/python/sse_server.py; BR-17): the bridge's transport falls back after the refused
//! initialize POST, and a stdio client (ours, over the bridge process's stdin and stdout) gets
//! calls, progress, logs and a sampling round trip relayed over the one event stream.
//!
//! Needs the Python SDK installed by scripts/peers.sh: `PEERS_PY=... cargo test -p mcp-http
//! --features interop --test bridge_legacy_sse` (scripts/interop.sh does this).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_support;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_support::*;
use serde_json::json;

struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_stdio_client_reaches_a_2024_11_05_sse_server_through_the_bridge() {
    let python = std::env::var("PEERS_PY")
        .expect("PEERS_PY must name the Python of scripts/peers.sh (run via scripts/interop.sh)");
    let port = free_port();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../interop/python/sse_server.py"
    );
    let mut peer = Peer(
        Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .env("PYTHONWARNINGS", "ignore")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Importing the SDK takes seconds on a loaded machine.
    for i in 0..=600 {
        assert!(
            peer.0.try_wait().unwrap().is_none(),
            "the SSE server exited"
        );
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        assert!(i < 600, "the Python SSE server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut bridge = tokio::process::Command::new(BIN);
    bridge.args(["bridge", &format!("http://127.0.0.1:{port}/sse")]);
    let transport = mcp_http_transport::stdio::child(bridge).unwrap();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let client = client_builder("through-the-bridge", logs.clone())
        .connect(transport)
        .await
        .unwrap();
    assert_eq!(client.server_info().unwrap().name, "python-sse-server");
    let echoed = client
        .call_tool("echo", json!({"message": "over sse"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "over sse");

    let (done, steps) = three_steps(&client).await;
    assert!(done.contains("completed"), "{done}");
    assert_eq!(steps, [1.0, 2.0, 3.0]);
    assert_eq!(logs.lock().unwrap().len(), 3, "{:?}", logs.lock().unwrap());

    // The server's sampling request travels the event stream, the bridge, and stdio.
    let sampled = client
        .call_tool("sample_llm", json!({"prompt": "hi"}))
        .await
        .unwrap();
    assert_eq!(text(&sampled), "LLM sampling result: through-the-bridge");
    client.shutdown().await;
}
