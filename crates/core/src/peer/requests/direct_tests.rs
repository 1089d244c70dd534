//! PF-106: a request without a progress callback waits on its own exchange, with no entry in
//! the table, and still gets an answer its transport routed through the message stream (before
//! or after its send ended), fails as closed when the peer closes, and times out with a
//! cancellation as before.

use std::sync::Mutex as StdMutex;
use std::time::Duration;

use super::*;

/// What the test sink's request send does.
#[derive(Clone, Copy)]
enum Mode {
    /// Hands the answer back with the send (an HTTP POST's JSON answer).
    Returned,
    /// Routes the answer through the peer's stream (`Peer::receive`), then ends the send
    /// without it: the answer came before the waiter could put an entry in.
    RoutedFirst,
    /// Ends the send without the answer; the test routes it later.
    Later,
    /// Never ends.
    Never,
}

struct TestSink {
    mode: Mode,
    peer: StdMutex<Option<Peer>>,
    /// The notifications and responses sent (a cancellation, X-1).
    sent: StdMutex<Vec<Bytes>>,
    /// How many entries the table held while the send ran.
    table_during_send: StdMutex<Vec<usize>>,
}

fn answer(id: &RequestId) -> Response {
    Response {
        id: Some(id.clone()),
        outcome: Ok(RawValue::from_string(r#"{"ok":true}"#.to_owned()).unwrap_or_default()),
    }
}

impl MessageSink for TestSink {
    fn send(&self, message: Outbound) -> crate::transport::Sending<'_> {
        lock(&self.sent).push(message.json);
        crate::transport::Sending::done(Ok(()))
    }

    fn send_request_reading<'a>(
        &'a self,
        message: Outbound,
        _read: Option<&'a mut ReplyReader<'_>>,
    ) -> BoxFuture<'a, Result<Option<Answered>, TransportError>> {
        Box::pin(async move {
            let Some(id) = message.id.clone() else {
                return Ok(None);
            };
            let peer = lock(&self.peer).clone();
            if let Some(peer) = &peer {
                lock(&self.table_during_send).push(lock(&peer.inner.pending).len());
            }
            match self.mode {
                Mode::Returned => Ok(Some(Answered::Response(answer(&id)))),
                Mode::RoutedFirst => {
                    if let Some(peer) = peer {
                        peer.receive(Message::Response(answer(&id))).await;
                    }
                    Ok(None)
                }
                Mode::Later => Ok(None),
                Mode::Never => std::future::pending().await,
            }
        })
    }
}

struct Nothing;

impl Handler for Nothing {
    fn handle_request(
        &self,
        _request: Request,
        _ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        Box::pin(async { Err(ErrorObject::internal()) })
    }
}

fn peer(mode: Mode) -> (Peer, Arc<TestSink>) {
    let sink = Arc::new(TestSink {
        mode,
        peer: StdMutex::new(None),
        sent: StdMutex::new(Vec::new()),
        table_during_send: StdMutex::new(Vec::new()),
    });
    let peer = Peer::new(sink.clone(), Arc::new(Nothing), PeerConfig::default());
    *lock(&sink.peer) = Some(peer.clone());
    (peer, sink)
}

async fn ping(peer: &Peer, options: RequestOptions) -> Result<serde_json::Value, RequestError> {
    peer.request("ping", &serde_json::json!({}), options).await
}

/// A default `ping` waited on in a task of its own.
fn spawn_ping(peer: &Peer) -> tokio::task::JoinHandle<Result<serde_json::Value, RequestError>> {
    let peer = peer.clone();
    tokio::spawn(async move { ping(&peer, RequestOptions::default()).await })
}

/// Returns once the sink has a request's send running.
async fn sent(sink: &TestSink) {
    while lock(&sink.table_during_send).is_empty() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Drops the sink's hold on the peer (a cycle in these tests).
fn release(sink: &TestSink) {
    lock(&sink.peer).take();
}

#[tokio::test]
async fn an_answer_with_the_send_never_enters_the_table() {
    let (peer, sink) = peer(Mode::Returned);
    let got = ping(&peer, RequestOptions::default()).await.unwrap();
    assert_eq!(got, serde_json::json!({"ok": true}));
    assert_eq!(*lock(&sink.table_during_send), vec![0]);
    assert!(lock(&peer.inner.pending).is_empty());
    assert_eq!(peer.inner.closed.flag.load(Ordering::Acquire) & DIRECT, 0);
    // A request with a progress callback has its entry while it is sent (P-1).
    let options = RequestOptions::default().on_progress(|_| {});
    ping(&peer, options).await.unwrap();
    assert_eq!(*lock(&sink.table_during_send), vec![0, 1]);
    assert!(lock(&peer.inner.pending).is_empty());
    release(&sink);
}

#[tokio::test]
async fn an_answer_routed_through_the_stream_before_the_send_ended_is_parked_for_it() {
    let (peer, sink) = peer(Mode::RoutedFirst);
    let got = ping(&peer, RequestOptions::default()).await.unwrap();
    assert_eq!(got, serde_json::json!({"ok": true}));
    assert!(lock(&peer.inner.pending).is_empty());
    release(&sink);
}

#[tokio::test]
async fn an_answer_routed_after_the_send_ended_goes_through_the_table() {
    let (peer, sink) = peer(Mode::Later);
    let waiting = spawn_ping(&peer);
    // The waiter puts its entry in once its send ended without the answer.
    let id = loop {
        if let Some(id) = lock(&peer.inner.pending).keys().next().cloned() {
            break id;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    peer.receive(Message::Response(answer(&id))).await;
    let got = waiting.await.unwrap().unwrap();
    assert_eq!(got, serde_json::json!({"ok": true}));
    assert!(lock(&peer.inner.pending).is_empty());
    release(&sink);
}

#[tokio::test]
async fn a_direct_request_fails_as_closed_when_the_peer_closes() {
    let (peer, sink) = peer(Mode::Never);
    let waiting = spawn_ping(&peer);
    sent(&sink).await;
    peer.close();
    let outcome = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the close did not end the request")
        .unwrap();
    assert!(matches!(outcome, Err(RequestError::Closed)), "{outcome:?}");
    // Nothing to cancel on a closed peer.
    assert!(lock(&sink.sent).is_empty());
    release(&sink);
}

#[tokio::test]
async fn a_direct_request_times_out_and_is_cancelled() {
    let (peer, sink) = peer(Mode::Never);
    let options = RequestOptions::default().timeout(Duration::from_millis(20));
    let outcome = ping(&peer, options).await;
    assert!(
        matches!(outcome, Err(RequestError::Timeout(_))),
        "{outcome:?}"
    );
    let sent = lock(&sink.sent).clone();
    assert_eq!(sent.len(), 1, "one cancellation (X-1)");
    let text = String::from_utf8_lossy(&sent[0]).into_owned();
    assert!(text.contains(method::NOTIFICATION_CANCELLED), "{text}");
    assert!(text.contains("timed out"), "{text}");
    assert_eq!(peer.inner.closed.flag.load(Ordering::Acquire) & DIRECT, 0);
    release(&sink);
}

#[tokio::test]
async fn stray_answers_are_parked_only_while_a_direct_request_waits_and_at_most_sixteen() {
    let (peer, sink) = peer(Mode::Never);
    // No direct request waits: a stray answer is ignored (X-4, X-5).
    peer.receive(Message::Response(answer(&RequestId::Number(1_000))))
        .await;
    assert!(lock(&peer.inner.pending).is_empty());
    let waiting = spawn_ping(&peer);
    sent(&sink).await;
    for n in 0..20 {
        peer.receive(Message::Response(answer(&RequestId::Number(2_000 + n))))
            .await;
    }
    {
        let pending = lock(&peer.inner.pending);
        assert_eq!(pending.values().filter(|p| p.parked).count(), MAX_PARKED);
        assert!(pending.contains_key(&RequestId::Number(2_000)));
        assert!(
            !pending.contains_key(&RequestId::Number(2_016)),
            "the newest went"
        );
        assert_ne!(peer.inner.closed.flag.load(Ordering::Acquire) & PARKED, 0);
    }
    waiting.abort();
    let _ = waiting.await;
    // The last direct request gone, nothing stays parked.
    assert!(lock(&peer.inner.pending).is_empty());
    assert_eq!(peer.inner.closed.flag.load(Ordering::Acquire) & PARKED, 0);
    assert_eq!(peer.inner.closed.flag.load(Ordering::Acquire) & DIRECT, 0);
    release(&sink);
}

/// PF-106: the count of direct requests shares the closed flag's word, so a peer is no larger
/// than before (an idle session holds one).
#[test]
fn the_direct_count_shares_the_closed_flags_word() {
    assert_eq!(
        std::mem::size_of::<Closed>(),
        std::mem::size_of::<Notify>() + 8
    );
    let closed = Closed::default();
    closed.flag.fetch_add(3, Ordering::AcqRel);
    assert!(!closed.is_closed());
    assert!(closed.close());
    assert!(closed.is_closed());
    assert_eq!(closed.flag.load(Ordering::Acquire) & DIRECT, 3);
    assert!(!closed.close());
}
