//! `mcp-http serve --metrics ADDR` (MT-1..MT-3), with the real binary: a scrape of `/metrics`
//! after real calls shows what a user would look for. Sessions go up, then down after DELETE;
//! each request is counted under its method and status; the latency histogram counts every
//! call; a GET stream is an open stream while it lasts; events kept for resumption, bytes in
//! and out move; a method name the client made up is counted as `other`, never as a label of
//! its own; and with `--redis`, round trips to Redis are counted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{
    call, call_with_progress, client, delete_session, get_stream, post, session, spawn_until,
};
use tokio::process::Child;

/// A `serve --metrics 127.0.0.1:0` process and its two URLs; killed when dropped.
struct Served {
    _child: Child,
    url: String,
    metrics: String,
}

async fn serve(extra: &[&str]) -> Served {
    let mut args = vec!["serve", "--port", "0", "--metrics", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let prefixes = ["mcp-http: serving MCP on ", "mcp-http: metrics on "];
    let (child, mut found) = spawn_until(&args, &[], &prefixes).await;
    let metrics = found.pop().unwrap();
    Served {
        _child: child,
        url: found.pop().unwrap(),
        metrics,
    }
}

/// One scrape, as Prometheus makes it.
async fn scrape(http: &reqwest::Client, url: &str) -> String {
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.unwrap()
}

/// The value of one series (`name{labels}` exactly as exposed), or 0 when it is absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

/// Scrapes until `series` has `want` (a gauge updated as a stream's body is dropped).
async fn wait_for(http: &reqwest::Client, url: &str, series: &str, want: f64) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = scrape(http, url).await;
        if value(&text, series) == want {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{series} stayed at {} (wanted {want}):\n{text}",
            value(&text, series)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_after_real_calls() {
    let served = serve(&[]).await;
    let http = client();
    let (url, metrics) = (served.url.as_str(), served.metrics.as_str());
    let before = scrape(&http, metrics).await;
    assert_eq!(value(&before, "mcp_http_sessions"), 0.0);

    let id = session(&http, url, "2025-11-25").await;
    let text = scrape(&http, metrics).await;
    assert_eq!(value(&text, "mcp_http_sessions"), 1.0, "{text}");
    let init = r#"mcp_http_requests_total{method="initialize",status="200"}"#;
    assert_eq!(value(&text, init), 1.0, "{text}");
    let note = r#"mcp_http_requests_total{method="notifications/initialized",status="202"}"#;
    assert_eq!(value(&text, note), 1.0, "{text}");

    for i in 0..3 {
        let r = post(
            &http,
            url,
            Some(&id),
            &call(10 + i, "echo", json!({"message": "m"})),
        )
        .await;
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await.unwrap();
    }
    // A call that streams progress: its events are kept for resumption.
    let progress = call_with_progress(
        20,
        "long_running_operation",
        json!({"duration": 0.2, "steps": 2}),
    );
    let r = post(&http, url, Some(&id), &progress).await;
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let _ = r.bytes().await.unwrap();
    // A method the client made up, and a session that does not exist.
    let made_up = json!({"jsonrpc": "2.0", "id": 30, "method": "x/secret-name", "params": {}});
    let _ = post(&http, url, Some(&id), &made_up).await.bytes().await;
    let r = post(
        &http,
        url,
        Some("no-such-session"),
        &call(31, "echo", json!({"message": "m"})),
    )
    .await;
    assert_eq!(r.status(), 404);

    let text = scrape(&http, metrics).await;
    let calls = r#"mcp_http_requests_total{method="tools/call",status="200"}"#;
    assert_eq!(value(&text, calls), 4.0, "{text}");
    let missing = r#"mcp_http_requests_total{method="tools/call",status="404"}"#;
    assert_eq!(value(&text, missing), 1.0, "{text}");
    let count = r#"mcp_http_request_duration_seconds_count{method="tools/call"}"#;
    assert_eq!(
        value(&text, count),
        5.0,
        "every call timed, streamed or not: {text}"
    );
    // The long call took 0.2 s at least, and its time counts until its stream ended.
    let sum = r#"mcp_http_request_duration_seconds_sum{method="tools/call"}"#;
    assert!(value(&text, sum) >= 0.2, "{text}");
    let other = r#"mcp_http_requests_total{method="other",status="200"}"#;
    assert_eq!(value(&text, other), 1.0, "{text}");
    assert!(
        !text.contains("secret-name"),
        "a client's method name became a label"
    );
    assert!(
        value(&text, "mcp_http_events_stored_total") >= 3.0,
        "{text}"
    );
    assert!(
        value(&text, "mcp_http_received_bytes_total") > 0.0,
        "{text}"
    );
    assert!(
        value(&text, "mcp_http_sent_bytes_total") > value(&before, "mcp_http_sent_bytes_total")
    );

    // A GET stream is open while it lasts.
    let get = r#"mcp_http_open_streams{kind="get"}"#;
    let stream = get_stream(&http, url, &id, None).await;
    assert_eq!(stream.status(), 200);
    wait_for(&http, metrics, get, 1.0).await;
    drop(stream);
    wait_for(&http, metrics, get, 0.0).await;

    let r = delete_session(&http, url, &id).await;
    assert_eq!(r.status(), 200);
    let text = scrape(&http, metrics).await;
    assert_eq!(value(&text, "mcp_http_sessions"), 0.0, "{text}");
    let deleted = r#"mcp_http_requests_total{method="DELETE",status="200"}"#;
    assert_eq!(value(&text, deleted), 1.0, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_serves_only_get_metrics() {
    let served = serve(&[]).await;
    let http = client();
    let base = served.metrics.trim_end_matches("/metrics");
    let r = http.get(format!("{base}/other")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = http.post(&served.metrics).send().await.unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_round_trips_are_counted() {
    let redis = mcp_http_test_support::redis::RedisServer::start();
    let served = serve(&["--redis", &redis.url()]).await;
    let http = client();
    let store = r#"mcp_http_redis_round_trips_total{component="store"}"#;
    let before = value(&scrape(&http, &served.metrics).await, store);
    let id = session(&http, &served.url, "2025-11-25").await;
    let r = post(
        &http,
        &served.url,
        Some(&id),
        &call(1, "echo", json!({"message": "m"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let text = scrape(&http, &served.metrics).await;
    // The new session's record was saved, and saved again at notifications/initialized.
    assert!(value(&text, store) >= before + 2.0, "{text}");
    let connect = r#"mcp_http_redis_round_trips_total{component="connect"}"#;
    assert!(value(&text, connect) >= 1.0, "{text}");
    // Every one of them reached Redis: it counted at least as many commands.
    let commands: u64 = redis.command_counts().values().sum();
    assert!(commands as f64 >= value(&text, store), "{text}");
}
