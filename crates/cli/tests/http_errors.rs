//! Every status-code path and bad input of the Streamable HTTP server, on a real loopback socket.
//! After each, the server must still serve (checked with a fresh `initialize`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use mcp_http_server_http::HttpConfig;
use serde_json::{Value, json};
use support::*;

async fn still_serves(http: &reqwest::Client, url: &str) {
    let response = post(http, url, None, &init_body("2025-11-25")).await;
    assert_eq!(response.status(), 200, "the server stopped serving");
}

async fn error_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value =
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn header_and_body_checks() {
    let server = start(HttpConfig::default().max_body_bytes(64 * 1024)).await;
    let (http, url) = (client(), server.url.as_str());
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();

    // 406: Accept lacks text/event-stream (T-9).
    let r = http
        .post(url)
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .body(ping.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 406);
    // Real clients' variants are accepted: */*, parameters, no Accept at all.
    for accept in ["*/*", "application/json;q=0.9, text/event-stream;q=0.8"] {
        let r = http
            .post(url)
            .header("accept", accept)
            .header("content-type", "application/json")
            .body(init_body("2025-11-25").to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{accept}");
    }
    // 415: not JSON.
    let r = http
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "text/plain")
        .body(ping.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    // 413: over the body limit.
    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "x".repeat(100_000)}});
    assert_eq!(post(&http, url, None, &big).await.status(), 413);
    still_serves(&http, url).await;

    let raw = |body: Vec<u8>| {
        http.post(url)
            .header("accept", ACCEPT)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // 400 + -32700: invalid JSON, invalid UTF-8.
    let (status, body) = error_of(raw(b"{not json".to_vec()).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_i64()),
        (400, Some(-32700))
    );
    let (status, body) = error_of(
        raw(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_i64()),
        (400, Some(-32700))
    );
    // Deeply nested JSON: valid JSON but no message (-32600); nothing overflows.
    let deep = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000)).into_bytes();
    assert_eq!(error_of(raw(deep).await.unwrap()).await.0, 400);
    let deep_object = format!("{}1{}", "{\"a\":".repeat(3_000), "}".repeat(3_000)).into_bytes();
    let (status, body) = error_of(raw(deep_object).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_i64()),
        (400, Some(-32600))
    );
    // 400 + -32600: well-formed JSON that is not JSON-RPC, with the id when readable.
    let (status, body) = error_of(
        raw(br#"{"jsonrpc":"1.0","id":5,"method":"ping"}"#.to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_i64(), body["id"].as_i64()),
        (400, Some(-32600), Some(5))
    );
    // A batch (T-10) outside 2025-03-26.
    let sid = session(&http, url, "2025-11-25").await;
    let batch = json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]);
    let (status, body) = error_of(post(&http, url, Some(&sid), &batch).await).await;
    assert_eq!(
        (status, body["error"]["code"].as_i64()),
        (400, Some(-32600))
    );
    still_serves(&http, url).await;
}

#[tokio::test]
async fn batches_are_served_in_2025_03_26_sessions() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-03-26").await;
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        call(2, "add", json!({"a": 1, "b": 2})),
        {"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": {}}
    ]);
    let response = post(&http, url, Some(&sid), &batch).await;
    assert_eq!(response.status(), 200);
    let answers: Vec<Value> = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(answers.len(), 3, "{answers:?}");
    assert_eq!(answers[0], json!({"jsonrpc": "2.0", "id": 1, "result": {}}));
    assert_eq!(answers[1]["result"]["content"][0]["text"], "3");
    // L-8: initialize must not be part of a batch.
    assert_eq!(answers[2]["error"]["code"], -32600);
}

#[tokio::test]
async fn session_errors() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    // T-39a: no session -> 400.
    assert_eq!(post(&http, url, None, &ping).await.status(), 400);
    // T-40: unknown session -> 404 with -32001.
    let (status, body) = error_of(post(&http, url, Some("no-such-session"), &ping).await).await;
    assert_eq!(
        (status, body["error"]["code"].as_i64()),
        (404, Some(-32001))
    );
    // Session ids are 128 random bits as visible ASCII (T-38a, T-38b).
    let sid = session(&http, url, "2025-11-25").await;
    assert!(
        sid.len() >= 32 && sid.bytes().all(|b| (0x21..=0x7e).contains(&b)),
        "{sid}"
    );
    assert_ne!(sid, session(&http, url, "2025-11-25").await);
    // A second initialize on a session is refused.
    let (status, body) =
        error_of(post(&http, url, Some(&sid), &init_body("2025-11-25")).await).await;
    assert_eq!(
        (status, body["error"]["code"].as_i64()),
        (400, Some(-32600))
    );
    // DELETE ends it (200), and later requests get 404.
    let r = http
        .delete(url)
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(post(&http, url, Some(&sid), &ping).await.status(), 404);
    let r = get_stream(&http, url, &sid, None).await;
    assert_eq!(r.status(), 404);
    // Other methods: 405 with Allow.
    let r = http.put(url).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, POST, DELETE");
    // Another path: 404.
    assert_eq!(
        http.post(format!("{url}/other"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    still_serves(&http, url).await;
}

#[tokio::test]
async fn protocol_version_header() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-11-25").await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let send = |version: &'static str| {
        http.post(url)
            .header("accept", ACCEPT)
            .header("content-type", "application/json")
            .header("mcp-session-id", &sid)
            .header("mcp-protocol-version", version)
            .body(ping.to_string())
            .send()
    };
    // T-46: an invalid version is 400; any supported legacy version is accepted.
    assert_eq!(send("2099-01-01").await.unwrap().status(), 400);
    assert_eq!(send("2025-03-26").await.unwrap().status(), 200);
    assert_eq!(send("2025-11-25").await.unwrap().status(), 200);
    // T-47: never checked on initialize.
    let r = http
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "garbage")
        .body(init_body("2025-11-25").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn origin_and_host_validation() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let send = |headers: Vec<(&'static str, &'static str)>| {
        let mut r = http
            .post(url)
            .header("accept", ACCEPT)
            .header("content-type", "application/json");
        for (k, v) in headers {
            r = r.header(k, v);
        }
        r.body(init_body("2025-11-25").to_string()).send()
    };
    // SEC-2: a bad Origin gets 403; SEC-5: a bad Host gets 403.
    assert_eq!(
        send(vec![("origin", "http://evil.example.com")])
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        send(vec![("host", "evil.example.com")])
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        send(vec![
            ("host", "localhost:1234"),
            ("origin", "http://localhost:1234")
        ])
        .await
        .unwrap()
        .status(),
        200
    );
    let body = send(vec![("origin", "http://evil.example.com")])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("Origin not allowed") && !body.contains("panick"));

    // Allow-lists for reverse proxies.
    let proxied = start(
        HttpConfig::default()
            .allowed_hosts(vec!["mcp.example.com".into()])
            .allowed_origins(vec!["https://app.example.com".into()])
            .cors(true),
    )
    .await;
    let r = http
        .post(&proxied.url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .header("host", "mcp.example.com")
        .header("origin", "https://app.example.com")
        .body(init_body("2025-11-25").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // AR-12: the auth challenge and DPoP nonces are readable too.
    assert_eq!(
        r.headers()["access-control-expose-headers"],
        "mcp-session-id, www-authenticate, dpop-nonce"
    );
    let r = http
        .request(reqwest::Method::OPTIONS, &proxied.url)
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(
        r.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("mcp-session-id")
    );
}

#[tokio::test]
async fn session_cap_answers_503_with_retry_after() {
    let server = start(HttpConfig::default().max_sessions(1)).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-11-25").await;
    let r = post(&http, url, None, &init_body("2025-11-25")).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    http.delete(url)
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    still_serves(&http, url).await;
}

#[tokio::test]
async fn duplicate_inflight_id_gets_an_error_not_a_hang() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-11-25").await;
    let slow = call(
        7,
        "long_running_operation",
        json!({"duration": 2, "steps": 2}),
    );
    let first = post(&http, url, Some(&sid), &slow).await;
    let (status, body) = error_of(
        post(
            &http,
            url,
            Some(&sid),
            &call(7, "add", json!({"a": 1, "b": 1})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_i64(), body["id"].as_i64()),
        (400, Some(-32600), Some(7))
    );
    drop(first);
}

#[tokio::test]
async fn last_event_id_errors() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let a = session(&http, url, "2025-11-25").await;
    let b = session(&http, url, "2025-11-25").await;
    // An event id of session A's stream.
    let r = post(
        &http,
        url,
        Some(&a),
        &call_with_progress(
            1,
            "long_running_operation",
            json!({"duration": 0.2, "steps": 2}),
        ),
    )
    .await;
    let events = SseReader::new(r).rest().await;
    let a_event = events.iter().find_map(|e| e.id.clone()).unwrap();
    let get = |session: String, last: String| {
        http.get(url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", session)
            .header("last-event-id", last)
            .send()
    };
    // T-36: a foreign id (another session's) gets 400, never an empty stream.
    let r = get(b.clone(), a_event.clone()).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("another session"));
    // Unknown ids: malformed, or an unknown stream of this session.
    assert_eq!(
        get(b.clone(), "garbage".into()).await.unwrap().status(),
        400
    );
    let tag = a_event.split('.').next().unwrap();
    assert_eq!(
        get(a.clone(), format!("{tag}.99.0"))
            .await
            .unwrap()
            .status(),
        400
    );
    // GET without text/event-stream in Accept: 406.
    let r = http
        .get(url)
        .header("accept", "application/json")
        .header("mcp-session-id", &a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 406);
    still_serves(&http, url).await;
}
