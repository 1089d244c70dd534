//! POST: a request, notification or response from the client, answered with JSON or SSE (T-5,
//! T-7); `initialize` creating a session; batches (2025-03-26 only); stateless exchanges.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use http_body::Body;
use mcp_http_core::{CountedPlace, Extensions, Outbound, OutboundKind, Peer, Places, Principal};
use mcp_http_proto::jsonrpc::{Message, Parsed, Request as RpcRequest, Response as RpcResponse};
use mcp_http_proto::{ErrorObject, ProtocolVersion, RequestId as RpcRequestId, method};
use serde_json::value::RawValue;

use crate::checks;
use crate::config::ResponseMode;
use crate::limits::{read_body, session_place};
use crate::rejection::Rejection;
use crate::router::{Pending, Router};
use crate::service::{HttpResponse, SESSION_HEADER, StreamableHttpService, json, sse, status};
use crate::sessions::Session;

/// A request of the 2026-07-28 era (a dual-era client's probe), to an endpoint that serves only
/// the legacy era. (Where the modern era is served, [`crate::modern::route`] decided already: a
/// request that only mentions the version key is legacy.)
fn is_modern_probe(request: &RpcRequest, eras: crate::config::Eras) -> bool {
    !eras.modern()
        && (request.method == method::SERVER_DISCOVER
            || crate::modern::ladder::may_claim_modern(request.params.as_ref()))
}

/// Whether a request changes what the session's record holds.
fn changes_record(name: &str) -> bool {
    matches!(
        name,
        method::LOGGING_SET_LEVEL | method::RESOURCES_SUBSCRIBE | method::RESOURCES_UNSUBSCRIBE
    )
}

/// Room for most answers at once (the SSE event's head and a short result): written without
/// growing, and given back in place when made exact ([`exact`]).
pub(crate) const ANSWER_CAPACITY: usize = 256;

/// The answer in `out` as the body's bytes: the buffer made exactly its size first, so that
/// the `Bytes` made from it needs no allocation of its own (PF-5; in place when the buffer was
/// at most twice as large).
pub(crate) fn exact(mut out: Vec<u8>) -> Bytes {
    out.shrink_to_fit();
    Bytes::from(out)
}

/// A request's answer as its handler's first poll left it: the buffer, whether the response
/// is in it, the request's stream if one was opened before, and the SSE head written ahead.
pub(crate) struct First {
    pub(crate) out: Vec<u8>,
    pub(crate) answered: bool,
    pub(crate) opened: Option<u64>,
    pub(crate) head: Option<usize>,
}

/// What a POST does after its handler's first poll.
pub(crate) enum Next {
    /// Answers with the response that came alone ([`StreamableHttpService::direct`]).
    Direct(Bytes),
    /// Answers with this.
    Answered(HttpResponse),
    /// Waits on stream `sid` to choose JSON or SSE.
    Choose(u64),
}

/// A session's POST after its handler's first poll: answered already, or what comes next.
enum Now {
    /// The POST's answer.
    Answered(Result<HttpResponse, Rejection>),
    /// What [`StreamableHttpService::answer_next`] does.
    Next(Next),
}

/// When the POST future is dropped before its request chose JSON or SSE (the client went away),
/// the request keeps running (T-19); no event id of its stream was sent, so nothing of it is kept
/// for replay (RL-44).
struct AbandonGuard<'a> {
    router: &'a Router,
    sid: u64,
    armed: bool,
}

impl Drop for AbandonGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.router.abandon(self.sid);
        }
    }
}

/// A batch item whose POST went away: its stream is forgotten (no event id of it was sent).
struct DiscardGuard<'a> {
    router: &'a Router,
    sid: u64,
}

impl Drop for DiscardGuard<'_> {
    fn drop(&mut self) {
        self.router.discard(self.sid);
    }
}

/// Fills a request span's `method` and `id` fields from the POSTed message (MT-4).
fn record_message(span: &tracing::Span, parsed: &Parsed) {
    match parsed {
        Parsed::Single(Message::Request(r)) => {
            span.record("method", r.method.as_str());
            span.record("id", tracing::field::display(&r.id));
        }
        Parsed::Single(Message::Notification(n)) => {
            span.record("method", n.method.as_str());
        }
        Parsed::Single(Message::Response(r)) => {
            span.record("method", "response");
            if let Some(id) = &r.id {
                span.record("id", tracing::field::display(id));
            }
        }
        Parsed::Batch(_) => {
            span.record("method", "batch");
        }
    }
}

/// A JSON-RPC error response to one batch item.
fn item_error(id: Option<mcp_http_proto::RequestId>, error: ErrorObject) -> Bytes {
    Message::Response(RpcResponse {
        id,
        outcome: Err(error),
    })
    .to_json_bytes()
    .into()
}

impl StreamableHttpService {
    /// Reads and answers a POST. Not an `async fn`, nor are the functions it awaits on the
    /// quick path: an async block holds what it captures once, where an async fn's state
    /// holds its arguments twice (PF-65).
    #[allow(clippy::manual_async_fn)] // PF-65: not an async fn, on purpose
    pub(crate) fn post<B>(
        &self,
        headers: &checks::Headers<'_>,
        body: B,
        identity: (Extensions, Option<Principal>),
        permit: CountedPlace,
        label: Option<&mut crate::metrics::MethodLabel>,
        span: &tracing::Span,
    ) -> impl Future<Output = Result<HttpResponse, Rejection>>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        async move {
            let (extensions, principal) = identity;
            let config = &self.inner.config();
            let needs_sse = config.response_mode != ResponseMode::Json;
            let accepted = checks::accepted(headers);
            if !accepted.json || (needs_sse && !accepted.event_stream) {
                return Err(Rejection::NotAcceptablePost);
            }
            if !checks::is_json(headers) {
                return Err(Rejection::UnsupportedMediaType);
            }
            let bytes = read_body(body, config.max_body_bytes, config.body_read_timeout).await?;
            // Everything up to the handler's first poll is a plain call (PF-107): this block
            // holds only what waits, and a session's quick call moves nothing through its slots.
            let read = (extensions, principal);
            match self.post_now(headers, &bytes, read, permit, label, span) {
                now::Step::Answered(answered) => answered,
                now::Step::Modern(rest) => {
                    let response = rest.await?;
                    span.record("era", "2026-07-28");
                    Ok(response)
                }
                now::Step::StatelessWaits(rest) => Ok(rest.await?.0),
                now::Step::Stateless(parsed, extensions, places) => {
                    self.post_stateless(headers, parsed, extensions, places)
                        .await
                }
                now::Step::Waits(session, next) => {
                    self.answer_next(&session.router, Ok(next), false, false)
                        .await
                }
                now::Step::Session(parsed, (extensions, principal), places) => {
                    self.post_session(headers, principal, parsed, (extensions, places), span)
                        .await
                }
            }
        }
    }

    /// A place among the session's requests in progress for request `id`, or 429 (RL-7).
    fn session_slot(
        &self,
        session: &Session,
        id: &RpcRequestId,
    ) -> Result<CountedPlace, Rejection> {
        let max = self.inner.config().max_in_flight_per_session;
        // The router keeps the session's count (PF-36).
        session_place(&session.router, max, id)
    }

    /// A client's notification or response in a session: for this instance's peer, or passed on
    /// to the instance that waits for it (an answer whose id names another instance, a
    /// cancellation of a request that may run anywhere).
    async fn accept(&self, session: &Session, message: Message) -> Result<HttpResponse, Rejection> {
        let sessions = &self.inner.sessions;
        match &message {
            Message::Response(response) => {
                if let Some(owner) = response
                    .id
                    .as_ref()
                    .and_then(|id| sessions.owner_elsewhere(id))
                {
                    let json = Bytes::from(message.to_json_bytes());
                    sessions
                        .forward(owner, Some(session.id.clone()), json)
                        .await?;
                    return Ok(status(StatusCode::ACCEPTED));
                }
            }
            Message::Notification(n)
                if sessions.clustered() && n.method == method::NOTIFICATION_CANCELLED =>
            {
                let json = Bytes::from(message.to_json_bytes());
                sessions.notify_all(&session.id, json).await;
            }
            _ => {}
        }
        let initialized = matches!(&message, Message::Notification(n) if n.method == method::NOTIFICATION_INITIALIZED);
        session.peer.receive(message).await;
        if initialized {
            sessions.sync(session).await;
        }
        Ok(status(StatusCode::ACCEPTED))
    }

    /// Runs a request and answers its POST with JSON or SSE, as the response mode says. With
    /// `until_response` the choice waits for the response itself, whatever came before it.
    /// The handler's context gets the request's extensions and holds its places.
    /// The future is [`answer_as`](Self::answer_as)'s own: no async level around it (PF-33).
    pub(crate) fn answer<'a>(
        &'a self,
        router: &'a Router,
        peer: &Peer,
        request: RpcRequest,
        handed: (Extensions, Places),
        until_response: bool,
    ) -> impl Future<Output = Result<HttpResponse, Rejection>> + use<'a> {
        self.answer_as(router, peer, request, handed, until_response, false)
    }

    /// [`answer`](Self::answer); with `errors_as_json`, an error that comes before anything
    /// else is answered as JSON even in SSE mode, so it keeps its HTTP status (a 2026-07-28
    /// request's 400 or 404).
    ///
    /// The handler's first poll runs when this is called (every caller awaits the future at
    /// once): the future holds only what comes after it, the wait for the answer (PF-65).
    pub(crate) fn answer_as<'a>(
        &'a self,
        router: &'a Router,
        peer: &Peer,
        request: RpcRequest,
        (extensions, places): (Extensions, Places),
        until_response: bool,
        errors_as_json: bool,
    ) -> impl Future<Output = Result<HttpResponse, Rejection>> + use<'a> {
        let next = self.first_poll(
            router,
            peer,
            request,
            (extensions, places),
            until_response,
            errors_as_json,
        );
        self.answer_next(router, next, until_response, errors_as_json)
    }

    /// Runs request `request`'s handler to the end of its first poll, its answer written into
    /// the buffer the POST answers with where it can be, and says what the POST does next.
    fn first_poll(
        &self,
        router: &Router,
        peer: &Peer,
        request: RpcRequest,
        (extensions, places): (Extensions, Places),
        until_response: bool,
        errors_as_json: bool,
    ) -> Result<Next, Rejection> {
        let id = request.id.clone();
        let config = &self.inner.config();
        // A stateless request's stream is opened only when needed; a session's is reserved
        // before the handler runs, and opened when something comes for it or the POST has to
        // wait (PF-23).
        let opened = match router.is_solo() {
            true => {
                router.expect(&id);
                None
            }
            false => match router.reserve_request(&id) {
                Some(opened) => Some(opened),
                None => return Err(Rejection::DuplicateRequest(id)),
            },
        };
        // A response that came at once, with nothing sent before it, goes back as it is: no
        // stream carries it (in SSE mode, except for the 2026-07-28 era, the stream frames it
        // with its priming event).
        let direct = config.response_mode != ResponseMode::Sse || errors_as_json;
        // The response is written once, into the buffer the POST answers with (PF-41): in SSE
        // mode after its event's head, framed before the handler runs (PF-43).
        let mut out = Vec::with_capacity(ANSWER_CAPACITY);
        let head = match opened {
            Some(sid) if !direct && !until_response => Some(router.put_at_once_head(sid, &mut out)),
            _ => None,
        };
        let answered = peer.answer_request_into(request, extensions, places, &mut out);
        let first = First {
            out,
            answered,
            opened,
            head,
        };
        self.after_first_poll(router, id, first, until_response, errors_as_json)
    }

    /// The POST's answer once its handler's first poll said what comes next: at once, or after
    /// a wait. The future matches on what it holds, not on a temporary it would hold besides
    /// (PF-65).
    #[allow(clippy::manual_async_fn)] // PF-65: not an async fn, on purpose
    pub(crate) fn answer_next<'a>(
        &'a self,
        router: &'a Router,
        next: Result<Next, Rejection>,
        until_response: bool,
        errors_as_json: bool,
    ) -> impl Future<Output = Result<HttpResponse, Rejection>> + 'a {
        async move {
            match next {
                Ok(Next::Direct(json)) => Ok(self.direct(router, json).await),
                Ok(Next::Answered(response)) => Ok(response),
                // The handler waits (or sent something first): boxed, so that the waiting's
                // state (its timer, its wake-up) does not size the future of every request
                // (PF-33).
                Ok(Next::Choose(sid)) => {
                    Box::pin(self.choose(router, sid, until_response, errors_as_json)).await
                }
                Err(rejection) => Err(rejection),
            }
        }
    }

    /// What [`answer_next`](Self::answer_next) would answer with no wait, answered here: a
    /// response ready (SSE) or come alone in a mode that waits for no GET stream before it
    /// (PF-104); a JSON answer, which may wait for the GET stream's messages, is left to it.
    fn answered_now(&self, next: Result<Next, Rejection>) -> Now {
        match next {
            Ok(Next::Answered(response)) => Now::Answered(Ok(response)),
            Ok(Next::Direct(json)) if self.inner.config().response_mode != ResponseMode::Json => {
                Now::Answered(Ok(self.direct_alone(json)))
            }
            Ok(next) => Now::Next(next),
            Err(rejection) => Now::Answered(Err(rejection)),
        }
    }

    /// What the POST of request `id` does once its handler's first poll is over.
    pub(crate) fn after_first_poll(
        &self,
        router: &Router,
        id: RpcRequestId,
        first: First,
        until_response: bool,
        errors_as_json: bool,
    ) -> Result<Next, Rejection> {
        let First {
            mut out,
            answered,
            opened,
            head,
        } = first;
        let direct = self.inner.config().response_mode != ResponseMode::Sse || errors_as_json;
        if !answered {
            out = Vec::new();
        }
        let stream = match opened {
            Some(opened) => Some(opened),
            None => router.solo_stream(!answered || !direct),
        };
        let sid = match (stream, answered) {
            (None, true) => {
                router.solo_answered();
                return Ok(Next::Direct(exact(out)));
            }
            (Some(sid), true) if direct && router.end_quiet(sid) => {
                return Ok(Next::Direct(exact(out)));
            }
            (Some(sid), true) => {
                let json = match head {
                    Some(head) => match router.answer_framed(sid, out, head) {
                        Ok(body) => return Ok(Next::Answered(sse(body))),
                        Err(json) => exact(json),
                    },
                    None => exact(out),
                };
                // Something was sent on it, or it goes on as a stream (PF-23).
                router.open_reserved(sid);
                if !direct
                    && !until_response
                    && let Some(body) = router.answer_at_once(sid, &json)
                {
                    return Ok(Next::Answered(sse(body)));
                }
                // After what the handler sent: through the stream, in order (routing only
                // queues).
                let mut response = Outbound::new(json, OutboundKind::Response);
                response.related = Some(id.clone());
                response.id = Some(id);
                if let Err(e) = router.route(response) {
                    tracing::debug!(error = %e, "could not route a response");
                }
                sid
            }
            (Some(sid), false) => {
                router.open_reserved(sid);
                sid
            }
            // A closed connection: nothing will come.
            (None, false) => return Err(Rejection::ShuttingDown),
        };
        Ok(Next::Choose(sid))
    }

    /// Waits until the POST of stream `sid` can choose between JSON and SSE, and answers it.
    pub(crate) async fn choose(
        &self,
        router: &Router,
        sid: u64,
        until_response: bool,
        errors_as_json: bool,
    ) -> Result<HttpResponse, Rejection> {
        let config = &self.inner.config();
        let mut guard = AbandonGuard {
            router,
            sid,
            armed: true,
        };
        // From here on the POST may wait: what wakes it is made now (PF-7).
        let notify = router.waiter(sid);
        let deadline = tokio::time::Instant::now() + config.adaptive_delay;
        let mut yielded = false;
        loop {
            let decision = match config.response_mode {
                _ if until_response && !router.answered(sid) => Pending::Empty,
                // A response alone: `direct` streams it as one event unless it is an error.
                ResponseMode::Sse if errors_as_json && router.has_waiting(sid) => {
                    router.pending(sid)
                }
                // SSE waits like adaptive for the first message, so that a handler that answers
                // at once gets headers, priming event and response in one write.
                ResponseMode::Sse if router.has_waiting(sid) => Pending::Stream,
                ResponseMode::Sse => Pending::Empty,
                _ => router.pending(sid),
            };
            match decision {
                Pending::Json(bytes) => {
                    guard.armed = false;
                    return Ok(self.direct(router, bytes).await);
                }
                Pending::Stream => {
                    guard.armed = false;
                    return Ok(sse(router.upgrade(sid)));
                }
                Pending::Ended => {
                    // Cancelled with nothing sent: no response will come, as after a
                    // notification (RL-53).
                    guard.armed = false;
                    return Ok(status(StatusCode::ACCEPTED));
                }
                Pending::Empty => {}
            }
            if !yielded {
                // The handler task was just spawned on this worker: one yield lets a fast handler
                // answer before any timer is armed (arming one costs a driver wake-up per call).
                yielded = true;
                tokio::task::yield_now().await;
                continue;
            }
            // Adaptive and SSE answers stop waiting after `adaptive_delay`; JSON waits for the
            // response, and so does a request answered `until_response`.
            let bounded = config.response_mode != ResponseMode::Json && !until_response;
            tokio::select! {
                _ = notify.notified() => {}
                _ = tokio::time::sleep_until(deadline), if bounded => {
                    guard.armed = false;
                    return Ok(sse(router.upgrade(sid)));
                }
            }
        }
    }

    /// The answer to a request whose response came alone: JSON (after the GET stream's pending
    /// messages in JSON mode), or in SSE mode (reached only for the 2026-07-28 era, whose errors
    /// keep their status as JSON) one event. Without a router (a stateless request answered
    /// before one was made, PF-53) there is no GET stream to wait for: [`direct_alone`](Self::direct_alone).
    pub(crate) async fn direct(&self, router: &Router, bytes: Bytes) -> HttpResponse {
        if self.inner.config().response_mode == ResponseMode::Json {
            router.drain_get(Duration::from_millis(200)).await;
        }
        self.direct_alone(bytes)
    }

    /// [`direct`](Self::direct) with no GET stream to wait for.
    pub(crate) fn direct_alone(&self, bytes: Bytes) -> HttpResponse {
        let config = self.inner.config();
        match config.response_mode {
            ResponseMode::Sse if !crate::modern::is_error(&bytes) => {
                sse(crate::modern::one_event(bytes, config))
            }
            _ => json(bytes),
        }
    }

    async fn initialize(
        &self,
        headers: &checks::Headers<'_>,
        principal: Option<Principal>,
        request: RpcRequest,
        extensions: Extensions,
        places: Places,
        span: &tracing::Span,
    ) -> Result<HttpResponse, Rejection> {
        let sessions = &self.inner.sessions;
        if let Some(existing) = headers.session.and_then(|v| v.to_str().ok())
            && sessions.local.contains_key(existing)
        {
            return Err(Rejection::AlreadyInitialized(request.id));
        }
        let session = sessions.create(principal)?;
        if !span.is_disabled() {
            span.record("session", &*session.id);
            session.follows_from(span);
        }
        // The POST waits for the initialize's response in every mode: only a successful one
        // creates the session and sends its id (T-38).
        let answered = self
            .answer(
                &session.router,
                &session.peer,
                request,
                (extensions, places),
                true,
            )
            .await;
        if !session.peer.state().is_negotiated() {
            // The initialize failed: no session is created, and no id is sent.
            sessions.discard(&session);
            return answered;
        }
        let mut response = answered?;
        if let Err(rejection) = sessions.commit(&session).await {
            sessions.discard(&session);
            return Err(rejection);
        }
        session.sync_priming();
        if let Ok(value) = HeaderValue::from_str(&session.id) {
            response.headers_mut().insert(SESSION_HEADER, value);
        }
        Ok(response)
    }

    async fn batch(
        &self,
        headers: &checks::Headers<'_>,
        principal: Option<Principal>,
        items: Vec<Box<RawValue>>,
        extensions: Extensions,
        places: Places,
    ) -> Result<HttpResponse, Rejection> {
        let session = self.session(headers, principal.as_ref()).await?;
        // T-4, T-10: batches only in a session that negotiated 2025-03-26.
        if session.peer.state().protocol_version() != Some(ProtocolVersion::V2025_03_26) {
            return Err(Rejection::BatchNotSupported);
        }
        // The items run concurrently: one may be the answer another's handler waits for. They
        // share the POST's places, given back when the last item's handler is done.
        let shared: Arc<dyn Send + Sync> = Arc::new(places);
        let answers = futures::future::join_all(
            items
                .iter()
                .map(|item| self.batch_item(&session, item, extensions.clone(), shared.clone())),
        )
        .await;
        let answers: Vec<Bytes> = answers.into_iter().flatten().collect();
        if answers.is_empty() {
            return Ok(status(StatusCode::ACCEPTED));
        }
        let mut body = Vec::with_capacity(answers.iter().map(|a| a.len() + 1).sum::<usize>() + 1);
        body.push(b'[');
        for (n, answer) in answers.iter().enumerate() {
            if n > 0 {
                body.push(b',');
            }
            body.extend_from_slice(answer);
        }
        body.push(b']');
        Ok(json(Bytes::from(body)))
    }

    /// One item of a batch: its response as JSON, `None` for a notification or a response. The
    /// item's notifications and requests travel on the GET stream, since a batch is answered
    /// with one JSON array.
    async fn batch_item(
        &self,
        session: &Session,
        item: &RawValue,
        extensions: Extensions,
        shared: Arc<dyn Send + Sync>,
    ) -> Option<Bytes> {
        let request = match Message::parse(item.get().as_bytes()) {
            Err(invalid) => return Some(item_error(invalid.id, invalid.error)),
            Ok(Message::Request(r)) if r.method == method::INITIALIZE => {
                let e = ErrorObject::invalid_request(
                    "Invalid Request: initialize must not be part of a batch",
                );
                return Some(item_error(Some(r.id), e));
            }
            Ok(Message::Request(request)) => request,
            Ok(other) => {
                session.peer.receive(other).await;
                return None;
            }
        };
        let router = &session.router;
        let id = request.id.clone();
        let places = match self.session_slot(session, &id) {
            Ok(slot) => Places::default().with_shared(shared).with_counted(slot),
            Err(rejection) => {
                let (id, error) = rejection.error();
                return Some(item_error(id, error));
            }
        };
        let Some(sid) = router.open_request(&id, true) else {
            let (id, error) = Rejection::DuplicateRequest(id).error();
            return Some(item_error(id, error));
        };
        let _guard = DiscardGuard { router, sid };
        session
            .peer
            .receive_request(request, extensions, places)
            .await;
        let notify = router.waiter(sid);
        loop {
            if let Some(response) = router.take_response(sid) {
                return Some(response);
            }
            // Cancelled: no answer in the batch's array (RL-53).
            if router.take_ended(sid) {
                return None;
            }
            notify.notified().await;
        }
    }
}

mod now;
mod stateless;

#[cfg(test)]
pub(crate) mod tests;
