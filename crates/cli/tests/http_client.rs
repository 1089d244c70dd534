//! Our client over Streamable HTTP against our server, in each response mode: the handshake,
//! lists, progress and logs, sampling, elicitation, resumption of a stream the server closed,
//! cancellation, typed errors, DELETE on close, and redirects (same origin only).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_http_client::{Client, Era, RequestError, RequestOptions};
use mcp_http_client_http::{HttpClient, HttpClientConfig, StreamableHttpClient};
use mcp_http_core::TransportErrorKind;
use mcp_http_proto::{CreateMessageResult, ElicitResult, LoggingLevel};
use mcp_http_server_http::{HttpConfig, ResponseMode};
use serde_json::json;
use support::*;

/// A legacy session: most tests here are about sessions (resumption, DELETE, a session that
/// expires); `exercise` runs in both eras.
async fn connect(url: &str, config: HttpClientConfig, logs: Arc<Mutex<Vec<String>>>) -> Client {
    connect_in(url, config, logs, Era::Legacy).await
}

async fn connect_in(
    url: &str,
    config: HttpClientConfig,
    logs: Arc<Mutex<Vec<String>>>,
    era: Era,
) -> Client {
    let transport =
        StreamableHttpClient::with_client(url, HttpClient::new().unwrap(), config).unwrap();
    Client::builder("http-e2e", "1.0")
        .era(era)
        .on_log(move |l| logs.lock().unwrap().push(l.data.to_string()))
        .sampling(|_, _| async {
            Ok(serde_json::from_value::<CreateMessageResult>(json!({
                "role": "assistant", "model": "m", "content": {"type": "text", "text": "from rust"}})).unwrap())
        })
        .elicitation(|_, _| async {
            let mut content = serde_json::Map::new();
            content.insert("name".into(), json!("Rusty"));
            Ok(ElicitResult::accept(content))
        })
        .apply_elicitation_defaults(true)
        .connect(transport)
        .await
        .unwrap()
}

async fn exercise(mode: ResponseMode, stateless: bool, era: Era) {
    let config = HttpConfig::default()
        .response_mode(mode)
        .stateless(stateless)
        .retry(Duration::from_millis(100));
    let server = start(config).await;
    let logs = Arc::new(Mutex::new(Vec::new()));
    let client = connect_in(&server.url, HttpClientConfig::default(), logs.clone(), era).await;
    let version = match era {
        Era::Modern => "2026-07-28",
        _ => "2025-11-25",
    };
    assert_eq!(client.protocol_version().as_str(), version);
    client.ping().await.unwrap();
    assert!(client.list_all_tools().await.unwrap().len() >= 20);
    assert_eq!(client.list_all_resources().await.unwrap().len(), 3);
    assert_eq!(client.list_all_prompts().await.unwrap().len(), 5);
    assert_eq!(
        text(
            &client
                .call_tool("add", json!({"a": 20, "b": 22}))
                .await
                .unwrap()
        ),
        "42"
    );
    // PF-88: the reply whose `_meta` is read when asked for is the same result.
    let whole = client
        .call_tool("add", json!({"a": 1, "b": 2}))
        .await
        .unwrap();
    let lazy = client
        .call_tool_reply("add", json!({"a": 1, "b": 2}))
        .await
        .unwrap();
    assert!(lazy.result.meta.is_none() && !lazy.is_error());
    assert_eq!(lazy.meta().unwrap(), whole.meta);
    assert_eq!(lazy.into_result().unwrap(), whole);

    client.set_logging_level(LoggingLevel::Info).await.unwrap();
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let options =
        RequestOptions::default().on_progress(move |p| seen.lock().unwrap().push(p.progress));
    let result = client
        .call_tool_with(
            "long_running_operation",
            json!({"duration": 0.3, "steps": 3}),
            options,
        )
        .await
        .unwrap();
    assert!(text(&result).contains("3 steps"));
    if mode != ResponseMode::Json {
        assert_eq!(*progress.lock().unwrap(), [1.0, 2.0, 3.0], "{mode:?}");
        assert_eq!(logs.lock().unwrap().len(), 3, "{mode:?}");
    }
    // In 2026-07-28 sampling and elicitation are input-required results, so they work in every
    // mode; a legacy stateless JSON answer has no stream to carry the server's request.
    if !(stateless && mode == ResponseMode::Json) || era == Era::Modern {
        let sampled = client
            .call_tool("sample_llm", json!({"prompt": "hi"}))
            .await
            .unwrap();
        assert_eq!(text(&sampled), "LLM response: from rust", "{mode:?}");
        // PF-88: through the input rounds (MR-1) as `call_tool`.
        let lazy = client
            .call_tool_reply("sample_llm", json!({"prompt": "hi"}))
            .await
            .unwrap()
            .into_result()
            .unwrap();
        assert_eq!(text(&lazy), "LLM response: from rust", "{mode:?}");
        let asked = client
            .call_tool("ask_user", json!({"message": "who?"}))
            .await
            .unwrap();
        assert!(
            text(&asked).contains("\"name\":\"Rusty\"")
                && text(&asked).contains("\"proceed\":true"),
            "{}",
            text(&asked)
        );
    }
    if mode != ResponseMode::Json {
        // T-33, T-37: the server closes the stream; the client resumes with GET + Last-Event-ID.
        let resumed = client
            .call_tool("test_reconnection", json!({}))
            .await
            .unwrap();
        assert!(
            text(&resumed).contains("Reconnection test completed"),
            "{mode:?}"
        );
    }
    // A timeout cancels the call; the session keeps working.
    let options = RequestOptions::default().timeout(Duration::from_millis(200));
    let err = client
        .call_tool_with(
            "long_running_operation",
            json!({"duration": 10, "steps": 1}),
            options,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::Timeout(_)));
    client.ping().await.unwrap();
}

#[tokio::test]
async fn adaptive() {
    exercise(ResponseMode::Adaptive, false, Era::Legacy).await;
}

#[tokio::test]
async fn sse() {
    exercise(ResponseMode::Sse, false, Era::Legacy).await;
}

#[tokio::test]
async fn json() {
    exercise(ResponseMode::Json, false, Era::Legacy).await;
}

#[tokio::test]
async fn stateless() {
    exercise(ResponseMode::Adaptive, true, Era::Legacy).await;
}

#[tokio::test]
async fn modern_adaptive() {
    exercise(ResponseMode::Adaptive, false, Era::Modern).await;
}

#[tokio::test]
async fn modern_sse() {
    exercise(ResponseMode::Sse, false, Era::Modern).await;
}

#[tokio::test]
async fn modern_json() {
    exercise(ResponseMode::Json, false, Era::Modern).await;
}

#[tokio::test]
async fn resumption_tokens_and_delete_on_close() {
    let server = start(HttpConfig::default().retry(Duration::from_millis(100))).await;
    let tokens = Arc::new(Mutex::new(Vec::new()));
    let sink = tokens.clone();
    let config = HttpClientConfig::builder()
        .on_resumption_token(move |id, token| {
            sink.lock().unwrap().push((id.clone(), token.to_owned()))
        })
        .build();
    let client = connect(&server.url, config, Arc::default()).await;
    client
        .call_tool("test_reconnection", json!({}))
        .await
        .unwrap();
    assert!(
        !tokens.lock().unwrap().is_empty(),
        "resumption tokens are handed to the caller"
    );
    assert_eq!(server.session_count(), 1);

    // DELETE on close (T-42); shutdown() returns once it has been answered, so a process
    // that exits right after has still ended its session.
    client.shutdown().await;
    assert_eq!(server.session_count(), 0);
}

#[tokio::test]
async fn a_deleted_session_gives_session_expired() {
    let server = start(HttpConfig::default()).await;
    let config = HttpClientConfig::builder().reinitialize(false).build();
    let client = connect(&server.url, config, Arc::default()).await;
    assert_eq!(server.session_count(), 1);
    // The server ends the session; the next request learns it from the 404.
    server.end_all_sessions().await;
    let err = client.ping().await.unwrap_err();
    assert!(
        matches!(&err, RequestError::Transport(t) if t.kind() == TransportErrorKind::SessionExpired),
        "{err:?}"
    );
}

#[tokio::test]
async fn redirects_are_followed_on_the_same_origin_only() {
    let service = mcp_http_server_http::StreamableHttpService::new(
        mcp_http::builtin::server(),
        HttpConfig::default(),
    );
    let app = mcp_http_server_http::axum_router(service.clone())
        .route(
            "/old",
            axum::routing::any(|| async { axum::response::Redirect::permanent("/mcp") }),
        )
        .route(
            "/away",
            axum::routing::any(|| async {
                axum::response::Redirect::temporary("http://localhost:9/mcp")
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    // 308 on the same origin: every request (POST, GET stream, DELETE) follows it.
    let client = connect(
        &format!("{base}/old"),
        HttpClientConfig::default(),
        Arc::default(),
    )
    .await;
    let echoed = client
        .call_tool("echo", &json!({"message": "moved"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "moved");
    assert_eq!(service.session_count(), 1);
    client.shutdown().await;
    assert_eq!(
        service.session_count(),
        0,
        "the DELETE followed the redirect"
    );

    // Another origin: not followed, the 307 is the answer.
    let transport = StreamableHttpClient::with_client(
        &format!("{base}/away"),
        HttpClient::new().unwrap(),
        HttpClientConfig::builder()
            .legacy_sse_fallback(false)
            .build(),
    )
    .unwrap();
    let err = Client::builder("http-e2e", "1.0")
        .connect(transport)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RequestError::Transport(t) if t.kind() == TransportErrorKind::HttpStatus(307)),
        "{err:?}"
    );
}
