//! Options of one outbound request.

use std::sync::Arc;
use std::time::Duration;

use mcp_http_proto::RequestId;
use tokio_util::sync::CancellationToken;

/// A progress notification received for a request this side sent (P-2).
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressUpdate {
    /// Progress so far; increases with every update (P-3).
    pub progress: f64,
    /// The total, when known.
    pub total: Option<f64>,
    /// A message a person can read.
    pub message: Option<String>,
}

/// How to send one request: timeouts, progress, cancellation and routing.
///
/// ```
/// use std::time::Duration;
/// use mcp_http_core::RequestOptions;
/// let options = RequestOptions::default()
///     .timeout(Duration::from_secs(5))
///     .on_progress(|p| println!("{}/{:?}", p.progress, p.total));
/// ```
#[derive(Clone)]
pub struct RequestOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_total: Option<Duration>,
    pub(crate) reset_on_progress: bool,
    pub(crate) on_progress: Option<crate::peer::ProgressCallback>,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) related: Option<RequestId>,
    pub(crate) modern: Option<Arc<crate::transport::ModernRequest>>,
}

impl Default for RequestOptions {
    fn default() -> Self {
        RequestOptions {
            timeout: None,
            max_total: None,
            reset_on_progress: true,
            on_progress: None,
            cancel: None,
            related: None,
            modern: None,
        }
    }
}

impl std::fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestOptions")
            .field("timeout", &self.timeout)
            .field("max_total", &self.max_total)
            .field("reset_on_progress", &self.reset_on_progress)
            .field("on_progress", &self.on_progress.is_some())
            .field("related", &self.related)
            .field("modern", &self.modern)
            .finish()
    }
}

impl RequestOptions {
    /// Time allowed without a response or a progress notification (TO-1, TO-2).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The hard cap on the request's total time, progress or not (TO-3).
    pub fn max_total(mut self, max_total: Duration) -> Self {
        self.max_total = Some(max_total);
        self
    }

    /// Whether progress notifications restart the timeout (default true, TO-3).
    pub fn reset_on_progress(mut self, reset: bool) -> Self {
        self.reset_on_progress = reset;
        self
    }

    /// Asks for progress (P-1): a progress token is added to the request and each
    /// `notifications/progress` for it calls `callback`.
    pub fn on_progress(
        mut self,
        callback: impl Fn(ProgressUpdate) + Send + Sync + 'static,
    ) -> Self {
        self.on_progress = Some(Arc::new(callback));
        self
    }

    /// A token that cancels the request: `notifications/cancelled` is sent and the call returns
    /// [`crate::RequestError::Cancelled`].
    pub fn cancel_token(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Marks the request as sent on behalf of an inbound request (server-to-client requests made
    /// while handling a client request travel on that request's stream, T-16).
    pub fn related_to(mut self, id: RequestId) -> Self {
        self.related = Some(id);
        self
    }

    /// Sends the request in the 2026-07-28 era (see [`crate::ModernRequest`]): outside any
    /// session, and cancelled or timed out by closing its stream, with no
    /// `notifications/cancelled` (H-5).
    pub fn modern(mut self, modern: crate::transport::ModernRequest) -> Self {
        self.modern = Some(Arc::new(modern));
        self
    }

    /// [`RequestOptions::modern`] with a request shared by many (PF-89: a client's requests
    /// with no parameter headers share one, not one allocated per request).
    pub fn modern_shared(mut self, modern: Arc<crate::transport::ModernRequest>) -> Self {
        self.modern = Some(modern);
        self
    }
}
