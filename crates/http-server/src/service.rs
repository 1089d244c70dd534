//! The Streamable HTTP endpoint as a tower `Service` (legacy era, 2025-03-26 to 2025-11-25):
//! the checks every request passes, GET and DELETE, and the service's construction. POST is in
//! [`crate::post`].

use std::borrow::Borrow;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use mcp_http_core::CountedPlace;
use mcp_http_core::{HandlerFactory, Principal, SharedClient};
use mcp_http_proto::lifecycle::{ElicitationCapability, RootsCapability, SamplingCapability};
use mcp_http_proto::{ClientCapabilities, Implementation, JsonObject};

use crate::body::{Head, ResponseBody};
use crate::checks;
use crate::config::{HttpConfig, PrincipalFn};
use crate::rejection::Rejection;
use crate::router::{Router, parse_event_id};
use crate::sessions::{
    Backends, EventLog, MemoryEventLog, MemorySessionStore, MessageBus, Session, SessionStore,
    Sessions,
};

mod builder;
pub use builder::StreamableHttpServiceBuilder;

/// Header names as constants: a lookup by `&str` parses the name on every request.
pub(crate) const SESSION_HEADER: HeaderName = HeaderName::from_static("mcp-session-id");
/// Tells nginx not to buffer the stream.
const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");

impl Inner {
    /// The settings (kept once, by the session layer).
    pub(crate) fn config(&self) -> &HttpConfig {
        &self.sessions.config
    }
}

pub(crate) struct Inner {
    pub(crate) handlers: Arc<dyn HandlerFactory>,
    principal: Option<PrincipalFn>,
    /// What [`crate::serve`] puts in front of the endpoint (an auth layer, AR-1).
    pub(crate) front: Option<crate::config::FrontFn>,
    /// The session layer: the sessions, where their records and events are kept, and how the
    /// instances that share them reach each other.
    pub(crate) sessions: Arc<Sessions>,
    /// The client every stateless request is assumed to come from.
    pub(crate) stateless_client: SharedClient,
    pub(crate) connections: AtomicU64,
    /// Connections open now (RL-5), counted by [`crate::serve`].
    pub(crate) open_connections: AtomicUsize,
    /// A permit per POST in progress (RL-6).
    pub(crate) in_flight: Arc<crate::limits::InFlight>,
    /// Other endpoints served on the same listener, each at its own path (BR-9).
    mounts: Vec<StreamableHttpService>,
    /// A `GET` path answered with 200 and a JSON status (BR-9).
    health: Option<(String, HealthFn)>,
    /// The sessions of 2024-11-05 streams, one per connection (BR-33).
    pub(crate) per_connection: Arc<crate::per_connection::PerConnection>,
}

/// Makes the JSON body of a health check (see [`StreamableHttpServiceBuilder::health`]).
pub type HealthFn = Arc<dyn Fn() -> Bytes + Send + Sync>;

/// The MCP endpoint: answers POST, GET and DELETE on [`HttpConfig::path`] for the handlers a
/// [`HandlerFactory`] makes (an `mcp_http_server::Server`, or any custom handler).
///
/// ```no_run
/// # async fn f(server: impl mcp_http_server_http::HandlerFactory) -> std::io::Result<()> {
/// use mcp_http_server_http::{HttpConfig, StreamableHttpService, serve};
/// // `server`: an `mcp_http_server::Server`, or any other `HandlerFactory`.
/// let service = StreamableHttpService::builder(server)
///     .config(HttpConfig::default().stateless(true))
///     .build();
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// serve(listener, service, async { let _ = tokio::signal::ctrl_c().await; }).await
/// # }
/// ```
pub struct StreamableHttpService {
    pub(crate) inner: Arc<Inner>,
    /// Through the tower `Service`: the permit `poll_ready` reserved for the next `call` (RL-6).
    /// Made on the first `poll_ready` only, so a clone per request (as `serve` makes) costs
    /// nothing.
    ready: Option<Box<Readiness>>,
}

/// What `poll_ready` waits on and what it got.
struct Readiness {
    wait: Option<crate::limits::Waiter>,
    permit: Option<CountedPlace>,
}

impl Clone for StreamableHttpService {
    /// Another handle to the same endpoint (no reserved permit goes with it).
    fn clone(&self) -> Self {
        StreamableHttpService {
            inner: self.inner.clone(),
            ready: None,
        }
    }
}

impl std::fmt::Debug for StreamableHttpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamableHttpService")
            .field("config", &self.inner.config())
            .finish_non_exhaustive()
    }
}

pub(crate) type HttpResponse = Response<ResponseBody>;

pub(crate) fn status(status: StatusCode) -> HttpResponse {
    let mut response = Response::new(ResponseBody::empty());
    *response.status_mut() = status;
    response
}

// The header values of every answer, made at compile time (PF-31): a value made by
// `from_static` at run time checks its bytes again per response.
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
const TEXT_EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream");
const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
const NO: HeaderValue = HeaderValue::from_static("no");

/// A request's header map is taken for its answer's headers only up to this capacity: hyper
/// keeps the answer's map for the connection's next request, and an idle connection should not
/// hold a large one (PF-68).
const REUSED_MAP_CAPACITY: usize = 24;

// The headers are not inserted here but where the response leaves the service (`write_head`),
// into the request's own map (PF-68).
pub(crate) fn json(bytes: Bytes) -> HttpResponse {
    Response::new(ResponseBody::full(bytes).with_head(Head::Json))
}

pub(crate) fn sse(body: ResponseBody) -> HttpResponse {
    Response::new(body.with_head(Head::Sse))
}

/// Writes the standard headers `response` still needs (PF-68) into `map` (the request's own,
/// emptied, when given) and makes it the response's, the headers already in the response after
/// them: the same headers in the same order as when they were inserted first into the
/// response's own map. hyper keeps an answer's map to read the connection's next request into,
/// so with the request's map no map is allocated for either, where a map of the answer's own is
/// two allocations per request (and its request's map two frees).
pub(crate) fn write_head(response: &mut HttpResponse, map: Option<&mut http::HeaderMap>) {
    let head = response.body_mut().take_head();
    if head == Head::Written {
        return;
    }
    let headers = response.headers_mut();
    // The headers the answer has already, to follow the standard ones (rare: the session's id).
    let mut later = None;
    match map {
        Some(map) if map.capacity() <= REUSED_MAP_CAPACITY => {
            // Swapped, not taken: no map is made or dropped here.
            std::mem::swap(headers, map);
            headers.clear();
            if !map.is_empty() {
                later = Some(std::mem::take(map));
            }
        }
        _ if !headers.is_empty() => later = Some(std::mem::take(headers)),
        _ => {}
    }
    insert_standard(headers, head);
    let Some(later) = later else {
        return;
    };
    // As if inserted after the standard ones: a name inserted replaces its value, its other
    // values appended.
    let mut last: Option<HeaderName> = None;
    for (name, value) in later {
        match name {
            Some(name) => {
                headers.insert(name.clone(), value);
                last = Some(name);
            }
            None => {
                if let Some(name) = &last {
                    headers.append(name.clone(), value);
                }
            }
        }
    }
}

/// Inserts `head`'s headers into `headers`.
fn insert_standard(headers: &mut http::HeaderMap, head: Head) {
    match head {
        Head::Json => {
            headers.insert(CONTENT_TYPE, APPLICATION_JSON);
        }
        Head::Sse => {
            headers.insert(CONTENT_TYPE, TEXT_EVENT_STREAM);
            headers.insert(CACHE_CONTROL, NO_CACHE);
            headers.insert(X_ACCEL_BUFFERING, NO);
        }
        Head::Written => {}
    }
}

fn preflight() -> HttpResponse {
    preflight_allowing(
        "GET, POST, DELETE, OPTIONS",
        "content-type, accept, authorization, dpop, mcp-session-id, mcp-protocol-version, last-event-id, mcp-method, mcp-name",
    )
}

/// A CORS preflight's answer allowing `methods` and `headers`, cached for a day.
pub(crate) fn preflight_allowing(methods: &'static str, headers: &'static str) -> HttpResponse {
    let mut response = status(StatusCode::NO_CONTENT);
    let h = response.headers_mut();
    h.insert(
        "access-control-allow-methods",
        HeaderValue::from_static(methods),
    );
    h.insert(
        "access-control-allow-headers",
        HeaderValue::from_static(headers),
    );
    h.insert("access-control-max-age", HeaderValue::from_static("86400"));
    response
}

/// The client capabilities assumed in stateless mode, where no initialize is remembered: the
/// client's own answer tells whether it supports a server-to-client request.
fn stateless_capabilities() -> ClientCapabilities {
    ClientCapabilities::default()
        .with_roots(RootsCapability::default())
        .with_sampling(SamplingCapability::default())
        .with_elicitation(
            ElicitationCapability::default()
                .with_form(JsonObject::new())
                .with_url(JsonObject::new()),
        )
}

impl StreamableHttpService {
    /// Starts building a service whose sessions get their handlers from `handlers` (an
    /// `mcp_http_server::Server`, or any [`HandlerFactory`]).
    pub fn builder(handlers: impl HandlerFactory) -> StreamableHttpServiceBuilder {
        StreamableHttpServiceBuilder::new(Arc::new(handlers))
    }

    /// A service for `handlers` with `config` and the default components; the same as
    /// `StreamableHttpService::builder(handlers).config(config).build()`.
    pub fn new(handlers: impl HandlerFactory, config: HttpConfig) -> Self {
        Self::builder(handlers).config(config).build()
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        self.inner.config()
    }

    /// Whether `path` is one of the transports served beside the endpoint (the 2024-11-05
    /// transport's, the WebSocket path): an auth front gates them too (BR-33, BR-36).
    pub fn serves_beside(&self, path: &str) -> bool {
        let config = self.inner.config();
        config.legacy_sse.as_ref().is_some_and(|l| l.serves(path))
            || config.websocket.as_deref() == Some(path)
    }

    /// How many sessions this instance serves.
    pub fn session_count(&self) -> usize {
        self.inner.sessions.local.len() + self.inner.per_connection.len()
    }

    /// How many 2026-07-28 `subscriptions/listen` streams are open on this instance.
    pub fn listener_count(&self) -> usize {
        self.inner.sessions.listeners.count()
    }

    /// How many TCP connections [`crate::serve`] has accepted for this service (a client that
    /// pools its connections keeps this low).
    pub fn connections_accepted(&self) -> u64 {
        self.inner.connections.load(Ordering::Relaxed)
    }

    /// How many connections [`crate::serve`] has open for this service now (RL-5).
    pub fn open_connections(&self) -> usize {
        self.inner.open_connections.load(Ordering::Relaxed)
    }

    /// How many POSTs are in progress now, from their body being read until their handler is
    /// done (RL-6).
    pub fn requests_in_flight(&self) -> usize {
        self.inner.in_flight.taken()
    }

    /// Ends every session now: their streams close, running handlers are cancelled, and later
    /// requests with their ids get 404.
    pub async fn end_all_sessions(&self) {
        let ids: Vec<Arc<str>> = self
            .inner
            .sessions
            .local
            .iter()
            .map(|s| s.id.clone())
            .collect();
        for id in ids {
            self.inner.sessions.end(&id).await;
        }
        for mount in &self.inner.mounts {
            Box::pin(mount.end_all_sessions()).await;
        }
    }

    /// Starts a drain (RL-50): new sessions and GET streams are refused with 503, standalone
    /// GET streams and `subscriptions/listen` streams end after a `retry` field so clients
    /// reconnect elsewhere, and the streams of running requests stay open so their handlers
    /// can still answer. [`StreamableHttpService::close_streams`] ends those too (the drain's
    /// deadline); [`crate::serve`] does both.
    pub fn shutdown(&self) {
        let sessions = &self.inner.sessions;
        sessions.shutting_down.store(true, Ordering::Relaxed);
        for session in sessions.local.iter() {
            session.router.close_get();
        }
        sessions.listeners.end_all();
        self.inner.per_connection.close_all();
        for mount in &self.inner.mounts {
            mount.shutdown();
        }
    }

    /// Ends every SSE connection still open after a `retry` field, so its client resumes the
    /// stream elsewhere (another instance of a shared backend) or later.
    pub fn close_streams(&self) {
        for session in self.inner.sessions.local.iter() {
            session.router.close_all(true);
        }
        for mount in &self.inner.mounts {
            mount.close_streams();
        }
    }

    /// Answers one HTTP request. A POST over [`HttpConfig::max_in_flight`] is refused with
    /// 503 (through the tower `Service`, it waits in `poll_ready` instead).
    ///
    /// The future is [`respond`]'s own, not one more async level around it: each level is a
    /// move of the whole request future per request (PF-33).
    pub fn handle<B>(&self, request: Request<B>) -> impl Future<Output = HttpResponse> + Send
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        respond(self, request, None, std::convert::identity)
    }

    /// [`handle`](Self::handle), with the future owning the service, boxed: what
    /// [`crate::serve`] and the tower `Service` hand on per request, with the in-flight permit
    /// `poll_ready` reserved, if any.
    pub(crate) fn handle_boxed<B>(
        self,
        request: Request<B>,
        reserved: Option<CountedPlace>,
    ) -> BoxFuture<'static, Result<HttpResponse, Infallible>>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        // Into a box allocated first, by a call that is not inlined: the future is written
        // straight into the box, not built on the stack and copied in (PF-80; measured,
        // BENCHMARKS.md).
        mcp_http_core::boxed::in_place(move || {
            respond(self, request, reserved, Ok::<_, Infallible>)
        })
    }

    /// With [`HttpConfig::cors`] on, makes `response` readable by a browser page from `origin`
    /// (the request's `Origin`, else `*`): `Access-Control-Allow-Origin`, and exposes
    /// `Mcp-Session-Id`, `WWW-Authenticate` and `DPoP-Nonce`. A front that answers by itself
    /// (an auth layer's 401 or 403, AR-12) calls it so the challenge is readable too.
    pub fn add_cors(&self, origin: Option<&HeaderValue>, response: &mut Response<ResponseBody>) {
        if !self.inner.config().cors {
            return;
        }
        let headers = response.headers_mut();
        headers.insert(
            "access-control-allow-origin",
            origin.cloned().unwrap_or(HeaderValue::from_static("*")),
        );
        headers.insert(
            "access-control-expose-headers",
            HeaderValue::from_static("mcp-session-id, www-authenticate, dpop-nonce"),
        );
    }

    /// Answers everything but a valid POST, without waiting; `Ok(None)` for a POST to read and
    /// run.
    fn answer_now(
        &self,
        parts: &http::request::Parts,
        headers: &checks::Headers<'_>,
    ) -> Result<Option<HttpResponse>, Rejection> {
        let config = &self.inner.config();
        if parts.uri.path() != config.path {
            return Err(Rejection::UnknownPath);
        }
        if config.validate_host_and_origin {
            if !checks::origin_allowed(headers, &config.allowed_origins) {
                return Err(Rejection::OriginNotAllowed);
            }
            if !checks::host_allowed(&parts.uri, headers, &config.allowed_hosts) {
                return Err(Rejection::HostNotAllowed);
            }
        }
        if parts.method == Method::GET && self.inner.sessions.is_shutting_down() {
            // A stream opened now would only be cut again: send the client elsewhere.
            return Err(Rejection::ShuttingDown);
        }
        let modern = matches!(parts.method, Method::GET | Method::DELETE)
            && crate::modern::modern_get_or_delete(headers, config.eras);
        Ok(Some(match parts.method {
            Method::POST => return Ok(None),
            // H-12: the 2026-07-28 era has no GET stream and no sessions to delete.
            Method::GET | Method::DELETE if modern => {
                return Err(Rejection::MethodNotAllowed { stateless: true });
            }
            Method::GET if !config.stateless => return Ok(None),
            // Stateless: no standalone stream, but a request's stream can be resumed (T-31).
            Method::GET if config.resumable && headers.last_event_id.is_some() => {
                return Ok(None);
            }
            Method::DELETE if !config.stateless => return Ok(None),
            Method::OPTIONS if config.cors => preflight(),
            _ => {
                return Err(Rejection::MethodNotAllowed {
                    stateless: config.stateless,
                });
            }
        }))
    }

    /// The principal of a request: the hook's answer when one is set, else the [`Principal`]
    /// extension an auth layer put there.
    pub(crate) fn principal(&self, parts: &http::request::Parts) -> Option<Principal> {
        match &self.inner.principal {
            Some(hook) => hook(parts),
            None => parts.extensions.get::<Principal>().cloned(),
        }
    }

    /// A POST's extensions for its handler, and the principal it acts for: the principal hook's
    /// when there is one (put into the extensions too, so the handler sees it, SEC-6), else
    /// the one a tower layer inserted.
    pub(crate) fn identity(
        &self,
        parts: &mut http::request::Parts,
    ) -> (mcp_http_core::Extensions, Option<Principal>) {
        let hooked = self.inner.principal.as_ref().map(|hook| hook(parts));
        let mut extensions = std::mem::take(&mut parts.extensions);
        let principal = match hooked {
            Some(principal) => {
                extensions.remove::<Principal>();
                if let Some(principal) = &principal {
                    extensions.insert(principal.clone());
                }
                principal
            }
            None => extensions.get::<Principal>().cloned(),
        };
        (extensions, principal)
    }

    /// The session named by the request's header (T-39a, T-40), if it belongs to `principal`:
    /// one this instance serves, or one another instance created (from the session store).
    pub(crate) async fn session(
        &self,
        headers: &checks::Headers<'_>,
        principal: Option<&Principal>,
    ) -> Result<Arc<Session>, Rejection> {
        if let Some(found) = self.session_now(headers, principal) {
            return found;
        }
        let id = session_id(headers)?;
        // Rare (the first request on this instance): boxed, so that it does not size the
        // future of every request.
        let session = Box::pin(self.inner.sessions.load(id, principal)).await?;
        session_ready(headers, session)
    }

    /// [`session`](Self::session) without a future (PF-107): the session, when this instance
    /// serves it, or the refusal; `None` when it has to be loaded from the session store.
    pub(crate) fn session_now(
        &self,
        headers: &checks::Headers<'_>,
        principal: Option<&Principal>,
    ) -> Option<Result<Arc<Session>, Rejection>> {
        let found = match session_id(headers) {
            Ok(id) => self.inner.sessions.local(id, principal)?,
            Err(rejection) => Err(rejection),
        };
        Some(found.and_then(|session| session_ready(headers, session)))
    }

    async fn get_or_delete(
        &self,
        parts: &http::request::Parts,
        headers: &checks::Headers<'_>,
    ) -> Result<HttpResponse, Rejection> {
        if parts.method == Method::DELETE {
            let session = self
                .session(headers, self.principal(parts).as_ref())
                .await?;
            self.inner.sessions.end_acknowledged(&session.id).await;
            return Ok(status(StatusCode::OK));
        }
        require_event_stream(headers)?;
        let last = match headers.last_event_id.map(|v| v.to_str()) {
            None => None,
            Some(Ok(last)) => Some(last),
            Some(Err(_)) => return Err(Rejection::LastEventIdNotAscii),
        };
        if self.inner.config().stateless {
            // Only a resumption reaches here in stateless mode.
            return self.resume_stateless(last.unwrap_or_default()).await;
        }
        let session = self
            .session(headers, self.principal(parts).as_ref())
            .await?;
        if session.open_connections() >= self.inner.config().max_streams_per_session {
            return Err(Rejection::TooManyStreams);
        }
        match last {
            None => {
                let body = session.router.open_get();
                self.inner.sessions.claim_get(&session).await;
                Ok(sse(body))
            }
            Some(last) => match self.inner.sessions.resume_get(&session, last).await? {
                // The GET stream another instance numbered: taken over here (RB-43).
                Some(body) => Ok(sse(body)),
                None => Ok(sse(session.router.resume(last).await?)),
            },
        }
    }

    async fn resume_stateless(&self, last: &str) -> Result<HttpResponse, Rejection> {
        let (tag, _, _) = parse_event_id(last)?;
        let live = self.inner.sessions.live.get(tag).and_then(|r| r.upgrade());
        let resumed = match live {
            Some(router) => router.resume(last).await,
            None => Router::replay_stored(self.inner.sessions.log(), last).await,
        };
        Ok(sse(resumed?))
    }
}

/// The answer to `request` from `service` (borrowed, or owned by the future boxed per request),
/// with the in-flight permit `poll_ready` reserved, if any.
///
/// Not an `async fn` (PF-65): an async fn's state holds its arguments twice, as given and as
/// moved into its body, where an async block holds what it captures once; and the request is
/// split before the future is made, so its state holds the parts and the body, not the whole
/// request besides them.
///
/// The answer is handed to `wrap` inside the future (PF-79): what hyper and the tower `Service`
/// take is `Ok(response)`, and a `map` around the future would move all of it once more when
/// it completes.
fn respond<S, B, W, O>(
    service: S,
    request: Request<B>,
    reserved: Option<CountedPlace>,
    wrap: W,
) -> impl Future<Output = O> + Send
where
    S: Borrow<StreamableHttpService> + Send,
    W: FnOnce(HttpResponse) -> O + Send,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (mut parts, body) = request.into_parts();
    async move {
        let response = 'response: {
            let this: &StreamableHttpService = service.borrow();
            let path = parts.uri.path();
            if path != this.inner.config().path {
                if let Some(mount) = this.inner.mounts.iter().find(|m| m.config().path == path) {
                    let request = Request::from_parts(parts, body);
                    // A trait object: the future's type would otherwise contain itself.
                    let mounted: BoxFuture<'_, HttpResponse> =
                        Box::pin(respond(mount, request, reserved, std::convert::identity));
                    break 'response mounted.await;
                }
                if let Some((health, status)) = &this.inner.health
                    && health == path
                    && parts.method == Method::GET
                {
                    break 'response json(status());
                }
                if let Some(legacy) = &this.inner.config().legacy_sse
                    && legacy.serves(path)
                {
                    let legacy = legacy.clone();
                    let request = Request::from_parts(parts, body);
                    break 'response Box::pin(this.legacy_sse(&legacy, request)).await;
                }
                #[cfg(feature = "websocket")]
                if this.inner.config().websocket.as_deref() == Some(path) {
                    break 'response this.websocket(Request::from_parts(parts, body));
                }
            }
            // MT-1: the clock and the label only when metrics are on.
            let metrics = this.inner.sessions.metrics.as_deref();
            let mut label = metrics.map(|m| (m.label_http(&parts.method), Instant::now()));
            // A POST's extensions go to its handler, with the principal it acts for.
            let identity = (parts.method == Method::POST).then(|| this.identity(&mut parts));
            let headers = checks::Headers::read(&parts.headers);
            // MT-4: one span per request; its fields are filled in as the request is read.
            let span = tracing::info_span!(
                "mcp.request",
                otel.kind = "server",
                http.method = %parts.method,
                method = tracing::field::Empty,
                id = tracing::field::Empty,
                session = tracing::field::Empty,
                era = tracing::field::Empty,
                status = tracing::field::Empty,
            );
            if !span.is_disabled()
                && let Some(session) = headers.session.and_then(|v| v.to_str().ok())
            {
                span.record("session", session);
            }
            // An `if let`, not a `match`: its scrutinee is dropped before the branches that wait,
            // so the future does not hold it (PF-65).
            let answered = if let Some(answered) = this.answer_now(&parts, &headers).transpose() {
                answered
            } else if let Some(identity) = identity {
                // RL-6: a place among the requests in progress, taken before the body is read.
                let permit = match reserved {
                    Some(permit) => Some(permit),
                    None => this.inner.in_flight.try_take(),
                };
                match permit {
                    Some(permit) => {
                        let label = label.as_mut().map(|(label, _)| label);
                        // The span is passed, not entered: an instrumented future is a move of the
                        // whole POST future per request (MT-2).
                        this.post(&headers, body, identity, permit, label, &span)
                            .await
                    }
                    None => Err(Rejection::Overloaded),
                }
            } else {
                // GET and DELETE may wait for the session layer: boxed, so that their futures do
                // not size every POST's.
                Box::pin(this.get_or_delete(&parts, &headers)).await
            };
            let mut response = answered.unwrap_or_else(Rejection::into_response);
            let origin = headers.origin.cloned();
            // The request's headers are read: their map carries the answer's (PF-68).
            write_head(&mut response, Some(&mut parts.headers));
            this.add_cors(origin.as_ref(), &mut response);
            if !span.is_disabled() {
                span.record("status", response.status().as_u16());
            }
            if let (Some(metrics), Some((label, start))) = (metrics, label) {
                let get = parts.method == Method::GET;
                let status = response.status();
                if let Some(stream) = metrics.answered(label, status, start, response.body(), get) {
                    response.body_mut().with_metrics(stream);
                }
            }
            response
        };
        // An answer handed on above (a mounted endpoint's has its head already).
        let mut response = response;
        write_head(&mut response, None);
        wrap(response)
    }
}

/// The session id a request names (T-39a, T-40).
fn session_id<'h>(headers: &checks::Headers<'h>) -> Result<&'h str, Rejection> {
    let Some(id) = headers.session else {
        return Err(Rejection::SessionRequired);
    };
    id.to_str().map_err(|_| Rejection::SessionNotFound)
}

/// A found session once the request's protocol version is checked: noted active, with its
/// priming as its version says (T-21b).
fn session_ready(
    headers: &checks::Headers<'_>,
    session: Arc<Session>,
) -> Result<Arc<Session>, Rejection> {
    checks::protocol_version(headers).map_err(Rejection::UnsupportedVersion)?;
    session.touch();
    session.sync_priming();
    Ok(session)
}

/// A GET must accept `text/event-stream` (T-24).
fn require_event_stream(headers: &checks::Headers<'_>) -> Result<(), Rejection> {
    if checks::accepted(headers).event_stream {
        Ok(())
    } else {
        Err(Rejection::NotAcceptableGet)
    }
}

impl<B> tower_service::Service<Request<B>> for StreamableHttpService
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    type Response = HttpResponse;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<HttpResponse, Infallible>>;

    /// Ready once a place among the requests in progress is free (RL-6): backpressure for the
    /// layers in front (a `tower::buffer` queues, a `load_shed` refuses).
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        let inner = &self.inner;
        let ready = self.ready.get_or_insert_with(|| {
            Box::new(Readiness {
                wait: None,
                permit: None,
            })
        });
        if ready.permit.is_none() {
            match inner.in_flight.poll_take(&mut ready.wait, cx) {
                Poll::Ready(permit) => ready.permit = Some(permit),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let service = self.clone();
        // Only a POST keeps the permit; another request gives it back at once.
        let permit = match request.method() == Method::POST {
            true => self.ready.as_mut().and_then(|ready| ready.permit.take()),
            false => None,
        };
        if let Some(ready) = self.ready.as_mut() {
            ready.permit = None;
        }
        service.handle_boxed(request, permit)
    }
}

/// How often the reaper looks for idle sessions.
fn reap_interval(idle: Duration) -> Duration {
    (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(30))
}

/// Ends sessions idle for longer than the configured timeout, until the service is dropped.
async fn reap(sessions: std::sync::Weak<Sessions>) {
    let Some(interval) = sessions
        .upgrade()
        .map(|s| reap_interval(s.config.idle_timeout))
    else {
        return;
    };
    loop {
        // Off the runtime's timer (PF-114): a stateful server always has this sleep pending.
        crate::coarse_timer::sleep(interval).await;
        let Some(sessions) = sessions.upgrade() else {
            return;
        };
        sessions.reap().await;
    }
}

#[cfg(test)]
mod tests;
