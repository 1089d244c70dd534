//! A context its handler keeps past the answer works as it did: a handler that clones its context in
//! its first poll, answers at once and uses the clone later (a log, progress, the extensions, the
//! cancellation token) sends the same through the sink on a peer and on a peer made later
//! (PF-52), in a legacy state and in a 2026-07-28 one; the request's places are held until the
//! clone is gone (RL-6, RL-7); progress after the answer is dropped (P-4). A handler that waits
//! and reports progress, or is cancelled while it waits, is `tests/unmade.rs`'s.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use mcp_http_core::peer::{Answered, MakePeer, Unmade};
use mcp_http_core::{
    CountedPlace, Extensions, Handler, MessageSink, Outbound, Peer, PeerConfig, Places, Principal,
    RequestContext, Sending, SessionState, SharedClient,
};
use mcp_http_proto::jsonrpc::{Message, Request};
use mcp_http_proto::{ErrorObject, Implementation, LoggingLevel, ProtocolVersion, RequestId};
use serde_json::json;
use serde_json::value::RawValue;

/// Keeps what is sent through it.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<(String, Option<RequestId>)>>,
}

impl MessageSink for Recorder {
    fn send(&self, message: Outbound) -> Sending<'_> {
        let json = String::from_utf8(message.json.to_vec()).unwrap();
        self.sent.lock().unwrap().push((json, message.related));
        Sending::done(Ok(()))
    }
}

fn raw(v: serde_json::Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(&v).unwrap()
}

/// Clones its context in its first poll, answers at once, and uses the clone on a task of its
/// own after a wait; the task's report goes to `done`.
struct Keeps {
    done: tokio::sync::mpsc::UnboundedSender<serde_json::Value>,
}

impl Handler for Keeps {
    fn handle_request(
        &self,
        _request: Request,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        let kept = ctx.clone();
        drop(ctx);
        let done = self.done.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            // P-4: the request is answered; its progress is dropped.
            let progress = kept.progress(1.0, None, None).await.is_ok();
            let logged = kept
                .log(LoggingLevel::Info, Some("kept"), &json!("later"))
                .await
                .is_ok();
            let report = json!({
                "id": kept.request_id(),
                "progress token": kept.progress_token(),
                "principal": kept.principal().map(|p| p.id().to_owned()),
                "cancelled": kept.is_cancelled(),
                "progress": progress,
                "logged": logged,
            });
            drop(kept);
            let _ = done.send(report);
        });
        Box::pin(async { Ok(raw(json!({"kept": true}))) })
    }
}

struct Maker(Arc<Recorder>);

impl MakePeer for Maker {
    fn make_peer(
        &self,
        _id: &RequestId,
        handler: Arc<dyn Handler>,
        _state: &SessionState,
        _answered: bool,
    ) -> Peer {
        Peer::new(self.0.clone(), handler, PeerConfig::default())
    }
}

fn request() -> Request {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "kept",
        "params": {"_meta": {"progressToken": "p"}}});
    match Message::parse(body.to_string().as_bytes()) {
        Ok(Message::Request(request)) => request,
        other => panic!("{other:?}"),
    }
}

fn set_state(state: &SessionState, version: ProtocolVersion) {
    let client = SharedClient::from_raw(Implementation::new("c", "1"), None);
    state.set_shared_client(version, &client);
    state.set_initialized();
    state.set_log_level(LoggingLevel::Debug);
}

fn extensions() -> Extensions {
    let mut extensions = Extensions::new();
    extensions.insert(Principal::new("p"));
    extensions
}

/// What came of the request: the buffer, the task's report, what went through the sink.
#[derive(Debug, PartialEq)]
struct Outcome {
    out: String,
    report: serde_json::Value,
    sent: Vec<(String, Option<RequestId>)>,
}

/// Waits for the kept clone's report, then checks that the places it held are given back.
async fn outcome(
    out: Vec<u8>,
    recorder: &Recorder,
    mut done: tokio::sync::mpsc::UnboundedReceiver<serde_json::Value>,
    counter: &AtomicUsize,
) -> Outcome {
    let report = tokio::time::timeout(Duration::from_secs(5), done.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        counter.load(Ordering::Acquire),
        0,
        "the places are given back"
    );
    Outcome {
        out: String::from_utf8(out).unwrap(),
        report,
        sent: recorder.sent.lock().unwrap().clone(),
    }
}

#[tokio::test]
async fn a_context_cloned_in_the_first_poll_is_used_later_as_before() {
    for version in [ProtocolVersion::V2025_11_25, ProtocolVersion::V2026_07_28] {
        let counter = Arc::new(AtomicUsize::new(0));
        let held = |counter: &Arc<AtomicUsize>| {
            Places::default().with_counted(CountedPlace::take(counter, 4).unwrap())
        };

        let recorder = Arc::new(Recorder::default());
        let (tx, done) = tokio::sync::mpsc::unbounded_channel();
        let peer = Peer::new(
            recorder.clone(),
            Arc::new(Keeps { done: tx }),
            PeerConfig::default(),
        );
        set_state(peer.state(), version);
        let mut out = b"head:".to_vec();
        let answered = peer.answer_request_into(request(), extensions(), held(&counter), &mut out);
        assert!(answered, "answered at once");
        assert_eq!(
            counter.load(Ordering::Acquire),
            1,
            "the clone holds the places"
        );
        let on_a_peer = outcome(out, &recorder, done, &counter).await;

        let recorder = Arc::new(Recorder::default());
        let (tx, done) = tokio::sync::mpsc::unbounded_channel();
        let maker = Arc::new(Maker(recorder.clone()));
        let unmade = Unmade::new(maker, Arc::new(Keeps { done: tx }), &PeerConfig::default());
        set_state(unmade.state(), version);
        let mut out = b"head:".to_vec();
        let answered =
            Peer::answer_unmade(request(), extensions(), held(&counter), unmade, &mut out);
        assert!(matches!(answered, Answered::AtOnce), "{answered:?}");
        assert_eq!(
            counter.load(Ordering::Acquire),
            1,
            "the clone holds the places"
        );
        let unmade = outcome(out, &recorder, done, &counter).await;

        assert_eq!(unmade, on_a_peer, "{version:?}");
        assert_eq!(
            on_a_peer.out,
            r#"head:{"jsonrpc":"2.0","id":7,"result":{"kept":true}}"#
        );
        assert_eq!(
            on_a_peer.report,
            json!({"id": 7, "progress token": "p", "principal": "p", "cancelled": false,
                "progress": true, "logged": true}),
        );
        // The log went out after the answer; the progress did not (P-4).
        assert_eq!(on_a_peer.sent.len(), 1, "{:?}", on_a_peer.sent);
        assert!(on_a_peer.sent[0].0.contains("notifications/message"));
        assert!(on_a_peer.sent[0].0.contains("later"));
    }
}
