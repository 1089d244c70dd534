//! The peer engine between two in-memory peers: concurrency, cancellation both ways (X-1..X-5),
//! duplicate ids, panicking handlers, progress rules (P-3) and closing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use mcp_http_core::transport::{Outbound, OutboundKind};
use mcp_http_core::{
    Handler, Peer, PeerConfig, RequestContext, RequestError, RequestOptions, Transport, memory,
};
use mcp_http_proto::jsonrpc::{Message, Request, Response};
use mcp_http_proto::{ErrorObject, RequestId};
use serde_json::json;
use serde_json::value::RawValue;

/// Answers `slow` after `release` fires (or records its cancellation), `fast` at once, `panic`
/// by panicking, `progress` with non-monotonic progress, and `ask` by asking the other side.
#[derive(Default)]
struct TestHandler {
    cancelled: Arc<AtomicBool>,
}

fn raw(v: serde_json::Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(&v).unwrap()
}

impl Handler for TestHandler {
    fn handle_request(
        &self,
        request: Request,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        let cancelled = self.cancelled.clone();
        Box::pin(async move {
            match request.method.as_str() {
                "fast" => Ok(raw(json!({"ok": true}))),
                "slow" => {
                    struct Flag(Arc<AtomicBool>);
                    impl Drop for Flag {
                        fn drop(&mut self) {
                            self.0.store(true, Ordering::SeqCst);
                        }
                    }
                    let _flag = Flag(cancelled);
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    std::mem::forget(_flag);
                    Ok(raw(json!({"slow": true})))
                }
                "panic" => panic!("handler bug"),
                "progress" => {
                    for p in [1.0, 3.0, 2.0, 3.0, 4.0] {
                        ctx.progress(p, None, None)
                            .await
                            .map_err(|_| ErrorObject::internal())?;
                    }
                    Ok(raw(json!({})))
                }
                "ask" => {
                    let options = RequestOptions::default().timeout(Duration::from_millis(200));
                    match ctx
                        .request::<_, serde_json::Value>("slow", &json!({}), options)
                        .await
                    {
                        Err(RequestError::Timeout(_)) => Ok(raw(json!({"asked": "timed out"}))),
                        other => Ok(raw(json!({"asked": format!("{other:?}")}))),
                    }
                }
                m => Err(ErrorObject::method_not_found(m)),
            }
        })
    }
}

fn pair() -> (Peer, Peer, Arc<AtomicBool>, Arc<AtomicBool>) {
    let (a, b) = memory::pair();
    let (ha, hb) = (TestHandler::default(), TestHandler::default());
    let (ca, cb) = (ha.cancelled.clone(), hb.cancelled.clone());
    let client = Peer::connect(a, Arc::new(ha), PeerConfig::default());
    let server = Peer::connect(b, Arc::new(hb), PeerConfig::default());
    (client, server, ca, cb)
}

async fn eventually(flag: &AtomicBool) -> bool {
    mcp_http_test_support::eventually(|| flag.load(Ordering::SeqCst)).await
}

#[tokio::test]
async fn a_slow_handler_does_not_block_another() {
    let (client, _server, _, _) = pair();
    let slow = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .request::<_, serde_json::Value>("slow", &json!({}), RequestOptions::default())
                .await
        })
    };
    let fast: serde_json::Value = tokio::time::timeout(
        Duration::from_secs(2),
        client.request("fast", &json!({}), RequestOptions::default()),
    )
    .await
    .expect("fast answered while slow runs")
    .unwrap();
    assert_eq!(fast, json!({"ok": true}));
    slow.abort();
}

// Paused clock: everything here is in memory and only timers are waited for.
#[tokio::test(start_paused = true)]
async fn client_cancellation_stops_the_server_handler() {
    let (client, server, _, server_cancelled) = pair();
    let token = mcp_http_core::CancellationToken::new();
    let call = {
        let (client, token) = (client.clone(), token.clone());
        tokio::spawn(async move {
            client
                .request::<_, serde_json::Value>(
                    "slow",
                    &json!({}),
                    RequestOptions::default().cancel_token(token),
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.inflight_count(), 1);
    token.cancel();
    assert!(matches!(call.await.unwrap(), Err(RequestError::Cancelled)));
    assert!(
        eventually(&server_cancelled).await,
        "server handler was not cancelled"
    );
    assert_eq!(server.inflight_count(), 0);
}

// Paused clock: everything here is in memory and only timers are waited for.
#[tokio::test(start_paused = true)]
async fn dropping_a_request_future_cancels_it() {
    let (client, server, _, server_cancelled) = pair();
    let params = json!({});
    let call = client.request::<_, serde_json::Value>("slow", &params, RequestOptions::default());
    assert!(
        tokio::time::timeout(Duration::from_millis(100), call)
            .await
            .is_err()
    );
    assert!(eventually(&server_cancelled).await);
    assert_eq!(server.inflight_count(), 0);
}

// Paused clock: everything here is in memory and only timers are waited for.
#[tokio::test(start_paused = true)]
async fn server_to_client_request_times_out_and_is_cancelled_on_the_client() {
    let (client, _server, client_cancelled, _) = pair();
    // The client asks the server to `ask`; the server's handler asks the client `slow`, times out
    // after 200 ms and cancels it: the client's handler must stop.
    let answer: serde_json::Value = client
        .request("ask", &json!({}), RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(answer, json!({"asked": "timed out"}));
    assert!(
        eventually(&client_cancelled).await,
        "client handler was not cancelled"
    );
}

#[tokio::test]
async fn a_panicking_handler_gets_an_internal_error_and_the_peer_keeps_serving() {
    let (client, _server, _, _) = pair();
    let err = client
        .request::<_, serde_json::Value>("panic", &json!({}), RequestOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Rpc(e) if e.code == -32603 && e.message == "Internal error")
    );
    let ok: serde_json::Value = client
        .request("fast", &json!({}), RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(ok, json!({"ok": true}));
}

#[tokio::test]
async fn progress_only_increases() {
    let (client, _server, _, _) = pair();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let options =
        RequestOptions::default().on_progress(move |p| sink.lock().unwrap().push(p.progress));
    let _: serde_json::Value = client
        .request("progress", &json!({}), options)
        .await
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), [1.0, 3.0, 4.0]);
}

// Paused clock: everything here is in memory and only timers are waited for.
#[tokio::test(start_paused = true)]
async fn closing_fails_pending_requests() {
    let (client, _server, _, _) = pair();
    let call = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .request::<_, serde_json::Value>("slow", &json!({}), RequestOptions::default())
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.close();
    assert!(matches!(call.await.unwrap(), Err(RequestError::Closed)));
    assert!(matches!(
        client
            .request::<_, serde_json::Value>("fast", &json!({}), RequestOptions::default())
            .await,
        Err(RequestError::Closed)
    ));
}

/// A raw wire end: send exact bytes, read the other side's messages.
async fn raw_server() -> (
    Arc<dyn mcp_http_core::MessageSink>,
    mcp_http_core::MessageStream,
    Arc<AtomicBool>,
) {
    let (a, b) = memory::pair();
    let handler = TestHandler::default();
    let cancelled = handler.cancelled.clone();
    let _server = Peer::connect(b, Arc::new(handler), PeerConfig::default());
    let (sink, stream) = a.split();
    std::mem::forget(_server);
    (sink, stream, cancelled)
}

async fn send(sink: &Arc<dyn mcp_http_core::MessageSink>, json: &str) {
    let outbound = Outbound::new(json.to_owned().into(), OutboundKind::Request);
    sink.send(outbound).await.unwrap();
}

async fn next_response(stream: &mut mcp_http_core::MessageStream) -> Response {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(2), stream.next())
            .await
            .expect("a reply")
            .expect("open");
        if let Ok(Message::Response(r)) = item {
            return r;
        }
    }
}

#[tokio::test]
async fn a_duplicate_inflight_id_gets_an_error_not_a_hang() {
    let (sink, mut stream, _) = raw_server().await;
    send(&sink, r#"{"jsonrpc":"2.0","id":7,"method":"slow"}"#).await;
    send(&sink, r#"{"jsonrpc":"2.0","id":7,"method":"fast"}"#).await;
    let r = next_response(&mut stream).await;
    assert_eq!(r.id, Some(RequestId::Number(7)));
    let err = r.outcome.unwrap_err();
    assert_eq!(err.code, -32600);
    assert!(err.message.contains("already in progress"));
}

#[tokio::test]
async fn bad_messages_get_the_right_codes_and_the_peer_keeps_serving() {
    let (sink, mut stream, _) = raw_server().await;
    for (input, code, id) in [
        ("{not json", -32700, None),
        (
            r#"{"jsonrpc":"2.0","id":3}"#,
            -32600,
            Some(RequestId::Number(3)),
        ),
        (
            r#"{"jsonrpc":"1.0","id":"x","method":"fast"}"#,
            -32600,
            Some(RequestId::from("x")),
        ),
        (
            r#"{"jsonrpc":"2.0","id":4,"method":"no/such/method"}"#,
            -32601,
            Some(RequestId::Number(4)),
        ),
    ] {
        send(&sink, input).await;
        let r = next_response(&mut stream).await;
        assert_eq!(r.id, id, "{input}");
        assert_eq!(r.outcome.unwrap_err().code, code, "{input}");
    }
    // Unknown responses and cancellations are ignored (X-5), and the peer still answers ping.
    send(&sink, r#"{"jsonrpc":"2.0","id":99,"result":{}}"#).await;
    send(
        &sink,
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":12345}}"#,
    )
    .await;
    send(
        &sink,
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{}}}"#,
    )
    .await;
    // Params that are not an object make the message invalid JSON-RPC: -32600 with a null id.
    send(
        &sink,
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":"garbage"}"#,
    )
    .await;
    let r = next_response(&mut stream).await;
    assert_eq!((r.id, r.outcome.unwrap_err().code), (None, -32600));
    send(&sink, r#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#).await;
    let r = next_response(&mut stream).await;
    assert_eq!(r.id, Some(RequestId::from("p")));
    assert_eq!(r.outcome.unwrap().get(), "{}");
}

// Paused clock: everything here is in memory and only timers are waited for.
#[tokio::test(start_paused = true)]
async fn keep_alive_pings_close_a_dead_connection() {
    // A peer whose other side never answers: the keep-alive ping times out and closes it.
    let (a, b) = memory::pair();
    let config = PeerConfig::default()
        .ping_interval(Some(Duration::from_millis(50)))
        .request_timeout(Duration::from_millis(100));
    let peer = Peer::connect(a, Arc::new(TestHandler::default()), config);
    let (_sink, _stream) = b.split(); // held open, never answered
    let started = tokio::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(3), peer.closed())
        .await
        .expect("closed after a failed ping");
    // Not before a ping was sent and its answer waited for (the clock is simulated, so exact).
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );

    // Against a live peer the pings are answered and the connection stays open.
    let (a, b) = memory::pair();
    let config = PeerConfig::default().ping_interval(Some(Duration::from_millis(30)));
    let peer = Peer::connect(a, Arc::new(TestHandler::default()), config);
    let _other = Peer::connect(b, Arc::new(TestHandler::default()), PeerConfig::default());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!peer.is_closed());
}
