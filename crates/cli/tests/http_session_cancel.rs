//! A session's request cancelled by `notifications/cancelled` gets no response, and its
//! transport lets go of it (RL-53): in every response mode its POST, while connected, ends with
//! nothing more (SSE) or an empty 202 (JSON); once its POST went away, its id can be used again;
//! and the session, with nothing left in progress, is reaped when idle.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use mcp_http_server::{NoArgs, RequestContext, Server, ToolDef};
use mcp_http_server_http::{HttpConfig, ResponseMode};
use serde_json::{Value, json};
use support::*;

const MODES: [ResponseMode; 3] = [
    ResponseMode::Sse,
    ResponseMode::Adaptive,
    ResponseMode::Json,
];

/// The usual tools (`quick` answers at once), and `long`, which waits until it is cancelled.
fn server() -> Server {
    tools_of_every_kind()
        .tool(ToolDef::new(
            "long",
            "Waits until cancelled",
            |_: NoArgs, _: RequestContext| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "never cancelled"
            },
        ))
        .build()
}

fn cancel(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id}})
}

/// A server with `config`, a session on it, and `long` started as request `id` on a POST of
/// its own (the task that POSTs it).
async fn long_in_session(
    http: &reqwest::Client,
    config: HttpConfig,
    id: i64,
) -> (
    TestServer,
    String,
    tokio::task::JoinHandle<reqwest::Response>,
) {
    let server = start_with(server(), config).await;
    let session = session(http, &server.url, "2025-11-25").await;
    let posted = tokio::spawn({
        let (http, url, session) = (http.clone(), server.url.clone(), session.clone());
        async move { post(&http, &url, Some(&session), &call(id, "long", json!({}))).await }
    });
    // Past the adaptive delay: an SSE or adaptive POST has chosen its stream by now.
    tokio::time::sleep(Duration::from_millis(200)).await;
    (server, session, posted)
}

/// Request `id` of the session is answered by `quick` (not refused as a duplicate).
async fn answered_again(
    http: &reqwest::Client,
    url: &str,
    session: &str,
    id: i64,
    mode: ResponseMode,
) {
    let response = post(http, url, Some(session), &call(id, "quick", json!({}))).await;
    assert_eq!(response.status(), 200, "{mode:?}: id {id} refused");
    let text = response.text().await.unwrap();
    let answers = mcp_http_test_support::sse::body_messages(&text);
    let answer = answers.last().unwrap_or_else(|| panic!("{mode:?}: {text}"));
    assert_eq!(answer["id"], id, "{mode:?}: {text}");
    assert_eq!(
        answer["result"]["content"][0]["text"], "quick",
        "{mode:?}: {text}"
    );
}

#[tokio::test]
async fn a_cancelled_request_ends_its_connected_post_with_no_response() {
    let http = client();
    for mode in MODES {
        let config = HttpConfig::default().response_mode(mode);
        let (server, session, posted) = long_in_session(&http, config, 7).await;
        let url = server.url.as_str();
        assert_eq!(
            post(&http, url, Some(&session), &cancel(7)).await.status(),
            202
        );
        let ended = async {
            let response = posted.await.unwrap();
            let status = response.status().as_u16();
            let kind = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, kind, response.text().await.unwrap())
        };
        let (status, kind, text) = tokio::time::timeout(Duration::from_secs(3), ended)
            .await
            .unwrap_or_else(|_| panic!("{mode:?}: the cancelled request's POST never ended"));
        match mode {
            // JSON: no response will come, as after a notification.
            ResponseMode::Json => {
                assert_eq!(status, 202, "{mode:?}: {text}");
                assert!(text.is_empty(), "{mode:?}: {text}");
            }
            _ => {
                assert_eq!(status, 200, "{mode:?}");
                assert_eq!(kind.as_deref(), Some("text/event-stream"), "{mode:?}");
                let sent = mcp_http_test_support::sse::body_messages(&text);
                assert!(sent.is_empty(), "{mode:?}: a response: {text}");
            }
        }
        // Its id is free again.
        answered_again(&http, url, &session, 7, mode).await;
    }
}

#[tokio::test]
async fn a_cancelled_request_whose_post_went_away_frees_its_id() {
    let http = client();
    for mode in MODES {
        let config = HttpConfig::default().response_mode(mode);
        let (server, session, posted) = long_in_session(&http, config, 8).await;
        let url = server.url.as_str();
        // The client goes away (T-19: the request goes on), then cancels it.
        posted.abort();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            post(&http, url, Some(&session), &cancel(8)).await.status(),
            202
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        answered_again(&http, url, &session, 8, mode).await;
    }
}

#[tokio::test]
async fn a_session_whose_request_was_cancelled_is_reaped_when_idle() {
    let http = client();
    for mode in MODES {
        let config = HttpConfig::default()
            .response_mode(mode)
            .idle_timeout(Duration::from_millis(300));
        let (server, session, posted) = long_in_session(&http, config, 9).await;
        let url = server.url.as_str();
        posted.abort();
        assert_eq!(
            post(&http, url, Some(&session), &cancel(9)).await.status(),
            202
        );
        assert!(
            mcp_http_test_support::eventually(|| server.session_count() == 0).await,
            "{mode:?}: the session was kept"
        );
        let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
        assert_eq!(
            post(&http, url, Some(&session), &ping).await.status(),
            404,
            "{mode:?}"
        );
    }
}
