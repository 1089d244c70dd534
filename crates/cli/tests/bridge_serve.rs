//! `mcp-http bridge --port P -- CMD`: our own server over stdio (`mcp-http serve --stdio`)
//! behind the real bridge process, driven by our HTTP client. What passes both ways (BR-1,
//! BR-3), how a shared child keeps sessions apart (BR-2), what a child per session isolates
//! and when it goes (BR-4, BR-5), named servers and the health endpoint (BR-9, BR-10).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_support::*;
use mcp_http_core::RequestOptions;
use mcp_http_proto::LoggingLevel;
use serde_json::json;

fn serve_stdio() -> Vec<&'static str> {
    vec!["--", BIN, "serve", "--stdio"]
}

/// Progress under each client's own token (multiplexed on one child), each session's log
/// level its own, sampling and elicitation answered by the one client waiting.
#[tokio::test]
async fn a_shared_child_keeps_sessions_apart() {
    let bridge = Bridged::start(&serve_stdio()).await;
    let url = bridge.url("/mcp");
    let (logs_a, logs_b) = (
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(Mutex::new(Vec::new())),
    );
    let a = client(&url, "alice", logs_a.clone()).await;
    let b = client(&url, "bob", logs_b.clone()).await;
    assert_eq!(children(bridge.pid()).len(), 1, "one shared child");
    assert_eq!(a.server_info().unwrap().name, "mcp-http");
    a.set_logging_level(LoggingLevel::Error).await.unwrap();
    b.set_logging_level(LoggingLevel::Debug).await.unwrap();

    let progress = |seen: Arc<Mutex<Vec<f64>>>| {
        RequestOptions::default().on_progress(move |p| seen.lock().unwrap().push(p.progress))
    };
    let (seen_a, seen_b) = (
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(Mutex::new(Vec::new())),
    );
    let args_a = json!({"duration": 0.4, "steps": 4});
    let args_b = json!({"duration": 0.6, "steps": 6});
    let (ra, rb) = tokio::join!(
        a.call_tool_with("long_running_operation", &args_a, progress(seen_a.clone())),
        b.call_tool_with("long_running_operation", &args_b, progress(seen_b.clone())),
    );
    assert!(text(&ra.unwrap()).contains("4 steps"));
    assert!(text(&rb.unwrap()).contains("6 steps"));
    assert_eq!(*seen_a.lock().unwrap(), [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(*seen_b.lock().unwrap(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    // The child logs each step at info, for the session-wide log of the one child: bob
    // (debug) gets the steps of both calls, alice (error) none. Alice's steps reach bob on his
    // GET stream, which his own call's answer does not wait for: they may come after it.
    eventually(
        Duration::from_secs(5),
        "bob got the steps of both calls",
        || logs_b.lock().unwrap().len() >= 10,
    )
    .await;
    let (got_a, got_b) = (
        logs_a.lock().unwrap().clone(),
        logs_b.lock().unwrap().clone(),
    );
    assert_eq!(got_b.len(), 10, "{got_b:?}");
    assert!(got_b.iter().any(|l| l.contains("step 6 of 6")), "{got_b:?}");
    assert!(got_a.is_empty(), "{got_a:?}");

    // One session waiting: the child's requests reach that session's client.
    let sampled = a
        .call_tool("sample_llm", json!({"prompt": "hi"}))
        .await
        .unwrap();
    assert_eq!(text(&sampled), "LLM response: alice");
    let elicited = b
        .call_tool("ask_user", json!({"message": "name?"}))
        .await
        .unwrap();
    assert!(text(&elicited).contains("bob"), "{}", text(&elicited));
    a.shutdown().await;
    b.shutdown().await;
    assert_eq!(
        children(bridge.pid()).len(),
        1,
        "the shared child outlives its sessions"
    );
}

/// A child per session: each client's requests go to its own child (so the child's requests
/// come back to the right client even when calls overlap), and a session's end stops its child.
#[tokio::test]
async fn a_child_per_session_is_isolated_and_ends_with_its_session() {
    let mut args = vec!["--child-per-session"];
    args.extend(serve_stdio());
    let bridge = Bridged::start(&args).await;
    let url = bridge.url("/mcp");
    let none = Arc::new(Mutex::new(Vec::new()));
    let a = client(&url, "alice", none.clone()).await;
    let b = client(&url, "bob", none.clone()).await;
    assert_eq!(children(bridge.pid()).len(), 2, "a child per session");
    let (ra, rb) = tokio::join!(
        a.call_tool("sample_llm", json!({"prompt": "a"})),
        b.call_tool("sample_llm", json!({"prompt": "b"})),
    );
    assert_eq!(text(&ra.unwrap()), "LLM response: alice");
    assert_eq!(text(&rb.unwrap()), "LLM response: bob");
    // Subscriptions pass through: the child's update reaches the subscribed session.
    let updates = Arc::new(Mutex::new(Vec::new()));
    let seen = updates.clone();
    let c = mcp_http_client::Client::builder("carol", "1")
        .on_notification(move |n| seen.lock().unwrap().push(n.method.clone()))
        .connect(mcp_http_client_http::StreamableHttpClient::new(&url).unwrap())
        .await
        .unwrap();
    c.subscribe("test://static-text").await.unwrap();
    c.call_tool("update_resource", json!({"uri": "test://static-text"}))
        .await
        .unwrap();
    eventually(Duration::from_secs(5), "the update arrives", || {
        updates
            .lock()
            .unwrap()
            .iter()
            .any(|m| m == "notifications/resources/updated")
    })
    .await;
    assert_eq!(children(bridge.pid()).len(), 3);
    a.shutdown().await;
    eventually(Duration::from_secs(5), "alice's child stopped", || {
        children(bridge.pid()).len() == 2
    })
    .await;
    b.shutdown().await;
    c.shutdown().await;
    eventually(Duration::from_secs(5), "every child stopped", || {
        children(bridge.pid()).is_empty()
    })
    .await;
    all_reaped(bridge.pid()).await;
}

/// Named servers from an mcpServers file, each at /servers/NAME/mcp with its env and cwd; one
/// that cannot start gives its clients a clear error and leaves the others serving (the
/// complaint of mcp-proxy #198); /health says which is up.
#[tokio::test]
async fn named_servers_from_a_file_and_the_health_endpoint() {
    let dir = std::env::temp_dir().join(format!("bridge-named-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("servers.json");
    let config = json!({"mcpServers": {
        "builtin": {"command": BIN, "args": ["serve", "--stdio"]},
        "report": {"command": "python3", "args": [fixture(), "well"],
                   "env": {"BRIDGE_TEST": "from-env"}, "cwd": dir.to_str().unwrap()},
        "broken": {"command": "/nonexistent/mcp-server"}
    }});
    std::fs::write(&file, config.to_string()).unwrap();
    let bridge = Bridged::start(&["--config", file.to_str().unwrap()]).await;
    let none = Arc::new(Mutex::new(Vec::new()));
    let builtin = client(&bridge.url("/servers/builtin/mcp"), "a", none.clone()).await;
    let echoed = builtin
        .call_tool("echo", json!({"message": "hi"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "hi");
    let report = client(&bridge.url("/servers/report/mcp"), "b", none.clone()).await;
    let reported = report.call_tool("report", json!({})).await.unwrap();
    let canonical = std::fs::canonicalize(&dir).unwrap();
    assert_eq!(text(&reported), format!("from-env {}", canonical.display()));

    let refused = mcp_http_client::Client::builder("c", "1")
        .connect(
            mcp_http_client_http::StreamableHttpClient::new(&bridge.url("/servers/broken/mcp"))
                .unwrap(),
        )
        .await;
    let Err(error) = refused else {
        panic!("the broken server cannot be initialized");
    };
    let message = error.to_string();
    assert!(
        message.contains("broken") && message.contains("could not be started"),
        "{message}"
    );

    let health = reqwest::get(bridge.url("/health"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(
        health["servers"]["/servers/builtin/mcp"]["state"]["ready"],
        true
    );
    assert_eq!(
        health["servers"]["/servers/broken/mcp"]["state"]["ready"],
        false
    );
    // The others still serve after the broken one failed.
    assert_eq!(
        text(
            &builtin
                .call_tool("echo", json!({"message": "again"}))
                .await
                .unwrap()
        ),
        "again"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The serve flags apply on the bridge's endpoint: a foreign Origin is refused with 403
/// unless allowed, CORS exposes Mcp-Session-Id, and an unknown session gets 404.
#[tokio::test]
async fn the_security_flags_and_404_for_unknown_sessions() {
    let mut args = vec!["--allowed-origin", "https://app.example", "--cors"];
    args.extend(serve_stdio());
    let bridge = Bridged::start(&args).await;
    let http = reqwest::Client::new();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}}});
    let post = |origin: &'static str| {
        let request = http
            .post(bridge.url("/mcp"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("origin", origin)
            .body(init.to_string());
        request.send()
    };
    assert_eq!(post("https://evil.example").await.unwrap().status(), 403);
    let ok = post("https://app.example").await.unwrap();
    assert_eq!(ok.status(), 200);
    let exposed = ok.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(
        exposed.split(',').any(|h| h.trim() == "mcp-session-id"),
        "{exposed}"
    );
    let answer: serde_json::Value = serde_json::from_str(&ok.text().await.unwrap()).unwrap();
    // The client asked for 2025-06-18: the shared child's handshake is answered in it.
    assert_eq!(answer["result"]["protocolVersion"], "2025-06-18");
    let unknown = http
        .post(bridge.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", "0123456789abcdef")
        .header("mcp-protocol-version", "2025-06-18")
        .body(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

/// `--stateless`: no sessions, every POST relayed to the shared child on its own.
#[tokio::test]
async fn stateless_posts_are_relayed_to_the_shared_child() {
    let mut args = vec!["--stateless"];
    args.extend(serve_stdio());
    let bridge = Bridged::start(&args).await;
    let http = reqwest::Client::new();
    for id in 1..=3 {
        let call = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"message": format!("call {id}")}}});
        let answer = http
            .post(bridge.url("/mcp"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .body(call.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        assert!(answer.headers().get("mcp-session-id").is_none());
        let body = answer.text().await.unwrap();
        assert!(body.contains(&format!("call {id}")), "{body}");
    }
    assert_eq!(
        children(bridge.pid()).len(),
        1,
        "one child for every stateless POST"
    );
}
