//! The HTTP client's connection pool as a user sees it, counting connections with
//! `HttpClientBuilder::on_connect` and on the server: sequential calls reuse one connection,
//! concurrent calls open more and then reuse them, a connection the server closed while idle is
//! replaced without failing the next call, and idle connections close after the idle timeout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use mcp_http_client::Client;
use mcp_http_client_http::{HttpClient, HttpClientConfig, StreamableHttpClient};
use mcp_http_server_http::{HttpConfig, ResponseMode, StreamableHttpService};
use mcp_http_test_support::{eventually, text};
use serde_json::json;

/// Every test ends within this, whatever hangs.
const LIMIT: Duration = Duration::from_secs(30);

async fn within<T>(what: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, what)
        .await
        .expect("the test did not finish in time")
}

/// The request target (as the request line had it) and the `Host` of a request.
type Target = (String, Option<String>);

/// The test-support tool set served on loopback, counting the connections it accepted and those still
/// open, noting each request's target and `Host`; `close_idle` makes every connection close once its current answer is done (what a
/// server's keep-alive timeout does).
struct PoolServer {
    url: String,
    service: StreamableHttpService,
    accepted: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    targets: Arc<Mutex<Vec<Target>>>,
    close_idle: tokio::sync::watch::Sender<u32>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl PoolServer {
    async fn start(mode: ResponseMode) -> PoolServer {
        let service = StreamableHttpService::new(
            mcp_http_test_support::server::tools(),
            HttpConfig::default().response_mode(mode),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let (accepted, open) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (close_idle, closing) = tokio::sync::watch::channel(0u32);
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let targets = Arc::new(Mutex::new(Vec::new()));
        let (serving, counted, opened, noted) = (
            service.clone(),
            accepted.clone(),
            open.clone(),
            targets.clone(),
        );
        tokio::spawn(async move {
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            loop {
                let (tcp, _) = tokio::select! {
                    accepted = listener.accept() => accepted.unwrap(),
                    _ = &mut stopped => return,
                };
                counted.fetch_add(1, Ordering::SeqCst);
                opened.fetch_add(1, Ordering::SeqCst);
                let (builder, service, open, noted) = (
                    builder.clone(),
                    serving.clone(),
                    opened.clone(),
                    noted.clone(),
                );
                // Only closes asked for from now on count.
                let mut closing = closing.clone();
                closing.borrow_and_update();
                tokio::spawn(async move {
                    let handler = hyper::service::service_fn(move |request: http::Request<_>| {
                        let host = request.headers().get(http::header::HOST);
                        let host = host.map(|h| h.to_str().unwrap().to_owned());
                        noted
                            .lock()
                            .unwrap()
                            .push((request.uri().to_string(), host));
                        let service = service.clone();
                        async move { Ok::<_, Infallible>(service.handle(request).await) }
                    });
                    let conn = builder.serve_connection(TokioIo::new(tcp), handler);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = closing.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        PoolServer {
            url,
            service,
            accepted,
            open,
            targets,
            close_idle,
            _stop: stop,
        }
    }

    /// Closes every connection that is not carrying an answer (a GET stream stays).
    fn close_idle_connections(&self) {
        self.close_idle.send_modify(|n| *n += 1);
    }
}

/// A client over an `HttpClient` that counts the connections it opens.
async fn connect(
    server: &PoolServer,
    idle_timeout: Option<Duration>,
) -> (Client, Arc<AtomicUsize>) {
    let opened = Arc::new(AtomicUsize::new(0));
    let count = opened.clone();
    let http = HttpClient::builder()
        .proxies_from_env(false)
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(idle_timeout)
        .on_connect(move |_| {
            count.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let transport =
        StreamableHttpClient::with_client(&server.url, http, HttpClientConfig::default()).unwrap();
    // A legacy session: its GET stream holds a connection of its own, which these tests count.
    let client = Client::builder("pool-e2e", "1.0")
        .era(mcp_http_client::Era::Legacy)
        .connect(transport)
        .await
        .unwrap();
    (client, opened)
}

async fn echo(client: &Client, message: &str) {
    let result = client
        .call_tool("echo", json!({ "message": message }))
        .await
        .unwrap();
    assert_eq!(text(&result), message);
}

/// Waits until `count` reads `want` (the other side of a socket sees a close a moment later).
async fn settles(count: &AtomicUsize, want: usize) -> usize {
    eventually(|| count.load(Ordering::SeqCst) == want).await;
    count.load(Ordering::SeqCst)
}

#[tokio::test]
async fn sequential_calls_reuse_one_connection() {
    within(async {
        let server = PoolServer::start(ResponseMode::Json).await;
        let (client, opened) = connect(&server, None).await;
        echo(&client, "first").await;
        let before = opened.load(Ordering::SeqCst);
        // The POSTs' connection and the GET stream's.
        assert!(before <= 3, "{before} connections for the handshake");
        for i in 0..50 {
            echo(&client, &format!("call {i}")).await;
        }
        assert_eq!(
            opened.load(Ordering::SeqCst),
            before,
            "a call opened a connection"
        );
        assert_eq!(server.accepted.load(Ordering::SeqCst), before);
        // Straight to the server: the path alone in the request line, the authority in `Host`.
        let authority = server
            .url
            .trim_start_matches("http://")
            .trim_end_matches("/mcp");
        let targets = server.targets.lock().unwrap().clone();
        assert!(targets.len() >= 52, "{targets:?}");
        for (target, host) in targets {
            assert_eq!(target, "/mcp");
            assert_eq!(host.as_deref(), Some(authority));
        }
    })
    .await;
}

#[tokio::test]
async fn sequential_calls_answered_on_sse_streams_reuse_their_connection() {
    within(async {
        let server = PoolServer::start(ResponseMode::Sse).await;
        let (client, opened) = connect(&server, None).await;
        echo(&client, "first").await;
        let before = opened.load(Ordering::SeqCst);
        for i in 0..50 {
            echo(&client, &format!("call {i}")).await;
        }
        // The client reads each stream to its end, usually before the call returns; when the
        // end comes a moment later the next call may open one more. Dropping streams before
        // their end would cost a connection per call.
        let new = opened.load(Ordering::SeqCst) - before;
        assert!(new <= 3, "50 sequential calls opened {new} connections");
    })
    .await;
}

#[tokio::test]
async fn concurrent_calls_open_more_connections_and_then_reuse_them() {
    within(async {
        let server = PoolServer::start(ResponseMode::Json).await;
        let (client, opened) = connect(&server, None).await;
        let client = Arc::new(client);
        echo(&client, "first").await;
        let start = opened.load(Ordering::SeqCst);
        let round = || {
            let calls: Vec<_> = (0..4)
                .map(|_| {
                    let client = client.clone();
                    tokio::spawn(async move {
                        // Long enough that the four overlap.
                        client
                            .call_tool(
                                "long_running_operation",
                                json!({"duration": 0.3, "steps": 1}),
                            )
                            .await
                            .unwrap()
                    })
                })
                .collect();
            async move {
                for call in calls {
                    assert!(!call.await.unwrap().is_error());
                }
            }
        };
        round().await;
        let first = opened.load(Ordering::SeqCst) - start;
        // One of the four found the free connection; the others each opened one.
        assert_eq!(
            first, 3,
            "four overlapping calls opened {first} connections"
        );
        round().await;
        round().await;
        let later = opened.load(Ordering::SeqCst) - start - first;
        assert_eq!(later, 0, "the free connections were not reused");
        for i in 0..10 {
            echo(&client, &format!("after {i}")).await;
        }
        assert_eq!(opened.load(Ordering::SeqCst), start + first);
    })
    .await;
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_replaced() {
    within(async {
        let server = PoolServer::start(ResponseMode::Json).await;
        let (client, opened) = connect(&server, None).await;
        echo(&client, "first").await;
        let before = opened.load(Ordering::SeqCst);
        for round in 1..=3 {
            // The server closes the idle POST connection; the GET stream stays open.
            let open = server.open.load(Ordering::SeqCst);
            server.close_idle_connections();
            assert_eq!(settles(&server.open, open - 1).await, open - 1);
            // Only now does the next call find its connection gone: it opens another, and
            // neither it nor the session notice.
            echo(&client, &format!("round {round}")).await;
            assert_eq!(opened.load(Ordering::SeqCst), before + round);
            echo(&client, &format!("round {round} again")).await;
            assert_eq!(opened.load(Ordering::SeqCst), before + round);
        }
        assert_eq!(server.service.session_count(), 1);
    })
    .await;
}

#[tokio::test]
async fn idle_connections_close_after_the_idle_timeout() {
    within(async {
        let server = PoolServer::start(ResponseMode::Json).await;
        let (client, opened) = connect(&server, Some(Duration::from_millis(300))).await;
        echo(&client, "first").await;
        let before = opened.load(Ordering::SeqCst);
        let open = server.open.load(Ordering::SeqCst);
        // Nothing sent for longer than the timeout: the client closes the idle connection by
        // itself (the GET stream, busy, stays).
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(settles(&server.open, open - 1).await, open - 1);
        echo(&client, "later").await;
        assert_eq!(opened.load(Ordering::SeqCst), before + 1);
        // Calls closer together than the timeout keep using it.
        for i in 0..5 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            echo(&client, &format!("call {i}")).await;
        }
        assert_eq!(opened.load(Ordering::SeqCst), before + 1);
    })
    .await;
}
