//! Session rules of the Streamable HTTP server: principals (SEC-6), the stream cap, keep-alive
//! comments, graceful shutdown, HTTP/1.1 and HTTP/2 on one port, the dual-era probe, and the axum
//! helper.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use futures::StreamExt;
use mcp_http_server_http::{HttpConfig, StreamableHttpService};
use serde_json::json;
use support::*;

#[tokio::test]
async fn a_session_answers_404_to_another_principal() {
    let server = start_with_authorization_principal().await;
    let (http, url) = (client(), server.url.as_str());
    let r = http
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .header("authorization", "Bearer alice")
        .body(init_body("2025-11-25").to_string())
        .send()
        .await
        .unwrap();
    let sid = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();
    let as_user = |who: &'static str| {
        http.post(url)
            .header("accept", ACCEPT)
            .header("content-type", "application/json")
            .header("mcp-session-id", &sid)
            .header("authorization", who)
            .body(ping.clone())
            .send()
    };
    assert_eq!(as_user("Bearer alice").await.unwrap().status(), 200);
    assert_eq!(as_user("Bearer mallory").await.unwrap().status(), 404);
}

#[tokio::test]
async fn streams_per_session_are_capped() {
    let server = start(HttpConfig::default().max_streams_per_session(1)).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-11-25").await;
    let open = || {
        http.get(url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &sid)
            .send()
    };
    let first = open().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(open().await.unwrap().status(), 429);
    drop(first);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(open().await.unwrap().status(), 200);
}

#[tokio::test]
async fn idle_streams_get_keep_alive_comments() {
    let server = start(HttpConfig::default().keep_alive(Some(Duration::from_millis(100)))).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-11-25").await;
    let r = get_stream(&http, url, &sid, None).await;
    let mut body = r.bytes_stream();
    let mut text = String::new();
    while !text.contains(": keep-alive") {
        let chunk = tokio::time::timeout(Duration::from_secs(2), body.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn graceful_shutdown_ends_streams_with_retry_and_refuses_new_sessions() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-11-25").await;
    let r = get_stream(&http, url, &sid, None).await;
    let mut stream = SseReader::new(r);
    let _priming = stream.next().await.unwrap();
    server.shutdown();
    let rest = stream.rest().await;
    assert_eq!(rest.last().and_then(|e| e.retry), Some(1000), "{rest:?}");
    assert_eq!(
        post(&http, url, None, &init_body("2025-11-25"))
            .await
            .status(),
        503
    );
    // A reconnecting GET is not given a stream that would be cut again.
    let again = http
        .get(url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 503);
    assert_eq!(again.headers()["retry-after"], "5");
}

#[tokio::test]
async fn serve_speaks_http1_and_http2_with_prior_knowledge_on_one_port() {
    let server = start(HttpConfig::default()).await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    for (http, version) in [
        (client(), reqwest::Version::HTTP_11),
        (h2, reqwest::Version::HTTP_2),
    ] {
        let sid = session(&http, &server.url, "2025-11-25").await;
        let response = post(
            &http,
            &server.url,
            Some(&sid),
            &call(1, "echo", json!({"message": "hi"})),
        )
        .await;
        assert_eq!(response.version(), version);
        assert_eq!(response.status(), 200);
        let body: serde_json::Value =
            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(body["result"]["content"][0]["text"], "hi", "{body}");
    }
}

#[tokio::test]
async fn a_legacy_only_endpoint_answers_a_modern_probe_with_an_error_that_makes_clients_fall_back()
{
    let server = start(HttpConfig::default().eras(mcp_http_server_http::Eras::Legacy)).await;
    let (http, url) = (client(), server.url.as_str());
    let probe = json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}});
    let r = http
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "server/discover")
        .body(probe.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (body["id"].as_i64(), body["error"]["code"].as_i64()),
        (Some(1), Some(-32601))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("initialize")
    );
}

#[tokio::test]
async fn the_service_works_as_a_tower_service_and_behind_axum() {
    use tower_service::Service;
    let mut service =
        StreamableHttpService::new(mcp_http::builtin::server(), HttpConfig::default());
    let request = http::Request::post("/mcp")
        .header("host", "localhost")
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            init_body("2025-11-25").to_string(),
        )))
        .unwrap();
    let response = service.call(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("mcp-session-id"));

    let app = mcp_http_server_http::axum_router(service)
        .route("/health", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = client();
    assert_eq!(
        http.get(format!("{base}/health"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    let r = post(
        &http,
        &format!("{base}/mcp"),
        None,
        &init_body("2025-11-25"),
    )
    .await;
    assert_eq!(r.status(), 200);
}
