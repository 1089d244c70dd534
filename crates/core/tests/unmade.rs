//! A request answered before its peer exists (PF-52) against the same request on a fresh peer
//! (`Peer::answer_request_into`), in a legacy state and in a 2026-07-28 one: a handler that
//! answers at once, logs or reports progress in its first poll, waits, is cancelled, times out
//! asking the other side, asks for input, or panics gives the same answer, the same messages
//! through the sink, byte for byte; only an answer at once with nothing sent makes no peer.
//! The `tools/call` a transport read already is handed to the unmade path as a field
//! (`Unmade::with_tool_call`) and to the peer in the extensions map: the handler sees the same
//! (PF-70), in its first poll and after it waits. A handler that clones its context in its first
//! poll, answers at once and uses the clone later sends the same both ways, in both eras; the
//! request's places are held until the clone is gone (RL-6, RL-7), and its progress after the
//! answer is dropped (P-4).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use mcp_http_core::peer::{Answered, MakePeer, Unmade};
use mcp_http_core::{
    CountedPlace, Extensions, FirstCall, Handler, MessageSink, Outbound, Peer, PeerConfig, Places,
    Principal, RequestContext, RequestError, RequestOptions, Sending, SessionState, SharedClient,
    ToolCallView,
};
use mcp_http_proto::jsonrpc::{Message, Notification, Request};
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

impl Recorder {
    fn sent(&self) -> Vec<(String, Option<RequestId>)> {
        self.sent.lock().unwrap().clone()
    }
}

fn raw(v: serde_json::Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(&v).unwrap()
}

/// What a handler sees of the `tools/call` the transport read, both ways it can read it.
fn seen(ctx: &RequestContext) -> serde_json::Value {
    let shown = ctx.extensions();
    let view = shown.get::<ToolCallView>();
    json!({
        "name": view.map(|v| v.name.to_string()),
        "arguments": view.and_then(|v| v.arguments.as_ref().map(|a| a.get().to_owned())),
        "first": shown.get::<FirstCall>().is_some(),
        "principal": ctx.principal().map(|p| p.id().to_owned()),
        "read alike": ctx.tool_call().map(|v| &v.name) == view.map(|v| &v.name)
            && ctx.extension::<FirstCall>().is_some() == shown.get::<FirstCall>().is_some()
            && ctx.extension::<Principal>() == shown.get::<Principal>(),
    })
}

/// The view a transport hands over with every request here.
fn view() -> ToolCallView {
    ToolCallView {
        name: "t".into(),
        arguments: Some(raw(json!({"a": 1}))),
    }
}

/// The transport's extensions: a principal.
fn extensions() -> Extensions {
    let mut extensions = Extensions::new();
    extensions.insert(Principal::new("p"));
    extensions
}

/// One method per kind of handler.
struct Kinds;

impl Handler for Kinds {
    fn handle_request(
        &self,
        request: Request,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        // Read in the first poll (before any wait).
        let first = seen(&ctx);
        Box::pin(async move {
            let version = ctx
                .state()
                .protocol_version()
                .map(|v| v.as_str().to_owned());
            match request.method.as_str() {
                "quick" => Ok(raw(json!({"version": version, "call": first}))),
                "log" => {
                    ctx.log(LoggingLevel::Info, Some("t"), &json!("first"))
                        .await
                        .map_err(|_| ErrorObject::internal())?;
                    Ok(raw(json!({"logged": true})))
                }
                "progress" => {
                    ctx.progress(1.0, Some(2.0), Some("half"))
                        .await
                        .map_err(|_| ErrorObject::internal())?;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    ctx.progress(2.0, Some(2.0), None)
                        .await
                        .map_err(|_| ErrorObject::internal())?;
                    Ok(raw(json!({"done": true})))
                }
                "wait" => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    let client = ctx.peer().state().client_info().map(|c| c.name.clone());
                    let after = seen(&ctx);
                    Ok(raw(
                        json!({"waited": true, "client": client, "call": [first, after]}),
                    ))
                }
                "cancelled" => {
                    ctx.cancelled().await;
                    Ok(raw(json!({"never": true})))
                }
                "ask" => {
                    let options = RequestOptions::default();
                    let answer: Result<serde_json::Value, RequestError> = ctx
                        .request("sampling/createMessage", &json!({}), options)
                        .await;
                    let timed_out = matches!(answer, Err(RequestError::Timeout(_)));
                    Ok(raw(json!({"timed out": timed_out})))
                }
                "input" => {
                    let answer = ctx.roots().await;
                    Ok(raw(
                        json!({"input": answer.map_err(|e| e.to_string()).is_ok()}),
                    ))
                }
                "panic" => panic!("handler bug"),
                other => Err(ErrorObject::method_not_found(other)),
            }
        })
    }
}

/// Makes peers that send through one recorder.
struct Maker(Arc<Recorder>);

impl MakePeer for Maker {
    fn make_peer(
        &self,
        _id: &RequestId,
        handler: Arc<dyn Handler>,
        _state: &SessionState,
        _answered: bool,
    ) -> Peer {
        Peer::new(self.0.clone(), handler, config())
    }
}

fn request(method: &str, progress: bool) -> Request {
    let params = match progress {
        true => json!({"_meta": {"progressToken": "p"}}),
        false => json!({}),
    };
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    match Message::parse(body.to_string().as_bytes()) {
        Ok(Message::Request(request)) => request,
        other => panic!("{other:?}"),
    }
}

/// Quick timeouts of requests to the other side, so a request nobody answers ends soon.
fn config() -> PeerConfig {
    PeerConfig::default().request_timeout(Duration::from_millis(20))
}

fn set_state(state: &SessionState, version: ProtocolVersion) {
    let caps = raw(json!({"roots": {}}));
    let client = SharedClient::from_raw(Implementation::new("c", "1"), Some(Arc::from(caps)));
    state.set_shared_client(version, &client);
    state.set_initialized();
    if !version.is_legacy() {
        state.set_log_level(LoggingLevel::Debug);
    }
}

/// What a request came to: whether answered at once, the buffer, what went through the sink
/// once the handler is done (or cancelled), and whether a peer exists.
#[derive(Debug, PartialEq)]
struct Outcome {
    answered: bool,
    out: String,
    sent: Vec<(String, Option<RequestId>)>,
}

fn cancel(peer: &Peer) -> impl Future<Output = ()> + '_ {
    let note = Notification {
        method: "notifications/cancelled".into(),
        params: Some(raw(json!({"requestId": 7})).into()),
    };
    peer.receive(Message::Notification(note))
}

async fn settle(peer: Option<&Peer>, method: &str) {
    let Some(peer) = peer else { return };
    if method == "cancelled" {
        tokio::time::sleep(Duration::from_millis(5)).await;
        cancel(peer).await;
    }
    for _ in 0..200 {
        if !peer.is_inflight(&RequestId::Number(7)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        !peer.is_inflight(&RequestId::Number(7)),
        "{method} still runs"
    );
}

async fn on_a_peer(method: &str, version: ProtocolVersion, progress: bool) -> Outcome {
    let recorder = Arc::new(Recorder::default());
    let peer = Peer::new(recorder.clone(), Arc::new(Kinds), config());
    set_state(peer.state(), version);
    let mut out = b"head:".to_vec();
    let mut extensions = extensions();
    extensions.insert(view());
    extensions.insert(FirstCall::default());
    let answered = peer.answer_request_into(
        request(method, progress),
        extensions,
        Places::default(),
        &mut out,
    );
    settle(Some(&peer), method).await;
    Outcome {
        answered,
        out: String::from_utf8(out).unwrap(),
        sent: recorder.sent(),
    }
}

async fn unmade(method: &str, version: ProtocolVersion, progress: bool) -> (Outcome, bool) {
    let recorder = Arc::new(Recorder::default());
    let maker = Arc::new(Maker(recorder.clone()));
    // PF-70: the call as a field, not in the map.
    let unmade = Unmade::new(maker, Arc::new(Kinds), &config()).with_tool_call(view(), true);
    set_state(unmade.state(), version);
    let mut out = b"head:".to_vec();
    let request = request(method, progress);
    let answered = Peer::answer_unmade(request, extensions(), Places::default(), unmade, &mut out);
    let (peer, answered) = match answered {
        Answered::AtOnce => (None, true),
        Answered::Made { peer, answered } => (Some(peer), answered),
        other => panic!("{other:?}"),
    };
    if let Some(peer) = &peer {
        // The made peer has the request's state.
        assert_eq!(peer.state().protocol_version(), Some(version));
        assert_eq!(peer.state().client_info().unwrap().name, "c");
    }
    settle(peer.as_ref(), method).await;
    let outcome = Outcome {
        answered,
        out: String::from_utf8(out).unwrap(),
        sent: recorder.sent(),
    };
    (outcome, peer.is_some())
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

/// What came of a request whose handler kept a clone of its context: the buffer, the clone's
/// report, what went through the sink.
#[derive(Debug, PartialEq)]
struct Kept {
    out: String,
    report: serde_json::Value,
    sent: Vec<(String, Option<RequestId>)>,
}

/// Waits for the kept clone's report, then checks that the places it held are given back.
async fn kept(
    out: Vec<u8>,
    recorder: &Recorder,
    mut done: tokio::sync::mpsc::UnboundedReceiver<serde_json::Value>,
    counter: &AtomicUsize,
) -> Kept {
    let report = tokio::time::timeout(Duration::from_secs(5), done.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        counter.load(Ordering::Acquire),
        0,
        "the places are given back"
    );
    Kept {
        out: String::from_utf8(out).unwrap(),
        report,
        sent: recorder.sent(),
    }
}

#[tokio::test]
async fn every_kind_of_handler_answers_the_same_with_its_peer_made_only_when_needed() {
    // (method, asks for progress, made in legacy, made in 2026-07-28)
    let kinds = [
        ("quick", false, false, false),
        ("unknown", false, false, false),
        ("ping", false, false, false),
        ("panic", false, false, false),
        ("log", false, true, true),
        ("progress", true, true, true),
        ("wait", false, true, true),
        ("cancelled", false, true, true),
        ("ask", false, true, true),
        // Input in 2026-07-28 is an input-required error at once, no request: no peer.
        ("input", false, true, false),
    ];
    for version in [ProtocolVersion::V2025_11_25, ProtocolVersion::V2026_07_28] {
        for (method, progress, legacy_made, modern_made) in kinds {
            let before = on_a_peer(method, version, progress).await;
            let (after, made) = unmade(method, version, progress).await;
            assert_eq!(after, before, "{method} in {version:?}");
            let expected = match version.is_legacy() {
                true => legacy_made,
                false => modern_made,
            };
            assert_eq!(made, expected, "{method} in {version:?}: a peer made");
            if method == "progress" {
                assert_eq!(before.sent.len(), 3, "{:?}", before.sent);
            }
            if method == "quick" {
                let call = r#""call":{"arguments":"{\"a\":1}","first":true,"name":"t","principal":"p","read alike":true}"#;
                assert!(before.out.contains(call), "{}", before.out);
            }
            if method == "ask" && version.is_legacy() {
                let answer = &before.sent.last().unwrap().0;
                assert!(answer.contains(r#""timed out":true"#), "{answer}");
            }
        }
    }
}

#[tokio::test]
async fn a_peer_made_after_the_answer_is_told_so_and_a_limit_of_none_refuses_at_once() {
    struct Told(Mutex<Vec<bool>>);
    impl MakePeer for Told {
        fn make_peer(
            &self,
            _id: &RequestId,
            handler: Arc<dyn Handler>,
            _state: &SessionState,
            answered: bool,
        ) -> Peer {
            self.0.lock().unwrap().push(answered);
            Peer::new(
                Arc::new(Recorder::default()),
                handler,
                PeerConfig::default(),
            )
        }
    }
    /// Keeps its context, and answers at once.
    struct Keeper(Mutex<Option<RequestContext>>);
    impl Handler for Keeper {
        fn handle_request(
            &self,
            _request: Request,
            ctx: RequestContext,
        ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
            *self.0.lock().unwrap() = Some(ctx);
            Box::pin(async { Ok(raw(json!({}))) })
        }
    }
    let told = Arc::new(Told(Mutex::new(Vec::new())));
    let keeper = Arc::new(Keeper(Mutex::new(None)));
    let unmade = Unmade::new(told.clone(), keeper.clone(), &PeerConfig::default())
        .with_tool_call(view(), false);
    let mut out = Vec::new();
    let answered = Peer::answer_unmade(
        request("x", false),
        Extensions::new(),
        Places::default(),
        unmade,
        &mut out,
    );
    assert!(matches!(answered, Answered::AtOnce));
    assert!(told.0.lock().unwrap().is_empty());
    let kept = keeper.0.lock().unwrap().take().unwrap();
    // The context kept past the answer still shows the call it was handed (PF-70), and no
    // first call it was not told of.
    assert_eq!(kept.tool_call().unwrap().name.as_ref(), "t");
    assert_eq!(&*kept.extensions().get::<ToolCallView>().unwrap().name, "t");
    assert!(kept.extension::<FirstCall>().is_none());
    assert!(kept.extensions().get::<FirstCall>().is_none());
    let _ = kept.peer();
    assert_eq!(*told.0.lock().unwrap(), [true]);

    let config = PeerConfig::default().max_inbound_requests(0);
    let unmade = Unmade::new(told.clone(), Arc::new(Kinds), &config);
    let mut out = Vec::new();
    let refused = Peer::answer_unmade(
        request("quick", false),
        Extensions::new(),
        Places::default(),
        unmade,
        &mut out,
    );
    assert!(matches!(refused, Answered::AtOnce));
    let peer = Peer::new(Arc::new(Recorder::default()), Arc::new(Kinds), config);
    let mut before = Vec::new();
    assert!(peer.answer_request_into(
        request("quick", false),
        Extensions::new(),
        Places::default(),
        &mut before
    ));
    assert_eq!(out, before);
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
        let peer = Peer::new(recorder.clone(), Arc::new(Keeps { done: tx }), config());
        set_state(peer.state(), version);
        peer.state().set_log_level(LoggingLevel::Debug);
        let mut out = b"head:".to_vec();
        let answered = peer.answer_request_into(
            request("kept", true),
            extensions(),
            held(&counter),
            &mut out,
        );
        assert!(answered, "answered at once");
        assert_eq!(
            counter.load(Ordering::Acquire),
            1,
            "the clone holds the places"
        );
        let on_a_peer = kept(out, &recorder, done, &counter).await;

        let recorder = Arc::new(Recorder::default());
        let (tx, done) = tokio::sync::mpsc::unbounded_channel();
        let maker = Arc::new(Maker(recorder.clone()));
        let unmade = Unmade::new(maker, Arc::new(Keeps { done: tx }), &config());
        set_state(unmade.state(), version);
        unmade.state().set_log_level(LoggingLevel::Debug);
        let mut out = b"head:".to_vec();
        let answered = Peer::answer_unmade(
            request("kept", true),
            extensions(),
            held(&counter),
            unmade,
            &mut out,
        );
        assert!(matches!(answered, Answered::AtOnce), "{answered:?}");
        assert_eq!(
            counter.load(Ordering::Acquire),
            1,
            "the clone holds the places"
        );
        let made_later = kept(out, &recorder, done, &counter).await;

        assert_eq!(made_later, on_a_peer, "{version:?}");
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
