//! The peer engine: one side of an MCP connection, in either role.
//!
//! It assigns request ids (B-2a), correlates responses, runs each inbound request (its first poll
//! where it arrived, then in its own task if it has to wait, so a slow handler never blocks
//! another), applies timeouts that reset on progress under a hard
//! cap (TO-1..TO-3), cancels both ways with `notifications/cancelled` (X-1..X-8), routes progress
//! (P-1..P-8) and answers `ping` (PG-1..PG-2). Role-specific behaviour lives in a [`Handler`].

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use foldhash::{HashMap, HashMapExt};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use mcp_http_proto::jsonrpc::{
    InvalidMessage, Message, Notification, Request, RequestId, Response,
};
use mcp_http_proto::{ErrorObject, method};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::context::{Extensions, RequestContext};
use crate::error::RequestError;
use crate::lifecycle::SessionState;
use crate::options::{ProgressUpdate, RequestOptions};
use crate::places::Places;
use crate::sync::lock;
use crate::transport::{MessageSink, Outbound, OutboundKind, Transport, TransportError};
use requests::park;

mod at_once;
mod inbound;
mod requests;
mod unmade;

pub use at_once::{AtOnce, ResultWriter, Written};
pub use unmade::{Answered, MakePeer, Unmade};

/// The role-specific part of a peer: what it does with requests and notifications it receives.
///
/// `ping`, `notifications/cancelled` and `notifications/progress` are handled by the engine and
/// never reach the handler.
pub trait Handler: Send + Sync + 'static {
    /// Handles a request and returns its result as raw JSON, or a JSON-RPC error.
    ///
    /// The future is polled once where the request arrived and, if it has to wait, runs on in
    /// its own task; like any async code it must not block (use `spawn_blocking` for that). If
    /// the other side cancels the request, the future is dropped and no response is sent (X-2).
    fn handle_request(
        &self,
        request: Request,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>>;

    /// Handles a request on the quick-call path (PF-40): a handler that can answer in place
    /// writes its result with `out` and returns what [`ResultWriter::write`] gave, straight into
    /// the transport's buffer (no boxed future, no intermediate JSON value); one that has to
    /// wait returns [`AtOnce::Waits`] with the future that finishes the request, which the peer
    /// then runs as it runs [`Handler::handle_request`]'s. The default does exactly that.
    ///
    /// Whatever an override answers at once must be what `handle_request` would have answered;
    /// it runs under the same catch of panics, and the request is registered as in flight only
    /// if the returned future has to wait.
    fn handle_request_at_once(
        &self,
        request: Request,
        ctx: RequestContext,
        out: ResultWriter<'_>,
    ) -> AtOnce {
        let _ = out;
        AtOnce::Waits(self.handle_request(request, ctx))
    }

    /// Handles a notification. Notifications are handled in order, one at a time: keep it quick.
    fn handle_notification(
        &self,
        notification: Notification,
        peer: Peer,
    ) -> BoxFuture<'static, ()> {
        let _ = (notification, peer);
        Box::pin(async {})
    }
}

/// Settings of a peer. Start from [`PeerConfig::default`] and change what you need with its
/// setters; fields can be added without breaking users.
///
/// ```
/// use std::time::Duration;
/// use mcp_http_core::PeerConfig;
/// let config = PeerConfig::default().request_timeout(Duration::from_secs(5));
/// assert_eq!(config.request_timeout, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PeerConfig {
    /// How long a request this side sends may wait without a response or progress (TO-1).
    pub request_timeout: Duration,
    /// The longest any request may take, progress or not (TO-3).
    pub max_request_timeout: Duration,
    /// When set, request ids are strings `"{prefix}{n}"` instead of integers, so that they are
    /// globally unique (stateless HTTP routes a client's response by its id alone).
    pub request_id_prefix: Option<Arc<str>>,
    /// When set, [`Peer::connect`] pings the other side at this interval and closes the
    /// connection when a ping gets no answer within `request_timeout` (PG-3, PG-4).
    pub ping_interval: Option<Duration>,
    /// How many requests from the other side may be in progress at once (those that wait on
    /// something, each in a task of its own: a sampling or elicitation callback, a slow
    /// tool). While that many are, another request is answered at once with -32603 and not
    /// run (pings excepted), so a flood of requests cannot grow this side's memory without
    /// bound (RL-29).
    pub max_inbound_requests: usize,
}

impl Default for PeerConfig {
    fn default() -> Self {
        PeerConfig {
            request_timeout: Duration::from_secs(60),
            max_request_timeout: Duration::from_secs(600),
            request_id_prefix: None,
            ping_interval: None,
            max_inbound_requests: 1024,
        }
    }
}

impl PeerConfig {
    /// How long a request this side sends may wait without a response or progress (TO-1).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The longest any request may take, progress or not (TO-3).
    pub fn max_request_timeout(mut self, timeout: Duration) -> Self {
        self.max_request_timeout = timeout;
        self
    }

    /// Makes request ids strings `"{prefix}{n}"`, globally unique when the prefix is.
    pub fn request_id_prefix(mut self, prefix: Option<Arc<str>>) -> Self {
        self.request_id_prefix = prefix;
        self
    }

    /// Pings the other side at this interval (PG-3, PG-4); `None` turns pings off.
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval;
        self
    }

    /// How many requests from the other side may be in progress at once (default: 1024); one
    /// more is answered with -32603 without running (RL-29).
    pub fn max_inbound_requests(mut self, max: usize) -> Self {
        self.max_inbound_requests = max;
        self
    }
}

/// Whether the peer is closed, and a way to wait for it: a flag and a notifier inline (every
/// session has one, and a cancellation token would be a heap node of its own).
#[derive(Default)]
struct Closed {
    /// [`CLOSED`], [`PARKED`] and the count of direct requests ([`DIRECT`]; PF-106) in one
    /// word, which takes the room a flag alone took beside the notifier: a peer is no larger.
    flag: AtomicU32,
    notify: Notify,
}

/// [`Closed::flag`]'s bit set when the peer closed.
const CLOSED: u32 = 1 << 31;
/// [`Closed::flag`]'s bit set while the table may hold parked answers (PF-106).
const PARKED: u32 = 1 << 30;
/// [`Closed::flag`]'s bits counting the requests waiting on their own exchange (PF-106).
const DIRECT: u32 = PARKED - 1;

impl Closed {
    /// Closes; returns whether it was open.
    fn close(&self) -> bool {
        let was_open = self.flag.fetch_or(CLOSED, Ordering::AcqRel) & CLOSED == 0;
        if was_open {
            self.notify.notify_waiters();
        }
        was_open
    }

    fn is_closed(&self) -> bool {
        self.flag.load(Ordering::Acquire) & CLOSED != 0
    }

    async fn wait(&self) {
        // Made before the check, so a close in between still ends it: `notify_waiters` ends
        // every `Notified` made before it, polled or not (PF-111: no `enable`, whose lock of
        // the waiter list each request's wait paid once more).
        let notified = self.notify.notified();
        if self.is_closed() {
            return;
        }
        notified.await;
    }
}

/// Type-erased progress callback.
pub(crate) type ProgressCallback = Arc<dyn Fn(ProgressUpdate) + Send + Sync>;

/// A request this side sent and waits on. Its answer, when it comes through the message stream,
/// is put here and its waiter woken (no channel of its own, PF-19); an answer the transport
/// hands back with the send never passes through it.
struct Pending {
    answer: Option<Result<Box<RawValue>, ErrorObject>>,
    /// An answer put here for a direct request before its waiter put its entry in (PF-106).
    parked: bool,
    waker: Option<std::task::Waker>,
    on_progress: Option<ProgressCallback>,
    progressed: Option<Arc<Notify>>,
}

struct Inner {
    sink: Arc<dyn MessageSink>,
    handler: Arc<dyn Handler>,
    config: PeerConfig,
    next_id: AtomicI64,
    pending: Mutex<HashMap<RequestId, Pending>>,
    /// How many answers have been put into `pending` so far: a waiter looks into the table
    /// only when it moved (PF-19).
    answered: std::sync::atomic::AtomicU64,
    inflight: Mutex<HashMap<RequestId, CancellationToken>>,
    closed: Closed,
    state: SessionState,
}

/// One side of an MCP connection. Cheap to clone; all clones share the connection.
#[derive(Clone)]
pub struct Peer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer").finish_non_exhaustive()
    }
}

/// A reference to a peer that does not keep it alive.
#[derive(Clone, Debug)]
pub struct WeakPeer {
    inner: std::sync::Weak<Inner>,
}

impl WeakPeer {
    /// The peer, if it is still alive.
    pub fn upgrade(&self) -> Option<Peer> {
        self.inner.upgrade().map(|inner| Peer { inner })
    }
}

#[derive(serde::Deserialize)]
struct ProgressProbe {
    #[serde(rename = "_meta", default)]
    meta: Option<ProgressMeta>,
}

#[derive(serde::Deserialize)]
struct ProgressMeta {
    #[serde(rename = "progressToken", default)]
    progress_token: Option<RequestId>,
}

/// The progress token of a request's params (P-1), if any.
fn progress_token(params: Option<&mcp_http_proto::jsonrpc::Params>) -> Option<RequestId> {
    let raw = params?;
    // Cheap pre-check: most requests carry no progress token.
    if !mentions_progress_token(raw.as_bytes()) {
        return None;
    }
    serde_json::from_str::<ProgressProbe>(raw.get())
        .ok()?
        .meta?
        .progress_token
}

/// The key of a progress token.
const PROGRESS_KEY: &[u8] = b"progressToken";
/// Where the search for [`PROGRESS_KEY`] looks: its `T`, rare in params (no other key of the
/// protocol, no `_meta` key of 2026-07-28 has one).
const PROGRESS_BYTE_AT: usize = 8;

/// Whether `text` contains the key of a progress token (PF-95).
fn mentions_progress_token(text: &[u8]) -> bool {
    crate::key_search::first_key(text, PROGRESS_KEY, PROGRESS_BYTE_AT).is_some()
}

impl Peer {
    /// A peer that sends through `sink` and dispatches to `handler`. Feed it received messages
    /// with [`Peer::receive`]; transports with a message stream use [`Peer::connect`] instead.
    pub fn new(sink: Arc<dyn MessageSink>, handler: Arc<dyn Handler>, config: PeerConfig) -> Peer {
        Peer {
            inner: Arc::new(Inner {
                sink,
                handler,
                config,
                next_id: AtomicI64::new(0),
                pending: Mutex::new(HashMap::new()),
                answered: std::sync::atomic::AtomicU64::new(0),
                inflight: Mutex::new(HashMap::new()),
                closed: Closed::default(),
                state: SessionState::default(),
            }),
        }
    }

    /// Connects a handler to a transport: spawns the task that reads messages until the
    /// transport closes, then closes the peer.
    pub fn connect(
        transport: impl Transport,
        handler: Arc<dyn Handler>,
        config: PeerConfig,
    ) -> Peer {
        let (sink, mut stream) = transport.split();
        let peer = Peer::new(sink, handler, config);
        let reader = peer.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = reader.inner.closed.wait() => break,
                    item = stream.next() => match item {
                        Some(Ok(message)) => reader.receive(message).await,
                        Some(Err(invalid)) => reader.reply_invalid(invalid).await,
                        None => break,
                    },
                }
            }
            reader.close();
        });
        if let Some(interval) = peer.inner.config.ping_interval {
            tokio::spawn(keep_alive(peer.downgrade(), interval));
        }
        peer
    }

    /// A reference that does not keep the peer alive.
    pub fn downgrade(&self) -> WeakPeer {
        WeakPeer {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// The negotiated session state (version, the other side's capabilities and info).
    pub fn state(&self) -> &SessionState {
        &self.inner.state
    }

    /// The peer's settings.
    pub fn config(&self) -> &PeerConfig {
        &self.inner.config
    }

    /// Whether the peer is closed.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.is_closed()
    }

    /// Resolves when the peer closes.
    pub async fn closed(&self) {
        self.inner.closed.wait().await
    }

    /// Asks the transport to close the connection of inbound request `id`'s stream, for polling
    /// (see [`MessageSink::close_stream`]).
    pub fn close_stream(&self, id: &RequestId) -> bool {
        self.inner.sink.close_stream(id)
    }

    /// Closes the peer: pending requests fail with [`RequestError::Closed`] and running handlers
    /// are cancelled.
    pub fn close(&self) {
        if self.inner.closed.close() {
            self.inner.sink.close();
        }
        // The waiters of requests still pending are woken to find their entry gone (PF-22).
        let waiting: Vec<std::task::Waker> = lock(&self.inner.pending)
            .drain()
            .filter_map(|(_, pending)| pending.waker)
            .collect();
        self.inner.answered.fetch_add(1, Ordering::Release);
        for waker in waiting {
            waker.wake();
        }
        for token in lock(&self.inner.inflight).values() {
            token.cancel();
        }
    }

    /// Closes the peer, then waits until the transport has finished closing (an HTTP
    /// client's DELETE of the session has been answered).
    pub async fn close_and_wait(&self) {
        self.close();
        self.inner.sink.closed().await;
    }

    /// How many inbound requests are being handled now.
    pub fn inflight_count(&self) -> usize {
        lock(&self.inner.inflight).len()
    }

    /// Whether an inbound request with this id is being handled now.
    pub fn is_inflight(&self, id: &RequestId) -> bool {
        lock(&self.inner.inflight).contains_key(id)
    }

    fn next_request_id(&self) -> RequestId {
        let n = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        match &self.inner.config.request_id_prefix {
            Some(prefix) => RequestId::String(format!("{prefix}{n}").into()),
            None => RequestId::Number(n),
        }
    }

    /// Handles one received message.
    pub async fn receive(&self, message: Message) {
        match message {
            Message::Response(r) => self.resolve(r),
            Message::Request(r) => {
                self.dispatch_request(r, Extensions::new(), Places::default())
                    .await
            }
            Message::Notification(n) => self.dispatch_notification(n).await,
        }
    }

    /// Handles one received request with what its transport knows of it (an HTTP request's
    /// extensions: the principal an auth layer set, anything a tower layer added), which the
    /// handler reads from its [`RequestContext`], and its `places` among the transport's limits on
    /// requests in progress, which the context holds while the handler runs.
    pub async fn receive_request(&self, request: Request, extensions: Extensions, places: Places) {
        self.dispatch_request(request, extensions, places).await
    }

    /// Answers bytes that were not a valid message with the matching JSON-RPC error.
    pub async fn reply_invalid(&self, invalid: InvalidMessage) {
        tracing::debug!(error = %invalid.error, "invalid message received");
        let related = invalid.id.clone();
        let response = Response {
            id: invalid.id,
            outcome: Err(invalid.error),
        };
        self.send_response(response, related).await;
    }

    fn resolve(&self, response: Response) {
        let Some(id) = response.id else {
            tracing::warn!(outcome = ?response.outcome.err(), "the other side reported an error about an unreadable message");
            return;
        };
        let mut pending = lock(&self.inner.pending);
        match pending.get_mut(&id) {
            Some(waiting) if waiting.answer.is_none() => {
                waiting.answer = Some(response.outcome);
                let waker = waiting.waker.take();
                drop(pending);
                self.inner.answered.fetch_add(1, Ordering::Release);
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            // PF-106: a direct request's answer its transport routed through the stream; its
            // waiter takes it when its send ends.
            None if self.inner.closed.flag.load(Ordering::Acquire) & DIRECT != 0 => {
                park(&self.inner.closed.flag, &mut pending, id, response.outcome);
            }
            // X-4, X-5: a response to a request that timed out or was cancelled is ignored.
            _ => tracing::debug!(%id, "response to an unknown or finished request ignored"),
        }
    }

    async fn dispatch_request(&self, request: Request, extensions: Extensions, places: Places) {
        let id = request.id.clone();
        let mut out = Vec::new();
        if self.answer_request_into(request, extensions, places, &mut out) {
            let sent = self.inner.sink.send(response_outbound(out, id));
            if let Err(e) = sent.await {
                tracing::debug!(error = %e, "could not send a response");
            }
        }
    }

    async fn dispatch_notification(&self, notification: Notification) {
        match notification.method.as_str() {
            method::NOTIFICATION_CANCELLED => {
                #[derive(serde::Deserialize)]
                struct Cancelled {
                    #[serde(rename = "requestId")]
                    request_id: Option<RequestId>,
                    reason: Option<String>,
                }
                // X-5: malformed or unknown cancellations are ignored.
                let Ok(c) = notification.params_as::<Cancelled>() else {
                    return;
                };
                let Some(id) = c.request_id else { return };
                let token = lock(&self.inner.inflight).get(&id).cloned();
                if let Some(token) = token {
                    tracing::debug!(%id, reason = c.reason.as_deref().unwrap_or(""), "request cancelled by the other side");
                    token.cancel();
                }
            }
            method::NOTIFICATION_PROGRESS => {
                #[derive(serde::Deserialize)]
                struct Progress {
                    #[serde(rename = "progressToken")]
                    token: RequestId,
                    progress: f64,
                    total: Option<f64>,
                    message: Option<String>,
                }
                let Ok(p) = notification.params_as::<Progress>() else {
                    return;
                };
                let (callback, notify) = match lock(&self.inner.pending).get(&p.token) {
                    Some(pending) => (pending.on_progress.clone(), pending.progressed.clone()),
                    None => return,
                };
                if let Some(notify) = notify {
                    notify.notify_one();
                }
                if let Some(callback) = callback {
                    callback(ProgressUpdate {
                        progress: p.progress,
                        total: p.total,
                        message: p.message,
                    });
                }
            }
            _ => {
                let handler = self.inner.handler.clone();
                handler
                    .handle_notification(notification, self.clone())
                    .await;
            }
        }
    }

    /// Sends a response; a failure is only logged (the other side is gone). Serialized before
    /// the returned future, which holds only the transport's: the request paths that await it
    /// stay small.
    fn send_response(
        &self,
        response: Response,
        related: Option<RequestId>,
    ) -> impl Future<Output = ()> + Send + '_ {
        let sent = self
            .inner
            .sink
            .send(outbound(Message::Response(response), related));
        async move {
            if let Err(e) = sent.await {
                tracing::debug!(error = %e, "could not send a response");
            }
        }
    }

    /// Sends a notification, related to an inbound request when `related` is set.
    pub async fn notify<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
        related: Option<RequestId>,
    ) -> Result<(), TransportError> {
        let params = mcp_http_proto::jsonrpc::to_raw(params).map_err(|e| {
            TransportError::new(
                crate::transport::TransportErrorKind::Protocol,
                e.to_string(),
            )
        })?;
        self.notify_raw(method, Some(params), related).await
    }

    /// Sends a notification whose params are already raw JSON.
    pub async fn notify_raw(
        &self,
        method: &str,
        params: Option<Box<RawValue>>,
        related: Option<RequestId>,
    ) -> Result<(), TransportError> {
        if self.is_closed() {
            return Err(TransportError::closed());
        }
        let notification = Notification {
            method: method.to_owned(),
            params: params.map(Into::into),
        };
        self.inner
            .sink
            .send(outbound(Message::Notification(notification), related))
            .await
    }
}

/// The response to a handled request; a panicking handler's is -32603, without internal detail.
fn response_of(
    id: RequestId,
    outcome: std::thread::Result<Result<Box<RawValue>, ErrorObject>>,
) -> Response {
    let outcome = outcome_of(&id, outcome);
    Response {
        id: Some(id),
        outcome,
    }
}

/// A handler's outcome; a panic's is -32603, without internal detail.
fn outcome_of(
    id: &RequestId,
    outcome: std::thread::Result<Result<Box<RawValue>, ErrorObject>>,
) -> Result<Box<RawValue>, ErrorObject> {
    outcome.unwrap_or_else(|_panic| {
        tracing::error!(%id, "request handler panicked");
        Err(ErrorObject::internal())
    })
}

/// The response to inbound request `id`, serialized in `json`, as the transport takes it.
fn response_outbound(json: Vec<u8>, id: RequestId) -> Outbound {
    let mut response = Outbound::new(Bytes::from(json), OutboundKind::Response);
    response.related = Some(id.clone());
    response.id = Some(id);
    response
}

/// The error of a request whose id is already in progress.
fn duplicate(id: &RequestId) -> ErrorObject {
    ErrorObject::invalid_request(format!(
        "Invalid Request: request id {id} is already in progress"
    ))
}

/// A message serialized once for the transport, with its id and method moved along (no copy).
fn outbound(message: Message, related: Option<RequestId>) -> Outbound {
    let json = Bytes::from(message.to_json_bytes());
    let mut outbound = match message {
        Message::Request(r) => Outbound::new(json, OutboundKind::Request)
            .id(r.id)
            .method(r.method),
        Message::Notification(n) => {
            Outbound::new(json, OutboundKind::Notification).method(n.method)
        }
        Message::Response(r) => {
            let mut response = Outbound::new(json, OutboundKind::Response);
            response.id = r.id;
            response
        }
    };
    outbound.related = related;
    outbound
}

/// PG-4: pings at `interval`; a ping that fails marks the connection dead and closes it.
async fn keep_alive(peer: WeakPeer, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        let Some(peer) = peer.upgrade() else { return };
        if peer.is_closed() {
            return;
        }
        let pong = peer
            .request_raw(method::PING, None, RequestOptions::default())
            .await;
        if let Err(e) = pong {
            tracing::warn!(error = %e, "ping failed; closing the connection");
            peer.close();
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PF-111: the close wait, with no `enable`, ends on a close that comes while it waits, on
    /// one that came before it, and on one that comes after its `Notified` was made but before
    /// that was first polled (what `enable` was for).
    #[tokio::test]
    async fn the_close_wait_ends_on_every_close() {
        use std::task::Poll;
        let closed = Closed {
            flag: AtomicU32::new(0),
            notify: Notify::new(),
        };
        let mut wait = std::pin::pin!(closed.wait());
        assert_eq!(futures::poll!(wait.as_mut()), Poll::Pending);
        assert!(closed.close());
        assert_eq!(futures::poll!(wait.as_mut()), Poll::Ready(()));
        // Closed already.
        assert_eq!(
            futures::poll!(std::pin::pin!(closed.wait())),
            Poll::Ready(())
        );
        // Made, then told, then polled: `notify_waiters` ends it all the same.
        let open = Closed {
            flag: AtomicU32::new(0),
            notify: Notify::new(),
        };
        let notified = open.notify.notified();
        open.notify.notify_waiters();
        assert_eq!(futures::poll!(std::pin::pin!(notified)), Poll::Ready(()));
    }

    /// PF-95: the byte search finds the key exactly where a search for the whole key does.
    #[test]
    fn the_byte_search_finds_the_progress_key_where_the_whole_key_is() {
        let whole = |text: &[u8]| memchr::memmem::find(text, PROGRESS_KEY).is_some();
        let key = "progressToken";
        let texts = [
            String::new(),
            key.to_owned(),
            key[..key.len() - 1].to_owned(),
            key[1..].to_owned(),
            "Token".to_owned(),
            "TTprogressTokenT".to_owned(),
            "progressTprogressToken".to_owned(),
            r#"{"name":"echo","arguments":{"text":"Tea"}}"#.to_owned(),
            r#"{"_meta":{"progressToken":7},"name":"T"}"#.to_owned(),
            r#"{"a":"progress Token","b":"progressTokens"}"#.to_owned(),
        ];
        for text in &texts {
            assert_eq!(
                mentions_progress_token(text.as_bytes()),
                whole(text.as_bytes()),
                "{text}"
            );
        }
        // Every cut of a text holding the key twice, around each of its bytes.
        let twice = format!("x{key}T{key}y");
        for start in 0..twice.len() {
            for end in start..=twice.len() {
                let cut = &twice.as_bytes()[start..end];
                assert_eq!(mentions_progress_token(cut), whole(cut));
            }
        }
    }

    /// PF-95: a token is read where the key is, and only there.
    #[test]
    fn a_progress_token_is_read_only_from_meta() {
        let token = |text: &str| {
            let raw = serde_json::value::RawValue::from_string(text.to_owned()).ok();
            let params = raw.map(mcp_http_proto::jsonrpc::Params::from_raw);
            progress_token(params.as_ref())
        };
        assert_eq!(
            token(r#"{"_meta":{"progressToken":7}}"#),
            Some(RequestId::Number(7))
        );
        assert_eq!(token(r#"{"name":"progressToken"}"#), None);
        assert_eq!(token(r#"{"name":"echo","arguments":{}}"#), None);
    }
}
