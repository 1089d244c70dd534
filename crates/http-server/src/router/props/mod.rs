//! Model-based property tests of the router and the memory event log (RL-40..RL-47).
//!
//! A case is a random interleaving of what happens to two sessions sharing one event log: POSTs
//! opening request streams (batch items among them), handlers sending notifications,
//! server-to-client requests and responses, POSTs choosing JSON or SSE or going away, handlers
//! closing streams for polling, messages for the GET stream, GET streams opening, a client
//! reading, disconnecting and resuming with the last event id it saw (on the instance that
//! numbered the stream or, from the shared log, on another), sessions ending; with or
//! without priming events, adaptive or forced-JSON answers, tiny or default queues and GET
//! buffer. The real `Router` and `MemoryEventLog` run it (`model.rs` says where each message must
//! go). At the end every stream the client can still name is resumed until its response
//! arrives, and the tables must be back to idle (`checks.rs`). `inflight.rs` interleaves messages
//! with a resume's replay; `stateless.rs` runs one stateless request.
//!
//! `PROPTEST_CASES=N` runs N cases of each property instead of the default few hundred.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http_body::Body;
use mcp_http_core::{Outbound, OutboundKind};
use mcp_http_proto::RequestId;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{ResumeError, Router};
use crate::body::ResponseBody;
use crate::config::HttpConfig;
use crate::sessions::{EventLog, MemoryEventLog};

mod checks;
mod inflight;
mod model;
mod stateless;

use model::World;

/// Sessions per case, sharing one log: a resume must never cross them (T-36).
const SESSIONS: usize = 2;
/// Request ids per session (each posted at most once).
const REQUESTS: usize = 4;

type Check = Result<(), TestCaseError>;

/// A stream as the client knows it: the stream of request `k`, or the session's GET stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Target {
    Request(usize),
    Get,
}

/// One step of a case; each names its session.
#[derive(Debug, Clone)]
enum Op {
    /// A POST of request `k`: its stream opens, the POST waits to choose JSON or SSE. With
    /// `true`, an item of a batch: answered only by its response as JSON.
    Post(usize, usize, bool),
    /// Request `k`'s handler sends a notification (or, with `true`, a server-to-client request).
    Related(usize, usize, bool),
    /// Request `k`'s handler answers.
    Respond(usize, usize),
    /// Request `k`'s POST chooses: JSON if its response came alone, else SSE (or its wait ended).
    Decide(usize, usize),
    /// Request `k`'s POST goes away before choosing (T-19).
    Abandon(usize, usize),
    /// Request `k`'s handler closes its stream for polling (T-12).
    Close(usize, usize),
    /// A message related to no request: for the GET stream.
    Unrelated(usize),
    /// The client opens the GET stream (resuming it when it holds one of its ids).
    OpenGet(usize),
    /// The client reads what arrived on its connection to a stream.
    Read(usize, Target),
    /// The client's connection to a stream drops, unread frames and all.
    Disconnect(usize, Target),
    /// The client resumes a stream with the last event id it saw there.
    Resume(usize, Target),
    /// The same, reaching the session's other instance: it replays from the shared log, and
    /// ends the connection for the client to poll again until the response is there.
    ResumeElsewhere(usize, Target),
    /// An event id of this session presented to the other one, and made-up ids to this one.
    ForeignResume(usize),
    /// The session ends (DELETE, or expiry).
    End(usize),
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![(0..REQUESTS).prop_map(Target::Request), Just(Target::Get)]
}

fn op() -> impl Strategy<Value = Op> {
    let s = || 0..SESSIONS;
    let k = || 0..REQUESTS;
    prop_oneof![
        12 => (s(), k(), prop::bool::weighted(0.2)).prop_map(|(s, k, b)| Op::Post(s, k, b)),
        18 => (s(), k(), any::<bool>()).prop_map(|(s, k, r)| Op::Related(s, k, r)),
        9 => (s(), k()).prop_map(|(s, k)| Op::Respond(s, k)),
        9 => (s(), k()).prop_map(|(s, k)| Op::Decide(s, k)),
        3 => (s(), k()).prop_map(|(s, k)| Op::Abandon(s, k)),
        3 => (s(), k()).prop_map(|(s, k)| Op::Close(s, k)),
        9 => s().prop_map(Op::Unrelated),
        6 => s().prop_map(Op::OpenGet),
        15 => (s(), target()).prop_map(|(s, t)| Op::Read(s, t)),
        6 => (s(), target()).prop_map(|(s, t)| Op::Disconnect(s, t)),
        9 => (s(), target()).prop_map(|(s, t)| Op::Resume(s, t)),
        4 => (s(), target()).prop_map(|(s, t)| Op::ResumeElsewhere(s, t)),
        3 => s().prop_map(Op::ForeignResume),
        1 => s().prop_map(Op::End),
    ]
}

/// The settings a case runs with: priming events (2025-11-25 and later) or not, adaptive or
/// forced JSON responses, and small or default bounds for a connection's queue and the buffer
/// of messages waiting for a GET stream.
#[derive(Debug, Clone)]
struct Setup {
    priming: bool,
    /// Forced JSON responses: only a response uses its request's answer, everything else
    /// goes on the GET stream.
    json: bool,
    queue: usize,
    get_buffer: usize,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        any::<bool>(),
        prop::bool::weighted(0.25),
        prop_oneof![1..4usize, Just(1024)],
        prop_oneof![1..4usize, Just(256)],
    )
        .prop_map(|(priming, json, queue, get_buffer)| Setup {
            priming,
            json,
            queue,
            get_buffer,
        })
}

/// Everything a body yields now, and whether it ended.
pub(super) fn drain(body: &mut ResponseBody) -> (String, bool) {
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = String::new();
    loop {
        match std::pin::Pin::new(&mut *body).poll_frame(&mut cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    out.push_str(std::str::from_utf8(&data).unwrap());
                }
                // A body of known length may not be polled again after its last bytes.
                if body.is_end_stream() {
                    return (out, true);
                }
            }
            Poll::Ready(None) => return (out, true),
            Poll::Ready(Some(Err(never))) => match never {},
            Poll::Pending => return (out, false),
        }
    }
}

/// The complete events in `buf` as `(id, data)`; a `retry`-only block or a comment is none.
fn events(buf: &mut String) -> Vec<(Option<String>, Option<String>)> {
    let mut out = Vec::new();
    while let Some(end) = buf.find("\n\n") {
        let block: String = buf.drain(..end + 2).collect();
        let (mut id, mut data) = (None, None);
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("id: ") {
                id = Some(v.to_string());
            } else if let Some(v) = line.strip_prefix("data: ") {
                data = Some(v.to_string());
            }
        }
        if id.is_some() || data.is_some() {
            out.push((id, data));
        }
    }
    out
}

/// The number of cases: `default`, or `PROPTEST_CASES` for a longer run.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// Runs one case: the operations, then every session to rest, checked, and ended.
fn run_case(setup: Setup, ops: &[Op]) -> Check {
    let mut world = World::new(setup, 1024);
    for op in ops {
        world.run(op)?;
    }
    for s in 0..SESSIONS {
        if world.sessions[s].ended {
            continue;
        }
        world.settle(s)?;
        world.check_delivery(s)?;
        world.check_idle(s)?;
        world.end(s)?;
    }
    prop_assert_eq!(
        world.log.session_entries(),
        0,
        "the log is not empty after every session ended"
    );
    Ok(())
}

/// A stream's log after `n` messages (priming event first) with room for `max` entries; the client
/// resumes from event `after`.
fn evicted_case(max: usize, n: u64, after: u64) -> Check {
    let log = Arc::new(MemoryEventLog::new(
        max,
        std::time::Duration::from_secs(600),
    ));
    let dyn_log: Arc<dyn EventLog> = log.clone();
    let config = HttpConfig::default()
        .keep_alive(None)
        .follow_elsewhere(std::time::Duration::ZERO);
    let router = Router::new("s".into(), &config, &dyn_log, None).unwrap();
    router.enable_priming();
    let id = RequestId::Number(1);
    let sid = router.open_request(&id, false).unwrap();
    // The POST's wait ends: SSE, the priming event (0), and the client goes away.
    drop(router.upgrade(sid));
    for n in 1..=n {
        let json = format!(r#"{{"jsonrpc":"2.0","method":"m","params":{{"n":{n}}}}}"#);
        let out = Outbound::new(Bytes::from(json), OutboundKind::Notification).related(id.clone());
        prop_assert!(router.route(out).is_ok());
    }
    let tag = router.tag().clone();
    let resumed = futures::executor::block_on(router.resume(&format!("{tag}.{sid}.{after}")));
    // Entries 0..=n were appended; the log keeps the last `max`.
    let first_kept = (n + 1).saturating_sub(max as u64);
    if after + 1 < first_kept {
        prop_assert!(
            matches!(resumed, Err(ResumeError::Unknown)),
            "{:?}",
            resumed
        );
        return Ok(());
    }
    let mut body = resumed.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    let (text, _) = drain(&mut body);
    // Event `seq` carries message `seq`: ids and contents both.
    let got: Vec<(Option<String>, Option<String>)> = events(&mut text.clone());
    let want: Vec<(Option<String>, Option<String>)> = (after + 1..=n)
        .map(|seq| {
            let json = format!(r#"{{"jsonrpc":"2.0","method":"m","params":{{"n":{seq}}}}}"#);
            (Some(format!("{tag}.{sid}.{seq}")), Some(json))
        })
        .collect();
    prop_assert_eq!(got, want);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    /// RL-40, RL-41, RL-42: any interleaving of the operations above, for two sessions.
    #[test]
    fn every_message_reaches_one_stream_resumes_replay_the_missed_suffix_and_memory_returns_to_idle(
        setup in setup(),
        ops in prop::collection::vec(op(), 1..100),
    ) {
        run_case(setup, &ops)?;
    }

    /// RL-43: a resume from before what the bounded log still holds is refused, never a replay
    /// with a hole; from within it, exactly the events after the id.
    #[test]
    fn a_resume_past_the_logs_bound_is_refused_never_partial(
        max in 1usize..8,
        (n, after) in (0u64..12).prop_flat_map(|n| (Just(n), 0..=n)),
    ) {
        evicted_case(max, n, after)?;
    }
}

/// Regression (RL-44), found by the first property (`Post`, `Abandon`): the events of a stream
/// whose POST went away before choosing JSON or SSE were kept in the log, though no event id of
/// it had reached the client, so no resume could ever read them; they stayed until the TTL
/// after the stream ended, and a server-to-client request sent there waited for its timeout.
#[test]
fn a_stream_whose_post_went_away_before_choosing_keeps_nothing_in_the_log() {
    let log = Arc::new(MemoryEventLog::default());
    let dyn_log: Arc<dyn EventLog> = log.clone();
    let config = HttpConfig::default()
        .keep_alive(None)
        .follow_elsewhere(std::time::Duration::ZERO);
    let router = Router::new("s".into(), &config, &dyn_log, None).unwrap();
    router.enable_priming();
    let id = RequestId::Number(7);
    let sid = router.open_request(&id, false).unwrap();
    let message =
        |kind, json: &str| Outbound::new(Bytes::from(json.to_string()), kind).related(id.clone());
    let progress = |n| {
        let json = format!(
            r#"{{"jsonrpc":"2.0","method":"notifications/progress","params":{{"n":{n}}}}}"#
        );
        message(OutboundKind::Notification, &json)
    };
    router.route(progress(1)).unwrap();
    router.abandon(sid);
    let mut get = router.open_get();
    router.route(progress(2)).unwrap();
    let sampling = message(
        OutboundKind::Request,
        r#"{"jsonrpc":"2.0","id":"s1","method":"sampling/createMessage","params":{}}"#,
    )
    .id(RequestId::String("s1".into()));
    assert!(
        router.route(sampling).is_err(),
        "a request that cannot reach the client fails at once"
    );
    let tag = router.tag().clone();
    let made_up = futures::executor::block_on(router.resume(&format!("{tag}.{sid}.0")));
    assert!(matches!(made_up, Err(ResumeError::Unknown)), "{made_up:?}");
    let response = message(
        OutboundKind::Response,
        r#"{"jsonrpc":"2.0","id":7,"result":{}}"#,
    );
    router.route(response.id(id.clone())).unwrap();
    assert_eq!(
        router.open_requests(),
        0,
        "the stream ended with its response"
    );
    assert!(
        log.held("s").iter().all(|(_, stream, _)| *stream != sid),
        "nothing of the abandoned stream is kept: {:?}",
        log.held("s")
    );
    // Nor did its messages go to the GET stream (T-16): it has its priming event only.
    let (text, _) = drain(&mut get);
    let data: Vec<_> = events(&mut text.clone())
        .into_iter()
        .filter_map(|(_, data)| data.filter(|d| !d.is_empty()))
        .collect();
    assert!(data.is_empty(), "{data:?}");
}

/// Regression (RL-46), found by the first property (`Post`, `Decide`, `Respond`,
/// `ResumeElsewhere`): a stream whose response the client read through another instance's
/// resume, from the shared log, kept its events until the TTL, since only the instance that
/// numbered a stream forgot it, and only when its own connection carried the response.
#[test]
fn a_stream_finished_through_another_instance_keeps_nothing_in_the_log() {
    let log = Arc::new(MemoryEventLog::default());
    let dyn_log: Arc<dyn EventLog> = log.clone();
    let config = HttpConfig::default()
        .keep_alive(None)
        .follow_elsewhere(std::time::Duration::ZERO);
    let here = Router::new("s".into(), &config, &dyn_log, None).unwrap();
    let there = Router::new("s".into(), &config, &dyn_log, None).unwrap();
    here.enable_priming();
    let id = RequestId::Number(3);
    let sid = here.open_request(&id, false).unwrap();
    let mut body = here.upgrade(sid);
    let (text, _) = drain(&mut body);
    let primed = events(&mut text.clone())[0].0.clone().unwrap();
    // The client goes away; it polls the other instance before the response is there.
    drop(body);
    let mut early = futures::executor::block_on(there.resume(&primed)).unwrap();
    let (text, ended) = drain(&mut early);
    assert!(ended && text.starts_with("retry: "), "{text:?}");
    drop(early);
    let response = r#"{"jsonrpc":"2.0","id":3,"result":{}}"#;
    let out = Outbound::new(
        Bytes::from_static(response.as_bytes()),
        OutboundKind::Response,
    );
    here.route(out.related(id.clone()).id(id)).unwrap();
    assert_eq!(log.held("s").len(), 1, "kept for the client to resume");
    let mut late = futures::executor::block_on(there.resume(&primed)).unwrap();
    let (text, ended) = drain(&mut late);
    assert!(ended && text.contains(response), "{text:?}");
    drop(late);
    assert_eq!(
        log.held("s"),
        [],
        "the client has read the stream to its end"
    );
}
