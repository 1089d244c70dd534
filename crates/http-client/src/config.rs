//! The settings of the HTTP client transport, and the hooks a caller plugs in.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use http::HeaderMap;
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

/// Settings of the HTTP client transport.
#[derive(Clone)]
pub struct HttpClientConfig {
    /// Headers sent on every request (an `Authorization` header, say).
    pub headers: HeaderMap,
    /// Supplies (and refreshes) a bearer token per request; it overrides an `Authorization`
    /// header in `headers`.
    pub auth: Option<Arc<dyn TokenProvider>>,
    /// Open the standalone GET stream once the session is initialized.
    pub get_stream: bool,
    /// Failed reconnection attempts in a row before giving up on a stream.
    pub max_reconnect_attempts: u32,
    /// The reconnection delay when the server sent no `retry`. Each failed attempt in a row
    /// doubles the delay, up to `max_retry`.
    pub default_retry: Duration,
    /// The longest wait between reconnection attempts.
    pub max_retry: Duration,
    /// Send DELETE when the client closes (T-42).
    pub delete_on_close: bool,
    /// When the server answers 404 to a request of an expired session (it restarted, or reaped
    /// the session), start a new session by replaying `initialize` and retry the request once
    /// (T-41). Off: the request fails with `SessionExpired`.
    ///
    /// What the old session held on the server is not restored: resource subscriptions and the
    /// logging level must be set again.
    pub reinitialize: bool,
    /// When the server refuses the `initialize` POST with 400, 404 or 405, try the
    /// 2024-11-05 HTTP+SSE transport on the same URL (T-49).
    pub legacy_sse_fallback: bool,
    /// Receives resumption tokens (event ids) of request streams.
    pub on_resumption_token: Option<ResumptionCallback>,
}

impl std::fmt::Debug for HttpClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientConfig")
            .field("get_stream", &self.get_stream)
            .field("max_reconnect_attempts", &self.max_reconnect_attempts)
            .field("reinitialize", &self.reinitialize)
            .field("legacy_sse_fallback", &self.legacy_sse_fallback)
            .finish_non_exhaustive()
    }
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        HttpClientConfig {
            headers: HeaderMap::new(),
            auth: None,
            get_stream: true,
            max_reconnect_attempts: 5,
            default_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(30),
            delete_on_close: true,
            reinitialize: true,
            legacy_sse_fallback: true,
            on_resumption_token: None,
        }
    }
}
