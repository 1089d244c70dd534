//! One stateless request (RL-40, RL-41, RL-47): a router of its own, whose random tag names both
//! the request and its stream; the stream opens only when a message comes or the POST has to
//! wait; once the handler is done the router goes, and a resume reads the log alone
//! (`Router::replay_stored`).

use std::sync::Arc;

use bytes::Bytes;
use mcp_http_core::{MessageSink, Outbound, OutboundKind};
use mcp_http_proto::RequestId;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{Check, cases, drain, events};
use crate::body::ResponseBody;
use crate::config::HttpConfig;
use crate::router::{BackChannel, LiveStreams, Pending, Router, parse_event_id};
use crate::sessions::{EventLog, MemoryEventLog};

#[derive(Debug, Clone, Copy)]
enum Op {
    /// The handler sends a notification (or, with `true`, a server-to-client request).
    Send(bool),
    Respond,
    /// The POST chooses JSON or SSE (or its wait ends).
    Decide,
    /// The POST goes away before choosing.
    Abandon,
    /// The handler closes the stream for polling.
    Close,
    Read,
    Disconnect,
    Resume,
    /// The handler is done (after its response): the router goes.
    Finish,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<bool>().prop_map(Op::Send),
        2 => Just(Op::Respond),
        2 => Just(Op::Decide),
        1 => Just(Op::Abandon),
        1 => Just(Op::Close),
        3 => Just(Op::Read),
        2 => Just(Op::Disconnect),
        2 => Just(Op::Resume),
        1 => Just(Op::Finish),
    ]
}

struct Conn {
    body: ResponseBody,
    last_seq: Option<u64>,
}

#[derive(Default)]
struct Model {
    responded: bool,
    /// The POST chose, or went away.
    decided: bool,
    abandoned: bool,
    closed: bool,
    /// The response went out of the router: its stream is finished.
    answered: bool,
    /// What waits for the POST's choice.
    waiting: Vec<OutboundKind>,
    /// Per message: whether it may be lost, and the event number it arrived with.
    msgs: Vec<(bool, Option<Option<u64>>)>,
    conn: Option<Conn>,
    last: Option<String>,
    complete: bool,
    /// The client cannot name the stream (no event id of it reached it).
    orphaned: bool,
}

struct Case {
    log: Arc<MemoryEventLog>,
    dyn_log: Arc<dyn EventLog>,
    live: LiveStreams,
    router: Option<Arc<Router>>,
    tag: Arc<str>,
    priming: bool,
    m: Model,
}

const ID: RequestId = RequestId::Number(1);

impl Case {
    fn new(priming: bool) -> Self {
        let log = Arc::new(MemoryEventLog::default());
        let dyn_log: Arc<dyn EventLog> = log.clone();
        let config = HttpConfig::default().stateless(true).keep_alive(None);
        let live = LiveStreams::default();
        let stateless = Some((BackChannel::default(), Some(live.clone())));
        let router = Arc::new(Router::new("".into(), &config, &dyn_log, stateless).unwrap());
        live.insert(router.tag().clone(), Arc::downgrade(&router));
        if priming {
            router.enable_priming();
        }
        router.expect(&ID);
        let tag = router.tag().clone();
        Case {
            log,
            dyn_log,
            live,
            router: Some(router),
            tag,
            priming,
            m: Model::default(),
        }
    }

    fn run(&mut self, op: Op) -> Check {
        let Some(router) = self.router.clone() else {
            // The handler is done: only the client acts.
            return match op {
                Op::Read => self.read(),
                Op::Disconnect => self.disconnect(),
                Op::Resume => self.resume(),
                _ => Ok(()),
            };
        };
        match op {
            Op::Send(request) => {
                let kind = match request {
                    true => OutboundKind::Request,
                    false => OutboundKind::Notification,
                };
                self.send(&router, kind)
            }
            Op::Respond if !self.m.responded => {
                self.m.responded = true;
                self.send(&router, OutboundKind::Response)
            }
            Op::Decide => self.decide(&router),
            Op::Abandon if !self.m.decided => {
                let sid = router.solo_stream(true).unwrap();
                router.abandon(sid);
                self.m.decided = true;
                self.m.abandoned = true;
                self.m.answered |= self.m.responded;
                self.orphan();
                Ok(())
            }
            Op::Close => {
                let closed = router.close_stream(&ID);
                prop_assert_eq!(closed, self.priming && !self.m.answered);
                self.m.closed |= closed && !self.m.decided;
                Ok(())
            }
            Op::Read => self.read(),
            Op::Disconnect => self.disconnect(),
            Op::Resume => self.resume(),
            // The POST holds the router too, until it has chosen.
            Op::Finish if self.m.responded && self.m.decided => {
                self.router = None;
                drop(router);
                prop_assert!(
                    self.live.get(&self.tag).is_none(),
                    "a gone router stays live"
                );
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn send(&mut self, router: &Router, kind: OutboundKind) -> Check {
        let n = self.m.msgs.len();
        let json = match kind {
            OutboundKind::Response => format!(r#"{{"jsonrpc":"2.0","id":1,"result":{{"n":{n}}}}}"#),
            _ => format!(r#"{{"jsonrpc":"2.0","method":"m","params":{{"n":{n}}}}}"#),
        };
        let mut out = Outbound::new(Bytes::from(json), kind).related(ID);
        if kind == OutboundKind::Request {
            out = out.id(RequestId::String(format!("s{n}").into()));
        }
        let routed = router.route(out);
        // Answered (RL-47), or its POST gone (RL-44): nothing can reach the client.
        let nowhere = self.m.answered || (self.m.abandoned && kind != OutboundKind::Response);
        prop_assert_eq!(routed.is_err(), nowhere && kind == OutboundKind::Request);
        if nowhere && kind == OutboundKind::Request {
            return Ok(());
        }
        self.m.msgs.push((nowhere || self.m.orphaned, None));
        if kind == OutboundKind::Response && (self.m.decided || self.m.abandoned) {
            self.m.answered = true;
        }
        if !self.m.decided {
            self.m.waiting.push(kind);
        }
        Ok(())
    }

    fn decide(&mut self, router: &Router) -> Check {
        if self.m.decided {
            return Ok(());
        }
        self.m.decided = true;
        let sid = router.solo_stream(true).unwrap();
        let pending = router.pending(sid);
        let waiting = std::mem::take(&mut self.m.waiting);
        match pending {
            Pending::Json(json) => {
                prop_assert!(!self.m.closed && waiting == [OutboundKind::Response]);
                self.m.answered = true;
                let text = String::from_utf8(json.to_vec()).unwrap();
                return self.got(&text, None);
            }
            Pending::Empty => prop_assert!(!self.m.closed && waiting.is_empty()),
            Pending::Stream => prop_assert!(self.m.closed || !waiting.is_empty()),
            // The model cancels nothing.
            Pending::Ended => prop_assert!(false, "ended with no cancellation"),
        }
        self.m.answered |= self.m.responded;
        self.m.conn = Some(Conn {
            body: router.upgrade(sid),
            last_seq: None,
        });
        self.read()
    }

    fn read(&mut self) -> Check {
        let Some(conn) = &mut self.m.conn else {
            return Ok(());
        };
        let (mut text, ended) = drain(&mut conn.body);
        for (id, data) in events(&mut text) {
            let id = id.ok_or_else(|| TestCaseError::fail("an event without id"))?;
            let (tag, _, seq) = parse_event_id(&id).unwrap();
            prop_assert_eq!(tag, &*self.tag, "another request's event");
            let conn = self.m.conn.as_mut().unwrap();
            prop_assert_eq!(
                seq,
                conn.last_seq.map_or(0, |s| s + 1),
                "a gap or a repeat: {}",
                id
            );
            conn.last_seq = Some(seq);
            self.m.last = Some(id);
            if let Some(data) = data.filter(|d| !d.is_empty()) {
                self.got(&data, Some(seq))?;
            }
        }
        if ended {
            self.m.conn = None;
        }
        Ok(())
    }

    fn got(&mut self, data: &str, seq: Option<u64>) -> Check {
        let n: usize = data
            .rsplit_once(r#""n":"#)
            .and_then(|(_, n)| n.trim_end_matches('}').parse().ok())
            .ok_or_else(|| TestCaseError::fail(format!("never sent: {data}")))?;
        let msg = &mut self.m.msgs[n];
        prop_assert!(msg.1.is_none(), "message {} twice", n);
        msg.1 = Some(seq);
        self.m.complete |= data.contains(r#""result""#);
        Ok(())
    }

    fn disconnect(&mut self) -> Check {
        if self.m.conn.take().is_some() && self.m.last.is_none() {
            self.orphan();
        }
        Ok(())
    }

    fn orphan(&mut self) {
        self.m.orphaned = true;
        for msg in self.m.msgs.iter_mut().filter(|m| m.1.is_none()) {
            msg.0 = true;
        }
    }

    fn resume(&mut self) -> Check {
        let Some(last) = self.m.last.clone() else {
            return Ok(());
        };
        if self.m.complete {
            return Ok(());
        }
        self.m.conn = None;
        let resumed = match &self.router {
            Some(router) => futures::executor::block_on(router.resume(&last)),
            None => futures::executor::block_on(Router::replay_stored(&self.dyn_log, &last)),
        };
        let body = resumed.map_err(|e| TestCaseError::fail(format!("resume of {last}: {e:?}")))?;
        let (_, _, seq) = parse_event_id(&last).unwrap();
        self.m.conn = Some(Conn {
            body,
            last_seq: Some(seq),
        });
        self.read()
    }
}

fn run_case(priming: bool, ops: &[Op]) -> Check {
    let mut case = Case::new(priming);
    for &op in ops {
        case.run(op)?;
    }
    // The handler answers and is done; the client resumes until it has the response.
    for op in [Op::Respond, Op::Decide, Op::Read, Op::Finish] {
        case.run(op)?;
    }
    for _ in 0..3 {
        case.run(Op::Resume)?;
    }
    let m = &case.m;
    prop_assert!(m.complete || m.orphaned, "the response never arrived");
    for (n, (may_be_lost, got)) in m.msgs.iter().enumerate() {
        prop_assert!(*may_be_lost || got.is_some(), "message {} lost", n);
    }
    let mut seqs: Vec<(u64, usize)> = m
        .msgs
        .iter()
        .enumerate()
        .filter_map(|(n, (_, got))| got.flatten().map(|seq| (seq, n)))
        .collect();
    seqs.sort();
    prop_assert!(seqs.windows(2).all(|w| w[0].1 < w[1].1), "out of order");
    case.m.conn = None;
    // Read to its end, the stream's events go; only a stream the client cannot name may stay.
    if !case.m.orphaned {
        prop_assert_eq!(case.log.session_entries(), 0, "events left in the log");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    /// RL-40, RL-41, RL-47: any interleaving for one stateless request.
    #[test]
    fn a_stateless_request_reaches_its_client_once_live_or_from_the_log(
        priming in any::<bool>(),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        run_case(priming, &ops)?;
    }
}
