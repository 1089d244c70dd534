//! Stateless requests whose router and peer are made only when needed (PF-52, PF-53), in both
//! stateless eras (a legacy stateless server answering in JSON only, and 2026-07-28 requests):
//! a tool that answers at once, waits, logs, reports progress, asks for input or panics is
//! answered as before, and a waiting one whose POST goes away runs on in the legacy era (T-19)
//! and is cancelled in 2026-07-28 (H-5).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use mcp_http_server::{NoArgs, RequestContext, Server, ToolDef};
use mcp_http_server_http::{HttpConfig, ResponseMode};
use serde_json::{Value, json};
use support::*;

/// Tools of every kind; `started` counts the runs of `long` that started, `finished` those
/// that ran to their end, and `dropped` is set when one is dropped where it waits (cancelled).
fn server(
    started: Arc<AtomicUsize>,
    finished: Arc<AtomicUsize>,
    dropped: Arc<AtomicBool>,
) -> Server {
    tools_of_every_kind()
        .tool(ToolDef::new(
            "long",
            "Waits long",
            move |_: NoArgs, _: RequestContext| {
                started.fetch_add(1, Ordering::SeqCst);
                let (finished, dropped) = (finished.clone(), Dropped(dropped.clone()));
                async move {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    std::mem::forget(dropped);
                    finished.fetch_add(1, Ordering::SeqCst);
                    "long"
                }
            },
        ))
        .build()
}

/// A 2026-07-28 `tools/call` of `tool` that names a log level and declares roots.
fn modern_call(id: i64, tool: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": tool, "arguments": {},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"roots": {}},
            "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
            "io.modelcontextprotocol/logLevel": "info",
            "progressToken": id,
        }
    }})
}

/// A legacy stateless `tools/call` (with a progress token).
fn legacy_call(id: i64, tool: &str) -> Value {
    call_with_progress(id, tool, json!({}))
}

async fn send(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    modern: bool,
) -> reqwest::Result<reqwest::Response> {
    let mut request = http
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json");
    let headers = match modern {
        true => modern_headers(body),
        false => vec![("mcp-protocol-version", "2025-11-25".to_owned())],
    };
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.body(body.to_string()).send().await
}

/// The content type and every JSON-RPC message of the answer, in order.
async fn answer(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    modern: bool,
) -> (String, Vec<Value>) {
    let response = send(http, url, body, modern).await.unwrap();
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = response.text().await.unwrap();
    let messages = match kind.as_str() {
        "text/event-stream" => mcp_http_test_support::sse::body_messages(&text),
        _ => vec![serde_json::from_str(&text).unwrap()],
    };
    (kind, messages)
}

fn text_of(message: &Value) -> &str {
    message["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn every_kind_of_tool_answers_as_before_in_both_stateless_eras() {
    let server = server(Arc::default(), Arc::default(), Arc::default());
    let config = HttpConfig::default()
        .stateless(true)
        .response_mode(ResponseMode::Json);
    let legacy = start_with(server.clone(), config).await;
    let modern = start_with(server, HttpConfig::default()).await;
    let http = client();
    let json = "application/json";

    // Legacy, JSON only: the response alone; what the tool sends has no stream to go on.
    let url = legacy.url.as_str();
    for (tool, text) in [
        ("quick", "quick"),
        ("waits", "waited"),
        ("logs", "logged"),
        ("progress", "progressed"),
    ] {
        let (kind, messages) = answer(&http, url, &legacy_call(1, tool), false).await;
        assert_eq!(
            (kind.as_str(), messages.len()),
            (json, 1),
            "{tool}: {messages:?}"
        );
        assert_eq!(text_of(&messages[0]), text, "{tool}");
        assert_eq!(messages[0]["id"], 1);
    }
    let (_, asks) = answer(&http, url, &legacy_call(2, "asks"), false).await;
    assert_eq!(asks[0]["result"]["isError"], true, "{asks:?}");
    assert!(
        text_of(&asks[0]).contains("no stream to send a server-to-client request on"),
        "{asks:?}"
    );
    let (_, panics) = answer(&http, url, &legacy_call(3, "panics"), false).await;
    assert_eq!(panics[0]["error"]["code"], -32603, "{panics:?}");

    // 2026-07-28: what the tool sends comes first, on the request's stream.
    let url = modern.url.as_str();
    for (tool, text) in [("quick", "quick"), ("waits", "waited")] {
        let (kind, messages) = answer(&http, url, &modern_call(4, tool), true).await;
        assert_eq!(
            (kind.as_str(), messages.len()),
            (json, 1),
            "{tool}: {messages:?}"
        );
        assert_eq!(text_of(&messages[0]), text, "{tool}");
        assert_eq!(messages[0]["result"]["resultType"], "complete", "{tool}");
    }
    let (kind, logs) = answer(&http, url, &modern_call(5, "logs"), true).await;
    assert_eq!(kind, "text/event-stream");
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert_eq!(
        (logs[0]["method"].as_str(), &logs[0]["params"]["data"]),
        (Some("notifications/message"), &json!("note"))
    );
    assert_eq!(text_of(&logs[1]), "logged");
    let (kind, progress) = answer(&http, url, &modern_call(6, "progress"), true).await;
    assert_eq!(kind, "text/event-stream");
    let methods: Vec<_> = progress.iter().map(|m| m["method"].as_str()).collect();
    assert_eq!(
        methods,
        [
            Some("notifications/progress"),
            Some("notifications/progress"),
            None
        ]
    );
    assert_eq!(progress[1]["params"]["progress"], 2.0);
    assert_eq!(text_of(&progress[2]), "progressed");
    let (kind, asks) = answer(&http, url, &modern_call(7, "asks"), true).await;
    assert_eq!(kind, json);
    assert_eq!(
        asks[0]["result"]["resultType"], "input_required",
        "{asks:?}"
    );
    assert!(
        asks[0]["result"]["inputRequests"]["roots-0"].is_object(),
        "{asks:?}"
    );
    let (_, panics) = answer(&http, url, &modern_call(8, "panics"), true).await;
    assert_eq!(panics[0]["error"]["code"], -32603, "{panics:?}");
}

#[tokio::test]
async fn a_waiting_tool_whose_post_goes_away_runs_on_in_legacy_and_is_cancelled_in_modern() {
    for modern in [false, true] {
        let (started, finished, dropped) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let server = server(started.clone(), finished.clone(), dropped.clone());
        let config = match modern {
            true => HttpConfig::default(),
            false => HttpConfig::default()
                .stateless(true)
                .response_mode(ResponseMode::Json),
        };
        let server = start_with(server, config).await;
        let http = client();
        let call = match modern {
            true => modern_call(1, "long"),
            false => legacy_call(1, "long"),
        };
        // The POST goes away while the tool waits (before any answer): once the tool started
        // (on a loaded machine a fixed 50 ms could end the POST before the server had it).
        let posted = {
            let (http, url) = (http.clone(), server.url.clone());
            tokio::spawn(async move { send(&http, &url, &call, modern).await })
        };
        assert!(
            mcp_http_test_support::eventually(|| started.load(Ordering::SeqCst) > 0).await,
            "the tool did not start"
        );
        // A JSON answer's head is the answer: none yet (a stream's head may have come).
        if !modern {
            assert!(!posted.is_finished(), "answered before the tool was done");
        }
        posted.abort();
        drop(posted);
        mcp_http_test_support::eventually(|| {
            finished.load(Ordering::SeqCst) > 0 || dropped.load(Ordering::SeqCst)
        })
        .await;
        match modern {
            // T-19: the request keeps running.
            false => assert_eq!(
                (
                    finished.load(Ordering::SeqCst),
                    dropped.load(Ordering::SeqCst)
                ),
                (1, false)
            ),
            // H-5: closing the stream cancels it.
            true => assert_eq!(
                (
                    finished.load(Ordering::SeqCst),
                    dropped.load(Ordering::SeqCst)
                ),
                (0, true)
            ),
        }
    }
}
