//! Several GET streams on one session of `mcp-http bridge` (BR-32): a second and a third
//! stream open next to the first, the session's child keeps running (the same process), and
//! calls still work while they are open and after they close.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_support;
mod support;

use std::time::Duration;

use bridge_support::{BIN, Bridged, alive, children, eventually};
use mcp_http_test_support::sse::body_messages;
use serde_json::json;
use support::{call, client, delete_session, get_stream, post, session};

/// Calls `echo` on the session and returns the text of its answer.
async fn echo(http: &reqwest::Client, url: &str, session: &str, id: i64, message: &str) -> String {
    let answer = post(
        http,
        url,
        Some(session),
        &call(id, "echo", json!({"message": message})),
    )
    .await;
    assert_eq!(answer.status(), 200);
    let messages = body_messages(&answer.text().await.unwrap());
    let response = messages.iter().find(|m| m["id"] == id).unwrap();
    response["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn more_get_streams_on_one_session_never_stop_its_child() {
    let bridge = Bridged::start(&["--child-per-session", "--", BIN, "serve", "--stdio"]).await;
    let url = bridge.url("/mcp");
    let http = client();
    let id = session(&http, &url, "2025-06-18").await;
    let first = children(bridge.pid());
    assert_eq!(first.len(), 1, "a child for the session");

    let mut streams = Vec::new();
    for n in 1..=3 {
        let stream = get_stream(&http, &url, &id, None).await;
        assert_eq!(stream.status(), 200, "GET stream {n}");
        streams.push(stream);
        assert_eq!(
            echo(&http, &url, &id, n, &format!("with {n} streams")).await,
            format!("with {n} streams")
        );
        assert_eq!(children(bridge.pid()), first, "the same child, and only it");
    }
    // The clients of two streams go away; the session and its child stay.
    streams.truncate(1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(alive(first[0]));
    assert_eq!(children(bridge.pid()), first);
    assert_eq!(echo(&http, &url, &id, 10, "still here").await, "still here");

    // Only the session's end stops it.
    assert_eq!(delete_session(&http, &url, &id).await.status(), 200);
    eventually(Duration::from_secs(5), "the child stops", || {
        !alive(first[0])
    })
    .await;
}
