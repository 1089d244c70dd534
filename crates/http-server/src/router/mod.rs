//! One session's message router: every outbound message goes on exactly one stream (T-29b).
//!
//! A response, and the notifications and requests a handler sends while serving a request, go on
//! that request's stream (T-16); everything else goes on the standalone GET stream, held in a
//! bounded buffer until one is open (or handed to the instance that holds it). Each stream has a
//! sequence of events whose ids (`{tag}.{stream}.{seq}`) name the router's random tag and the
//! stream, so `Last-Event-ID` maps back to exactly one stream of exactly one session (T-31, T-32,
//! T-36). Events are appended to the [`EventLog`] under the same lock that assigns their numbers,
//! and a resumption replays everything numbered before the first event its live connection
//! carries, so it never misses or repeats one.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use bytes::{Bytes, BytesMut};
use dashmap::DashMap;
use foldhash::{HashMap, HashMapExt};
use futures::TryStreamExt;
use mcp_http_core::peer::WeakPeer;
use mcp_http_core::{
    MessageSink, Outbound, OutboundKind, Sending, TransportError, TransportErrorKind,
};
use mcp_http_proto::RequestId;

use crate::body::{Completion, ConnectionGuard, ResponseBody};
use crate::config::{HttpConfig, ResponseMode};
use crate::queue::{QueueRx, QueueTx, queue};
use crate::random::{self, RandomUnavailable};
use crate::sessions::{EventLog, MessageBus, StreamKey};
use crate::sse;

mod answer;
mod choice;
mod get_resume;
mod get_stream;
#[cfg(test)]
mod props;
mod reserved;
mod resume;
mod unanswered;

use reserved::{Reserved, open_reserved_id, take_reserved};

pub(crate) use choice::Pending;
use choice::{Waiting, is_quiet};
pub(crate) use get_stream::RemoteGet;

/// Server-to-client request ids of stateless requests, so a client's POSTed response reaches the
/// waiting handler (design.md idea 7).
pub(crate) type BackChannel = Arc<DashMap<RequestId, WeakPeer, foldhash::fast::RandomState>>;

/// The running routers of stateless requests by tag, so GET + `Last-Event-ID` reaches a live
/// stream without any session (T-31: ids unique across all streams with that client).
pub(crate) type LiveStreams =
    Arc<DashMap<Arc<str>, std::sync::Weak<Router>, foldhash::fast::RandomState>>;

/// Why a `Last-Event-ID` cannot be resumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResumeError {
    /// Not an event id of this server's form.
    Malformed,
    /// An id of another session (T-36).
    Foreign,
    /// The stream is unknown, expired, or its events after that id were evicted.
    Unknown,
}

struct Stream {
    next_seq: u64,
    conn: Option<QueueTx>,
    /// Set once the response went into `conn` (see [`crate::body::Completion`]).
    completed: Option<Arc<AtomicBool>>,
    /// Set while the POST has not yet chosen JSON or SSE.
    waiting: Option<Waiting>,
    request: Option<RequestId>,
    /// Answered only by its response as JSON (a batch item): what the handler sends besides
    /// goes on the GET stream.
    json_only: bool,
    /// Its POST went away before choosing, so no event id of it ever reached the client, and no
    /// client can name it to resume: what is sent on it is dropped, not kept (RL-44).
    unnamed: bool,
}

impl Stream {
    fn new(request: Option<RequestId>, waiting: Option<Waiting>) -> Self {
        Stream {
            next_seq: 0,
            conn: None,
            completed: None,
            waiting,
            request,
            json_only: false,
            unnamed: false,
        }
    }
}

#[derive(Default)]
struct State {
    next_stream: u64,
    requests: HashMap<RequestId, u64>,
    streams: HashMap<u64, Stream>,
    get_stream: Option<u64>,
    get_buffer: VecDeque<Bytes>,
    sent_requests: Vec<RequestId>,
    /// Streams finished since the session reaper's last pass (see [`finish`]).
    finished: u32,
    /// A stateless request's router carries one request: this one, whose stream is opened
    /// only when a message for it comes or its POST has to wait (a quick answer needs none).
    solo: Option<RequestId>,
    /// That request was answered: what comes for it later has no stream to go to (RL-47).
    solo_answered: bool,
    /// A session's requests whose handlers run their first poll, with the stream number each
    /// has: the stream is opened only when a message comes for it or its POST has to wait
    /// (PF-23). A quick call, answered in that poll with nothing sent, opens none.
    reserved: Reserved,
}

impl State {
    /// Whether `id` is the stateless request whose stream may still be opened.
    fn solo_may_open(&self, id: &RequestId) -> bool {
        !self.solo_answered && self.solo.as_ref() == Some(id)
    }
}

/// Opens the stream of request `id` (see [`Router::open_request`]).
fn open_stream(st: &mut State, id: &RequestId, json_only: bool) -> u64 {
    let sid = st.next_stream;
    st.next_stream += 1;
    open_stream_as(st, id.clone(), sid, json_only);
    sid
}

/// Opens request `id`'s stream as number `sid`.
fn open_stream_as(st: &mut State, id: RequestId, sid: u64, json_only: bool) {
    let waiting = Waiting {
        messages: Vec::new(),
        notify: None,
        close_requested: false,
        ended: false,
    };
    let mut stream = Stream::new(Some(id.clone()), Some(waiting));
    stream.json_only = json_only;
    st.streams.insert(sid, stream);
    st.requests.insert(id, sid);
}

pub(crate) struct Router {
    session: Arc<str>,
    tag: Arc<str>,
    resumable: bool,
    stateless: bool,
    mode: ResponseMode,
    /// The SSE `retry` field in milliseconds, as `u32` (49 days at most): with it the small
    /// fields fill 16 bytes, not 20 padded to 24, so `Arc<Router>` stays at 376 bytes, 8 under
    /// mimalloc's 384-byte class, where its aligned allocation still lands (PF-90).
    retry_ms: u32,
    /// How long a resume of another instance's stream follows the log (zero: not at all).
    follow_elsewhere: std::time::Duration,
    /// The bounds of a connection's queue and of the GET stream's buffer, as `u32` (beyond
    /// that, as good as unbounded): an idle session's router stays within its size (PF-3).
    queue: u32,
    get_buffer: u32,
    keep_alive: Option<std::time::Duration>,
    log: Arc<dyn EventLog>,
    /// Priming events and polling closes only where the session negotiated 2025-11-25 or later
    /// (T-21b).
    priming: AtomicBool,
    pub(crate) connections: Arc<AtomicUsize>,
    /// The session's requests in progress on this instance (RL-7): kept here, where the
    /// router's allocation has room for it, rather than in an allocation of its own (PF-36).
    in_flight: AtomicUsize,
    back_channel: Option<(BackChannel, OnceLock<WeakPeer>)>,
    live: Option<LiveStreams>,
    /// What only a router of a clustered instance has (boxed: a lone instance's sessions, the
    /// usual case, pay one pointer for it, PF-3).
    cluster: Option<Box<Cluster>>,
    state: Mutex<State>,
}

/// A router's links to the other instances, set while it is built.
#[derive(Default)]
struct Cluster {
    /// Where messages for the GET stream go while another instance holds it.
    remote_get: Option<Box<dyn RemoteGet>>,
    /// Tells whether the instance a stream's tag names is alive, so that a resume of a stream
    /// whose instance is gone ends with an error (RB-15).
    bus: Option<Arc<dyn MessageBus>>,
}

/// The tag shared by the routers whose streams and requests are never named (PF-46, PF-47).
fn unnamed_tag() -> Arc<str> {
    static TAG: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from("unnamed"));
    TAG.clone()
}

/// An event id: the router's tag, the stream, the event's number on it.
fn event_id(tag: &str, stream: u64, seq: u64) -> sse::EventId<'_> {
    sse::EventId { tag, stream, seq }
}

/// Splits an event id into tag, stream and number.
pub(crate) fn parse_event_id(id: &str) -> Result<(&str, u64, u64), ResumeError> {
    let mut parts = id.split('.');
    let (Some(tag), Some(stream), Some(seq), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ResumeError::Malformed);
    };
    match (stream.parse(), seq.parse()) {
        (Ok(stream), Ok(seq)) => Ok((tag, stream, seq)),
        _ => Err(ResumeError::Malformed),
    }
}

/// Forgets a request stream whose response went out, and its request id.
fn finish(st: &mut State, sid: u64) {
    if let Some(request) = st.streams.remove(&sid).and_then(|s| s.request) {
        st.solo_answered |= st.solo.as_ref() == Some(&request);
        st.requests.remove(&request);
    }
    st.finished = st.finished.saturating_add(1);
    // An idle session keeps no tables: their capacity was most of its router's memory. A
    // session that answered only one request since the reaper's last pass (often just its
    // initialize) lets them go at once; a busy one keeps them for its next call, which would
    // otherwise allocate and grow both again, until the reaper's pass.
    if st.streams.is_empty() && st.finished <= 1 {
        release_tables(st);
    }
}

fn release_tables(st: &mut State) {
    st.streams = HashMap::new();
    st.requests = HashMap::new();
    st.reserved.release_if_empty();
}

impl Router {
    /// A session's router. A stateless request's router (with `stateless`) has no session: its
    /// 128-bit random tag names its streams, unguessably (see [`Router::for_request`]).
    pub(crate) fn new(
        session: Arc<str>,
        config: &HttpConfig,
        log: &Arc<dyn EventLog>,
        stateless: Option<(BackChannel, Option<LiveStreams>)>,
    ) -> Result<Self, RandomUnavailable> {
        match stateless {
            Some((back_channel, live)) => Self::for_request(config, log, back_channel, live),
            None => Ok(Self::build(
                session,
                random::hex::<6>()?,
                config,
                log,
                None,
                None,
            )),
        }
    }

    /// The router of one stateless request: its stream is its own session, and one random tag
    /// names both (no session id is made for it, PF-4). Where responses are JSON only, nothing
    /// it carries is ever named (no SSE stream, so no event id; no server-to-client request can
    /// reach the client, so none is entered in the back channel): it shares one tag with every
    /// other such router (PF-47).
    pub(crate) fn for_request(
        config: &HttpConfig,
        log: &Arc<dyn EventLog>,
        back_channel: BackChannel,
        live: Option<LiveStreams>,
    ) -> Result<Self, RandomUnavailable> {
        if config.response_mode == ResponseMode::Json && live.is_none() {
            return Ok(Self::for_json_request(config, log, back_channel));
        }
        let tag = random::hex::<16>()?;
        Ok(Self::build(
            tag.clone(),
            tag,
            config,
            log,
            Some(back_channel),
            live,
        ))
    }

    /// The router of one stateless request answered in JSON only (PF-47): see
    /// [`Router::for_request`].
    pub(crate) fn for_json_request(
        config: &HttpConfig,
        log: &Arc<dyn EventLog>,
        back_channel: BackChannel,
    ) -> Self {
        let tag = unnamed_tag();
        Self::build(tag.clone(), tag, config, log, Some(back_channel), None)
    }

    /// The router of one 2026-07-28 request (PF-46): its stream carries no event ids and keeps
    /// nothing for replay (H-6), is never in the table of live streams, and names no
    /// server-to-client request (M-9), so nothing needs it named apart from another: every such
    /// router shares one tag instead of drawing 128 random bits and allocating them.
    pub(crate) fn for_modern_request(
        config: &HttpConfig,
        log: &Arc<dyn EventLog>,
        back_channel: BackChannel,
    ) -> Self {
        let tag = unnamed_tag();
        Self::build(tag.clone(), tag, config, log, Some(back_channel), None).without_resumption()
    }

    fn build(
        session: Arc<str>,
        tag: Arc<str>,
        config: &HttpConfig,
        log: &Arc<dyn EventLog>,
        back_channel: Option<BackChannel>,
        live: Option<LiveStreams>,
    ) -> Self {
        Router {
            session,
            tag,
            resumable: config.resumable,
            stateless: config.stateless,
            mode: config.response_mode,
            retry_ms: u32::try_from(config.retry.as_millis()).unwrap_or(u32::MAX),
            follow_elsewhere: config.follow_elsewhere,
            queue: u32::try_from(config.connection_queue.max(1)).unwrap_or(u32::MAX),
            get_buffer: u32::try_from(config.get_buffer).unwrap_or(u32::MAX),
            keep_alive: config.keep_alive,
            log: log.clone(),
            priming: AtomicBool::new(false),
            connections: Arc::new(AtomicUsize::new(0)),
            in_flight: AtomicUsize::new(0),
            back_channel: back_channel.map(|b| (b, OnceLock::new())),
            live,
            cluster: None,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        mcp_http_core::sync::lock(&self.state)
    }

    /// A router whose streams carry no event ids and keep nothing for replay: a 2026-07-28
    /// request's stream cannot be resumed (H-6).
    pub(crate) fn without_resumption(mut self) -> Self {
        self.resumable = false;
        self
    }

    /// In a cluster: the tag names this instance (`{instance}~{random}`), so that an instance
    /// resuming one of its streams knows whose heartbeat to check (RB-15), and `bus` tells.
    pub(crate) fn owned_by(mut self, instance: &str, bus: Arc<dyn MessageBus>) -> Self {
        self.tag = format!("{instance}~{}", self.tag).into();
        self.cluster.get_or_insert_default().bus = Some(bus);
        self
    }

    /// The bus of a clustered instance (see [`Router::owned_by`]).
    fn bus(&self) -> Option<&Arc<dyn MessageBus>> {
        self.cluster.as_ref()?.bus.as_ref()
    }

    /// Where messages for the GET stream go while another instance holds it.
    fn remote_get(&self) -> Option<&dyn RemoteGet> {
        self.cluster.as_ref()?.remote_get.as_deref()
    }

    /// The tag that starts this router's event ids.
    pub(crate) fn tag(&self) -> &Arc<str> {
        &self.tag
    }

    /// The prefix server-to-client request ids get in stateless mode, unique across requests:
    /// the tag itself (fixed length, so `{tag}{n}` is unambiguous).
    pub(crate) fn id_prefix(&self) -> Arc<str> {
        self.tag.clone()
    }

    /// Links the router to its peer, for stateless back-channel routing.
    pub(crate) fn set_peer(&self, peer: WeakPeer) {
        if let Some((_, slot)) = &self.back_channel {
            let _ = slot.set(peer);
        }
    }

    /// Turns priming events and polling on (the session negotiated 2025-11-25 or later).
    pub(crate) fn enable_priming(&self) {
        self.priming.store(true, Ordering::Relaxed);
    }

    fn priming(&self) -> bool {
        self.resumable && self.priming.load(Ordering::Relaxed)
    }

    /// The SSE `retry` field in milliseconds.
    fn retry_ms(&self) -> u64 {
        u64::from(self.retry_ms)
    }

    /// The log of stream `sid` of this router.
    fn key(&self, sid: u64) -> StreamKey<'_> {
        StreamKey {
            tag: &self.tag,
            stream: sid,
        }
    }

    fn event_id(&self, stream: u64, seq: u64) -> sse::EventId<'_> {
        event_id(&self.tag, stream, seq)
    }

    /// Registers an inbound request whose POST waits to choose JSON or SSE (`json_only`: whose
    /// POST takes only its response). `None` when a request with that id is still in progress.
    pub(crate) fn open_request(&self, id: &RequestId, json_only: bool) -> Option<u64> {
        let mut st = self.lock();
        if st.requests.contains_key(id) || st.reserved.has_id(id) {
            return None;
        }
        Some(open_stream(&mut st, id, json_only))
    }

    /// Whether this router carries one stateless request (see [`State::solo`]).
    pub(crate) fn is_solo(&self) -> bool {
        self.back_channel.is_some()
    }

    /// Names the one request of a stateless router, before it runs: its stream is opened when
    /// needed ([`Router::solo_stream`]).
    pub(crate) fn expect(&self, id: &RequestId) {
        self.lock().solo = Some(id.clone());
    }

    /// The stream of the one request of a stateless router: the one a message opened, else a
    /// new one when `open`.
    pub(crate) fn solo_stream(&self, open: bool) -> Option<u64> {
        let mut st = self.lock();
        let id = st.solo.clone()?;
        if let Some(&sid) = st.requests.get(&id) {
            st.streams.get(&sid)?.waiting.as_ref()?;
            return Some(sid);
        }
        (open && !st.solo_answered).then(|| open_stream(&mut st, &id, false))
    }

    /// The one request of a stateless router was answered without its stream (the response
    /// came at once): nothing opens one later (RL-47).
    pub(crate) fn solo_answered(&self) {
        self.lock().solo_answered = true;
    }

    /// Closes request `id`'s connection for polling, after a `retry` field (T-12, T-13).
    fn close_request_stream(&self, id: &RequestId) -> bool {
        if !self.priming() || self.mode == ResponseMode::Json {
            return false;
        }
        let mut st = self.lock();
        // A session's request in its first poll opens its stream here, closed (PF-23).
        let sid = match st
            .requests
            .get(id)
            .copied()
            .or_else(|| open_reserved_id(&mut st, id))
        {
            Some(sid) => sid,
            // A stateless request's handler may close its stream before sending anything on
            // it: that opens it, closed (the POST then answers with the priming event only).
            None if st.solo_may_open(id) => open_stream(&mut st, id, false),
            None => return false,
        };
        let Some(stream) = st.streams.get_mut(&sid) else {
            return false;
        };
        if let Some(waiting) = &mut stream.waiting {
            waiting.close_requested = true;
            waiting.wake();
            return true;
        }
        if let Some(conn) = stream.conn.take() {
            let _ = conn.try_send(sse::retry(self.retry_ms()));
        }
        true
    }

    /// Ends every connection, after a `retry` field so clients reconnect (graceful shutdown), or
    /// for good (the session ended).
    pub(crate) fn close_all(&self, with_retry: bool) {
        let mut st = self.lock();
        for stream in st.streams.values_mut() {
            if let Some(conn) = stream.conn.take()
                && with_retry
            {
                let _ = conn.try_send(sse::retry(self.retry_ms()));
            }
            if let Some(waiting) = &stream.waiting {
                waiting.wake();
            }
        }
    }

    /// The session reaper's pass: tables with nothing in them are released, and the count that
    /// decides whether [`finish`] keeps them starts again.
    pub(crate) fn release_idle_tables(&self) {
        let mut st = self.lock();
        st.finished = 0;
        if st.streams.is_empty() {
            release_tables(&mut st);
        }
    }

    /// How many requests are still waiting for their POST to choose a response kind.
    pub(crate) fn open_requests(&self) -> usize {
        let st = self.lock();
        st.requests.len() + st.reserved.len()
    }

    fn deliver(&self, st: &mut State, sid: u64, kind: OutboundKind, json: Bytes) {
        let Some(stream) = st.streams.get_mut(&sid) else {
            return;
        };
        if let Some(waiting) = &mut stream.waiting {
            waiting.messages.push((kind, json));
            waiting.wake();
            return;
        }
        let mut frame = BytesMut::new();
        self.frame(sid, stream, &json, &mut frame);
        if let Some(conn) = &stream.conn {
            // A full queue means a slow reader: cut it off; it can resume from the store.
            if conn.try_send(frame.freeze()).is_err() {
                tracing::debug!(stream = sid, "SSE connection gone or too slow; detached");
                stream.conn = None;
            } else if kind == OutboundKind::Response
                && let Some(done) = &stream.completed
            {
                done.store(true, Ordering::Release);
            }
        }
        if kind == OutboundKind::Response {
            // T-18: the stream ends with its response.
            finish(st, sid);
        }
    }

    pub(crate) fn route(&self, message: Outbound) -> Result<(), TransportError> {
        let mut st = self.lock();
        let own_stream = message.related.as_ref().and_then(|id| {
            st.requests
                .get(id)
                .copied()
                // The first message of a session's request in its first poll opens its
                // stream (PF-23).
                .or_else(|| open_reserved_id(&mut st, id))
                .or_else(|| {
                    // The first message of a stateless request opens its stream.
                    // Once answered, a straggler opens none (RL-47).
                    st.solo_may_open(id)
                        .then(|| open_stream(&mut st, id, false))
                })
        });
        // Forced JSON (and a batch item): only the response uses the request's own answer.
        let own_stream = match (self.mode, message.kind) {
            (_, OutboundKind::Response) => own_stream,
            (ResponseMode::Json, _) => None,
            _ => own_stream.filter(|sid| st.streams.get(sid).is_some_and(|s| !s.json_only)),
        };
        // A stateless request answered in JSON only has no stream for a request of its own:
        // it fails below, and is not entered in the back channel (PF-47).
        let deliverable = !(self.stateless && self.mode == ResponseMode::Json);
        if message.kind == OutboundKind::Request
            && deliverable
            && let (Some(id), Some((channel, peer))) = (&message.id, &self.back_channel)
            && let Some(peer) = peer.get()
        {
            channel.insert(id.clone(), peer.clone());
            st.sent_requests.push(id.clone());
        }
        if let Some(sid) = own_stream {
            if st.streams.get(&sid).is_some_and(|s| s.unnamed) {
                return unnamed(&mut st, sid, message.kind);
            }
            self.deliver(&mut st, sid, message.kind, message.json);
            return Ok(());
        }
        match message.kind {
            OutboundKind::Response => {
                tracing::debug!(id = ?message.id, "response to a request with no open stream dropped");
                Ok(())
            }
            _ if self.stateless => {
                if message.kind == OutboundKind::Request {
                    return Err(TransportError::new(
                        TransportErrorKind::Protocol,
                        "no stream to send a server-to-client request on (stateless JSON responses)",
                    ));
                }
                tracing::debug!(
                    "notification dropped: a stateless JSON response has no stream for it"
                );
                Ok(())
            }
            _ => {
                self.to_get(&mut st, message.kind, message.json, true);
                Ok(())
            }
        }
    }
}

/// A message for a stream that no client can name ([`Router::abandon`]): dropped, and the stream
/// ends with its response. A server-to-client request fails at once rather than waiting for an
/// answer that cannot come.
fn unnamed(st: &mut State, sid: u64, kind: OutboundKind) -> Result<(), TransportError> {
    match kind {
        OutboundKind::Response => {
            finish(st, sid);
            Ok(())
        }
        OutboundKind::Request => Err(TransportError::new(
            TransportErrorKind::Protocol,
            "the request's client went away before its stream began: nothing can reach it",
        )),
        OutboundKind::Notification => {
            tracing::debug!(stream = sid, "notification dropped: its client went away");
            Ok(())
        }
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        if let Some(live) = &self.live {
            live.remove(&*self.tag);
        }
        if let Some((channel, _)) = &self.back_channel {
            for id in self
                .state
                .get_mut()
                .map(|s| std::mem::take(&mut s.sent_requests))
                .unwrap_or_default()
            {
                channel.remove(&id);
            }
        }
    }
}

/// A place among the session's requests in progress holds a share of its router (RL-7,
/// PF-36), which the session's peer holds as its sink for as long anyway.
impl mcp_http_core::Counts for Router {
    fn counter(&self) -> &AtomicUsize {
        &self.in_flight
    }
}

impl MessageSink for Router {
    fn send(&self, message: Outbound) -> Sending<'_> {
        // Routing only queues: the send is done here.
        Sending::done(self.route(message))
    }

    fn close_stream(&self, related: &RequestId) -> bool {
        self.close_request_stream(related)
    }

    fn end_unanswered(&self, id: &RequestId) {
        self.end_unanswered_request(id);
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests;
