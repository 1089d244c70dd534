//! The settings of the HTTP client transport, and the hooks a caller plugs in.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use mcp_http_core::TransportError;
use mcp_http_proto::RequestId;

/// Called with each event id seen on a request's stream: a resumption token a later process can
/// resume the request with.
pub type ResumptionCallback = Arc<dyn Fn(&RequestId, &str) + Send + Sync>;

/// Supplies the bearer token of each HTTP request, and a fresh one when the server refuses it.
///
/// `token(None)` is asked before every request, so an implementation caches its token and only
/// does work when it is about to expire. After a 401, `token(Some(rejected))` is asked once and
/// the request retried with the answer; a second 401 is the caller's error.
///
/// ```
/// use futures::future::BoxFuture;
/// use mcp_http_client_http::TokenProvider;
/// use mcp_http_core::TransportError;
///
/// struct FromEnv;
/// impl TokenProvider for FromEnv {
///     fn token(&self, _rejected: Option<&str>) -> BoxFuture<'_, Result<Option<String>, TransportError>> {
///         Box::pin(async { Ok(std::env::var("MCP_TOKEN").ok()) })
///     }
/// }
/// ```
pub trait TokenProvider: Send + Sync + 'static {
    /// The token to send now (`None`: send no `Authorization` header). `rejected` is the token
    /// the server has just answered 401 to.
    fn token(
        &self,
        rejected: Option<&str>,
    ) -> BoxFuture<'_, Result<Option<String>, TransportError>>;
}

/// An answer of the MCP server that may ask for (other) credentials: a 401, or a 403 (a
/// `WWW-Authenticate` with `error="insufficient_scope"` asks for more scopes), as the
/// [`Authorizer`] sees it.
#[derive(Debug)]
#[non_exhaustive]
pub struct AuthRefusal<'a> {
    /// The refused request's method.
    pub method: &'a Method,
    /// The refused request's URL.
    pub uri: &'a Uri,
    /// 401 or 403.
    pub status: StatusCode,
    /// The answer's headers (`WWW-Authenticate`, `DPoP-Nonce`).
    pub headers: &'a HeaderMap,
    /// How many times this request was already sent again after a refusal (0 the first time).
    pub retries: u32,
    /// The `Authorization` header the refused request carried, if any.
    pub sent_authorization: Option<&'a str>,
}

/// Authorizes the transport's requests: the headers each request carries (`Authorization`,
/// `DPoP`), and what to do when the server refuses one (obtain or refresh a token, step up the
/// scopes, take a DPoP nonce). The OAuth client of `mcp-http-oauth-client` implements it; it
/// applies to every request of the transport, in both eras: POST, the GET stream and DELETE
/// (A-19, AC-1).
pub trait Authorizer: Send + Sync + 'static {
    /// The headers to put on a request with `method` to `uri` (none: send it as it is).
    fn headers<'a>(
        &'a self,
        method: &'a Method,
        uri: &'a Uri,
    ) -> BoxFuture<'a, Result<HeaderMap, TransportError>>;

    /// The server refused a request with 401 or 403. `Ok(true)`: send it again (with the
    /// headers [`Authorizer::headers`] then gives); `Ok(false)`: the refusal is the caller's
    /// answer; an error fails the request with it.
    fn refused<'a>(
        &'a self,
        refusal: AuthRefusal<'a>,
    ) -> BoxFuture<'a, Result<bool, TransportError>>;
}

/// Settings of the HTTP client transport, built with [`HttpClientConfig::builder`].
///
/// ```
/// use std::time::Duration;
/// use http::{HeaderName, HeaderValue};
/// use mcp_http_client_http::HttpClientConfig;
/// let config = HttpClientConfig::builder()
///     .header(HeaderName::from_static("x-team"), HeaderValue::from_static("search"))
///     .get_stream(false)
///     .default_retry(Duration::from_millis(500))
///     .build();
/// assert!(!config.get_stream());
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpClientConfig {
    pub(crate) headers: HeaderMap,
    pub(crate) auth: Option<Arc<dyn TokenProvider>>,
    pub(crate) authorizer: Option<Arc<dyn Authorizer>>,
    pub(crate) get_stream: bool,
    pub(crate) max_reconnect_attempts: u32,
    pub(crate) default_retry: Duration,
    pub(crate) max_retry: Duration,
    pub(crate) delete_on_close: bool,
    pub(crate) reinitialize: bool,
    pub(crate) legacy_sse_fallback: bool,
    pub(crate) on_resumption_token: Option<ResumptionCallback>,
    pub(crate) min_retry: Duration,
    pub(crate) max_event_size: usize,
    pub(crate) max_body_size: usize,
    pub(crate) max_redirects: u32,
    pub(crate) send_timeout: Duration,
    pub(crate) cookies: bool,
}

impl std::fmt::Debug for HttpClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientConfig")
            .field("get_stream", &self.get_stream)
            .field("max_reconnect_attempts", &self.max_reconnect_attempts)
            .field("reinitialize", &self.reinitialize)
            .field("legacy_sse_fallback", &self.legacy_sse_fallback)
            .field("min_retry", &self.min_retry)
            .field("max_retry", &self.max_retry)
            .field("max_event_size", &self.max_event_size)
            .field("max_body_size", &self.max_body_size)
            .field("max_redirects", &self.max_redirects)
            .field("send_timeout", &self.send_timeout)
            .field("cookies", &self.cookies)
            .finish_non_exhaustive()
    }
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        HttpClientConfig {
            headers: HeaderMap::new(),
            auth: None,
            authorizer: None,
            get_stream: true,
            max_reconnect_attempts: 5,
            default_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(30),
            delete_on_close: true,
            reinitialize: true,
            legacy_sse_fallback: true,
            on_resumption_token: None,
            min_retry: Duration::from_millis(100),
            max_event_size: crate::sse::DEFAULT_MAX_EVENT_SIZE,
            max_body_size: 16 * 1024 * 1024,
            max_redirects: 5,
            send_timeout: Duration::from_secs(30),
            cookies: false,
        }
    }
}

impl HttpClientConfig {
    /// The default settings, to change.
    pub fn builder() -> HttpClientConfigBuilder {
        HttpClientConfigBuilder {
            config: HttpClientConfig::default(),
        }
    }

    /// Headers sent on every request.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The hook that supplies bearer tokens, if any.
    pub fn auth(&self) -> Option<&Arc<dyn TokenProvider>> {
        self.auth.as_ref()
    }

    /// The authorizer (OAuth), if any.
    pub fn authorizer(&self) -> Option<&Arc<dyn Authorizer>> {
        self.authorizer.as_ref()
    }

    /// Whether the standalone GET stream is opened once the session is initialized.
    pub fn get_stream(&self) -> bool {
        self.get_stream
    }

    /// Failed reconnection attempts in a row before a stream is given up.
    pub fn max_reconnect_attempts(&self) -> u32 {
        self.max_reconnect_attempts
    }

    /// The reconnection delay when the server sent no `retry`.
    pub fn default_retry(&self) -> Duration {
        self.default_retry
    }

    /// The longest wait between reconnection attempts.
    pub fn max_retry(&self) -> Duration {
        self.max_retry
    }

    /// Whether DELETE is sent when the client closes (T-42).
    pub fn delete_on_close(&self) -> bool {
        self.delete_on_close
    }

    /// Whether a new session is started when the server says the old one is gone (T-41).
    pub fn reinitialize(&self) -> bool {
        self.reinitialize
    }

    /// Whether the 2024-11-05 HTTP+SSE transport is tried when `initialize` is refused (T-49).
    pub fn legacy_sse_fallback(&self) -> bool {
        self.legacy_sse_fallback
    }

    /// The hook that receives resumption tokens, if any.
    pub fn on_resumption_token(&self) -> Option<&ResumptionCallback> {
        self.on_resumption_token.as_ref()
    }

    /// The shortest wait between reconnection attempts that a server's `retry` can ask for.
    pub fn min_retry(&self) -> Duration {
        self.min_retry
    }

    /// The most bytes one SSE event may hold.
    pub fn max_event_size(&self) -> usize {
        self.max_event_size
    }

    /// The most bytes the body of a JSON answer may hold.
    pub fn max_body_size(&self) -> usize {
        self.max_body_size
    }

    /// The most redirects one request follows.
    pub fn max_redirects(&self) -> u32 {
        self.max_redirects
    }

    /// How long the POST of a notification or a response may wait for the server's answer.
    pub fn send_timeout(&self) -> Duration {
        self.send_timeout
    }

    /// Whether cookies the server sets are sent back.
    pub fn cookies(&self) -> bool {
        self.cookies
    }
}

/// Builds an [`HttpClientConfig`]; every setting starts at its default.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until built"]
pub struct HttpClientConfigBuilder {
    config: HttpClientConfig,
}

impl HttpClientConfigBuilder {
    /// Adds a header sent on every request (an `Authorization` header, say), in place of an
    /// earlier one of the same name.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.config.headers.insert(name, value);
        self
    }

    /// The headers sent on every request, in place of those set so far.
    pub fn headers(mut self, headers: HeaderMap) -> Self {
        self.config.headers = headers;
        self
    }

    /// Supplies (and refreshes) a bearer token per request; it overrides an `Authorization`
    /// header.
    pub fn auth(mut self, provider: Arc<dyn TokenProvider>) -> Self {
        self.config.auth = Some(provider);
        self
    }

    /// Authorizes every request (OAuth: `mcp_http_oauth_client::OAuthClient`): its headers go
    /// on each request, and a 401 or 403 is handed to it before the caller sees it. It takes
    /// the place of [`auth`](Self::auth) when both are set.
    pub fn authorizer(mut self, authorizer: Arc<dyn Authorizer>) -> Self {
        self.config.authorizer = Some(authorizer);
        self
    }

    /// Open the standalone GET stream once the session is initialized (default: yes).
    pub fn get_stream(mut self, enabled: bool) -> Self {
        self.config.get_stream = enabled;
        self
    }

    /// Failed reconnection attempts in a row before giving up on a stream (default: 5).
    pub fn max_reconnect_attempts(mut self, attempts: u32) -> Self {
        self.config.max_reconnect_attempts = attempts;
        self
    }

    /// The reconnection delay when the server sent no `retry` (default: 1 s). Each failed
    /// attempt in a row doubles the delay, up to [`max_retry`](Self::max_retry).
    pub fn default_retry(mut self, delay: Duration) -> Self {
        self.config.default_retry = delay;
        self
    }

    /// The longest wait between reconnection attempts (default: 30 s). A server's `retry`
    /// longer than this (years, say) is cut to it (RL-22).
    pub fn max_retry(mut self, delay: Duration) -> Self {
        self.config.max_retry = delay;
        self
    }

    /// Send DELETE when the client closes (T-42; default: yes).
    pub fn delete_on_close(mut self, enabled: bool) -> Self {
        self.config.delete_on_close = enabled;
        self
    }

    /// When the server answers 404 to a request of an expired session (it restarted, or
    /// reaped the session), start a new session by replaying `initialize` and retry the
    /// request once (T-41; default: yes). Off: the request fails with `SessionExpired`.
    ///
    /// What the old session held on the server is not restored: resource subscriptions and
    /// the logging level must be set again.
    pub fn reinitialize(mut self, enabled: bool) -> Self {
        self.config.reinitialize = enabled;
        self
    }

    /// When the server refuses the `initialize` POST with 400, 404 or 405, try the
    /// 2024-11-05 HTTP+SSE transport on the same URL (T-49; default: yes).
    pub fn legacy_sse_fallback(mut self, enabled: bool) -> Self {
        self.config.legacy_sse_fallback = enabled;
        self
    }

    /// Receives resumption tokens (event ids) of request streams.
    pub fn on_resumption_token(
        mut self,
        callback: impl Fn(&RequestId, &str) + Send + Sync + 'static,
    ) -> Self {
        self.config.on_resumption_token = Some(Arc::new(callback));
        self
    }

    /// The shortest wait before a reconnection that a server's `retry` can ask for (default:
    /// 100 ms): a `retry` of 0 does not make the client reconnect in a tight loop (RL-22). It
    /// does not apply to [`default_retry`](Self::default_retry), which is yours.
    pub fn min_retry(mut self, delay: Duration) -> Self {
        self.config.min_retry = delay;
        self
    }

    /// The most bytes one SSE event may hold: its data lines together, or a line not yet ended
    /// (default: 16 MiB). A larger event fails the request it was for with a protocol error
    /// and closes the stream, rather than growing the client's buffer (RL-21).
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.config.max_event_size = bytes;
        self
    }

    /// The most bytes the body of a JSON answer may hold (default: 16 MiB). A larger body fails
    /// the request with a protocol error once the limit is reached, rather than being buffered
    /// whole (RL-21).
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.config.max_body_size = bytes;
        self
    }

    /// The most same-origin 307/308 redirects one request follows (default: 5; 0 follows
    /// none). One more fails the request with an HTTP status error, so a redirect loop ends
    /// (RL-23).
    pub fn max_redirects(mut self, redirects: u32) -> Self {
        self.config.max_redirects = redirects;
        self
    }

    /// How long the POST of a notification or of a response to the server's request may wait
    /// for the server's answer (default: 30 s); past it the send fails with an error for which
    /// `is_timeout()` holds. Requests are bounded by the peer's request timeout instead. A
    /// server that never answers cannot hold the client's sends forever (RL-25).
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.config.send_timeout = timeout;
        self
    }

    /// Sends the cookies the server sets back on later requests (default: off), so a load
    /// balancer that keeps a session on one instance by a cookie sees it (BR-22). A `Cookie`
    /// header among the configured ones takes precedence.
    pub fn cookies(mut self, enabled: bool) -> Self {
        self.config.cookies = enabled;
        self
    }

    /// The settings.
    pub fn build(self) -> HttpClientConfig {
        self.config
    }
}
