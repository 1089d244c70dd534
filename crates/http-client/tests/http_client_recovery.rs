//! Our HTTP client when things go wrong or get long: a new session after the old one expired
//! (T-41), recovery after the server restarts, a bearer token refreshed after a 401, a server
//! that speaks no MCP transport at the URL (T-49), and many calls over one pooled connection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use mcp_http_client::{Client, RequestError};
use mcp_http_client_http::{HttpClient, HttpClientConfig, StreamableHttpClient, TokenProvider};
use mcp_http_core::{TransportError, TransportErrorKind};
use mcp_http_server_http::HttpConfig;
use mcp_http_test_support::server::{TestServer, tools};
use mcp_http_test_support::text;
use serde_json::json;

async fn connect(url: &str, config: HttpClientConfig) -> Result<Client, RequestError> {
    let transport =
        StreamableHttpClient::with_client(url, HttpClient::new().unwrap(), config).unwrap();
    // Sessions are what these tests recover: the legacy era.
    Client::builder("recovery", "1.0")
        .era(mcp_http_client::Era::Legacy)
        .connect(transport)
        .await
}

async fn echo(client: &Client, message: &str) -> Result<String, RequestError> {
    let result = client
        .call_tool("echo", json!({ "message": message }))
        .await?;
    Ok(text(&result))
}

#[tokio::test]
async fn an_expired_session_is_replaced_and_the_request_retried() {
    let server = TestServer::start(tools(), HttpConfig::default()).await;
    let client = connect(&server.url, HttpClientConfig::default())
        .await
        .unwrap();
    assert_eq!(echo(&client, "one").await.unwrap(), "one");
    // T-41: the server forgets the session; the next call gets 404, and the client starts a new
    // session and sends the call again, without the caller seeing anything.
    server.end_all_sessions().await;
    assert_eq!(server.session_count(), 0);
    assert_eq!(echo(&client, "two").await.unwrap(), "two");
    assert_eq!(server.session_count(), 1);
    assert_eq!(client.protocol_version().as_str(), "2025-11-25");
}

#[tokio::test]
async fn concurrent_requests_share_one_new_session() {
    let server = TestServer::start(tools(), HttpConfig::default()).await;
    let client = Arc::new(
        connect(&server.url, HttpClientConfig::default())
            .await
            .unwrap(),
    );
    server.end_all_sessions().await;
    let calls: Vec<_> = (0..8)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { echo(&client, &format!("m{i}")).await })
        })
        .collect();
    for (i, call) in calls.into_iter().enumerate() {
        assert_eq!(call.await.unwrap().unwrap(), format!("m{i}"));
    }
    assert_eq!(server.session_count(), 1);
}

#[tokio::test]
async fn the_client_recovers_after_the_server_restarts() {
    let server = TestServer::start(tools(), HttpConfig::default()).await;
    let addr: std::net::SocketAddr = server.url["http://".len()..]
        .trim_end_matches("/mcp")
        .parse()
        .unwrap();
    let config = HttpClientConfig::builder()
        .default_retry(Duration::from_millis(100))
        .build();
    let client = connect(&server.url, config).await.unwrap();
    assert_eq!(echo(&client, "before").await.unwrap(), "before");

    drop(server);
    // While the server is down, a call fails with a transport error, not a hang.
    let down = loop {
        match echo(&client, "down").await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(e) => break e,
        }
    };
    assert!(
        matches!(&down, RequestError::Transport(t) if t.kind() == TransportErrorKind::Io),
        "{down:?}"
    );

    // A new server process knows nothing of the old session. The GET stream reconnects, gets
    // 404, and the client starts a new session with no call from the user.
    let restarted = TestServer::start_at(addr, tools(), HttpConfig::default()).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while restarted.session_count() == 0 {
        assert!(
            Instant::now() < deadline,
            "no new session after the restart"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(echo(&client, "after").await.unwrap(), "after");
    assert_eq!(restarted.session_count(), 1);
}

/// Hands out `stale` until the server refuses it, then `fresh`.
#[derive(Default)]
struct Refreshing {
    asked: AtomicUsize,
    rejected: Mutex<Vec<String>>,
}

impl TokenProvider for Refreshing {
    fn token(
        &self,
        rejected: Option<&str>,
    ) -> BoxFuture<'_, Result<Option<String>, TransportError>> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        if let Some(r) = rejected {
            self.rejected.lock().unwrap().push(r.to_owned());
        }
        let refused = !self.rejected.lock().unwrap().is_empty();
        Box::pin(async move { Ok(Some(if refused { "fresh" } else { "stale" }.to_owned())) })
    }
}

#[tokio::test]
async fn a_refused_bearer_token_is_refreshed_once() {
    use axum::http::{Request, StatusCode};
    use axum::middleware::{Next, from_fn};
    use axum::response::{IntoResponse, Response};

    async fn require_fresh(request: Request<axum::body::Body>, next: Next) -> Response {
        let authorized = request
            .headers()
            .get("authorization")
            .is_some_and(|v| v == "Bearer fresh");
        if authorized {
            next.run(request).await
        } else {
            StatusCode::UNAUTHORIZED.into_response()
        }
    }

    let service = mcp_http_server_http::StreamableHttpService::new(tools(), HttpConfig::default());
    let app = mcp_http_server_http::axum_router(service).layer(from_fn(require_fresh));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let provider = Arc::new(Refreshing::default());
    let config = HttpClientConfig::builder().auth(provider.clone()).build();
    let client = connect(&url, config).await.unwrap();
    assert_eq!(echo(&client, "authorized").await.unwrap(), "authorized");
    // Refused once, refreshed once; every later request carried the fresh token.
    assert_eq!(*provider.rejected.lock().unwrap(), vec!["stale".to_owned()]);
    assert!(provider.asked.load(Ordering::SeqCst) >= 4);

    // Without a provider, the 401 is the caller's error, with its status.
    let err = connect(&url, HttpClientConfig::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RequestError::Transport(t) if t.kind() == TransportErrorKind::HttpStatus(401)),
        "{err:?}"
    );
}

#[tokio::test]
async fn no_mcp_transport_at_the_url_is_a_clear_error() {
    // T-49: the POST is refused (404 at this path), the 2024-11-05 GET is refused too.
    let server = TestServer::start(tools(), HttpConfig::default()).await;
    let url = server.url.replace("/mcp", "/elsewhere");
    let err = connect(&url, HttpClientConfig::default())
        .await
        .unwrap_err();
    let RequestError::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind(), TransportErrorKind::Protocol);
    assert!(
        t.to_string()
            .contains("2024-11-05 HTTP+SSE transport either"),
        "{t}"
    );
    // Without the fallback, the status itself.
    let config = HttpClientConfig::builder()
        .legacy_sse_fallback(false)
        .build();
    let err = connect(&url, config).await.unwrap_err();
    assert!(
        matches!(&err, RequestError::Transport(t) if t.kind() == TransportErrorKind::HttpStatus(404)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_thousand_sequential_calls_use_one_connection() {
    let server = TestServer::start(tools(), HttpConfig::default()).await;
    let config = HttpClientConfig::builder().get_stream(false).build();
    let client = connect(&server.url, config).await.unwrap();
    let mut latencies = Vec::with_capacity(1000);
    for i in 0..1000 {
        let start = Instant::now();
        assert_eq!(echo(&client, &i.to_string()).await.unwrap(), i.to_string());
        latencies.push(start.elapsed());
    }
    latencies.sort();
    // The pool kept the one connection alive: no reconnects, no 40 ms Nagle stall either
    // (a stall would show as a connection per call or a median near 40 ms; the figure is
    // printed, not asserted, since timings on shared machines are noise).
    assert_eq!(server.connections_accepted(), 1);
    println!(
        "1000 sequential calls over one connection: median {:?}, p99 {:?}",
        latencies[500], latencies[990]
    );
}

#[tokio::test]
async fn a_stream_that_cannot_be_resumed_fails_the_call_clearly() {
    let server = TestServer::start(
        tools(),
        HttpConfig::default()
            .response_mode(mcp_http_server_http::ResponseMode::Sse)
            .retry(Duration::from_millis(20)),
    )
    .await;
    let config = HttpClientConfig::builder()
        .max_reconnect_attempts(3)
        .build();
    let client = Arc::new(connect(&server.url, config).await.unwrap());
    let caller = client.clone();
    let call = tokio::spawn(async move {
        caller
            .call_tool(
                "long_running_operation",
                json!({"duration": 30, "steps": 30}),
            )
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The server goes away mid-call; every attempt to resume the stream is refused.
    let started = Instant::now();
    drop(server);
    let err = call.await.unwrap().unwrap_err();
    assert!(
        matches!(&err, RequestError::Transport(t) if t.kind() == TransportErrorKind::Io
            && t.to_string().contains("attempts to resume it failed")),
        "{err:?}"
    );
    // The server's `retry` doubled per failure: 20 + 40 + 80 ms of waiting, no long hang (the
    // call would run 30 s); the bound leaves room for a loaded machine.
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn sse_answers_that_end_late_keep_the_connection_pooled() {
    // The Python SDK's server ends its SSE answers just after the response, often in a later
    // packet. The client must still read that end, or the connection is closed and every call
    // opens a new one. The middleware ends each answer 5 ms late and notes the client port of
    // each request. (The calls are 100 ms apart: a call made while
    // the end is still on its way needs another connection, whatever the client does.)
    use std::collections::HashSet;
    use std::net::SocketAddr;

    use axum::body::Body;
    use axum::extract::{ConnectInfo, State};
    use axum::http::Request;
    use axum::middleware::{Next, from_fn_with_state};
    use axum::response::Response;
    use futures::StreamExt;

    type Ports = Arc<Mutex<HashSet<u16>>>;
    async fn end_late(
        State(ports): State<Ports>,
        ConnectInfo(peer): ConnectInfo<SocketAddr>,
        request: Request<Body>,
        next: Next,
    ) -> Response {
        ports.lock().unwrap().insert(peer.port());
        let (parts, body) = next.run(request).await.into_parts();
        let end = futures::stream::once(tokio::time::sleep(Duration::from_millis(5)))
            .filter_map(|()| async { None::<Result<bytes::Bytes, axum::Error>> });
        Response::from_parts(parts, Body::from_stream(body.into_data_stream().chain(end)))
    }

    let service = mcp_http_server_http::StreamableHttpService::new(
        tools(),
        HttpConfig::default().response_mode(mcp_http_server_http::ResponseMode::Sse),
    );
    let ports = Ports::default();
    let app = mcp_http_server_http::axum_router(service)
        .layer(from_fn_with_state(ports.clone(), end_late))
        .into_make_service_with_connect_info::<SocketAddr>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let config = HttpClientConfig::builder().get_stream(false).build();
    let client = connect(&url, config).await.unwrap();
    for i in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(echo(&client, &i.to_string()).await.unwrap(), i.to_string());
    }
    // `initialize` and `notifications/initialized` go out back to back (two connections);
    // then the ten calls reuse them. Dropping each answer before its end costs 12.
    let ports = ports.lock().unwrap().clone();
    assert!(
        ports.len() <= 2,
        "one client port per connection: {ports:?}"
    );
}

#[tokio::test]
async fn cookies_the_server_sets_are_sent_back_only_when_enabled() {
    // A balancer that keeps a session on one instance by a cookie (BR-22): the server sets
    // `lb` on its answers; with cookies on, every later request carries it, with the default
    // (off) none does.
    use axum::body::Body;
    use axum::extract::State;
    use axum::http::{HeaderValue, Request};
    use axum::middleware::{Next, from_fn_with_state};
    use axum::response::Response;

    type Seen = Arc<Mutex<Vec<Option<String>>>>;
    async fn sticky(State(seen): State<Seen>, request: Request<Body>, next: Next) -> Response {
        let cookie = request
            .headers()
            .get("cookie")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        seen.lock().unwrap().push(cookie);
        let mut response = next.run(request).await;
        response.headers_mut().append(
            "set-cookie",
            HeaderValue::from_static("lb=instance-1; Path=/; HttpOnly"),
        );
        response
    }

    for enabled in [true, false] {
        let service =
            mcp_http_server_http::StreamableHttpService::new(tools(), HttpConfig::default());
        let seen = Seen::default();
        let app = mcp_http_server_http::axum_router(service)
            .layer(from_fn_with_state(seen.clone(), sticky));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let config = HttpClientConfig::builder()
            .get_stream(false)
            .cookies(enabled)
            .build();
        let client = connect(&url, config).await.unwrap();
        assert_eq!(echo(&client, "one").await.unwrap(), "one");
        assert_eq!(echo(&client, "two").await.unwrap(), "two");
        client.shutdown().await;
        let seen = seen.lock().unwrap().clone();
        // initialize, notifications/initialized, two calls, DELETE.
        assert!(seen.len() >= 5, "{seen:?}");
        assert_eq!(seen[0], None, "the first request has no cookie yet");
        let later = &seen[1..];
        if enabled {
            assert!(
                later.iter().all(|c| c.as_deref() == Some("lb=instance-1")),
                "{seen:?}"
            );
        } else {
            assert!(later.iter().all(Option::is_none), "{seen:?}");
        }
    }
}
