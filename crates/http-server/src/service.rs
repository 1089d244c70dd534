//! The Streamable HTTP endpoint as a tower `Service` (legacy era, 2025-03-26 to 2025-11-25).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use dashmap::DashMap;
use futures::future::BoxFuture;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Limited};
use mcp_http_core::{Peer, PeerConfig, SharedClient};
use mcp_http_proto::jsonrpc::{Message, Parsed, Request as RpcRequest, Response as RpcResponse};
use mcp_http_proto::lifecycle::{ElicitationCapability, RootsCapability, SamplingCapability};
use mcp_http_proto::{
    ClientCapabilities, ErrorObject, Implementation, JsonObject, ProtocolVersion, RequestId,
    error_code, method,
};
use mcp_http_server::Server;

use crate::body::ResponseBody;
use crate::checks;
use crate::config::{HttpConfig, ResponseMode};
use crate::router::{BackChannel, LiveStreams, Pending, ResumeError, Router, parse_event_id};
use crate::session::{Session, new_session_id};

/// Header names as constants: a lookup by `&str` parses the name on every request.
pub(crate) const SESSION_HEADER: HeaderName = HeaderName::from_static("mcp-session-id");
const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");
/// Tells nginx not to buffer the stream.
const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");
const MODERN_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";

pub(crate) struct Inner {
    pub(crate) server: Server,
    pub(crate) config: HttpConfig,
    pub(crate) sessions: DashMap<Arc<str>, Arc<Session>, foldhash::fast::RandomState>,
    back_channel: BackChannel,
    live: LiveStreams,
    /// The client every stateless request is assumed to come from.
    stateless_client: SharedClient,
    shutting_down: AtomicBool,
    pub(crate) connections: AtomicU64,
}

/// The MCP endpoint: answers POST, GET and DELETE on [`HttpConfig::path`] for a [`Server`].
///
/// ```no_run
/// # async fn f() -> std::io::Result<()> {
/// use mcp_http_server_http::{HttpConfig, StreamableHttpService, serve};
/// let server = mcp_http_server::Server::builder("demo", "1.0").build();
/// let service = StreamableHttpService::new(server, HttpConfig::default());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// serve(listener, service, async { let _ = tokio::signal::ctrl_c().await; }).await
/// # }
/// ```
#[derive(Clone)]
pub struct StreamableHttpService {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for StreamableHttpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamableHttpService")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

pub(crate) type HttpResponse = Response<ResponseBody>;

fn rpc_error(status: StatusCode, id: Option<RequestId>, error: ErrorObject) -> HttpResponse {
    let body = Message::Response(RpcResponse {
        id,
        outcome: Err(error),
    })
    .to_json();
    let mut response = Response::new(ResponseBody::full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error(status: StatusCode, code: i32, message: &str) -> HttpResponse {
    rpc_error(status, None, ErrorObject::new(code, message))
}

fn bad_request(message: &str) -> HttpResponse {
    error(StatusCode::BAD_REQUEST, error_code::SERVER_ERROR, message)
}

fn session_not_found() -> HttpResponse {
    error(
        StatusCode::NOT_FOUND,
        error_code::SESSION_NOT_FOUND,
        "Session not found",
    )
}

fn status(status: StatusCode) -> HttpResponse {
    let mut response = Response::new(ResponseBody::empty());
    *response.status_mut() = status;
    response
}

fn json(bytes: Bytes) -> HttpResponse {
    let mut response = Response::new(ResponseBody::full(bytes));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn sse(body: ResponseBody) -> HttpResponse {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
    response
}

/// Why a request found no session.
enum Rejection {
    /// No `Mcp-Session-Id` header (400, T-39a).
    NoSession,
    /// An unknown, ended or foreign session (404, T-40).
    UnknownSession,
    /// An unsupported `MCP-Protocol-Version` (400, T-46).
    BadVersion(String),
}

impl Rejection {
    fn into_response(self) -> HttpResponse {
        match self {
            Rejection::NoSession => bad_request("Bad Request: Mcp-Session-Id header is required"),
            Rejection::UnknownSession => session_not_found(),
            Rejection::BadVersion(message) => bad_request(&message),
        }
    }
}

/// A request of the 2026-07-28 era (a dual-era client's probe, item 10 of the HTTP issue).
fn is_modern_probe(request: &RpcRequest) -> bool {
    // The key holds a '/': params without one (most) skip the substring search.
    request.method == method::SERVER_DISCOVER
        || request.params.as_ref().is_some_and(|p| {
            p.get().as_bytes().contains(&b'/') && p.get().contains(MODERN_VERSION_KEY)
        })
}

fn modern_probe_response(id: RequestId) -> HttpResponse {
    let error = ErrorObject::new(
        error_code::METHOD_NOT_FOUND,
        "This server speaks MCP 2025-11-25 and earlier: start a session with initialize",
    );
    rpc_error(StatusCode::BAD_REQUEST, Some(id), error)
}

/// When the POST future is dropped before its request chose JSON or SSE (the client went away),
/// the request keeps running and its messages are kept for replay (T-19).
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

/// The client capabilities assumed in stateless mode, where no initialize is remembered: the
/// client's own answer tells whether it supports a server-to-client request.
fn stateless_capabilities() -> ClientCapabilities {
    ClientCapabilities {
        roots: Some(RootsCapability::default()),
        sampling: Some(SamplingCapability::default()),
        elicitation: Some(ElicitationCapability {
            form: Some(JsonObject::new()),
            url: Some(JsonObject::new()),
        }),
        ..Default::default()
    }
}

impl StreamableHttpService {
    /// A service for `server` with `config`. Inside a tokio runtime it also starts the idle
    /// reaper, which stops when the service is dropped.
    pub fn new(server: Server, config: HttpConfig) -> Self {
        let service = StreamableHttpService {
            inner: Arc::new(Inner {
                server,
                config,
                sessions: DashMap::default(),
                back_channel: Arc::default(),
                live: Arc::default(),
                stateless_client: SharedClient::new(
                    Implementation::new("unknown", "0"),
                    &stateless_capabilities(),
                ),
                shutting_down: AtomicBool::new(false),
                connections: AtomicU64::new(0),
            }),
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(crate::session::reap(Arc::downgrade(&service.inner)));
        }
        service
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    /// How many sessions are open.
    pub fn session_count(&self) -> usize {
        self.inner.sessions.len()
    }

    /// How many TCP connections [`crate::serve`] has accepted for this service (a client that
    /// pools its connections keeps this low).
    pub fn connections_accepted(&self) -> u64 {
        self.inner.connections.load(Ordering::Relaxed)
    }

    /// Ends every session now: their streams close, running handlers are cancelled, and later
    /// requests with their ids get 404.
    pub fn end_all_sessions(&self) {
        let ids: Vec<Arc<str>> = self.inner.sessions.iter().map(|s| s.id.clone()).collect();
        for id in ids {
            self.inner.end_session(&id);
        }
    }

    /// Starts a graceful shutdown: SSE connections end after a `retry` field so clients
    /// reconnect elsewhere, and new sessions are refused with 503.
    pub fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::Relaxed);
        for session in self.inner.sessions.iter() {
            session.router.close_all(true);
        }
    }

    /// Answers one HTTP request.
    pub async fn handle<B>(&self, request: Request<B>) -> HttpResponse
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        // One async level with the request's parts held once: every level and every by-value
        // argument adds to the future that is moved into its box per request.
        let (parts, body) = request.into_parts();
        let mut response = match self.answer_now(&parts) {
            Some(response) => response,
            None => self.post(&parts, body).await,
        };
        if self.inner.config.cors {
            let headers = response.headers_mut();
            headers.insert(
                "access-control-allow-origin",
                parts
                    .headers
                    .get(http::header::ORIGIN)
                    .cloned()
                    .unwrap_or(HeaderValue::from_static("*")),
            );
            headers.insert(
                "access-control-expose-headers",
                HeaderValue::from_static("mcp-session-id"),
            );
        }
        response
    }

    /// Answers everything but a valid POST, without waiting; `None` for a POST to read and run.
    fn answer_now(&self, parts: &http::request::Parts) -> Option<HttpResponse> {
        let config = &self.inner.config;
        if parts.uri.path() != config.path {
            return Some(status(StatusCode::NOT_FOUND));
        }
        if config.validate_host_and_origin {
            if !checks::origin_allowed(&parts.headers, &config.allowed_origins) {
                return Some(error(
                    StatusCode::FORBIDDEN,
                    error_code::SERVER_ERROR,
                    "Forbidden: Origin not allowed",
                ));
            }
            if !checks::host_allowed(&parts.uri, &parts.headers, &config.allowed_hosts) {
                return Some(error(
                    StatusCode::FORBIDDEN,
                    error_code::SERVER_ERROR,
                    "Forbidden: Host not allowed",
                ));
            }
        }
        if parts.method == Method::GET && self.inner.shutting_down.load(Ordering::Relaxed) {
            // A stream opened now would only be cut again: send the client elsewhere.
            return Some(unavailable(
                "Service Unavailable: the server is shutting down",
            ));
        }
        Some(match parts.method {
            Method::POST => return None,
            Method::GET if !config.stateless => self.get(parts),
            // Stateless: no standalone stream, but a request's stream can be resumed (T-31).
            Method::GET if config.resumable && parts.headers.contains_key(LAST_EVENT_ID) => {
                self.resume_stateless(parts)
            }
            Method::DELETE if !config.stateless => self.delete(parts),
            Method::OPTIONS if config.cors => {
                let mut response = status(StatusCode::NO_CONTENT);
                let h = response.headers_mut();
                h.insert(
                    "access-control-allow-methods",
                    HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
                );
                h.insert(
                    "access-control-allow-headers",
                    HeaderValue::from_static(
                        "content-type, accept, authorization, mcp-session-id, mcp-protocol-version, last-event-id, mcp-method, mcp-name",
                    ),
                );
                h.insert("access-control-max-age", HeaderValue::from_static("86400"));
                response
            }
            _ => {
                let mut response = error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    error_code::SERVER_ERROR,
                    "Method not allowed",
                );
                let allow = if config.stateless {
                    "POST"
                } else {
                    "GET, POST, DELETE"
                };
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static(allow));
                response
            }
        })
    }

    /// The session named by the request's header (T-39a, T-40).
    fn session(&self, parts: &http::request::Parts) -> Result<Arc<Session>, Rejection> {
        let Some(id) = parts.headers.get(SESSION_HEADER) else {
            return Err(Rejection::NoSession);
        };
        let Some(session) = id
            .to_str()
            .ok()
            .and_then(|id| self.inner.sessions.get(id).map(|s| s.clone()))
        else {
            return Err(Rejection::UnknownSession);
        };
        // SEC-6: a session belongs to the principal that created it.
        let principal = self.inner.config.principal.as_ref().and_then(|p| p(parts));
        if session.principal != principal {
            return Err(Rejection::UnknownSession);
        }
        if let Err(message) = checks::protocol_version(&parts.headers) {
            return Err(Rejection::BadVersion(message));
        }
        session.touch();
        session.sync_priming();
        Ok(session)
    }

    async fn post<B>(&self, parts: &http::request::Parts, body: B) -> HttpResponse
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let config = &self.inner.config;
        let needs_sse = config.response_mode != ResponseMode::Json;
        let accepted = checks::accepted(&parts.headers);
        if !accepted.json || (needs_sse && !accepted.event_stream) {
            return error(
                StatusCode::NOT_ACCEPTABLE,
                error_code::SERVER_ERROR,
                "Not Acceptable: the client must accept both application/json and text/event-stream",
            );
        }
        if !checks::is_json(&parts.headers) {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                error_code::SERVER_ERROR,
                "Unsupported Media Type: Content-Type must be application/json",
            );
        }
        let bytes = match Limited::new(body, config.max_body_bytes).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    error_code::SERVER_ERROR,
                    "Payload Too Large",
                );
            }
            Err(_) => return bad_request("Bad Request: could not read the body"),
        };
        let parsed = match Parsed::parse(&bytes) {
            Ok(parsed) => parsed,
            Err(invalid) => return rpc_error(StatusCode::BAD_REQUEST, invalid.id, invalid.error),
        };
        if config.stateless {
            return self.post_stateless(parts, parsed).await;
        }
        match parsed {
            Parsed::Single(message) => match message {
                // Once per session: boxed, so that its future does not size every POST's.
                Message::Request(request) if request.method == method::INITIALIZE => {
                    Box::pin(self.initialize(parts, request)).await
                }
                Message::Request(request)
                    if is_modern_probe(&request) && parts.headers.get(SESSION_HEADER).is_none() =>
                {
                    modern_probe_response(request.id)
                }
                message => {
                    let session = match self.session(parts) {
                        Ok(session) => session,
                        Err(rejection) => return rejection.into_response(),
                    };
                    let span = tracing::debug_span!("mcp", session = %session.id);
                    let _enter = span.enter();
                    self.dispatch(&session.router, &session.peer, message).await
                }
            },
            Parsed::Batch(items) => Box::pin(self.batch(parts, items)).await,
        }
    }

    async fn dispatch(&self, router: &Router, peer: &Peer, message: Message) -> HttpResponse {
        match message {
            Message::Request(request) if request.method == method::INITIALIZE => rpc_error(
                StatusCode::BAD_REQUEST,
                Some(request.id),
                ErrorObject::invalid_request("Invalid Request: the session is already initialized"),
            ),
            Message::Request(request) => self.answer(router, peer, request).await,
            other => {
                // T-5: notifications and responses are accepted with 202 and no body.
                peer.receive(other).await;
                status(StatusCode::ACCEPTED)
            }
        }
    }

    /// Runs a request and answers its POST with JSON or SSE, as the response mode says.
    async fn answer(&self, router: &Router, peer: &Peer, request: RpcRequest) -> HttpResponse {
        let id = request.id.clone();
        let Some((sid, notify)) = router.open_request(&id) else {
            let error = ErrorObject::invalid_request(format!(
                "Invalid Request: request id {id} is already in progress"
            ));
            return rpc_error(StatusCode::BAD_REQUEST, Some(id), error);
        };
        let mut guard = AbandonGuard {
            router,
            sid,
            armed: true,
        };
        peer.receive(Message::Request(request)).await;
        let config = &self.inner.config;
        let deadline = tokio::time::Instant::now() + config.adaptive_delay;
        let mut yielded = false;
        loop {
            let decision = match config.response_mode {
                // SSE waits like adaptive for the first message, so that a handler that answers
                // at once gets headers, priming event and response in one write.
                ResponseMode::Sse if router.has_waiting(sid) => Pending::Stream,
                ResponseMode::Sse => Pending::Empty,
                _ => router.pending(sid),
            };
            match decision {
                Pending::Json(bytes) => {
                    guard.armed = false;
                    if config.response_mode == ResponseMode::Json {
                        router.drain_get(Duration::from_millis(200)).await;
                    }
                    return json(bytes);
                }
                Pending::Stream => {
                    guard.armed = false;
                    return sse(router.upgrade(sid));
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
            // Adaptive and SSE answers stop waiting after `adaptive_delay`; JSON waits for the response.
            let bounded = config.response_mode != ResponseMode::Json;
            tokio::select! {
                _ = notify.notified() => {}
                _ = tokio::time::sleep_until(deadline), if bounded => {
                    guard.armed = false;
                    return sse(router.upgrade(sid));
                }
            }
        }
    }

    async fn initialize(&self, parts: &http::request::Parts, request: RpcRequest) -> HttpResponse {
        let inner = &self.inner;
        if let Some(existing) = parts
            .headers
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            && inner.sessions.contains_key(existing)
        {
            let error =
                ErrorObject::invalid_request("Invalid Request: the session is already initialized");
            return rpc_error(StatusCode::BAD_REQUEST, Some(request.id), error);
        }
        if inner.shutting_down.load(Ordering::Relaxed) {
            return unavailable("Service Unavailable: the server is shutting down");
        }
        if inner.sessions.len() >= inner.config.max_sessions {
            return unavailable("Service Unavailable: too many sessions, retry later");
        }
        let principal = inner.config.principal.as_ref().and_then(|p| p(parts));
        let id: Arc<str> = new_session_id().into();
        let router = Arc::new(Router::new(id.clone(), &inner.config, None));
        let peer = Peer::new(
            router.clone(),
            inner.server.session_handler(),
            inner.server.peer_config().clone(),
        );
        let session = Arc::new(Session::new(id.clone(), peer, router, principal));
        inner.sessions.insert(id.clone(), session.clone());
        tracing::debug!(session = %id, "session created");
        let mut response = self.answer(&session.router, &session.peer, request).await;
        if response
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v == "application/json")
            && !session.peer.state().is_negotiated()
        {
            // The initialize failed: no session is created.
            inner.sessions.remove(&id);
            session.peer.close();
            return response;
        }
        session.sync_priming();
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(SESSION_HEADER.clone(), value);
        }
        response
    }

    async fn batch(
        &self,
        parts: &http::request::Parts,
        items: Vec<Box<serde_json::value::RawValue>>,
    ) -> HttpResponse {
        let session = match self.session(parts) {
            Ok(session) => session,
            Err(rejection) => return rejection.into_response(),
        };
        // T-4, T-10: batches only in a session that negotiated 2025-03-26.
        if session.peer.state().protocol_version() != Some(ProtocolVersion::V2025_03_26) {
            let error = ErrorObject::invalid_request(
                "Invalid Request: JSON-RPC batches are not supported in this protocol version",
            );
            return rpc_error(StatusCode::BAD_REQUEST, None, error);
        }
        let mut answers = Vec::new();
        for item in items {
            let response = match Message::parse(item.get().as_bytes()) {
                Err(invalid) => Some(
                    Message::Response(RpcResponse {
                        id: invalid.id,
                        outcome: Err(invalid.error),
                    })
                    .to_json(),
                ),
                Ok(Message::Request(r)) if r.method == method::INITIALIZE => {
                    let e = ErrorObject::invalid_request(
                        "Invalid Request: initialize must not be part of a batch",
                    );
                    Some(
                        Message::Response(RpcResponse {
                            id: Some(r.id),
                            outcome: Err(e),
                        })
                        .to_json(),
                    )
                }
                Ok(message) => {
                    let answer = self.dispatch(&session.router, &session.peer, message).await;
                    let bytes = answer
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let json = single_json(&bytes);
                    (!json.is_empty()).then(|| String::from_utf8_lossy(&json).into_owned())
                }
            };
            answers.extend(response);
        }
        if answers.is_empty() {
            return status(StatusCode::ACCEPTED);
        }
        json(Bytes::from(format!("[{}]", answers.join(","))))
    }

    async fn post_stateless(&self, parts: &http::request::Parts, parsed: Parsed) -> HttpResponse {
        let Parsed::Single(message) = parsed else {
            let error =
                ErrorObject::invalid_request("Invalid Request: JSON-RPC batches are not supported");
            return rpc_error(StatusCode::BAD_REQUEST, None, error);
        };
        let is_initialize =
            matches!(&message, Message::Request(r) if r.method == method::INITIALIZE);
        // T-47: the header is never checked on initialize.
        let header_version = match checks::protocol_version(&parts.headers) {
            Ok(version) => version,
            Err(_) if is_initialize => None,
            Err(message) => return bad_request(&message),
        };
        match message {
            Message::Request(request) if is_modern_probe(&request) => {
                modern_probe_response(request.id)
            }
            Message::Request(request) => {
                let inner = &self.inner;
                // Only a stream can be resumed: in JSON mode no event id ever reaches the client.
                let resumable =
                    inner.config.resumable && inner.config.response_mode != ResponseMode::Json;
                let live = resumable.then(|| inner.live.clone());
                let stateless = (inner.back_channel.clone(), live);
                let router = Arc::new(Router::new("".into(), &inner.config, Some(stateless)));
                if resumable {
                    inner
                        .live
                        .insert(router.tag().clone(), Arc::downgrade(&router));
                }
                let config = PeerConfig {
                    request_id_prefix: Some(router.id_prefix()),
                    ..inner.server.peer_config().clone()
                };
                let peer = Peer::new(router.clone(), inner.server.stateless_handler(), config);
                router.set_peer(peer.downgrade());
                if !is_initialize {
                    let version = header_version.unwrap_or(ProtocolVersion::LATEST_LEGACY);
                    peer.state()
                        .set_shared_client(version, &inner.stateless_client);
                    peer.state().set_initialized();
                    // T-21b: priming and polling from 2025-11-25 on.
                    if version.supports_priming() {
                        router.enable_priming();
                    }
                }
                self.answer(&router, &peer, request).await
            }
            Message::Response(response) => {
                // Design idea 7: a client's answer to a server-to-client request finds its handler
                // by the request's globally unique id.
                let waiting = response
                    .id
                    .as_ref()
                    .and_then(|id| self.inner.back_channel.remove(id));
                match waiting.and_then(|(_, peer)| peer.upgrade()) {
                    Some(peer) => peer.receive(Message::Response(response)).await,
                    None => {
                        tracing::debug!(id = ?response.id, "stateless response for no waiting request")
                    }
                }
                status(StatusCode::ACCEPTED)
            }
            Message::Notification(_) => status(StatusCode::ACCEPTED),
        }
    }

    fn resume_stateless(&self, parts: &http::request::Parts) -> HttpResponse {
        if let Some(refusal) = require_event_stream(parts) {
            return refusal;
        }
        let Some(Ok(last)) = parts.headers.get(LAST_EVENT_ID).map(|v| v.to_str()) else {
            return bad_request("Bad Request: Last-Event-ID is not visible ASCII");
        };
        let tag = match parse_event_id(last) {
            Ok((tag, _, _)) => tag,
            Err(e) => return resume_error(e),
        };
        let live = self.inner.live.get(tag).and_then(|r| r.upgrade());
        let resumed = match live {
            Some(router) => router.resume(last),
            None => Router::replay_stored(&self.inner.config, last),
        };
        match resumed {
            Ok(body) => sse(body),
            Err(e) => resume_error(e),
        }
    }

    fn get(&self, parts: &http::request::Parts) -> HttpResponse {
        if let Some(refusal) = require_event_stream(parts) {
            return refusal;
        }
        let session = match self.session(parts) {
            Ok(session) => session,
            Err(rejection) => return rejection.into_response(),
        };
        if session.open_connections() >= self.inner.config.max_streams_per_session {
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                error_code::SERVER_ERROR,
                "Too Many Requests: too many open streams in this session",
            );
        }
        match parts.headers.get(LAST_EVENT_ID).map(|v| v.to_str()) {
            None => sse(session.router.open_get()),
            Some(Ok(last)) => match session.router.resume(last) {
                Ok(body) => sse(body),
                Err(e) => resume_error(e),
            },
            Some(Err(_)) => bad_request("Bad Request: Last-Event-ID is not visible ASCII"),
        }
    }

    fn delete(&self, parts: &http::request::Parts) -> HttpResponse {
        let session = match self.session(parts) {
            Ok(session) => session,
            Err(rejection) => return rejection.into_response(),
        };
        self.inner.end_session(&session.id);
        status(StatusCode::OK)
    }
}

/// A GET must accept `text/event-stream` (T-24): 406 otherwise.
fn require_event_stream(parts: &http::request::Parts) -> Option<HttpResponse> {
    (!checks::accepted(&parts.headers).event_stream).then(|| {
        error(
            StatusCode::NOT_ACCEPTABLE,
            error_code::SERVER_ERROR,
            "Not Acceptable: the client must accept text/event-stream",
        )
    })
}

fn resume_error(error: ResumeError) -> HttpResponse {
    bad_request(match error {
        ResumeError::Malformed => "Bad Request: Last-Event-ID is not an event id of this server",
        ResumeError::Foreign => "Bad Request: Last-Event-ID belongs to another session",
        ResumeError::Unknown => "Bad Request: Last-Event-ID names no stream that can be resumed",
    })
}

/// The one JSON message in a response body that may be SSE (a batch item answered on a stream).
fn single_json(body: &Bytes) -> Bytes {
    if body.first() == Some(&b'{') {
        return body.clone();
    }
    body.split(|&b| b == b'\n')
        .rev()
        .find_map(|line| {
            line.strip_prefix(b"data: ")
                .filter(|d| d.first() == Some(&b'{'))
        })
        .map(Bytes::copy_from_slice)
        .unwrap_or_default()
}

impl Inner {
    /// Ends a session: its streams close, its peer closes (cancelling running handlers), and later
    /// requests with its id get 404 (T-40).
    pub(crate) fn end_session(&self, id: &str) {
        if let Some((_, session)) = self.sessions.remove(id) {
            session.router.close_all(false);
            session.peer.close();
            self.config.event_store.forget_session(id);
            tracing::debug!(session = %id, "session ended");
        }
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

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move { Ok(service.handle(request).await) })
    }
}

/// How often the reaper looks for idle sessions.
pub(crate) fn reap_interval(idle: Duration) -> Duration {
    (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(30))
}

/// 503 with `Retry-After`: the client may try again later (or elsewhere).
fn unavailable(message: &'static str) -> HttpResponse {
    let mut response = error(
        StatusCode::SERVICE_UNAVAILABLE,
        error_code::SERVER_ERROR,
        message,
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("5"));
    response
}
