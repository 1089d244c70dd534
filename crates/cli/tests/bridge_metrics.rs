//! `mcp-http bridge --metrics ADDR` (BR-12): a scrape of the real bridge's Prometheus endpoint
//! counts its children, the restarts after a child crashed mid-call, and the messages relayed
//! each way, beside the endpoint's own metrics.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_support::*;
use serde_json::json;

/// The value of the sample `name{labels}` (labels as written by the exporter), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

async fn scrape(port: u16) -> String {
    let response = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn metrics_count_children_restarts_and_relayed_messages() {
    let metrics = free_port();
    let fixture = fixture();
    let address = format!("127.0.0.1:{metrics}");
    let bridge = Bridged::start(&["--metrics", &address, "--", "python3", &fixture, "crash"]).await;
    let client = client(&bridge.url("/mcp"), "a", Arc::new(Mutex::new(Vec::new()))).await;
    let text = scrape(metrics).await;
    assert_eq!(
        sample(&text, r#"mcp_http_bridge_children{server="python3"}"#),
        Some(1.0),
        "{text}"
    );
    // The crash: the call fails, the child is started again (a new process: the old one may
    // still be exiting when the call's error arrives).
    let first = children(bridge.pid());
    assert!(client.call_tool("report", json!({})).await.is_err());
    eventually(
        Duration::from_secs(10),
        "the child is started again",
        || {
            let now = children(bridge.pid());
            now.len() == 1 && now != first
        },
    )
    .await;
    let listed = client.list_all_tools().await.unwrap();
    assert_eq!(listed[0].name, "report");
    let text = scrape(metrics).await;
    assert_eq!(
        sample(&text, r#"mcp_http_bridge_restarts_total{server="python3"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"mcp_http_bridge_children{server="python3"}"#),
        Some(1.0),
        "{text}"
    );
    // Relayed to the children: at least the crashing call and the list.
    let to_child = sample(
        &text,
        r#"mcp_http_bridge_relayed_messages_total{direction="to_child"}"#,
    )
    .unwrap_or(0.0);
    assert!(to_child >= 2.0, "{text}");
    // The endpoint's own metrics are on the same scrape.
    assert_eq!(
        sample(
            &text,
            r#"mcp_http_requests_total{method="tools/list",status="200"}"#
        ),
        Some(1.0),
        "{text}"
    );
    client.shutdown().await;
}
