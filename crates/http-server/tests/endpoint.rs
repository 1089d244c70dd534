//! The endpoint in front of a handler of our own (no `mcp-http-server` crate): the handler
//! factory seam, what handlers see of the HTTP request, a failed `initialize` in every mode, and
//! batches answered from their items' responses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use mcp_http_core::Handler;
use mcp_http_server_http::{HttpConfig, Principal, ResponseMode, StreamableHttpService};
use serde_json::json;
use support::{Custom, TraceId, initialize, messages, open_session, post};

fn service(config: HttpConfig) -> StreamableHttpService {
    let handler: Arc<dyn Handler> = Arc::new(Custom::default());
    StreamableHttpService::new(handler, config)
}

#[tokio::test]
async fn a_custom_handler_sees_the_principal_and_extensions_a_layer_set() {
    let service = service(HttpConfig::default());
    // What an auth layer and a tracing layer in front of the service do.
    let mut request = post(initialize("2025-11-25"), None);
    request.extensions_mut().insert(Principal::new("alice"));
    let response = service.handle(request).await;
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let whoami = json!({"jsonrpc": "2.0", "id": 1, "method": "whoami"});
    let mut request = post(whoami.clone(), Some(&session));
    request.extensions_mut().insert(Principal::new("alice"));
    request.extensions_mut().insert(TraceId("t-1"));
    let response = service.handle(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer = messages(response.into_body()).await;
    assert_eq!(
        answer[0]["result"],
        json!({"principal": "alice", "trace": "t-1"})
    );

    // SEC-6: the session belongs to alice; bob, or nobody, gets 404.
    let mut request = post(whoami.clone(), Some(&session));
    request.extensions_mut().insert(Principal::new("bob"));
    assert_eq!(
        service.handle(request).await.status(),
        StatusCode::NOT_FOUND
    );
    let request = post(whoami, Some(&session));
    assert_eq!(
        service.handle(request).await.status(),
        StatusCode::NOT_FOUND
    );
}

/// Regression: a failed `initialize` in `--response sse` mode left its session behind and sent
/// its id, because only a JSON answer was checked for failure.
#[tokio::test]
async fn a_failed_initialize_in_sse_mode_left_its_session_behind() {
    for mode in [
        ResponseMode::Adaptive,
        ResponseMode::Sse,
        ResponseMode::Json,
    ] {
        for stateless in [false, true] {
            let service = service(
                HttpConfig::default()
                    .response_mode(mode)
                    .stateless(stateless),
            );
            let response = service.handle(post(initialize("1999-01-01"), None)).await;
            let label = format!("{mode:?}, stateless {stateless}");
            assert!(
                response.headers().get("mcp-session-id").is_none(),
                "{label}: no session id for a failed initialize"
            );
            let answer = messages(response.into_body()).await;
            assert_eq!(answer.len(), 1, "{label}: {answer:?}");
            assert_eq!(answer[0]["error"]["code"], -32602, "{label}");
            assert_eq!(service.session_count(), 0, "{label}");
            if !stateless {
                // And a good one still works.
                open_session(&service, "2025-11-25").await;
                assert_eq!(service.session_count(), 1, "{label}");
            }
        }
    }
}

/// Regression: batch items were answered as if alone and their answers scraped back out of
/// their own SSE bodies, dropping what the handlers sent besides.
#[tokio::test]
async fn batch_items_answered_as_if_alone_lost_what_their_handlers_sent() {
    let service = service(HttpConfig::default());
    let session = open_session(&service, "2025-03-26").await;
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "chatty"},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 99}},
        {"jsonrpc": "2.0", "id": 2, "method": "whoami"},
        {"jsonrpc": "2.0", "id": 3, "method": "nope"},
    ]);
    let response = service.handle(post(batch, Some(&session))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let answer = messages(response.into_body()).await.remove(0);
    let answers = answer.as_array().unwrap();
    assert_eq!(answers.len(), 3, "{answer}");
    assert_eq!(
        answers[0],
        json!({"jsonrpc": "2.0", "id": 1, "result": {"done": true}})
    );
    assert_eq!(answers[1]["id"], 2);
    assert_eq!(answers[2]["error"]["code"], -32601);

    // The log message of item 1 waits for the GET stream.
    let get = Request::get("/mcp")
        .header("host", "127.0.0.1")
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let mut body = service.handle(get).await.into_body();
    let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
    let text = String::from_utf8(frame.to_vec()).unwrap();
    assert!(
        text.contains(r#""method":"notifications/message""#),
        "{text}"
    );
}
