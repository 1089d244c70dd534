//! The 2024-11-05 HTTP+SSE transport served by `mcp-http serve --legacy-sse` and `mcp-http
//! bridge --legacy-sse` (BR-33, BR-34, BR-35, T-48): our own client's fallback (T-49) gets
//! calls, progress, logs, sampling and elicitation over the one stream; a session per stream,
//! ended with its connection (and its child with `--child-per-session`, no zombie); and bad
//! input gets the right status.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_support;

use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_support::*;
use mcp_http_client_http::StreamableHttpClient;
use serde_json::json;

/// `mcp-http serve --legacy-sse ARGS...` on a free port, once it listens.
async fn serve(extra: &[&str]) -> (Child, u16) {
    let mut args = vec!["--legacy-sse"];
    args.extend_from_slice(extra);
    serve_any(&args).await
}

/// What a user checks of a server reached over the old transport: calls, progress, logs, and
/// the server's sampling and elicitation requests answered by this client.
async fn exercise(url: &str, name: &str) {
    let logs = Arc::new(Mutex::new(Vec::new()));
    let client = client_builder(name, logs.clone())
        .connect(StreamableHttpClient::new(url).unwrap())
        .await
        .unwrap();
    assert_eq!(client.server_info().unwrap().name, "mcp-http");
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "echo"), "{tools:?}");
    let echoed = client
        .call_tool("echo", json!({"message": "over sse"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "over sse");
    progress_logs_sampling_and_elicitation(&client, &logs, name).await;
    client.shutdown().await;
}

/// BR-33, T-49: our client, given the SSE URL, has its initialize POST refused (405), falls
/// back to the old transport, and gets everything over the one stream.
#[tokio::test]
async fn our_client_falls_back_to_the_served_legacy_transport() {
    let (mut server, port) = serve(&[]).await;
    exercise(&format!("http://127.0.0.1:{port}/sse"), "old-client").await;
    // The Streamable HTTP endpoint is still there beside it.
    exercise(&format!("http://127.0.0.1:{port}/mcp"), "new-client").await;
    server.kill().unwrap();
    server.wait().unwrap();
}

/// BR-34: the bridge serves its stdio child over the old transport too; with
/// `--child-per-session` each stream's session has a child of its own, stopped (and reaped)
/// when the stream's connection closes.
#[tokio::test]
async fn the_bridge_serves_the_legacy_transport_and_a_closed_stream_stops_its_child() {
    let bridge = Bridged::start(&[
        "--legacy-sse",
        "--child-per-session",
        "--",
        BIN,
        "serve",
        "--stdio",
    ])
    .await;
    exercise(&bridge.url("/sse"), "bridged").await;
    eventually(Duration::from_secs(10), "the session's child stops", || {
        children(bridge.pid()).is_empty()
    })
    .await;
    all_reaped(bridge.pid()).await;

    // A raw stream, closed by its client without a word: the session ends all the same.
    let http = reqwest::Client::new();
    let (stream, endpoint) = open(&http, &bridge.url("/sse")).await;
    let post = bridge.url(&endpoint);
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"}}});
    let accepted = post_body(&post, JSON, None, init.to_string()).await;
    assert_eq!(accepted.status(), 202);
    eventually(Duration::from_secs(10), "a child for the session", || {
        children(bridge.pid()).len() == 1
    })
    .await;
    drop(stream);
    eventually(
        Duration::from_secs(10),
        "the closed stream's child stops",
        || children(bridge.pid()).is_empty(),
    )
    .await;
    all_reaped(bridge.pid()).await;
    let gone = post_body(&post, JSON, None, init.to_string()).await;
    assert_eq!(gone.status(), 404, "the session ended with its stream");
}

/// Opens a stream: the response (kept open) and the address of its `endpoint` event.
async fn open(http: &reqwest::Client, url: &str) -> (reqwest::Response, String) {
    let mut response = http
        .get(url)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), response.chunk())
            .await
            .expect("the endpoint event within 5 s")
            .unwrap()
            .expect("the stream ended before the endpoint event");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("event: endpoint"), "{text}");
    let endpoint = lines.next().unwrap().strip_prefix("data: ").unwrap();
    assert!(endpoint.starts_with("/messages?sessionId="), "{endpoint}");
    (response, endpoint.to_owned())
}

/// The next `message` event's JSON on an open stream (within 5 s).
async fn next_message(stream: &mut reqwest::Response) -> serde_json::Value {
    let mut text = String::new();
    loop {
        if let Some(event) = text.split("\n\n").find(|e| e.starts_with("event: message")) {
            let data = event
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap();
            return serde_json::from_str(data).unwrap();
        }
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .expect("the stream ended");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// POSTs `body` to `url` as `content_type` (and from `origin`, when given).
async fn post_body(
    url: &str,
    content_type: &str,
    origin: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.body(body).send().await.unwrap()
}

const JSON: &str = "application/json";

/// BR-35: what the old transport refuses, and with what.
#[tokio::test]
async fn bad_input_on_the_legacy_transport_gets_clear_refusals() {
    let (mut server, port) = serve(&["--max-body-bytes", "2000"]).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});

    // A POST before any GET, or naming a session that never was: 404.
    let unknown = post_body(
        &format!("{base}/messages?sessionId=0123456789abcdef"),
        JSON,
        None,
        note.to_string(),
    )
    .await;
    assert_eq!(unknown.status(), 404);
    // No sessionId at all: 400, with a JSON-RPC error saying so.
    let missing = post_body(&format!("{base}/messages"), JSON, None, note.to_string()).await;
    assert_eq!(missing.status(), 400);
    let body: serde_json::Value = serde_json::from_str(&missing.text().await.unwrap()).unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sessionId"),
        "{body}"
    );

    let (mut stream, endpoint) = open(&http, &format!("{base}/sse")).await;
    let post = format!("{base}{endpoint}");
    // Malformed JSON: 400 with a parse error (-32700), and the session goes on.
    let malformed = post_body(&post, JSON, None, "{not json").await;
    assert_eq!(malformed.status(), 400);
    let body: serde_json::Value = serde_json::from_str(&malformed.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], -32700, "{body}");
    // Not JSON at all by its type: 415.
    let text_plain = post_body(&post, "text/plain", None, "{}").await;
    assert_eq!(text_plain.status(), 415);
    // Over --max-body-bytes: 413.
    let big =
        json!({"jsonrpc": "2.0", "id": 9, "method": "ping", "params": {"pad": "x".repeat(4000)}});
    let too_large = post_body(&post, JSON, None, big.to_string()).await;
    assert_eq!(too_large.status(), 413);
    // A foreign Origin: 403 on both paths.
    let foreign = post_body(&post, JSON, Some("https://evil.example"), note.to_string()).await;
    assert_eq!(foreign.status(), 403);
    let foreign = http
        .get(format!("{base}/sse"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    // Other methods: 405 with what is allowed.
    let delete = http.delete(format!("{base}/sse")).send().await.unwrap();
    assert_eq!(delete.status(), 405);
    assert_eq!(delete.headers()["allow"], "GET");

    // After all that, the session still answers, on its stream.
    let ping = json!({"jsonrpc": "2.0", "id": 7, "method": "ping"});
    let accepted = post_body(&post, JSON, None, ping.to_string()).await;
    assert_eq!(accepted.status(), 202);
    let answer = next_message(&mut stream).await;
    assert_eq!(answer["id"], 7, "{answer}");
    assert!(answer.get("result").is_some(), "{answer}");

    // Its stream closed by the client, the session is gone.
    drop(stream);
    let mut gone = 0;
    for _ in 0..50 {
        let answered = post_body(&post, JSON, None, ping.to_string()).await;
        if answered.status() == 404 {
            gone += 1;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(gone, 1, "the session did not end with its stream");
    server.kill().unwrap();
    server.wait().unwrap();
}
