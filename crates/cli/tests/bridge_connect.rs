//! `mcp-http bridge URL`: a stdio client (ours, speaking over the bridge process's stdin and
//! stdout) relayed to `mcp-http serve` (BR-13, BR-14): calls, progress, logs, sampling and
//! elicitation round trips, and the upstream killed and restarted on the same port, which
//! the stdio client notices as one failed call at most.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_support;

use std::sync::{Arc, Mutex};

use bridge_support::*;
use serde_json::json;

#[tokio::test]
async fn a_stdio_client_reaches_a_remote_server_through_the_bridge() {
    let port = free_port();
    let mut upstream = serve_on(port, &[]).await;
    let mut bridge = tokio::process::Command::new(BIN);
    bridge
        .args([
            "bridge",
            &format!("http://127.0.0.1:{port}/mcp"),
            "--ping-interval",
            "0.5",
        ])
        .args(["--header", "X-Bridge-Test: ${PATH}"]);
    let transport = mcp_http_transport::stdio::child(bridge).unwrap();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let client = client_builder("stdio", logs.clone())
        .connect(transport)
        .await
        .unwrap();
    assert_eq!(client.server_info().unwrap().name, "mcp-http");
    assert_eq!(
        text(
            &client
                .call_tool("echo", json!({"message": "hi"}))
                .await
                .unwrap()
        ),
        "hi"
    );
    progress_logs_sampling_and_elicitation(&client, &logs, "stdio").await;

    // The upstream is killed and started again on the same port: its sessions are gone, and
    // the bridge's transport starts a new one (replaying the client's initialize) by itself.
    upstream.kill().unwrap();
    upstream.wait().unwrap();
    let mut failures = 0;
    if client
        .call_tool("echo", json!({"message": "while down"}))
        .await
        .is_err()
    {
        failures += 1;
    }
    let mut upstream = serve_on(port, &[]).await;
    for i in 0..5 {
        match client
            .call_tool("echo", json!({"message": format!("after {i}")}))
            .await
        {
            Ok(r) => assert_eq!(text(&r), format!("after {i}")),
            Err(_) => failures += 1,
        }
    }
    assert!(failures <= 1, "{failures} calls failed across the restart");
    let sampled = client
        .call_tool("sample_llm", json!({"prompt": "again"}))
        .await
        .unwrap();
    assert_eq!(text(&sampled), "LLM response: stdio");
    client.shutdown().await;
    upstream.kill().unwrap();
    upstream.wait().unwrap();
}

/// `--ignore-tool` (BR-21): the hidden tools are not listed, and calling one is refused as an
/// unknown tool; the others work as before.
#[tokio::test]
async fn ignored_tools_are_neither_listed_nor_callable() {
    let port = free_port();
    let mut upstream = serve_on(port, &[]).await;
    let mut bridge = tokio::process::Command::new(BIN);
    bridge.args([
        "bridge",
        &format!("http://127.0.0.1:{port}/mcp"),
        "--ignore-tool",
        "test_*",
        "--ignore-tool",
        "add",
    ]);
    let transport = mcp_http_transport::stdio::child(bridge).unwrap();
    let client = client_builder("stdio", Arc::new(Mutex::new(Vec::new())))
        .connect(transport)
        .await
        .unwrap();
    let names: Vec<String> = client
        .list_tools(None)
        .await
        .unwrap()
        .tools
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert!(names.iter().any(|n| n == "echo"), "{names:?}");
    assert!(
        names.iter().any(|n| n == "long_running_operation"),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n == "add" || n.starts_with("test_")),
        "{names:?}"
    );
    let refused = client
        .call_tool("add", json!({"a": 1, "b": 2}))
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("unknown tool: add"), "{refused}");
    assert_eq!(
        text(
            &client
                .call_tool("echo", json!({"message": "still here"}))
                .await
                .unwrap()
        ),
        "still here"
    );
    client.shutdown().await;
    upstream.kill().unwrap();
    upstream.wait().unwrap();
}
