//! The 2026-07-28 era on the same endpoint as the legacy sessions, on a real loopback socket:
//! every rung of the validation ladder with its status and code, each edge case of telling the
//! eras apart, `server/discover` and the fields every result carries, per-request logging,
//! `Mcp-Param-*` headers, `subscriptions/listen`, and closing a stream as cancellation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mcp_http_server::{NoArgs, RequestContext, Server, ToolDef};
use mcp_http_server_http::{Eras, HttpConfig};
use serde_json::{Value, json};
use support::*;

const V: &str = "2026-07-28";
const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
    })
}

/// A modern request body: `params` gets the `_meta` envelope unless it has one.
fn body(id: i64, method: &str, mut params: Value) -> Value {
    if params.get("_meta").is_none() {
        params["_meta"] = meta();
    }
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

async fn send(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    headers: &[(&'static str, String)],
) -> reqwest::Response {
    let mut request = http
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.body(body.to_string()).send().await.unwrap()
}

/// Sends a well-formed modern request and returns the status and the JSON-RPC answer (read
/// from JSON or from the SSE stream).
async fn modern(http: &reqwest::Client, url: &str, body: &Value) -> (u16, Value) {
    read_answer(send(http, url, body, &modern_headers(body)).await).await
}

fn code(answer: &Value) -> Option<i64> {
    answer["error"]["code"].as_i64()
}

#[tokio::test]
async fn every_rung_of_the_ladder_has_its_status_and_code() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let list = body(1, "tools/list", json!({}));

    // Envelope: no _meta, or one without the version or the capabilities (M-2).
    for bad_meta in [
        None,
        Some(json!({"io.modelcontextprotocol/clientCapabilities": {}})),
        Some(json!({"io.modelcontextprotocol/protocolVersion": V})),
        Some(json!({"io.modelcontextprotocol/protocolVersion": V,
                    "io.modelcontextprotocol/clientCapabilities": {},
                    "io.modelcontextprotocol/logLevel": "very-loud"})),
    ] {
        let mut b = json!({"jsonrpc": "2.0", "id": 2, "method": "server/discover", "params": {}});
        if let Some(m) = bad_meta {
            b["params"]["_meta"] = m;
        }
        let (status, a) = read_answer(send(&http, url, &b, &modern_headers(&b)).await).await;
        assert_eq!(
            (status, code(&a), a["id"].as_i64()),
            (400, Some(-32602), Some(2)),
            "{a}"
        );
    }
    // Headers: missing, different from the body, different case of the value (H-7, H-8).
    for headers in [
        vec![("mcp-method", "tools/list".to_owned())],
        vec![("mcp-protocol-version", V.to_owned())],
        vec![
            ("mcp-protocol-version", V.to_owned()),
            ("mcp-method", "prompts/list".to_owned()),
        ],
        vec![
            ("mcp-protocol-version", V.to_owned()),
            ("mcp-method", "TOOLS/LIST".to_owned()),
        ],
    ] {
        let (status, a) = read_answer(send(&http, url, &list, &headers).await).await;
        assert_eq!((status, code(&a)), (400, Some(-32020)), "{headers:?}: {a}");
    }
    // A body naming an unknown version behind a 2026-07-28 header: the headers rung first.
    let mut v999 = list.clone();
    v999["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("v999");
    let (status, a) = read_answer(send(&http, url, &v999, &modern_headers(&list)).await).await;
    assert_eq!((status, code(&a)), (400, Some(-32020)), "{a}");
    // Version (M-6): the data names what is supported and echoes what was asked.
    let mut headers = modern_headers(&list);
    headers[0].1 = "v999".into();
    let (status, a) = read_answer(send(&http, url, &v999, &headers).await).await;
    assert_eq!((status, code(&a)), (400, Some(-32022)), "{a}");
    assert_eq!(a["error"]["data"]["supported"], json!([V]));
    assert_eq!(a["error"]["data"]["requested"], "v999");
    // A full envelope naming a legacy version is not a way into a session.
    let mut old = list.clone();
    old["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2025-11-25");
    let mut headers = modern_headers(&list);
    headers[0].1 = "2025-11-25".into();
    let (status, a) = read_answer(send(&http, url, &old, &headers).await).await;
    assert_eq!((status, code(&a)), (400, Some(-32022)), "{a}");
    // Method (H-11): removed and unknown methods are 404 -32601, with the request's id.
    for method in [
        "ping",
        "initialize",
        "logging/setLevel",
        "resources/subscribe",
        "nope/nothing",
    ] {
        let b = body(5, method, json!({}));
        let (status, a) = modern(&http, url, &b).await;
        assert_eq!(
            (status, code(&a), a["id"].as_i64()),
            (404, Some(-32601), Some(5)),
            "{method}"
        );
    }
    // The endpoint still serves both eras.
    let (status, a) = modern(&http, url, &list).await;
    assert_eq!(status, 200);
    assert!(a["result"]["tools"].is_array(), "{a}");
    session(&http, url, "2025-11-25").await;
}

#[tokio::test]
async fn a_modern_request_never_touches_a_legacy_session() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-11-25").await;
    let call = body(
        1,
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "hi"}}),
    );
    for session_id in [sid.as_str(), "stale-or-made-up"] {
        let mut headers = modern_headers(&call);
        headers.push(("mcp-session-id", session_id.to_owned()));
        let response = send(&http, url, &call, &headers).await;
        assert!(
            response.headers().get("mcp-session-id").is_none(),
            "no session minted or echoed"
        );
        let (status, a) = read_answer(response).await;
        assert_eq!(status, 200, "{a}");
        assert_eq!(a["result"]["content"][0]["text"], "hi");
    }
    // The legacy session is as it was, and modern requests created none.
    assert_eq!(server.session_count(), 1);
    let r = post(
        &http,
        url,
        Some(&sid),
        &support::call(2, "echo", json!({"message": "still"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    // `initialize` claiming 2026-07-28 does not open one either.
    let init = body(3, "initialize", init_body("2025-11-25")["params"].clone());
    let (status, a) = modern(&http, url, &init).await;
    assert_eq!((status, code(&a)), (404, Some(-32601)), "{a}");
    assert_eq!(server.session_count(), 1);
}

#[tokio::test]
async fn messages_that_are_not_modern_requests() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let modern_header = vec![("mcp-protocol-version", V.to_owned())];
    // A modern notification is accepted and ignored, a cancellation included (H-3, H-5).
    for method in ["notifications/cancelled", "notifications/whatever"] {
        let n = json!({"jsonrpc": "2.0", "method": method, "params": {"requestId": 1}});
        assert_eq!(send(&http, url, &n, &modern_header).await.status(), 202);
    }
    // Clients send no responses in 2026-07-28 (M-9).
    let response = json!({"jsonrpc": "2.0", "id": "s1", "result": {}});
    let (status, a) = read_answer(send(&http, url, &response, &modern_header).await).await;
    assert_eq!((status, code(&a)), (400, Some(-32600)));
    // No batches with modern elements.
    let batch =
        json!([body(1, "tools/list", json!({})), {"jsonrpc": "2.0", "id": 2, "method": "ping"}]);
    let (status, a) = read_answer(send(&http, url, &batch, &[]).await).await;
    assert_eq!((status, code(&a)), (400, Some(-32600)));
    // A modern body without the header is refused on the headers rung.
    let (status, a) =
        read_answer(send(&http, url, &body(1, "tools/list", json!({})), &[]).await).await;
    assert_eq!((status, code(&a)), (400, Some(-32020)));
    // `initialize` under a 2026-07-28 header has no envelope; T-47 still lets any other
    // header value through to a legacy session.
    let init = init_body("2025-11-25");
    let (status, a) = read_answer(send(&http, url, &init, &modern_header).await).await;
    assert_eq!((status, code(&a)), (400, Some(-32602)));
    let garbage = vec![("mcp-protocol-version", "garbage".to_owned())];
    assert_eq!(send(&http, url, &init, &garbage).await.status(), 200);
    // A legacy request whose arguments only mention the `_meta` key stays legacy.
    let sid = session(&http, url, "2025-11-25").await;
    let key = "io.modelcontextprotocol/protocolVersion";
    let r = post(
        &http,
        url,
        Some(&sid),
        &support::call(9, "echo", json!({"message": key})),
    )
    .await;
    let (status, a) = read_answer(r).await;
    assert_eq!(
        (status, a["result"]["content"][0]["text"].as_str()),
        (200, Some(key)),
        "{a}"
    );
    // Regression: the same request to a stateless endpoint was refused as a modern probe.
    let stateless = start(HttpConfig::default().stateless(true)).await;
    let call = support::call(9, "echo", json!({"message": key}));
    let (status, a) = read_answer(post(&http, &stateless.url, None, &call).await).await;
    assert_eq!(
        (status, a["result"]["content"][0]["text"].as_str()),
        (200, Some(key)),
        "{a}"
    );
    // GET and DELETE do not exist in 2026-07-28 (H-12).
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let r = http
            .request(method, url)
            .header("accept", "text/event-stream")
            .header("mcp-protocol-version", V)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405);
    }
}

#[tokio::test]
async fn discover_and_the_fields_every_result_carries() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let (status, a) = modern(&http, url, &body(1, "server/discover", json!({}))).await;
    assert_eq!(status, 200);
    let r = &a["result"];
    assert_eq!(r["supportedVersions"], json!([V]));
    assert_eq!(r["capabilities"]["prompts"]["listChanged"], true);
    assert_eq!(r["_meta"][SERVER_INFO]["name"], "mcp-http");
    assert_eq!(
        (r["resultType"].as_str(), r["ttlMs"].as_u64()),
        (Some("complete"), Some(0))
    );
    assert_eq!(r["cacheScope"], "private");
    // clientInfo is optional (M-1a).
    let mut no_info = body(2, "tools/list", json!({}));
    no_info["params"]["_meta"]
        .as_object_mut()
        .unwrap()
        .remove("io.modelcontextprotocol/clientInfo");
    for method in [
        "tools/list",
        "prompts/list",
        "resources/list",
        "resources/templates/list",
    ] {
        let mut b = no_info.clone();
        b["method"] = json!(method);
        let (status, a) = modern(&http, url, &b).await;
        let r = &a["result"];
        assert_eq!(status, 200, "{method}: {a}");
        assert_eq!(r["resultType"], "complete", "{method}");
        assert!(
            r["ttlMs"].is_u64() && r["cacheScope"].is_string(),
            "{method}: {r}"
        );
        assert_eq!(
            r["_meta"][SERVER_INFO]["version"],
            env!("CARGO_PKG_VERSION")
        );
    }
    // A call's result is complete but not cacheable; an unknown resource is -32602 with its uri.
    let (_, a) = modern(
        &http,
        url,
        &body(
            3,
            "tools/call",
            json!({"name": "add", "arguments": {"a": 1, "b": 2}}),
        ),
    )
    .await;
    assert_eq!(
        (
            a["result"]["resultType"].as_str(),
            a["result"]["ttlMs"].as_u64()
        ),
        (Some("complete"), None)
    );
    let (_, a) = modern(
        &http,
        url,
        &body(4, "resources/read", json!({"uri": "test://nope"})),
    )
    .await;
    assert_eq!(
        (code(&a), a["error"]["data"]["uri"].as_str()),
        (Some(-32602), Some("test://nope"))
    );
}

#[tokio::test]
async fn log_messages_only_at_the_level_the_request_names() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let call = body(
        1,
        "tools/call",
        json!({"name": "test_logging_tool", "arguments": {}}),
    );
    // No logLevel: no notifications/message at all (LGm-1), so a plain JSON answer.
    let response = send(&http, url, &call, &modern_headers(&call)).await;
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        read_answer(response).await.1["result"]["content"][0]["text"],
        "logged"
    );
    // With one: the messages at or above it, on this request's stream.
    let mut with_level = call.clone();
    with_level["params"]["_meta"]["io.modelcontextprotocol/logLevel"] = json!("info");
    let response = send(&http, url, &with_level, &modern_headers(&with_level)).await;
    let text = response.text().await.unwrap();
    let messages = mcp_http_test_support::sse::body_messages(&text);
    let levels: Vec<_> = messages
        .iter()
        .filter(|m| m["method"] == "notifications/message")
        .map(|m| m["params"]["level"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(levels, ["info", "warning"]);
    // Nothing is taken from the earlier request on the same connection (M-5).
    let response = send(&http, url, &call, &modern_headers(&call)).await;
    assert_eq!(response.headers()["content-type"], "application/json");
}

#[tokio::test]
async fn mcp_param_headers_mirror_the_annotated_arguments() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let (_, tools) = modern(&http, url, &body(1, "tools/list", json!({}))).await;
    let tool = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "test_x_mcp_header")
        .unwrap()
        .clone();
    assert_eq!(
        tool["inputSchema"]["properties"]["region"]["x-mcp-header"],
        "Region"
    );
    let call = body(
        2,
        "tools/call",
        json!({"name": "test_x_mcp_header", "arguments": {"region": "Zürich"}}),
    );
    let with = |value: Option<&str>| {
        let mut headers = modern_headers(&call);
        if let Some(v) = value {
            headers.push(("mcp-param-region", v.to_owned()));
        }
        headers
    };
    let (status, a) =
        read_answer(send(&http, url, &call, &with(Some("=?base64?WsO8cmljaA==?="))).await).await;
    assert_eq!(status, 200, "{a}");
    assert!(
        a["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Zürich")
    );
    for bad in [
        None,
        Some("Zurich"),
        Some("=?base64?WsO8cmljaA?="),
        Some("=?base64?!!!?="),
    ] {
        let (status, a) = read_answer(send(&http, url, &call, &with(bad)).await).await;
        assert_eq!((status, code(&a)), (400, Some(-32020)), "{bad:?}: {a}");
    }
}

#[tokio::test]
async fn listen_streams_get_only_what_they_asked_for() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let listen =
        |id: i64, filter: Value| body(id, "subscriptions/listen", json!({"notifications": filter}));
    let tools_listen = listen(
        7,
        json!({"toolsListChanged": true, "resourcesListChanged": true}),
    );
    let mut tools =
        SseReader::new(send(&http, url, &tools_listen, &modern_headers(&tools_listen)).await);
    let prompts_listen = listen(8, json!({"promptsListChanged": true}));
    let mut prompts = SseReader::new(
        send(
            &http,
            url,
            &prompts_listen,
            &modern_headers(&prompts_listen),
        )
        .await,
    );
    // The acknowledgement comes first, with the honoured filter and the subscription id.
    let ack = tools.next().await.unwrap().json().unwrap();
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true, "resourcesListChanged": true})
    );
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        7
    );
    prompts.next().await.unwrap();
    // A tool list change reaches the tools listener only, tagged with its id.
    let (status, _) = modern(
        &http,
        url,
        &body(
            1,
            "tools/call",
            json!({"name": "test_trigger_tool_change", "arguments": {}}),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let changed = tools.next().await.unwrap().json().unwrap();
    assert_eq!(changed["method"], "notifications/tools/list_changed");
    assert_eq!(
        changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        7
    );
    let (_, _) = modern(
        &http,
        url,
        &body(
            2,
            "tools/call",
            json!({"name": "test_trigger_prompt_change", "arguments": {}}),
        ),
    )
    .await;
    let changed = prompts.next().await.unwrap().json().unwrap();
    assert_eq!(changed["method"], "notifications/prompts/list_changed");
    assert_eq!(server.listener_count(), 2);
    drop(tools);
    drop(prompts);
    for _ in 0..100 {
        if server.listener_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.listener_count(), 0, "closed streams are forgotten");
}

/// Sets its flag when dropped.
struct Dropped(Arc<AtomicBool>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn closing_the_stream_cancels_the_request() {
    let cancelled = Arc::new(AtomicBool::new(false));
    let seen = cancelled.clone();
    let server = Server::builder("t", "1")
        .tool(ToolDef::new(
            "wait",
            "Waits to be cancelled",
            move |_: NoArgs, ctx: RequestContext| {
                // A cancelled handler is dropped where it waits: the guard sees it go.
                let seen = Dropped(seen.clone());
                async move {
                    ctx.progress(1.0, None, Some("started")).await.ok();
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    std::mem::forget(seen);
                    "done"
                }
            },
        ))
        .build();
    let server = start_with(server, HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let mut call = body(1, "tools/call", json!({"name": "wait", "arguments": {}}));
    call["params"]["_meta"]["progressToken"] = json!("p");
    let mut stream = SseReader::new(send(&http, url, &call, &modern_headers(&call)).await);
    let progress = stream.next().await.unwrap().json().unwrap();
    assert_eq!(progress["method"], "notifications/progress");
    assert!(
        progress.get("id").is_none(),
        "no server-to-client requests on the stream (M-9)"
    );
    drop(stream);
    for _ in 0..100 {
        if cancelled.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        cancelled.load(Ordering::SeqCst),
        "closing the stream cancels the handler (H-5)"
    );
}

/// What the built-in `test_cancellation_count` says about `long_running_operation`'s runs.
async fn run_counts(http: &reqwest::Client, url: &str) -> Value {
    let (status, a) = modern(
        http,
        url,
        &body(
            90,
            "tools/call",
            json!({"name": "test_cancellation_count", "arguments": {}}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{a}");
    let mut counts: Value =
        serde_json::from_str(a["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    // The counting process's name (each instance behind a balancer counts its own runs).
    let process = counts.as_object_mut().unwrap().remove("process");
    assert!(process.is_some_and(|p| p.is_string()), "{a}");
    counts
}

#[tokio::test]
async fn the_builtin_server_counts_runs_cancelled_by_a_closed_stream() {
    // The counts live in the built-in server's tools, which the instances of a test cluster
    // (MCP_HTTP_TEST_INSTANCES) share: they are clones of one server.
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let counts = |started: u64, completed: u64, cancelled: u64| json!({"started": started, "completed": completed, "cancelled": cancelled});
    assert_eq!(run_counts(&http, url).await, counts(0, 0, 0));
    // A run that finishes counts as completed.
    let quick =
        json!({"name": "long_running_operation", "arguments": {"duration": 0.01, "steps": 1}});
    let (status, a) = modern(&http, url, &body(1, "tools/call", quick)).await;
    assert_eq!(
        (status, a["result"]["isError"].as_bool()),
        (200, None),
        "{a}"
    );
    assert_eq!(run_counts(&http, url).await, counts(1, 1, 0));
    // A run whose stream the client closes counts as cancelled, long before its 10 s are up.
    let slow = body(
        2,
        "tools/call",
        json!({"name": "long_running_operation", "arguments": {"duration": 10, "steps": 10}}),
    );
    let response = send(&http, url, &slow, &modern_headers(&slow)).await;
    assert_eq!(response.status(), 200);
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = run_counts(&http, url).await;
        if seen == counts(2, 1, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen, counts(2, 1, 0), "the second run started");
    drop(response);
    for _ in 0..100 {
        seen = run_counts(&http, url).await;
        if seen == counts(2, 1, 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        seen,
        counts(2, 1, 1),
        "closing the stream cancelled the run (H-5)"
    );
}

#[tokio::test]
async fn the_era_setting() {
    let server = start(HttpConfig::default().eras(Eras::Modern)).await;
    let (http, url) = (client(), server.url.as_str());
    // H-12: an initialize hears which versions are served.
    let (status, a) = read_answer(post(&http, url, None, &init_body("2025-11-25")).await).await;
    assert_eq!((status, code(&a)), (400, Some(-32022)), "{a}");
    assert_eq!(a["error"]["data"]["supported"], json!([V]));
    let r = http
        .get(url)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let (status, _) = modern(&http, url, &body(1, "tools/list", json!({}))).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn in_sse_mode_errors_keep_their_status_and_results_stream() {
    let config = HttpConfig::default().response_mode(mcp_http_server_http::ResponseMode::Sse);
    let server = start(config).await;
    let (http, url) = (client(), server.url.as_str());
    errors_keep_their_status(&http, url).await;
    // A result is a stream of one event, without an event id (H-6).
    let list = body(3, "tools/list", json!({}));
    let response = send(&http, url, &list, &modern_headers(&list)).await;
    let mut events = SseReader::new(response);
    let event = events.next().await.unwrap();
    assert!(event.id.is_none());
    assert!(event.json().unwrap()["result"]["tools"].is_array());
}

/// The role's errors, answered as JSON with their status: an unknown method (404) and a
/// missing Mcp-Param header (400, answered by the tool's handler, not the ladder).
async fn errors_keep_their_status(http: &reqwest::Client, url: &str) {
    let (status, a) = modern(http, url, &body(1, "nope/nothing", json!({}))).await;
    assert_eq!((status, code(&a)), (404, Some(-32601)), "{a}");
    let call = body(
        2,
        "tools/call",
        json!({"name": "test_x_mcp_header", "arguments": {"region": "eu"}}),
    );
    let response = send(http, url, &call, &modern_headers(&call)).await;
    assert_eq!(response.headers()["content-type"], "application/json");
    let (status, a) = read_answer(response).await;
    assert_eq!((status, code(&a)), (400, Some(-32020)), "{a}");
}

/// H-8, H-11: an error a handler answers (not the ladder's) has its status in the default mode
/// too, where the answer is JSON: the status is read from the answer before its head is written.
#[tokio::test]
async fn a_handlers_error_answered_as_json_has_its_status() {
    let server = start(HttpConfig::default()).await;
    errors_keep_their_status(&client(), &server.url).await;
}

#[tokio::test]
async fn instances_sharing_state_keys_continue_each_others_rounds() {
    use mcp_http_server::{RequestStateKeys, RequestStates};
    let shared = || RequestStates::new(RequestStateKeys::from_secrets([[7u8; 32]]).unwrap());
    let a = start_with(
        mcp_http::builtin::server_with(shared()),
        HttpConfig::default(),
    )
    .await;
    let b = start_with(
        mcp_http::builtin::server_with(shared()),
        HttpConfig::default(),
    )
    .await;
    let other = start_with(mcp_http::builtin::server(), HttpConfig::default()).await;
    let http = client();
    let tool = "test_input_required_result_multi_round";
    let mut with_caps = meta();
    with_caps["io.modelcontextprotocol/clientCapabilities"] = json!({"elicitation": {}});
    let round1 = body(
        1,
        "tools/call",
        json!({"name": tool, "arguments": {}, "_meta": with_caps}),
    );
    let (status, first) = modern(&http, &a.url, &round1).await;
    assert_eq!(status, 200, "{first}");
    let first = &first["result"];
    assert_eq!(first["resultType"], "input_required", "{first}");
    let key = first["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let retry = body(
        2,
        "tools/call",
        json!({"name": tool, "arguments": {}, "_meta": with_caps,
        "inputResponses": {key: {"action": "accept", "content": {"name": "Alice"}}},
        "requestState": first["requestState"]}),
    );
    // Another instance with the same keys opens the state; one with its own key refuses it.
    let (status, second) = modern(&http, &b.url, &retry).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["result"]["resultType"], "input_required", "{second}");
    assert_ne!(second["result"]["requestState"], first["requestState"]);
    let mut again = retry.clone();
    again["id"] = json!(3);
    let (_, refused) = modern(&http, &other.url, &again).await;
    assert_eq!(code(&refused), Some(-32602), "{refused}");
    assert!(refused["error"].get("data").is_none(), "no detail leaked");
}

#[tokio::test]
async fn bad_headers_and_states_are_clear_errors_and_the_server_keeps_serving() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let call = body(
        1,
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "hi"}}),
    );
    // A header value that is not visible ASCII (raw UTF-8) is a header mismatch (H-8).
    let response = http
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .header("mcp-protocol-version", V)
        .header("mcp-method", "tools/call")
        .header(
            "mcp-name",
            reqwest::header::HeaderValue::from_bytes("échö".as_bytes()).unwrap(),
        )
        .body(call.to_string())
        .send()
        .await
        .unwrap();
    let (status, a) = read_answer(response).await;
    assert_eq!((status, code(&a)), (400, Some(-32020)), "{a}");
    // A requestState that is garbage, huge, or of the wrong JSON type: -32602, no detail.
    let tool = "test_input_required_result_elicitation";
    for state in [
        json!("garbage"),
        json!("A".repeat(200_000)),
        json!(42),
        json!({"x": 1}),
    ] {
        let retry = body(
            2,
            "tools/call",
            json!({"name": tool, "arguments": {},
            "inputResponses": {"user_name": {"action": "accept", "content": {"name": "x"}}},
            "requestState": state}),
        );
        let (status, a) = modern(&http, url, &retry).await;
        assert!(code(&a) == Some(-32602), "{status} {a}");
        let message = a["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.contains("panic") && message.len() < 200,
            "{message}"
        );
    }
    // `inputResponses` that is not an object: invalid params, in words.
    let odd = body(
        3,
        "tools/call",
        json!({"name": tool, "arguments": {}, "inputResponses": "nope"}),
    );
    let (_, a) = modern(&http, url, &odd).await;
    assert_eq!(code(&a), Some(-32602), "{a}");
    assert!(
        a["error"]["message"]
            .as_str()
            .unwrap()
            .contains("inputResponses"),
        "{a}"
    );
    let (status, a) = modern(&http, url, &call).await;
    assert_eq!(
        (status, a["result"]["content"][0]["text"].as_str()),
        (200, Some("hi"))
    );
}
