//! `mcp-http bridge URL` in front of a 2024-11-05 HTTP+SSE server (the official Python SDK's,
//! interop/python/sse_server.py; BR-17): the bridge's transport falls back after the refused
//! initialize POST, and a stdio client (ours, over the bridge process's stdin and stdout) gets
//! calls, progress, logs and a sampling round trip relayed over the one event stream.
//!
//! Needs the Python SDK installed by scripts/peers.sh: `PEERS_PY=... cargo test -p mcp-http
//! --features interop --test bridge_legacy_sse` (scripts/interop.sh does this).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_support;
mod python_sse;

use std::sync::{Arc, Mutex};

use bridge_support::*;
use python_sse::start_python_sse_server;
use serde_json::json;

#[tokio::test]
async fn a_stdio_client_reaches_a_2024_11_05_sse_server_through_the_bridge() {
    let (_peer, url) = start_python_sse_server().await;

    let mut bridge = tokio::process::Command::new(BIN);
    bridge.args(["bridge", &url]);
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
