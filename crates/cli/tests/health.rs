//! `mcp-http serve`'s health path (RL-54): what a load balancer's or an orchestrator's health
//! check asks, with the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use support::{client, get_text as get, run_cli, serve};

#[tokio::test]
async fn the_health_path_answers_ok_beside_the_endpoint_and_can_be_moved() {
    let server = serve(&[]).await;
    let origin = server.url.trim_end_matches("/mcp");
    let (status, body) = get(&format!("{origin}/health")).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
    // Only GET, only there: the endpoint is unchanged.
    let posted = client()
        .post(format!("{origin}/health"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 404);
    assert_eq!(get(&format!("{origin}/healthz")).await.0, 404);

    let moved = serve(&["--path", "/api/mcp", "--health-path", "/healthz"]).await;
    let origin = moved.url.trim_end_matches("/api/mcp");
    assert_eq!(get(&format!("{origin}/healthz")).await.0, 200);
    assert_eq!(get(&format!("{origin}/health")).await.0, 404);

    // A path that could never be asked for, or the endpoint's own, is refused at start.
    for bad in [
        &["--health-path", "health"][..],
        &["--path", "/x", "--health-path", "/x"],
    ] {
        let run = run_cli(&[&["serve", "--port", "0"][..], bad].concat(), &[]).await;
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("--health-path must"), "{run:?}");
    }
}
