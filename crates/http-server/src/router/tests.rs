//! Unit tests of the router: lazily opened stateless streams, and its tables' release.

#![allow(clippy::unwrap_used)]

use super::*;

/// One request through the router: opened, answered, and its JSON taken by the POST.
fn call(router: &Router, n: i64) {
    let id = RequestId::Number(n);
    let sid = router.open_request(&id, false).unwrap();
    let sent = router.route(
        Outbound::new(Bytes::from_static(b"{}"), OutboundKind::Response)
            .related(id.clone())
            .id(id),
    );
    assert!(sent.is_ok());
    assert!(matches!(router.pending(sid), Pending::Json(_)));
}

fn has_tables(router: &Router) -> bool {
    let st = router.lock();
    st.streams.capacity() > 0 || st.requests.capacity() > 0
}

/// Regression: a stateless request's stream is opened lazily, and a handler that closed it
/// before sending anything (to make the client resume, T-12) found no stream to close.
#[test]
fn a_stateless_stream_closed_before_any_message_is_opened_closed() {
    let log: Arc<dyn EventLog> = Arc::new(crate::sessions::MemoryEventLog::default());
    let config = HttpConfig::default().stateless(true);
    let back_channel = BackChannel::default();
    let router = Router::new("".into(), &config, &log, Some((back_channel, None))).unwrap();
    router.enable_priming();
    let id = RequestId::Number(1);
    router.expect(&id);
    assert!(
        router.solo_stream(false).is_none(),
        "no stream before it is needed"
    );
    assert!(router.close_request_stream(&id));
    let sid = router.solo_stream(false).unwrap();
    assert!(matches!(router.pending(sid), Pending::Stream));
    assert!(!router.close_request_stream(&RequestId::Number(2)));
}

#[test]
fn tables_go_with_the_first_call_stay_for_a_busy_session_and_go_at_the_reapers_pass() {
    let log: Arc<dyn EventLog> = Arc::new(crate::sessions::MemoryEventLog::default());
    let router = Router::new("s".into(), &HttpConfig::default(), &log, None).unwrap();
    call(&router, 1);
    assert!(
        !has_tables(&router),
        "after one call (an initialize) the tables are released"
    );
    call(&router, 2);
    assert!(has_tables(&router), "a session making calls keeps them");
    call(&router, 3);
    assert!(has_tables(&router));
    router.release_idle_tables();
    assert!(!has_tables(&router), "the reaper's pass releases them");
    call(&router, 4);
    assert!(!has_tables(&router), "and the count starts again");
}

/// Regression (RL-47): a message related to a stateless request after its response (from a task
/// the handler left running) opened a new stream for the request, which nothing would ever read:
/// such messages piled up in it, unbounded, for as long as the request's router lived.
#[test]
fn a_stateless_request_once_answered_opens_no_stream_for_later_messages() {
    let log: Arc<dyn EventLog> = Arc::new(crate::sessions::MemoryEventLog::default());
    let config = HttpConfig::default().stateless(true);
    let stateless = Some((BackChannel::default(), None));
    let id = RequestId::Number(1);
    let later = |kind| {
        let json = Bytes::from_static(br#"{"jsonrpc":"2.0","method":"m"}"#);
        Outbound::new(json, kind).related(id.clone())
    };
    // Answered through its stream (the response went back as JSON).
    let router = Router::new("".into(), &config, &log, stateless.clone()).unwrap();
    router.expect(&id);
    let sid = router.solo_stream(true).unwrap();
    let response = Outbound::new(Bytes::from_static(b"{}"), OutboundKind::Response);
    router
        .route(response.related(id.clone()).id(id.clone()))
        .unwrap();
    assert!(matches!(router.pending(sid), Pending::Json(_)));
    for _ in 0..3 {
        router.route(later(OutboundKind::Notification)).unwrap();
    }
    assert_eq!(router.open_requests(), 0, "no stream for what comes after");
    assert!(router.route(later(OutboundKind::Request)).is_err());
    assert!(router.solo_stream(false).is_none());
    // Answered at once, without a stream (the POST says so).
    let router = Router::new("".into(), &config, &log, stateless).unwrap();
    router.expect(&id);
    router.solo_answered();
    router.route(later(OutboundKind::Notification)).unwrap();
    assert_eq!(router.open_requests(), 0);
    assert!(
        router.solo_stream(true).is_none(),
        "nor for a late POST decision"
    );
}

/// PF-7: what wakes a waiting POST is made only when it first waits; a message that came
/// before is seen by its check, and one that comes after wakes it.
#[tokio::test]
async fn a_post_that_starts_waiting_late_misses_no_message() {
    let log: Arc<dyn EventLog> = Arc::new(crate::sessions::MemoryEventLog::default());
    let router = Router::new("s".into(), &HttpConfig::default(), &log, None).unwrap();
    let (first, second) = (RequestId::Number(1), RequestId::Number(2));
    let notification = |id: &RequestId| {
        Outbound::new(Bytes::from_static(b"{}"), OutboundKind::Notification).related(id.clone())
    };
    // Sent before the POST waits: no waker yet, and the check sees it.
    let sid = router.open_request(&first, false).unwrap();
    assert!(router.route(notification(&first)).is_ok());
    let _late = router.waiter(sid);
    assert!(matches!(router.pending(sid), Pending::Stream));
    // Sent after the POST started waiting: it is woken.
    let sid = router.open_request(&second, false).unwrap();
    let notify = router.waiter(sid);
    assert!(matches!(router.pending(sid), Pending::Empty));
    let waiting = tokio::spawn(async move { notify.notified().await });
    assert!(router.route(notification(&second)).is_ok());
    let woken = tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await;
    assert!(matches!(woken, Ok(Ok(()))), "the POST was woken");
    assert!(matches!(router.pending(sid), Pending::Stream));
}

/// PF-47: a stateless request answered in JSON only shares the unnamed tag; a request of its
/// own to the client fails at once and leaves nothing in the back channel. Where its streams
/// can be named (SSE, adaptive), each router still draws a tag of its own (PF-4).
#[test]
fn a_json_only_stateless_router_is_unnamed_and_enters_no_request_in_the_back_channel() {
    let log: Arc<dyn EventLog> = Arc::new(crate::sessions::MemoryEventLog::default());
    let json = HttpConfig::default()
        .stateless(true)
        .response_mode(ResponseMode::Json);
    let back_channel = BackChannel::default();
    let make = |config: &HttpConfig| {
        Router::for_request(config, &log, back_channel.clone(), None).unwrap()
    };
    let (a, b) = (Arc::new(make(&json)), make(&json));
    assert_eq!(a.tag(), b.tag());
    let handler: Arc<dyn mcp_http_core::Handler> = Arc::new(NoHandler);
    let peer = mcp_http_core::Peer::new(a.clone(), handler, Default::default());
    a.set_peer(peer.downgrade());
    let id = RequestId::Number(1);
    a.expect(&id);
    let request = Outbound::new(Bytes::from_static(b"{}"), OutboundKind::Request)
        .related(id)
        .id(RequestId::String("x0".into()));
    assert!(a.route(request).is_err());
    assert!(back_channel.is_empty());
    let streamed = HttpConfig::default().stateless(true);
    let (c, d) = (make(&streamed), make(&streamed));
    assert_ne!(c.tag(), d.tag());
    assert_ne!(c.tag(), a.tag());
}

/// What the handler did in its first poll, for [`first_poll_then`].
#[derive(Debug, Clone, Copy)]
enum Poll1 {
    /// Answered, having sent nothing (a quick call).
    Quick,
    /// Sent a notification, then answered.
    NotifiedThenAnswered,
    /// Closed its stream for polling (T-12), then answered.
    ClosedThenAnswered,
    /// Sent a notification and waits.
    NotifiedAndWaits,
    /// Waits, having sent nothing.
    Waits,
}

/// A session's request through the router as its POST takes it (`post.rs`, `answer_as` and
/// `after_first_poll`), its stream opened before the handler runs (`reserve` false: the path
/// before PF-23) or reserved: the head written ahead in SSE mode (`direct` false), what the
/// handler did in its first poll, then the answer. Returns the answer's bytes, what the log
/// holds of the session, and whether the router is back to no request in progress.
fn first_poll_then(
    reserve: bool,
    direct: bool,
    poll: Poll1,
) -> (String, Vec<(String, u64, usize)>, bool) {
    let log = Arc::new(crate::sessions::MemoryEventLog::default());
    let shared: Arc<dyn EventLog> = log.clone();
    let config = HttpConfig::default();
    let router = Router::build("s".into(), "t".into(), &config, &shared, None, None);
    router.enable_priming();
    let id = RequestId::Number(7);
    let message = |kind| {
        Outbound::new(Bytes::from_static(b"{\"m\":1}"), kind)
            .related(id.clone())
            .id(id.clone())
    };
    let response = || message(OutboundKind::Response);
    // A request before it, so that the stream numbers are not all zero.
    call(&router, 1);
    let sid = match reserve {
        true => router.reserve_request(&id),
        false => router.open_request(&id, false),
    }
    .unwrap();
    let mut out = b"xx".to_vec();
    let head = match direct {
        true => None,
        false => Some(router.put_at_once_head(sid, &mut out)),
    };
    assert!(
        router.reserve_request(&id).is_none(),
        "a duplicate is refused"
    );
    assert!(router.open_request(&id, false).is_none());
    assert_eq!(router.open_requests(), 1, "in progress");
    match poll {
        Poll1::NotifiedThenAnswered | Poll1::NotifiedAndWaits => {
            assert!(router.route(message(OutboundKind::Notification)).is_ok());
        }
        Poll1::ClosedThenAnswered => assert!(router.close_request_stream(&id)),
        Poll1::Quick | Poll1::Waits => {}
    }
    let answered = !matches!(poll, Poll1::NotifiedAndWaits | Poll1::Waits);
    let text = |body: &mut crate::body::ResponseBody| super::props::drain(body).0;
    let answer = if answered {
        out.extend_from_slice(b"{\"r\":1}");
        if direct && router.end_quiet(sid) {
            format!("direct {}", String::from_utf8(out).unwrap())
        } else {
            let framed = head.map(|head| router.answer_framed(sid, out.clone(), head));
            match framed {
                Some(Ok(mut body)) => format!("framed {}", text(&mut body)),
                _ => {
                    router.open_reserved(sid);
                    assert!(router.route(response()).is_ok());
                    format!("stream {}", text(&mut router.upgrade(sid)))
                }
            }
        }
    } else {
        router.open_reserved(sid);
        assert!(matches!(
            router.pending(sid),
            Pending::Empty | Pending::Stream
        ));
        assert!(router.route(response()).is_ok());
        format!("waited {}", text(&mut router.upgrade(sid)))
    };
    let held = log.held("s");
    (answer, held, router.open_requests() == 0)
}

/// PF-23: a session's request whose stream is reserved, not opened, before its handler runs
/// is answered byte for byte as one whose stream was opened, whatever the handler did in its
/// first poll (nothing, a message, a close for polling, waiting), in SSE and in direct answers;
/// a quick call never opens its stream, and the tables stay empty.
#[test]
fn a_reserved_stream_answers_as_an_opened_one() {
    for direct in [false, true] {
        for poll in [
            Poll1::Quick,
            Poll1::NotifiedThenAnswered,
            Poll1::ClosedThenAnswered,
            Poll1::NotifiedAndWaits,
            Poll1::Waits,
        ] {
            let opened = first_poll_then(false, direct, poll);
            let reserved = first_poll_then(true, direct, poll);
            assert_eq!(reserved, opened, "direct {direct}, {poll:?}");
            assert!(reserved.2, "nothing left in progress: {poll:?}");
        }
    }
    let log: Arc<dyn EventLog> = Arc::new(crate::sessions::MemoryEventLog::default());
    let router = Router::new("s".into(), &HttpConfig::default(), &log, None).unwrap();
    for n in 0..3 {
        let sid = router.reserve_request(&RequestId::Number(n)).unwrap();
        assert!(router.end_quiet(sid));
        assert!(!has_tables(&router), "a quick call opens no stream");
    }
    assert!(
        router.lock().reserved.has_room(),
        "a busy session keeps room"
    );
    router.release_idle_tables();
    assert!(
        !router.lock().reserved.has_room(),
        "the reaper's pass lets it go"
    );
}

/// A handler for a peer whose requests are never run.
struct NoHandler;

impl mcp_http_core::Handler for NoHandler {
    fn handle_request(
        &self,
        request: mcp_http_proto::jsonrpc::Request,
        _: mcp_http_core::RequestContext,
    ) -> futures::future::BoxFuture<
        'static,
        Result<Box<serde_json::value::RawValue>, mcp_http_proto::ErrorObject>,
    > {
        let error = mcp_http_proto::ErrorObject::method_not_found(&request.method);
        Box::pin(async move { Err(error) })
    }
}

/// RL-53: a cancelled request's stream ends as an answered one does, with no response, in
/// every state it may be in; a stateless router's is left as it was.
#[tokio::test]
async fn an_unanswered_request_ends_its_stream_in_every_state() {
    let log: Arc<dyn EventLog> = Arc::new(crate::sessions::MemoryEventLog::default());
    let router = Router::new("s".into(), &HttpConfig::default(), &log, None).unwrap();
    let note = |n: i64| {
        Outbound::new(Bytes::from_static(b"{}"), OutboundKind::Notification)
            .related(RequestId::Number(n))
    };
    // Its POST waits with nothing sent: it ends with no response.
    let sid = router.open_request(&RequestId::Number(1), false).unwrap();
    router.end_unanswered(&RequestId::Number(1));
    assert!(router.answered(sid) && router.has_waiting(sid));
    assert!(matches!(router.pending(sid), Pending::Ended));
    assert_eq!(router.open_requests(), 0);
    // Something was sent: its POST streams it, and the stream ends with it.
    let sid = router.open_request(&RequestId::Number(2), false).unwrap();
    router.route(note(2)).unwrap();
    router.end_unanswered(&RequestId::Number(2));
    assert!(matches!(router.pending(sid), Pending::Stream));
    drop(router.upgrade(sid));
    assert_eq!(router.open_requests(), 0);
    // Its POST streams already: the connection ends.
    let sid = router.open_request(&RequestId::Number(3), false).unwrap();
    let _body = router.upgrade(sid);
    assert!(router.lock().streams[&sid].conn.is_some());
    router.end_unanswered(&RequestId::Number(3));
    assert!(!router.lock().streams.contains_key(&sid));
    // Its POST went away before or after: the stream is dropped.
    let sid = router.open_request(&RequestId::Number(4), false).unwrap();
    router.abandon(sid);
    router.end_unanswered(&RequestId::Number(4));
    let sid = router.open_request(&RequestId::Number(5), false).unwrap();
    router.end_unanswered(&RequestId::Number(5));
    router.abandon(sid);
    // Cancelled in its first poll, before its POST opened the stream (PF-23): the stream is
    // not opened to be ended; its POST opens it ended, and so does a message sent for it.
    let sid = router.reserve_request(&RequestId::Number(6)).unwrap();
    router.end_unanswered(&RequestId::Number(6));
    assert!(!router.lock().streams.contains_key(&sid), "not opened");
    assert!(router.reserve_request(&RequestId::Number(6)).is_none());
    router.open_reserved(sid);
    assert!(router.answered(sid) && router.has_waiting(sid));
    assert!(matches!(router.pending(sid), Pending::Ended));
    let sid = router.reserve_request(&RequestId::Number(6)).unwrap();
    router.end_unanswered(&RequestId::Number(6));
    router.route(note(6)).unwrap();
    router.open_reserved(sid);
    assert!(matches!(router.pending(sid), Pending::Stream));
    assert_eq!(
        super::props::drain(&mut router.upgrade(sid)).0,
        format!(
            "event: message\nid: {tag}.{sid}.0\ndata: {{}}\n\n",
            tag = router.tag()
        )
    );
    assert_eq!(router.open_requests(), 0);
    // A batch item's: no answer.
    let sid = router.open_request(&RequestId::Number(7), true).unwrap();
    router.end_unanswered(&RequestId::Number(7));
    assert!(router.take_response(sid).is_none() && router.take_ended(sid));
    assert_eq!(router.open_requests(), 0);
    assert!(router.lock().streams.is_empty());
    // A stateless router: unchanged.
    let config = HttpConfig::default().stateless(true);
    let solo = Router::new(
        "".into(),
        &config,
        &log,
        Some((BackChannel::default(), None)),
    )
    .unwrap();
    let id = RequestId::Number(1);
    solo.expect(&id);
    let sid = solo.solo_stream(true).unwrap();
    solo.end_unanswered(&id);
    assert!(matches!(solo.pending(sid), Pending::Empty));
}

/// PF-75, PF-76: the quick SSE answer (its head written ahead without the lock, the response
/// after it, the whole a body of its bytes) is byte for byte the general path's, in every form
/// (priming or not, resumable or not, stream numbers of every width, a clustered tag): the
/// answer framed when the response came at once, and the one a waiting POST streams. Its body
/// is a stream of known length, as theirs, and counts no connection once made.
#[test]
fn the_quick_sse_answer_is_the_general_paths_byte_for_byte() {
    let log: Arc<dyn EventLog> = Arc::new(crate::sessions::MemoryEventLog::default());
    let json = Bytes::from_static(b"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}");
    for resumable in [true, false] {
        for priming in [true, false] {
            for retry in [0, 3, 1_000, 123_456] {
                let config = HttpConfig::default()
                    .resumable(resumable)
                    .retry(std::time::Duration::from_millis(retry));
                let mut router = Router::new("s".into(), &config, &log, None).unwrap();
                if retry == 3 {
                    router.tag = "i-1~0123456789ab".into();
                }
                if priming {
                    router.enable_priming();
                }
                for n in 0..12 {
                    let id = RequestId::Number(n);
                    // Quick: reserved, the head ahead, framed.
                    let sid = router.reserve_request(&id).unwrap();
                    let mut out = Vec::new();
                    let head = router.put_at_once_head(sid, &mut out);
                    assert_eq!(head, out.len());
                    out.extend_from_slice(&json);
                    let mut quick = router.answer_framed(sid, out, head).unwrap();
                    assert!(quick.is_stream() && quick.full_bytes().is_none());
                    let hint = http_body::Body::size_hint(&quick).exact();
                    let connections = router.connections.load(Ordering::Relaxed);
                    let quick = super::props::drain(&mut quick);
                    // The general paths, with the same stream numbers: answered at once, and
                    // streamed after a wait.
                    let general = |at_once: bool| {
                        let mut st = router.lock();
                        st.next_stream = sid;
                        drop(st);
                        let sid = router.open_request(&id, false).unwrap();
                        let mut body = match at_once {
                            true => router.answer_at_once(sid, &json).unwrap(),
                            false => {
                                let response = Outbound::new(json.clone(), OutboundKind::Response)
                                    .related(id.clone())
                                    .id(id.clone());
                                router.route(response).unwrap();
                                router.upgrade(sid)
                            }
                        };
                        assert!(body.is_stream());
                        let hint = http_body::Body::size_hint(&body).exact();
                        (super::props::drain(&mut body), hint)
                    };
                    assert_eq!(connections, 0, "the quick body counts no connection");
                    let context = format!("resumable {resumable} priming {priming} {retry} {n}");
                    assert!(quick.1, "{context}");
                    assert_eq!((quick.clone(), hint), general(true), "{context}");
                    assert_eq!(quick, general(false).0, "{context}");
                    router.lock().next_stream = sid + 1 + n as u64 * 7;
                }
            }
        }
    }
}
