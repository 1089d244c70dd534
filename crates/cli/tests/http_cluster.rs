//! Three instances with a registry each (as separate processes have), over one memory session
//! store, event log and message bus, behind one round-robin address: what one instance's server
//! tells every session (a resource updated, a list changed) reaches the session's GET stream on
//! whichever instance holds it, once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use mcp_http_server::{NoArgs, ToolDef};
use mcp_http_server_http::HttpConfig;
use serde_json::{Value, json};
use support::*;

/// The next JSON-RPC message on a stream (priming events and comments skipped).
async fn next_message(reader: &mut SseReader) -> Value {
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(5), reader.next())
            .await
            .expect("a message in time")
            .expect("the stream is open");
        if let Some(message) = event.json() {
            return message;
        }
    }
}

#[tokio::test]
async fn notifications_for_every_session_reach_the_get_stream_once_wherever_it_is_held() {
    let servers: Vec<_> = (0..3).map(|_| mcp_http::builtin::server()).collect();
    let server = start_cluster(servers.clone(), HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    // initialize on the first instance, notifications/initialized on the second.
    let sid = session(&http, url, "2025-11-25").await;
    // Subscribed on the third.
    let subscribe = json!({"jsonrpc": "2.0", "id": 1, "method": "resources/subscribe",
        "params": {"uri": "test://watched-resource"}});
    let r = post(&http, url, Some(&sid), &subscribe).await;
    assert_eq!(r.status(), 200);
    let _ = r.bytes().await.unwrap();
    // The GET stream on the first.
    let mut stream = SseReader::new(get_stream(&http, url, &sid, None).await);

    // The resource changes on the second instance (its own server sends the notification).
    let update = call(
        2,
        "update_resource",
        json!({"uri": "test://watched-resource"}),
    );
    let r = post(&http, url, Some(&sid), &update).await;
    assert_eq!(r.status(), 200);
    let _ = r.bytes().await.unwrap();
    let updated = next_message(&mut stream).await;
    assert_eq!(updated["method"], "notifications/resources/updated");
    assert_eq!(updated["params"]["uri"], "test://watched-resource");

    // A tool appears on the third instance's server.
    servers[2].add_tool(ToolDef::new("late", "Added late", |_: NoArgs, _| async {
        "late"
    }));
    let changed = next_message(&mut stream).await;
    assert_eq!(changed["method"], "notifications/tools/list_changed");

    // Exactly once each: a marker sent after them is the next thing on the stream.
    let r = post(&http, url, Some(&sid), &update).await;
    let _ = r.bytes().await.unwrap();
    let again = next_message(&mut stream).await;
    assert_eq!(
        again["method"], "notifications/resources/updated",
        "no duplicate came first"
    );
    assert_eq!(server.instances().len(), 3);
}
