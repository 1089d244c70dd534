//! Our client against a real 2024-11-05 HTTP+SSE server (the official Python SDK's, from
//! interop/python/sse_server.py): the fallback after the refused initialize POST (T-49), then
//! calls, progress, logs and a sampling round trip over the one event stream.
//!
//! Needs the Python SDK installed by scripts/peers.sh: `PEERS_PY=... cargo test -p mcp-http
//! --features interop --test peer_legacy_sse` (scripts/test.sh does this).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

mod python_sse;

use mcp_http_client::{Client, RequestOptions};
use mcp_http_client_http::StreamableHttpClient;
use mcp_http_proto::CreateMessageResult;
use mcp_http_test_support::text;
use python_sse::start_python_sse_server;
use serde_json::json;

#[tokio::test]
async fn falls_back_to_the_2024_11_05_transport() {
    let (_peer, url) = start_python_sse_server().await;
    let logs = Arc::new(Mutex::new(Vec::new()));
    let seen = logs.clone();
    let client = Client::builder("legacy-sse", "1.0")
        .on_log(move |l| seen.lock().unwrap().push(l.data.to_string()))
        .sampling(|_, _| async {
            Ok(serde_json::from_value::<CreateMessageResult>(json!({
                "role": "assistant", "model": "m",
                "content": {"type": "text", "text": "over the old stream"}}))
            .unwrap())
        })
        .connect(StreamableHttpClient::new(&url).unwrap())
        .await
        .unwrap();
    assert_eq!(client.server_info().unwrap().name, "python-sse-server");
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "echo"), "{tools:?}");
    let echoed = client
        .call_tool("echo", json!({"message": "hello"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "hello");

    let progress = Arc::new(Mutex::new(Vec::new()));
    let steps = progress.clone();
    let options =
        RequestOptions::default().on_progress(move |p| steps.lock().unwrap().push(p.progress));
    let done = client
        .call_tool_with(
            "long_running_operation",
            json!({"duration": 0.3, "steps": 3}),
            options,
        )
        .await
        .unwrap();
    assert!(text(&done).contains("completed"), "{done:?}");
    assert_eq!(*progress.lock().unwrap(), vec![1.0, 2.0, 3.0]);
    assert_eq!(logs.lock().unwrap().len(), 3, "{:?}", logs.lock().unwrap());

    let sampled = client
        .call_tool("sample_llm", json!({"prompt": "hi"}))
        .await
        .unwrap();
    assert_eq!(text(&sampled), "LLM sampling result: over the old stream");
}
