//! Settings of the Streamable HTTP server.

use std::sync::Arc;
use std::time::Duration;

use mcp_http_core::Principal;

/// How a POSTed request is answered (design.md idea 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ResponseMode {
    /// Plain JSON when the handler finishes before it sends anything else; SSE (with a priming
    /// event when resumable) once it streams or runs longer than the adaptive delay.
    #[default]
    Adaptive,
    /// Always an SSE stream.
    Sse,
    /// Always one JSON response. A handler's progress, logs and server-to-client requests then
    /// travel on the session's GET stream (buffered until one is open); in stateless mode, where
    /// there is no GET stream, notifications are dropped (logged at debug) and server-to-client
    /// requests fail at once with a clear error.
    Json,
}

/// Which protocol eras the endpoint serves (design.md: both on one endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Eras {
    /// The legacy era (sessions, 2025-03-26 to 2025-11-25) and the 2026-07-28 era, told apart
    /// per request.
    #[default]
    Both,
    /// Only the legacy era: a 2026-07-28 request is refused with 400 and -32601.
    Legacy,
    /// Only the 2026-07-28 era: `initialize` is refused with -32022 naming the supported
    /// versions, GET and DELETE get 405, and session ids are ignored (H-12).
    Modern,
}

impl Eras {
    /// Whether legacy sessions are served.
    pub fn legacy(self) -> bool {
        self != Eras::Modern
    }

    /// Whether 2026-07-28 requests are served.
    pub fn modern(self) -> bool {
        self != Eras::Legacy
    }
}

/// Decides which principal (authenticated user) a request belongs to, when it is not simply the
/// [`Principal`] extension an auth layer set. A session answers 404 to any other principal
/// (SEC-6).
pub type PrincipalFn = Arc<dyn Fn(&http::request::Parts) -> Option<Principal> + Send + Sync>;

/// What [`crate::serve`] calls for each request in place of the endpoint, with the endpoint to
/// pass it on to (see [`crate::StreamableHttpServiceBuilder::front`]).
pub type FrontFn = Arc<
    dyn Fn(
            http::Request<hyper::body::Incoming>,
            crate::StreamableHttpService,
        ) -> futures::future::BoxFuture<'static, http::Response<crate::ResponseBody>>
        + Send
        + Sync,
>;

/// Settings of a [`crate::StreamableHttpService`]: plain values with safe defaults, changed with
/// the setters of the same names. Fields can be added without breaking users; components (the
/// event store, the principal hook) are set on [`crate::StreamableHttpServiceBuilder`].
///
/// ```
/// use mcp_http_server_http::{HttpConfig, ResponseMode};
/// let config = HttpConfig::default().response_mode(ResponseMode::Sse).stateless(true);
/// assert_eq!(config.path, "/mcp");
/// assert_eq!(config.response_mode, ResponseMode::Sse);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpConfig {
    /// The MCP endpoint path (T-1).
    pub path: String,
    /// The protocol eras served (both by default).
    pub eras: Eras,
    /// Open `subscriptions/listen` streams at most (2026-07-28); more are refused with 503.
    pub max_listeners: usize,
    /// No sessions: each POST stands alone (the Python SDK's `stateless_http`).
    pub stateless: bool,
    /// JSON, SSE or adaptive answers.
    pub response_mode: ResponseMode,
    /// How long an adaptive answer waits for the handler before switching to SSE; an SSE answer
    /// waits as long for its first message before sending headers (so a quick answer is one
    /// write).
    pub adaptive_delay: Duration,
    /// Host header values accepted besides loopback names (for reverse proxies), `host` or
    /// `host:port`. `*` accepts any.
    pub allowed_hosts: Vec<String>,
    /// Origin values accepted besides loopback origins. `*` accepts any.
    pub allowed_origins: Vec<String>,
    /// Validate Host and Origin (SEC-1, SEC-2, SEC-5). On by default.
    pub validate_host_and_origin: bool,
    /// Answer CORS preflights and expose `Mcp-Session-Id` to browsers.
    pub cors: bool,
    /// The largest accepted body: 413 above it, with a lingering read of the rest (RL-4).
    pub max_body_bytes: usize,
    /// The most sessions at once (503 with `Retry-After` above it).
    pub max_sessions: usize,
    /// The most SSE connections one session may hold open.
    pub max_streams_per_session: usize,
    /// A session with no activity, no open stream and no running request for this long is closed.
    pub idle_timeout: Duration,
    /// SSE keep-alive comment interval.
    pub keep_alive: Option<Duration>,
    /// Whether SSE events carry ids and can be resumed with `Last-Event-ID`.
    pub resumable: bool,
    /// The `retry` (ms) sent in priming events and before a server-side close.
    pub retry: Duration,
    /// Messages held for the GET stream while none is open.
    pub get_buffer: usize,
    /// Messages queued for one SSE connection before a slow reader is cut off (it can resume
    /// with `Last-Event-ID`; RL-9).
    pub connection_queue: usize,
    /// How long [`crate::serve`] lets running requests finish once shutdown begins, before it
    /// ends their streams (with `retry`) and returns (RL-50).
    pub drain_timeout: Duration,
    /// How long a resume on an instance that does not run the stream follows the shared event
    /// log for what the other instance goes on writing, until the response (RB-7). Zero: it
    /// replays what is stored and ends with `retry`, and the client polls.
    pub follow_elsewhere: Duration,
    /// How long a client may take to send a request's headers, and how long a connection may
    /// sit idle between requests, before it is closed (slowloris, RL-1). Applies with
    /// [`crate::serve`], to HTTP/1.1 (and to a new connection that sends nothing at all).
    pub header_read_timeout: Duration,
    /// The largest request head (request line and headers) in bytes: 431 above it over
    /// HTTP/1.1, the same bound on the header list over HTTP/2 (RL-2). Applies with
    /// [`crate::serve`].
    pub max_header_bytes: usize,
    /// The most header fields in one request: 431 above it (RL-2). Applies with
    /// [`crate::serve`], to HTTP/1.1.
    pub max_headers: usize,
    /// How long reading a POST's whole body may take: 408 and the connection closed after it
    /// (RL-3).
    pub body_read_timeout: Duration,
    /// After a 413, how long the rest of the body is still read (and discarded) before the
    /// connection is closed, so that a client that writes its whole body before it reads gets
    /// the 413 and not a reset (as nginx's lingering close; RL-4).
    pub lingering_time: Duration,
    /// The most open connections: one more is answered 503 with `Retry-After` and
    /// `Connection: close`, then closed (RL-5). Applies with [`crate::serve`], which also keeps
    /// it under the process's open-file limit.
    pub max_connections: usize,
    /// The most POSTs in progress at once, in all (RL-6): one more is refused with 503 and
    /// `Retry-After`, or, through the tower `Service`, waits in `poll_ready`. A request counts
    /// from the start of its body until its handler is done (even if its client went away).
    pub max_in_flight: usize,
    /// The most requests one session may have in progress: one more is refused with 429 and
    /// `Retry-After` (RL-7).
    pub max_in_flight_per_session: usize,
    /// How long a write to a connection may make no progress (a client that stopped reading)
    /// before the connection is dropped; the session's other streams go on, and the dropped
    /// one can be resumed with `Last-Event-ID` (RL-8). Applies with [`crate::serve`].
    pub write_stall_timeout: Duration,
    /// Records metrics through the `metrics` facade (MT-1): requests by method and status,
    /// latency, sessions, open streams, events stored, bytes in and out. Off by default, when
    /// the service costs nothing for them; install a recorder (a Prometheus exporter, say)
    /// before building the service, since the metric handles are made then.
    pub metrics: bool,
    /// Also serves the 2024-11-05 HTTP+SSE transport for old clients, at these paths (T-48,
    /// BR-33); off by default.
    pub legacy_sse: Option<crate::LegacySse>,
    /// Also serves MCP over WebSocket at this path (BR-36; needs the `websocket` feature and
    /// [`crate::serve`]); off by default.
    pub websocket: Option<String>,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("path", &self.path)
            .field("eras", &self.eras)
            .field("stateless", &self.stateless)
            .field("response_mode", &self.response_mode)
            .finish_non_exhaustive()
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            path: "/mcp".into(),
            eras: Eras::Both,
            max_listeners: 1024,
            stateless: false,
            response_mode: ResponseMode::Adaptive,
            adaptive_delay: Duration::from_millis(100),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            validate_host_and_origin: true,
            cors: false,
            max_body_bytes: 4 * 1024 * 1024,
            max_sessions: 100_000,
            max_streams_per_session: 32,
            idle_timeout: Duration::from_secs(30 * 60),
            keep_alive: Some(Duration::from_secs(15)),
            resumable: true,
            retry: Duration::from_millis(1000),
            get_buffer: 256,
            connection_queue: 1024,
            drain_timeout: Duration::from_secs(10),
            follow_elsewhere: Duration::from_secs(300),
            header_read_timeout: Duration::from_secs(30),
            max_header_bytes: 64 * 1024,
            max_headers: 100,
            body_read_timeout: Duration::from_secs(60),
            lingering_time: Duration::from_secs(5),
            max_connections: 16_384,
            max_in_flight: 4096,
            max_in_flight_per_session: 128,
            write_stall_timeout: Duration::from_secs(30),
            metrics: false,
            legacy_sse: None,
            websocket: None,
        }
    }
}

/// A setter per field, each taking and returning the settings.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty),* $(,)?) => {
        impl HttpConfig {
            $(
                $(#[$doc])*
                pub fn $name(mut self, value: $ty) -> Self {
                    self.$name = value;
                    self
                }
            )*
        }
    };
}

setters! {
    /// Sets [`HttpConfig::eras`].
    eras: Eras,
    /// Sets [`HttpConfig::max_listeners`].
    max_listeners: usize,
    /// Sets [`HttpConfig::stateless`].
    stateless: bool,
    /// Sets [`HttpConfig::response_mode`].
    response_mode: ResponseMode,
    /// Sets [`HttpConfig::adaptive_delay`].
    adaptive_delay: Duration,
    /// Sets [`HttpConfig::validate_host_and_origin`].
    validate_host_and_origin: bool,
    /// Sets [`HttpConfig::cors`].
    cors: bool,
    /// Sets [`HttpConfig::max_body_bytes`].
    max_body_bytes: usize,
    /// Sets [`HttpConfig::max_sessions`].
    max_sessions: usize,
    /// Sets [`HttpConfig::max_streams_per_session`].
    max_streams_per_session: usize,
    /// Sets [`HttpConfig::idle_timeout`].
    idle_timeout: Duration,
    /// Sets [`HttpConfig::keep_alive`].
    keep_alive: Option<Duration>,
    /// Sets [`HttpConfig::resumable`].
    resumable: bool,
    /// Sets [`HttpConfig::retry`].
    retry: Duration,
    /// Sets [`HttpConfig::get_buffer`].
    get_buffer: usize,
    /// Sets [`HttpConfig::connection_queue`].
    connection_queue: usize,
    /// Sets [`HttpConfig::drain_timeout`].
    drain_timeout: Duration,
    /// Sets [`HttpConfig::follow_elsewhere`].
    follow_elsewhere: Duration,
    /// Sets [`HttpConfig::header_read_timeout`].
    header_read_timeout: Duration,
    /// Sets [`HttpConfig::max_header_bytes`].
    max_header_bytes: usize,
    /// Sets [`HttpConfig::max_headers`].
    max_headers: usize,
    /// Sets [`HttpConfig::body_read_timeout`].
    body_read_timeout: Duration,
    /// Sets [`HttpConfig::lingering_time`].
    lingering_time: Duration,
    /// Sets [`HttpConfig::max_connections`].
    max_connections: usize,
    /// Sets [`HttpConfig::max_in_flight`].
    max_in_flight: usize,
    /// Sets [`HttpConfig::max_in_flight_per_session`].
    max_in_flight_per_session: usize,
    /// Sets [`HttpConfig::write_stall_timeout`].
    write_stall_timeout: Duration,
    /// Sets [`HttpConfig::metrics`].
    metrics: bool,
    /// Sets [`HttpConfig::allowed_hosts`].
    allowed_hosts: Vec<String>,
    /// Sets [`HttpConfig::allowed_origins`].
    allowed_origins: Vec<String>,
    /// Sets [`HttpConfig::legacy_sse`].
    legacy_sse: Option<crate::LegacySse>,
    /// Sets [`HttpConfig::websocket`].
    websocket: Option<String>,
}

impl HttpConfig {
    /// Sets [`HttpConfig::path`].
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Adds a `Host` value accepted besides loopback names ([`HttpConfig::allowed_hosts`]).
    pub fn allowed_host(mut self, host: impl Into<String>) -> Self {
        self.allowed_hosts.push(host.into());
        self
    }

    /// Adds an `Origin` accepted besides loopback origins ([`HttpConfig::allowed_origins`]).
    pub fn allowed_origin(mut self, origin: impl Into<String>) -> Self {
        self.allowed_origins.push(origin.into());
        self
    }
}
