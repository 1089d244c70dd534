//! The model: what each session's router must do with each message, and the client that
//! reads, disconnects and resumes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use mcp_http_core::{MessageSink, Outbound, OutboundKind};
use mcp_http_proto::RequestId;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{Check, Op, REQUESTS, SESSIONS, Setup, Target, drain, events};
use crate::body::ResponseBody;
use crate::config::{HttpConfig, ResponseMode};
use crate::router::{Pending, ResumeError, Router, parse_event_id};
use crate::sessions::{EventLog, MemoryEventLog};

/// The model of one request's stream in the router.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Req {
    /// Not posted.
    Idle,
    /// Its POST has not chosen yet: what was sent on it, in order, and whether a close was asked.
    Waiting {
        sid: u64,
        kinds: Vec<OutboundKind>,
        closed: bool,
    },
    /// Its POST chose SSE (or went away) and the response has not come.
    Live { sid: u64 },
    /// Its response went out.
    Done { sid: u64 },
}

impl Req {
    pub(super) fn sid(&self) -> Option<u64> {
        match self {
            Req::Idle => None,
            Req::Waiting { sid, .. } | Req::Live { sid } | Req::Done { sid } => Some(*sid),
        }
    }

    /// Whether the router routes messages related to this request to its stream.
    pub(super) fn open(&self) -> bool {
        matches!(self, Req::Waiting { .. } | Req::Live { .. })
    }
}

/// One message sent, and what became of it.
#[derive(Debug)]
pub(super) struct Msg {
    pub(super) session: usize,
    /// The stream the model says it goes to.
    pub(super) target: Target,
    pub(super) kind: OutboundKind,
    /// Documented ways to lose it: dropped from a full GET buffer, sent on a stream the client
    /// cannot name (no event id of it ever reached the client), or its session ended.
    pub(super) may_be_lost: bool,
    /// The event number it arrived with (`Some(None)`: as a plain JSON answer).
    pub(super) got: Option<Option<u64>>,
}

/// A client connection to one stream.
pub(super) struct Conn {
    pub(super) body: ResponseBody,
    /// The number of the last event read here (for a resume: the id it resumed from).
    pub(super) last_seq: Option<u64>,
    /// Bytes of an event not yet complete.
    pub(super) partial: String,
}

#[derive(Default)]
pub(super) struct Client {
    pub(super) conns: HashMap<Target, Conn>,
    /// The last event id seen on each stream: what a resume presents.
    pub(super) last: HashMap<Target, String>,
    /// `(event number, message)` of every message received, per stream.
    pub(super) seen: HashMap<Target, Vec<(u64, usize)>>,
    /// Requests whose response arrived.
    pub(super) complete: HashSet<usize>,
    /// The GET stream's number, once an event named it.
    pub(super) get_sid: Option<u64>,
}

pub(super) struct Session {
    pub(super) id: Arc<str>,
    pub(super) router: Router,
    /// The same session's router on another instance: it resumes this one's streams from the
    /// shared log.
    pub(super) elsewhere: Router,
    pub(super) reqs: Vec<Req>,
    pub(super) responded: Vec<bool>,
    /// Whether the router has a GET stream (once opened, it stays).
    pub(super) get_exists: bool,
    /// Requests whose POST answered with SSE: the client may hold event ids of their streams.
    pub(super) answered_sse: Vec<bool>,
    /// Requests that are items of a batch: answered by their response alone, as JSON.
    pub(super) batch: Vec<bool>,
    /// Requests whose POST went away before choosing.
    pub(super) abandoned: Vec<bool>,
    /// Messages waiting for a GET stream to open.
    pub(super) buffer: VecDeque<usize>,
    /// Streams the client can no longer name: no event id of them reached it.
    pub(super) orphaned: HashSet<Target>,
    pub(super) ended: bool,
    pub(super) client: Client,
}

pub(super) struct World {
    pub(super) setup: Setup,
    pub(super) log: Arc<MemoryEventLog>,
    pub(super) sessions: Vec<Session>,
    pub(super) msgs: Vec<Msg>,
    pub(super) by_payload: HashMap<String, usize>,
}

impl World {
    pub(super) fn new(setup: Setup, log_bound: usize) -> Self {
        let log = Arc::new(MemoryEventLog::new(
            log_bound,
            std::time::Duration::from_secs(600),
        ));
        let dyn_log: Arc<dyn EventLog> = log.clone();
        // No keep-alive and no following of another instance's stream: the bodies are polled
        // without a runtime (a resume elsewhere ends with `retry` and the client polls).
        let config = HttpConfig::default()
            .keep_alive(None)
            .follow_elsewhere(std::time::Duration::ZERO)
            .connection_queue(setup.queue)
            .get_buffer(setup.get_buffer)
            .response_mode(match setup.json {
                true => ResponseMode::Json,
                false => ResponseMode::Adaptive,
            });
        let sessions = (0..SESSIONS)
            .map(|n| {
                let id: Arc<str> = format!("session-{n}").into();
                let router = Router::new(id.clone(), &config, &dyn_log, None).unwrap();
                if setup.priming {
                    router.enable_priming();
                }
                let elsewhere = Router::new(id.clone(), &config, &dyn_log, None).unwrap();
                Session {
                    id,
                    router,
                    elsewhere,
                    reqs: vec![Req::Idle; REQUESTS],
                    responded: vec![false; REQUESTS],
                    answered_sse: vec![false; REQUESTS],
                    abandoned: vec![false; REQUESTS],
                    batch: vec![false; REQUESTS],
                    get_exists: false,
                    buffer: VecDeque::new(),
                    orphaned: HashSet::new(),
                    ended: false,
                    client: Client::default(),
                }
            })
            .collect();
        World {
            setup,
            log,
            sessions,
            msgs: Vec::new(),
            by_payload: HashMap::new(),
        }
    }

    pub(super) fn run(&mut self, op: &Op) -> Check {
        let s = match op {
            Op::Post(s, _, _)
            | Op::Related(s, _, _)
            | Op::Respond(s, _)
            | Op::Decide(s, _)
            | Op::Abandon(s, _)
            | Op::Close(s, _)
            | Op::Unrelated(s)
            | Op::OpenGet(s)
            | Op::Read(s, _)
            | Op::Disconnect(s, _)
            | Op::Resume(s, _)
            | Op::ResumeElsewhere(s, _)
            | Op::ForeignResume(s)
            | Op::End(s) => *s,
        };
        if self.sessions[s].ended {
            return Ok(());
        }
        match *op {
            Op::Post(s, k, batch) => self.post(s, k, batch),
            Op::Related(s, k, request) => {
                let kind = match request {
                    true => OutboundKind::Request,
                    false => OutboundKind::Notification,
                };
                self.send(s, kind, Some(k))
            }
            Op::Respond(s, k) => self.respond(s, k),
            Op::Decide(s, k) => self.decide(s, k),
            Op::Abandon(s, k) => self.abandon(s, k),
            Op::Close(s, k) => self.close(s, k),
            Op::Unrelated(s) => self.send(s, OutboundKind::Notification, None),
            Op::OpenGet(s) => self.open_get(s),
            Op::Read(s, t) => self.read(s, t),
            Op::Disconnect(s, t) => self.disconnect(s, t),
            Op::Resume(s, t) => self.resume(s, t),
            Op::ResumeElsewhere(s, t) => self.resume_at(s, t, true),
            Op::ForeignResume(s) => self.foreign_resume(s),
            Op::End(s) => self.end(s),
        }
    }

    pub(super) fn post(&mut self, s: usize, k: usize, batch: bool) -> Check {
        let session = &mut self.sessions[s];
        if session.reqs[k] != Req::Idle {
            return Ok(());
        }
        session.batch[k] = batch;
        let id = RequestId::Number(k as i64);
        // Every other request's stream is reserved, as a session's POST reserves it, and
        // opened by what comes for it or when its POST chooses (PF-23).
        let sid = match !batch && k.is_multiple_of(2) {
            true => session.router.reserve_request(&id),
            false => session.router.open_request(&id, batch),
        }
        .ok_or_else(|| TestCaseError::fail("a new request id was refused"))?;
        session.reqs[k] = Req::Waiting {
            sid,
            kinds: Vec::new(),
            closed: false,
        };
        Ok(())
    }

    pub(super) fn respond(&mut self, s: usize, k: usize) -> Check {
        let session = &self.sessions[s];
        if !session.reqs[k].open() || session.responded[k] {
            return Ok(());
        }
        self.sessions[s].responded[k] = true;
        self.send(s, OutboundKind::Response, Some(k))
    }

    /// Sends a message through the router and records where the model says it goes.
    pub(super) fn send(&mut self, s: usize, kind: OutboundKind, related: Option<usize>) -> Check {
        let n = self.msgs.len();
        let json = match (kind, related) {
            (OutboundKind::Response, Some(k)) => {
                format!(r#"{{"jsonrpc":"2.0","id":{k},"result":{{"n":{n}}}}}"#)
            }
            (OutboundKind::Request, _) => {
                format!(r#"{{"jsonrpc":"2.0","id":"s{n}","method":"ping","params":{{"n":{n}}}}}"#)
            }
            _ => format!(
                r#"{{"jsonrpc":"2.0","method":"notifications/progress","params":{{"n":{n}}}}}"#
            ),
        };
        let session = &mut self.sessions[s];
        // In forced-JSON mode, and for a batch item, only the response uses the request's own
        // answer.
        let own =
            |k: usize| kind == OutboundKind::Response || !(self.setup.json || session.batch[k]);
        let target = match related {
            Some(k) if session.reqs[k].open() && own(k) => Target::Request(k),
            _ => Target::Get,
        };
        let mut out = Outbound::new(Bytes::from(json.clone()), kind);
        if let Some(k) = related {
            out = out.related(RequestId::Number(k as i64));
        }
        match (kind, related) {
            (OutboundKind::Response, Some(k)) => out = out.id(RequestId::Number(k as i64)),
            (OutboundKind::Request, _) => out = out.id(RequestId::String(format!("s{n}").into())),
            _ => {}
        }
        let routed = session.router.route(out);
        // A server-to-client request for a stream no client can name fails at once (RL-44).
        let refused = kind == OutboundKind::Request
            && matches!(target, Target::Request(k) if session.abandoned[k]);
        prop_assert_eq!(routed.is_err(), refused, "{:?}", routed);
        if refused {
            return Ok(());
        }
        let mut may_be_lost = session.orphaned.contains(&target);
        match target {
            Target::Request(k) => match &mut session.reqs[k] {
                Req::Waiting { kinds, .. } => kinds.push(kind),
                Req::Live { sid } if kind == OutboundKind::Response => {
                    session.reqs[k] = Req::Done { sid: *sid };
                }
                _ => {}
            },
            Target::Get if !session.get_exists => {
                // A bounded buffer: the oldest message goes when it is full.
                if session.buffer.len() >= self.setup.get_buffer
                    && let Some(old) = session.buffer.pop_front()
                {
                    self.msgs[old].may_be_lost = true;
                }
                session.buffer.push_back(n);
                may_be_lost = false;
            }
            Target::Get => {}
        }
        self.msgs.push(Msg {
            session: s,
            target,
            kind,
            may_be_lost,
            got: None,
        });
        self.by_payload.insert(json, n);
        Ok(())
    }

    pub(super) fn decide(&mut self, s: usize, k: usize) -> Check {
        let session = &mut self.sessions[s];
        let Req::Waiting { sid, kinds, closed } = session.reqs[k].clone() else {
            return Ok(());
        };
        if session.batch[k] {
            // A batch waits for each item's response.
            let Some(json) = session.router.take_response(sid) else {
                prop_assert!(!session.responded[k], "a batch item's response not taken");
                return Ok(());
            };
            session.reqs[k] = Req::Done { sid };
            let json = String::from_utf8(json.to_vec()).unwrap();
            let m = *self
                .by_payload
                .get(&json)
                .ok_or_else(|| TestCaseError::fail("a JSON answer never sent"))?;
            return self.got(s, Target::Request(k), m, None);
        }
        // As the POST does once its handler's first poll is over (PF-23).
        session.router.open_reserved(sid);
        let pending = session.router.pending(sid);
        match pending {
            Pending::Json(json) => {
                prop_assert!(!closed && kinds == [OutboundKind::Response]);
                session.reqs[k] = Req::Done { sid };
                let json = String::from_utf8(json.to_vec()).unwrap();
                let m = *self
                    .by_payload
                    .get(&json)
                    .ok_or_else(|| TestCaseError::fail("a JSON answer never sent"))?;
                return self.got(s, Target::Request(k), m, None);
            }
            Pending::Empty => prop_assert!(!closed && kinds.is_empty()),
            Pending::Stream => prop_assert!(closed || !kinds.is_empty()),
            // The model cancels nothing.
            Pending::Ended => prop_assert!(false, "ended with no cancellation"),
        }
        if self.setup.json {
            // A JSON POST waits for its response, however long it takes.
            prop_assert!(matches!(pending, Pending::Empty));
            return Ok(());
        }
        // SSE, or the POST's wait ended (adaptive mode).
        let body = session.router.upgrade(sid);
        session.answered_sse[k] = true;
        session.reqs[k] = match session.responded[k] {
            true => Req::Done { sid },
            false => Req::Live { sid },
        };
        self.connect(s, Target::Request(k), body, None)
    }

    pub(super) fn abandon(&mut self, s: usize, k: usize) -> Check {
        let session = &mut self.sessions[s];
        let Req::Waiting { sid, .. } = session.reqs[k] else {
            return Ok(());
        };
        if session.batch[k] {
            // A batch whose POST went away forgets its items' streams: what comes for one
            // later is another request's business (the GET stream), its response dropped.
            session.router.discard(sid);
            session.reqs[k] = Req::Done { sid };
            self.orphan(s, Target::Request(k));
            return Ok(());
        }
        session.router.open_reserved(sid);
        session.router.abandon(sid);
        session.abandoned[k] = true;
        session.reqs[k] = match session.responded[k] {
            true => Req::Done { sid },
            false => Req::Live { sid },
        };
        self.orphan(s, Target::Request(k));
        Ok(())
    }

    pub(super) fn close(&mut self, s: usize, k: usize) -> Check {
        let session = &mut self.sessions[s];
        let closed = session.router.close_stream(&RequestId::Number(k as i64));
        prop_assert_eq!(
            closed,
            self.setup.priming && !self.setup.json && session.reqs[k].open(),
            "close_stream's answer"
        );
        if let Req::Waiting { closed: asked, .. } = &mut session.reqs[k] {
            *asked |= closed;
        }
        Ok(())
    }

    pub(super) fn open_get(&mut self, s: usize) -> Check {
        self.read(s, Target::Get)?;
        if self.sessions[s].client.last.contains_key(&Target::Get) {
            return self.resume(s, Target::Get);
        }
        let session = &mut self.sessions[s];
        let body = session.router.open_get();
        session.get_exists = true;
        session.buffer.clear();
        session.orphaned.remove(&Target::Get);
        // The connection it replaces ends, after what was queued on it.
        if let Some(mut old) = session.client.conns.remove(&Target::Get) {
            let (rest, ended) = drain(&mut old.body);
            prop_assert!(rest.is_empty() && ended, "a replaced GET connection ends");
        }
        self.connect(s, Target::Get, body, None)
    }

    /// A new connection: its first bytes come with the headers, so the client reads them at once.
    pub(super) fn connect(
        &mut self,
        s: usize,
        t: Target,
        body: ResponseBody,
        from: Option<u64>,
    ) -> Check {
        let conn = Conn {
            body,
            last_seq: from,
            partial: String::new(),
        };
        self.sessions[s].client.conns.insert(t, conn);
        self.read(s, t)
    }

    pub(super) fn read(&mut self, s: usize, t: Target) -> Check {
        let Some(conn) = self.sessions[s].client.conns.get_mut(&t) else {
            return Ok(());
        };
        let (bytes, ended) = drain(&mut conn.body);
        conn.partial.push_str(&bytes);
        let events = events(&mut conn.partial);
        for (id, data) in events {
            self.event(s, t, id, data)?;
        }
        if ended {
            self.sessions[s].client.conns.remove(&t);
        }
        Ok(())
    }

    /// One SSE event received on the client's connection to stream `t` of session `s`.
    pub(super) fn event(
        &mut self,
        s: usize,
        t: Target,
        id: Option<String>,
        data: Option<String>,
    ) -> Check {
        let id =
            id.ok_or_else(|| TestCaseError::fail("an event of a resumable stream without id"))?;
        let session = &mut self.sessions[s];
        let (tag, sid, seq) =
            parse_event_id(&id).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(
            tag,
            &**session.router.tag(),
            "an event id of another session"
        );
        match t {
            Target::Request(k) => {
                prop_assert_eq!(Some(sid), session.reqs[k].sid(), "another stream's event")
            }
            Target::Get => match session.client.get_sid {
                Some(get) => prop_assert_eq!(sid, get, "another stream's event on the GET stream"),
                None => session.client.get_sid = Some(sid),
            },
        }
        let client = &mut session.client;
        let conn = client.conns.get_mut(&t).unwrap();
        match conn.last_seq {
            // Within a connection, and after the id a resume named: the next event, no gap.
            Some(previous) => prop_assert_eq!(seq, previous + 1, "a gap or a repeat in {}", id),
            // A request stream's SSE answer starts at its first event.
            None => prop_assert!(
                t == Target::Get || seq == 0,
                "{} does not start the stream",
                id
            ),
        }
        conn.last_seq = Some(seq);
        if let Some(last) = client.last.get(&t) {
            let (_, _, before) = parse_event_id(last).unwrap();
            prop_assert!(seq > before, "{} after {}", id, last);
        }
        client.last.insert(t, id);
        let data = data.unwrap_or_default();
        if data.is_empty() {
            // A priming event: a position only.
            return Ok(());
        }
        let m = *self
            .by_payload
            .get(&data)
            .ok_or_else(|| TestCaseError::fail(format!("an event never sent: {data}")))?;
        self.got(s, t, m, Some(seq))
    }

    /// Message `m` reached the client on stream `t` of session `s`.
    pub(super) fn got(&mut self, s: usize, t: Target, m: usize, seq: Option<u64>) -> Check {
        let msg = &mut self.msgs[m];
        prop_assert!(msg.got.is_none(), "message {} delivered twice", m);
        prop_assert_eq!(
            (msg.session, msg.target),
            (s, t),
            "message {} on the wrong stream",
            m
        );
        msg.got = Some(seq);
        let client = &mut self.sessions[s].client;
        if let Some(seq) = seq {
            client.seen.entry(t).or_default().push((seq, m));
        }
        if let (Target::Request(k), OutboundKind::Response) = (t, msg.kind) {
            client.complete.insert(k);
        }
        Ok(())
    }

    /// The client lost a connection; without an event id of its stream it cannot resume it.
    pub(super) fn disconnect(&mut self, s: usize, t: Target) -> Check {
        let session = &mut self.sessions[s];
        if session.client.conns.remove(&t).is_none() {
            return Ok(());
        }
        if !session.client.last.contains_key(&t) {
            self.orphan(s, t);
        }
        Ok(())
    }

    /// What was sent on stream `t` and not received is lost: the client cannot name the stream.
    pub(super) fn orphan(&mut self, s: usize, t: Target) {
        self.sessions[s].orphaned.insert(t);
        for msg in &mut self.msgs {
            if msg.session == s && msg.target == t && msg.got.is_none() {
                msg.may_be_lost = true;
            }
        }
    }

    /// Resumes stream `t` here, or (`elsewhere`) through the session's other instance.
    pub(super) fn resume_at(&mut self, s: usize, t: Target, elsewhere: bool) -> Check {
        let session = &mut self.sessions[s];
        let Some(last) = session.client.last.get(&t).cloned() else {
            return Ok(());
        };
        if let Target::Request(k) = t
            && session.client.complete.contains(&k)
        {
            return Ok(());
        }
        // A client resumes once its connection is gone.
        session.client.conns.remove(&t);
        let router = match elsewhere {
            true => &session.elsewhere,
            false => &session.router,
        };
        let resumed = futures::executor::block_on(router.resume(&last));
        let body = resumed.map_err(|e| TestCaseError::fail(format!("resume of {last}: {e:?}")))?;
        let (_, _, seq) = parse_event_id(&last).unwrap();
        self.connect(s, t, body, Some(seq))
    }

    pub(super) fn resume(&mut self, s: usize, t: Target) -> Check {
        self.resume_at(s, t, false)
    }

    pub(super) fn foreign_resume(&mut self, s: usize) -> Check {
        let session = &self.sessions[s];
        let tag = session.router.tag().clone();
        let made_up = format!("{tag}.999999.0");
        let unknown = futures::executor::block_on(session.router.resume(&made_up));
        prop_assert!(
            matches!(unknown, Err(ResumeError::Unknown)),
            "{made_up}: {unknown:?}"
        );
        let malformed = futures::executor::block_on(session.router.resume("x.y"));
        prop_assert!(matches!(malformed, Err(ResumeError::Malformed)));
        let Some(id) = session.client.last.values().min().cloned() else {
            return Ok(());
        };
        for other in (0..SESSIONS).filter(|&o| o != s && !self.sessions[o].ended) {
            let router = &self.sessions[other].router;
            let foreign = futures::executor::block_on(router.resume(&id));
            prop_assert!(
                matches!(foreign, Err(ResumeError::Foreign)),
                "{id}: {foreign:?}"
            );
        }
        Ok(())
    }

    pub(super) fn end(&mut self, s: usize) -> Check {
        let others: Vec<_> = (0..SESSIONS)
            .filter(|&o| o != s)
            .map(|o| self.log.held(&self.sessions[o].id))
            .collect();
        let session = &mut self.sessions[s];
        session.router.close_all(false);
        self.log.forget_session(&session.id);
        prop_assert!(
            self.log.held(&session.id).is_empty(),
            "an ended session's events stay"
        );
        let after: Vec<_> = (0..SESSIONS)
            .filter(|&o| o != s)
            .map(|o| self.log.held(&self.sessions[o].id))
            .collect();
        prop_assert_eq!(others, after, "ending a session touched another's events");
        // Every connection ends, after what was queued on it.
        let targets: Vec<Target> = self.sessions[s].client.conns.keys().copied().collect();
        for t in targets {
            self.read(s, t)?;
            prop_assert!(
                !self.sessions[s].client.conns.contains_key(&t),
                "a connection outlived its session"
            );
        }
        for msg in &mut self.msgs {
            if msg.session == s && msg.got.is_none() {
                msg.may_be_lost = true;
            }
        }
        let session = &mut self.sessions[s];
        session.ended = true;
        prop_assert_eq!(session.router.connections.load(Ordering::Relaxed), 0);
        Ok(())
    }
}
