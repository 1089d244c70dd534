//! A resume whose replay is still being read when more messages come (RL-41). The log here is
//! read only after they came, as a remote log is read after a round trip, so its replay holds
//! events the live connection carries too: each must still arrive exactly once, in order.

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use mcp_http_core::{Outbound, OutboundKind};
use mcp_http_proto::RequestId;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{Check, cases, drain, events};
use crate::config::HttpConfig;
use crate::router::Router;
use crate::sessions::{EventLog, MemoryEventLog, ReplayError, StreamKey};

/// A memory log whose replay pauses once, then reads.
struct SlowLog(Arc<MemoryEventLog>);

impl EventLog for SlowLog {
    fn append(&self, session: &str, key: StreamKey<'_>, seq: u64, event: Option<Bytes>) {
        self.0.append(session, key, seq, event);
    }

    fn replay(
        &self,
        session: &str,
        key: StreamKey<'_>,
        after: u64,
    ) -> BoxStream<'static, Result<(u64, Bytes), ReplayError>> {
        let (log, session, tag, stream) = (
            self.0.clone(),
            session.to_string(),
            key.tag.to_string(),
            key.stream,
        );
        let mut paused = false;
        let pause = futures::future::poll_fn(move |cx| {
            if paused {
                return Poll::Ready(());
            }
            paused = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        });
        Box::pin(
            futures::stream::once(pause)
                .flat_map(move |()| log.replay(&session, StreamKey { tag: &tag, stream }, after)),
        )
    }

    fn forget_session(&self, session: &str) {
        self.0.forget_session(session);
    }

    fn forget_stream(&self, session: &str, key: StreamKey<'_>) {
        self.0.forget_stream(session, key);
    }
}

/// A stream (the GET stream, or a request's) with `before` messages; the client saw up to event
/// `seen` and resumes; `during` more messages come while the replay is read.
fn in_flight_case(get: bool, before: u64, seen: u64, during: u64) -> Check {
    let log: Arc<dyn EventLog> = Arc::new(SlowLog(Arc::new(MemoryEventLog::default())));
    let config = HttpConfig::default()
        .keep_alive(None)
        .follow_elsewhere(std::time::Duration::ZERO);
    let router = Router::new("s".into(), &config, &log, None).unwrap();
    router.enable_priming();
    let id = RequestId::Number(1);
    // The priming event is event 0 and message `n` event `n`.
    let (sid, body) = match get {
        true => (0, router.open_get()),
        false => {
            let sid = router.open_request(&id, false).unwrap();
            (sid, router.upgrade(sid))
        }
    };
    let send = |n: u64| {
        let json = format!(r#"{{"jsonrpc":"2.0","method":"m","params":{{"n":{n}}}}}"#);
        let mut out = Outbound::new(Bytes::from(json), OutboundKind::Notification);
        if !get {
            out = out.related(id.clone());
        }
        router.route(out).is_ok()
    };
    for n in 1..=before {
        prop_assert!(send(n));
    }
    drop(body);
    let tag = router.tag().clone();
    let last = format!("{tag}.{sid}.{seen}");
    let mut resume = Box::pin(router.resume(&last));
    let mut cx = Context::from_waker(Waker::noop());
    prop_assert!(resume.as_mut().poll(&mut cx).is_pending());
    for n in before + 1..=before + during {
        prop_assert!(send(n));
    }
    let Poll::Ready(resumed) = resume.as_mut().poll(&mut cx) else {
        return Err(TestCaseError::fail("the replay did not finish"));
    };
    let mut body = resumed.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    let (text, _) = drain(&mut body);
    let got = events(&mut text.clone());
    let want: Vec<(Option<String>, Option<String>)> = (seen + 1..=before + during)
        .map(|n| {
            let json = format!(r#"{{"jsonrpc":"2.0","method":"m","params":{{"n":{n}}}}}"#);
            (Some(format!("{tag}.{sid}.{n}")), Some(json))
        })
        .collect();
    prop_assert_eq!(got, want);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    /// RL-41: what comes while a resume's replay is read goes on the live connection after the
    /// replay, and the replay stops where the live connection starts: no repeat, no gap.
    #[test]
    fn a_message_sent_while_a_resume_replays_arrives_once_after_the_replay(
        get in any::<bool>(),
        (before, seen) in (0u64..6).prop_flat_map(|b| (Just(b), 0..=b)),
        during in 0u64..6,
    ) {
        in_flight_case(get, before, seen, during)?;
    }
}
