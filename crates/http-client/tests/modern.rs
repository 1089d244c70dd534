//! Our client in the 2026-07-28 era, against a scripted modern server on loopback (axum) and
//! against our own legacy server: what a user of `Client` sees (the era found, results, errors)
//! and what the server received (the `_meta` envelope, the headers, the MRTR retry, no session,
//! no `notifications/cancelled`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures::StreamExt;
use mcp_http_client::proto::{ElicitResult, SubscriptionFilter};
use mcp_http_client::{Client, Era, ListenEvent, RequestError, RequestOptions};
use mcp_http_client_http::StreamableHttpClient;
use mcp_http_server_http::HttpConfig;
use mcp_http_test_support::server::{TestServer, tools};
use mcp_http_test_support::text;
use serde_json::{Value, json};

const LIMIT: Duration = Duration::from_secs(30);

async fn within<T>(what: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, what)
        .await
        .expect("the test did not finish in time")
}

/// What the scripted server saw and how it is doing.
#[derive(Default)]
struct Mock {
    /// Each POST: its headers and body.
    seen: Mutex<Vec<(HeaderMap, Value)>>,
    /// Set when the body of a `slow` answer was dropped (the client closed the stream).
    slow_closed: AtomicBool,
    /// When set, the first listen stream breaks right after its acknowledgement.
    break_first_listen: AtomicBool,
    /// Set once `fussy` refused a call with -32020.
    fussy_refused: AtomicBool,
}

impl Mock {
    fn calls(&self, method: &str) -> Vec<(HeaderMap, Value)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, b)| b["method"] == method)
            .cloned()
            .collect()
    }
}

/// The state a retried `greet` must echo, byte for byte.
const STATE: &str = "opaque \"state\" é \\ 1";

fn json_answer(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn sse_answer(body: Body) -> Response {
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(body)
        .unwrap()
}

/// Signals when dropped: the server's side of a stream the client closed.
struct OnDrop(Arc<Mock>);
impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.slow_closed.store(true, Ordering::SeqCst);
    }
}

async fn handle(State(mock): State<Arc<Mock>>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    mock.seen
        .lock()
        .unwrap()
        .push((headers.clone(), body.clone()));
    let id = body["id"].clone();
    let ok = |result: Value| {
        json_answer(
            StatusCode::OK,
            json!({"jsonrpc": "2.0", "id": id, "result": result}),
        )
    };
    if headers.get("mcp-protocol-version").is_none() {
        return json_answer(
            StatusCode::BAD_REQUEST,
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32020, "message": "no version header"}}),
        );
    }
    match body["method"].as_str().unwrap_or_default() {
        "server/discover" => ok(json!({
            "resultType": "complete", "ttlMs": 0, "cacheScope": "private",
            "supportedVersions": ["2026-07-28"],
            "capabilities": {"tools": {"listChanged": true}},
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "scripted", "version": "1"}}
        })),
        "tools/list" => ok(json!({"resultType": "complete", "tools": [
            {"name": "greet", "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"}}}},
            {"name": "bad", "inputSchema": {"type": "object", "properties": {
                "v": {"type": "number", "x-mcp-header": "V"}}}}
        ]})),
        "tools/call" => match body["params"]["name"].as_str().unwrap_or_default() {
            "greet" if body["params"].get("inputResponses").is_none() => ok(json!({
                "resultType": "input_required",
                "inputRequests": {"who": {"method": "elicitation/create", "params": {
                    "mode": "form", "message": "Name?",
                    "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}}}},
                "requestState": STATE
            })),
            "greet" => {
                let name = &body["params"]["inputResponses"]["who"]["content"]["name"];
                let state_ok = body["params"]["requestState"] == STATE;
                ok(json!({"resultType": "complete", "content": [
                    {"type": "text", "text": format!("hello {} (state echoed: {state_ok})", name.as_str().unwrap_or("?"))}]}))
            }
            "weird" => ok(json!({"resultType": "future_kind", "content": []})),
            "needy" => ok(json!({"resultType": "input_required", "requestState": "again"})),
            "fussy" if !mock.fussy_refused.swap(true, Ordering::SeqCst) => json_answer(
                StatusCode::BAD_REQUEST,
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32020, "message": "header mismatch"}}),
            ),
            "slow" => {
                let guard = OnDrop(mock.clone());
                let stream = futures::stream::once(async {
                    Ok::<_, std::io::Error>(Bytes::from(": open\n\n"))
                })
                .chain(futures::stream::pending())
                .map(move |item| {
                    let _keep = &guard;
                    item
                });
                sse_answer(Body::from_stream(stream))
            }
            other => ok(json!({"content": [{"type": "text", "text": other}]})),
        },
        "subscriptions/listen" => {
            let tag = json!({"io.modelcontextprotocol/subscriptionId": id});
            let events = [
                json!({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
                       "params": {"_meta": tag, "notifications": {"toolsListChanged": true}}}),
                json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed",
                       "params": {"_meta": tag}}),
                json!({"jsonrpc": "2.0", "id": id, "result": {"resultType": "complete", "_meta": tag}}),
            ];
            let keep = if mock.break_first_listen.swap(false, Ordering::SeqCst) {
                1 // an abrupt close: no notification, no final result
            } else {
                events.len()
            };
            let text: String = events[..keep]
                .iter()
                .map(|e| format!("data: {e}\n\n"))
                .collect();
            sse_answer(Body::from(text))
        }
        other => json_answer(
            StatusCode::NOT_FOUND,
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": format!("no {other}")}}),
        ),
    }
}

/// The scripted modern server on a loopback port: its URL and what it saw.
async fn scripted() -> (String, Arc<Mock>) {
    let mock = Arc::new(Mock::default());
    let app = axum::Router::new()
        .route("/mcp", axum::routing::post(handle))
        .with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, mock)
}

/// The scripted server and a client connected to it with [`builder`].
async fn connected() -> (String, Arc<Mock>, Client) {
    let (url, mock) = scripted().await;
    let client = builder()
        .connect(StreamableHttpClient::new(&url).unwrap())
        .await
        .unwrap();
    (url, mock, client)
}

fn builder() -> mcp_http_client::ClientBuilder {
    Client::builder("modern-test", "1").elicitation(|_params, _ctx| async {
        Ok(ElicitResult::accept(
            json!({"name": "Ada"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        ))
    })
}

#[tokio::test]
async fn a_modern_server_is_found_and_called_without_a_session() {
    within(async {
        let (_, mock, client) = connected().await;
        assert_eq!(client.era(), Era::Modern);
        assert_eq!(client.server_info().unwrap().name, "scripted");
        let result = client.call_tool("other", json!({})).await.unwrap();
        assert_eq!(text(&result), "other");
        assert!(
            mock.calls("initialize").is_empty(),
            "no initialize in the modern era"
        );
        for (headers, body) in mock.seen.lock().unwrap().iter() {
            assert_eq!(headers["mcp-protocol-version"], "2026-07-28");
            assert_eq!(headers["mcp-method"], body["method"].as_str().unwrap());
            assert!(headers.get("mcp-session-id").is_none());
            let meta = &body["params"]["_meta"];
            assert_eq!(
                meta["io.modelcontextprotocol/protocolVersion"],
                "2026-07-28"
            );
            assert_eq!(
                meta["io.modelcontextprotocol/clientInfo"]["name"],
                "modern-test"
            );
            assert!(meta["io.modelcontextprotocol/clientCapabilities"]["elicitation"].is_object());
        }
        let (headers, body) = mock.calls("tools/call").pop().unwrap();
        assert_eq!(headers["mcp-name"], "other");
        // LGm-1: no log callback, no logs asked for.
        assert!(
            body["params"]["_meta"]
                .get("io.modelcontextprotocol/logLevel")
                .is_none()
        );
    })
    .await;
}

#[tokio::test]
async fn a_log_callback_asks_for_logs_and_set_logging_level_changes_the_level() {
    within(async {
        let (url, mock) = scripted().await;
        let client = builder()
            .on_log(|_| {})
            .connect(StreamableHttpClient::new(&url).unwrap())
            .await
            .unwrap();
        let level = |mock: &Mock| {
            let (_, body) = mock.calls("tools/call").pop().unwrap();
            body["params"]["_meta"]["io.modelcontextprotocol/logLevel"].clone()
        };
        client.call_tool("other", json!({})).await.unwrap();
        assert_eq!(level(&mock), "debug");
        client
            .set_logging_level(mcp_http_client::proto::LoggingLevel::Warning)
            .await
            .unwrap();
        client.call_tool("other", json!({})).await.unwrap();
        assert_eq!(level(&mock), "warning");
        assert!(mock.calls("logging/setLevel").is_empty());
    })
    .await;
}

#[tokio::test]
async fn an_input_required_result_is_answered_and_retried() {
    within(async {
        let (_, mock, client) = connected().await;
        let result = client
            .call_tool("greet", json!({"region": "Zürich"}))
            .await
            .unwrap();
        assert_eq!(text(&result), "hello Ada (state echoed: true)");
        let calls = mock.calls("tools/call");
        assert_eq!(calls.len(), 2, "the first try and one retry");
        let (first, retry) = (&calls[0], &calls[1]);
        assert_ne!(first.1["id"], retry.1["id"], "MR-1: a new JSON-RPC id");
        assert!(first.1["params"].get("requestState").is_none());
        assert_eq!(retry.1["params"]["requestState"], STATE);
        assert_eq!(
            retry.1["params"]["inputResponses"]["who"]["action"],
            "accept"
        );
        // H-10, H-9: the annotated argument mirrored, non-ASCII in the base64 sentinel.
        for (headers, _) in &calls {
            assert_eq!(headers["mcp-param-region"], "=?base64?WsO8cmljaA==?=");
        }
        // An unrelated call carries none of it.
        client.call_tool("other", json!({})).await.unwrap();
        let (_, unrelated) = mock.calls("tools/call").pop().unwrap();
        assert!(unrelated["params"].get("inputResponses").is_none());
        assert!(unrelated["params"].get("requestState").is_none());
    })
    .await;
}

#[tokio::test]
async fn tools_with_invalid_header_annotations_are_dropped() {
    within(async {
        let (_, _mock, client) = connected().await;
        let names: Vec<String> = client
            .list_all_tools()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["greet"]);
    })
    .await;
}

#[tokio::test]
async fn a_header_mismatch_lists_the_tools_again_and_retries_once() {
    within(async {
        let (_, mock, client) = connected().await;
        client.list_all_tools().await.unwrap();
        let result = client.call_tool("fussy", json!({})).await.unwrap();
        assert_eq!(text(&result), "fussy");
        let methods: Vec<String> = mock
            .seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b["method"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(
            methods,
            [
                "server/discover",
                "tools/list",
                "tools/call",
                "tools/list",
                "tools/call"
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn input_rounds_are_bounded() {
    within(async {
        let (_, mock, client) = connected().await;
        let error = client.call_tool("needy", json!({})).await.unwrap_err();
        assert!(
            matches!(&error, RequestError::InvalidResponse(m) if m.contains("8 rounds")),
            "{error:?}"
        );
        let needy = mock
            .calls("tools/call")
            .into_iter()
            .filter(|(_, b)| b["params"]["name"] == "needy")
            .count();
        assert_eq!(needy, 9, "the first try and 8 retries");
    })
    .await;
}

#[tokio::test]
async fn an_unknown_result_type_is_an_error() {
    within(async {
        let (_, _mock, client) = connected().await;
        let error = client.call_tool("weird", json!({})).await.unwrap_err();
        assert!(
            matches!(&error, RequestError::InvalidResponse(m) if m.contains("future_kind")),
            "{error:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_timeout_closes_the_stream_and_sends_no_cancellation() {
    within(async {
        let (_, mock, client) = connected().await;
        let options = RequestOptions::default().timeout(Duration::from_millis(300));
        let outcome: Result<Value, _> = client
            .request(
                "tools/call",
                &json!({"name": "slow", "arguments": {}}),
                options,
            )
            .await;
        assert!(
            matches!(outcome, Err(RequestError::Timeout(_))),
            "{outcome:?}"
        );
        assert!(
            mcp_http_test_support::eventually(|| mock.slow_closed.load(Ordering::SeqCst)).await,
            "H-5: the server saw the stream close"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(mock.calls("notifications/cancelled").is_empty());
    })
    .await;
}

#[tokio::test]
async fn listen_yields_the_acknowledgement_then_the_notifications() {
    within(async {
        let (_, mock, client) = connected().await;
        let filter = SubscriptionFilter::default().with_tools_list_changed(true);
        let events: Vec<_> = client.listen(filter).unwrap().collect().await;
        assert_eq!(events.len(), 2, "{events:?}");
        match &events[0] {
            Ok(ListenEvent::Acknowledged(f)) => assert_eq!(f.tools_list_changed, Some(true)),
            other => panic!("not an acknowledgement: {other:?}"),
        }
        match &events[1] {
            Ok(ListenEvent::Notification(n)) => {
                assert_eq!(n.method, "notifications/tools/list_changed")
            }
            other => panic!("not a notification: {other:?}"),
        }
        let (_, request) = mock.calls("subscriptions/listen").pop().unwrap();
        assert_eq!(request["params"]["notifications"]["toolsListChanged"], true);
    })
    .await;
}

#[tokio::test]
async fn listen_listens_again_after_an_abrupt_close() {
    within(async {
        let (url, mock) = scripted().await;
        mock.break_first_listen.store(true, Ordering::SeqCst);
        let client = builder()
            .connect(StreamableHttpClient::new(&url).unwrap())
            .await
            .unwrap();
        let filter = SubscriptionFilter::default().with_tools_list_changed(true);
        let events: Vec<_> = client.listen(filter).unwrap().collect().await;
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| match e {
                Ok(ListenEvent::Acknowledged(_)) => "ack",
                Ok(ListenEvent::Notification(_)) => "notification",
                _ => "other",
            })
            .collect();
        // The broken stream's acknowledgement may or may not come first (it travels apart from
        // the failure); the new listen's does, then its notification.
        assert!(kinds.ends_with(&["ack", "notification"]), "{events:?}");
        assert!(!kinds.contains(&"other"), "{events:?}");
        assert_eq!(mock.calls("subscriptions/listen").len(), 2);
    })
    .await;
}

#[tokio::test]
async fn our_server_is_found_modern_by_default() {
    within(async {
        let server = TestServer::start(tools(), HttpConfig::default()).await;
        let client = Client::builder("modern-test", "1")
            .connect(StreamableHttpClient::new(&server.url).unwrap())
            .await
            .unwrap();
        assert_eq!(client.era(), Era::Modern);
        assert_eq!(client.protocol_version().as_str(), "2026-07-28");
        let result = client
            .call_tool("echo", json!({"message": "hi"}))
            .await
            .unwrap();
        assert_eq!(text(&result), "hi");
        assert_eq!(server.session_count(), 0, "no session in 2026-07-28");
    })
    .await;
}

#[tokio::test]
async fn a_legacy_server_gets_initialize_after_the_probe() {
    within(async {
        // Our server with the 2026-07-28 era turned off: a legacy-only server.
        let config = HttpConfig::default().eras(mcp_http_server_http::Eras::Legacy);
        let server = TestServer::start(tools(), config).await;
        let client = Client::builder("modern-test", "1")
            .connect(StreamableHttpClient::new(&server.url).unwrap())
            .await
            .unwrap();
        assert_eq!(client.era(), Era::Legacy);
        let result = client
            .call_tool("echo", json!({"message": "hi"}))
            .await
            .unwrap();
        assert_eq!(text(&result), "hi");
        // Pinned to the modern era, the same server is an error, not a fallback.
        let error = Client::builder("modern-test", "1")
            .era(Era::Modern)
            .connect(StreamableHttpClient::new(&server.url).unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(error, RequestError::InvalidResponse(_)),
            "{error:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_refused_connection_is_an_error_not_a_legacy_server() {
    within(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        drop(listener);
        let error = Client::builder("modern-test", "1")
            .connect(StreamableHttpClient::new(&url).unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(&error, RequestError::Transport(e) if e.is_connect()),
            "{error:?}"
        );
    })
    .await;
}
