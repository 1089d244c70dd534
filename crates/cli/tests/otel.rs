//! `mcp-http serve --otlp-endpoint URL` (MT-4, MT-5; the `otel` feature), with the real binary
//! and the real exporter pipeline: a collector on loopback (a plain HTTP server taking OTLP/HTTP
//! POSTs at `/v1/traces`) receives the spans of a session's requests, with their method, id,
//! session and era, and the session's own span once it ended.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use serde_json::json;
use support::{call, client, delete_session, post, session, spawn_until};

/// Whether `needle` occurs in what the collector received (protobuf keeps strings as they are).
fn received(bodies: &Mutex<Vec<Bytes>>, needle: &str) -> bool {
    bodies
        .lock()
        .unwrap()
        .iter()
        .any(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
}

async fn wait_received(bodies: &Mutex<Vec<Bytes>>, needles: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !needles.iter().all(|n| received(bodies, n)) {
        assert!(
            Instant::now() < deadline,
            "the collector did not receive {:?}",
            needles
                .iter()
                .filter(|n| !received(bodies, n))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_an_otlp_collector() {
    // The collector: every POST body to /v1/traces is kept.
    let bodies: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let kept = bodies.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: Bytes| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push(body);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let args = ["serve", "--port", "0", "--otlp-endpoint", &collector];
    let env = [("OTEL_BSP_SCHEDULE_DELAY", "100")];
    let (_child, found) = spawn_until(&args, &env, &["mcp-http: serving MCP on "]).await;
    let url = &found[0];

    let http = client();
    let id = session(&http, url, "2025-11-25").await;
    let r = post(
        &http,
        url,
        Some(&id),
        &call(7, "echo", json!({"message": "m"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let _ = r.bytes().await.unwrap();
    wait_received(
        &bodies,
        &[
            "mcp.request",
            "initialize",
            "tools/call",
            &id,
            "legacy",
            "mcp-http",
        ],
    )
    .await;

    // The session's span is exported once the session ends.
    let r = delete_session(&http, url, &id).await;
    assert_eq!(r.status(), 200);
    wait_received(&bodies, &["mcp.session"]).await;
}
