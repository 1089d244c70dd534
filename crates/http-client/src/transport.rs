//! The Streamable HTTP client transport (legacy era): each message its own POST (T-2), JSON and
//! SSE answers (T-8), the session id and protocol version on every later request (T-39, T-44),
//! resumption with GET + `Last-Event-ID` after `retry` (T-14, T-33), the standalone GET stream
//! with capped reconnects, and DELETE on close (T-42).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use mcp_http_core::{
    CancellationToken, MessageSink, MessageStream, Outbound, OutboundKind, Transport,
    TransportError, TransportErrorKind,
};
use mcp_http_proto::RequestId;
use mcp_http_proto::jsonrpc::{InvalidMessage, Message, Parsed};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap};
use tokio::sync::mpsc;

use crate::sse::SseParser;

/// Called with each event id seen on a request's stream: a resumption token a later process can
/// resume the request with.
pub type ResumptionCallback = Arc<dyn Fn(&RequestId, &str) + Send + Sync>;

/// Settings of the HTTP client transport.
#[derive(Clone)]
pub struct HttpClientConfig {
    /// Headers sent on every request (an `Authorization` header, say).
    pub headers: HeaderMap,
    /// Open the standalone GET stream once the session is initialized.
    pub get_stream: bool,
    /// Failed reconnection attempts in a row before giving up on a stream.
    pub max_reconnect_attempts: u32,
    /// The reconnection delay when the server sent no `retry`.
    pub default_retry: Duration,
    /// Send DELETE when the client closes (T-42).
    pub delete_on_close: bool,
    /// Receives resumption tokens (event ids) of request streams.
    pub on_resumption_token: Option<ResumptionCallback>,
}

impl std::fmt::Debug for HttpClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientConfig")
            .field("get_stream", &self.get_stream)
            .finish_non_exhaustive()
    }
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        HttpClientConfig {
            headers: HeaderMap::new(),
            get_stream: true,
            max_reconnect_attempts: 5,
            default_retry: Duration::from_secs(1),
            delete_on_close: true,
            on_resumption_token: None,
        }
    }
}

/// A connection to a Streamable HTTP MCP endpoint.
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use mcp_http_client_http::StreamableHttpClient;
/// let transport = StreamableHttpClient::new("http://127.0.0.1:8080/mcp")?;
/// let client = mcp_http_client::Client::builder("app", "1.0").connect(transport).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct StreamableHttpClient {
    url: reqwest::Url,
    http: reqwest::Client,
    config: HttpClientConfig,
}

/// A `reqwest` client as this transport wants it: pooled, `TCP_NODELAY`, no overall timeout
/// (streams are long-lived; requests have their own timeouts).
pub fn default_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .unwrap_or_default()
}

impl StreamableHttpClient {
    /// A transport for the endpoint `url`, with a pooled client of its own.
    pub fn new(url: &str) -> Result<Self, TransportError> {
        Self::with_client(url, default_http_client(), HttpClientConfig::default())
    }

    /// A transport using your own `reqwest::Client` and settings.
    pub fn with_client(
        url: &str,
        http: reqwest::Client,
        config: HttpClientConfig,
    ) -> Result<Self, TransportError> {
        let url = reqwest::Url::parse(url).map_err(|e| {
            TransportError::new(
                TransportErrorKind::Protocol,
                format!("invalid URL {url:?}: {e}"),
            )
        })?;
        Ok(StreamableHttpClient { url, http, config })
    }
}

struct Shared {
    url: reqwest::Url,
    http: reqwest::Client,
    config: HttpClientConfig,
    session_id: Mutex<Option<String>>,
    protocol_version: Mutex<Option<String>>,
    inbound: mpsc::Sender<Result<Message, InvalidMessage>>,
    closed: CancellationToken,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn http_error(e: reqwest::Error) -> TransportError {
    TransportError::new(TransportErrorKind::Io, format!("HTTP request failed: {e}"))
}

impl Shared {
    fn headers(&self, mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request = request.headers(self.config.headers.clone());
        if let Some(id) = lock(&self.session_id).clone() {
            request = request.header("mcp-session-id", id);
        }
        if let Some(version) = lock(&self.protocol_version).clone() {
            request = request.header("mcp-protocol-version", version);
        }
        request
    }

    async fn deliver(&self, message: Message) {
        if lock(&self.protocol_version).is_none()
            && let Message::Response(r) = &message
            && let Ok(result) = &r.outcome
            && let Ok(init) = serde_json::from_str::<serde_json::Value>(result.get())
            && let (Some(version), true) = (
                init["protocolVersion"].as_str(),
                init.get("serverInfo").is_some(),
            )
        {
            // T-44: the negotiated version goes on every later request.
            *lock(&self.protocol_version) = Some(version.to_owned());
        }
        let _ = self.inbound.send(Ok(message)).await;
    }

    async fn deliver_bytes(&self, bytes: &[u8]) {
        match Parsed::parse(bytes) {
            Ok(Parsed::Single(message)) => self.deliver(*message).await,
            Ok(Parsed::Batch(items)) => {
                for item in items {
                    if let Ok(message) = Message::parse(item.get().as_bytes()) {
                        self.deliver(message).await;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "the server sent a message that is not JSON-RPC"),
        }
    }

    /// Reads an SSE response; returns whether it carried the response to `request`, the last
    /// event id and the last `retry`.
    async fn read_sse(
        &self,
        response: reqwest::Response,
        request: Option<&RequestId>,
        last_id: &mut Option<String>,
        retry: &mut Option<Duration>,
    ) -> bool {
        let mut parser = SseParser::default();
        let mut body = response.bytes_stream();
        loop {
            let chunk = tokio::select! {
                _ = self.closed.cancelled() => return false,
                chunk = body.next() => chunk,
            };
            let Some(Ok(chunk)) = chunk else { return false };
            for event in parser.feed(&chunk) {
                if let Some(ms) = event.retry {
                    *retry = Some(Duration::from_millis(ms));
                }
                if let Some(id) = &event.id {
                    *last_id = Some(id.clone());
                    if let (Some(request), Some(callback)) =
                        (request, &self.config.on_resumption_token)
                    {
                        callback(request, id);
                    }
                }
                // T-21: a priming event has empty data: only its id matters.
                if event.data.is_empty() || event.event.as_deref().is_some_and(|e| e != "message") {
                    continue;
                }
                let done = match Message::parse(event.data.as_bytes()) {
                    Ok(Message::Response(r)) => {
                        let answers = request.is_some() && r.id.as_ref() == request;
                        self.deliver(Message::Response(r)).await;
                        answers
                    }
                    Ok(message) => {
                        self.deliver(message).await;
                        false
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "unreadable SSE event ignored");
                        false
                    }
                };
                if done {
                    return true;
                }
            }
        }
    }

    /// GET with `Last-Event-ID` until the stream delivers the response to `request` (or, for the
    /// standalone stream, forever), waiting `retry` between attempts (T-14).
    async fn resume(
        &self,
        request: Option<RequestId>,
        mut last_id: Option<String>,
        mut retry: Option<Duration>,
    ) {
        let mut failures = 0;
        while failures < self.config.max_reconnect_attempts && !self.closed.is_cancelled() {
            let delay = retry.unwrap_or(self.config.default_retry);
            tokio::select! {
                _ = self.closed.cancelled() => return,
                _ = tokio::time::sleep(delay) => {}
            }
            let mut get = self
                .headers(self.http.get(self.url.clone()))
                .header(ACCEPT, "text/event-stream");
            if let Some(id) = &last_id {
                get = get.header("last-event-id", id);
            }
            let response = match get.send().await {
                Ok(r) if r.status().is_success() => r,
                Ok(r)
                    if r.status() == reqwest::StatusCode::METHOD_NOT_ALLOWED
                        && request.is_none() =>
                {
                    return;
                }
                Ok(r) => {
                    tracing::debug!(status = %r.status(), "GET stream refused");
                    failures += 1;
                    continue;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "GET stream failed");
                    failures += 1;
                    continue;
                }
            };
            failures = 0;
            if self
                .read_sse(response, request.as_ref(), &mut last_id, &mut retry)
                .await
            {
                return;
            }
        }
        if !self.closed.is_cancelled() {
            tracing::warn!(attempts = failures, "gave up reconnecting a stream");
        }
    }
}

struct Sink(Arc<Shared>);

impl Sink {
    async fn post(&self, message: Outbound) -> Result<(), TransportError> {
        let shared = &self.0;
        let had_session = lock(&shared.session_id).is_some();
        let request = shared
            .headers(shared.http.post(shared.url.clone()))
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json")
            .body(message.json.clone());
        let response = request.send().await.map_err(http_error)?;
        let status = response.status();
        if let Some(id) = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            && lock(&shared.session_id).is_none()
        {
            *lock(&shared.session_id) = Some(id.to_owned());
        }
        if status == reqwest::StatusCode::NOT_FOUND && had_session {
            // T-41: the session is gone.
            return Err(TransportError::new(
                TransportErrorKind::SessionExpired,
                "the server ended the session (404)",
            ));
        }
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let detail = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned());
            return Err(TransportError::new(
                TransportErrorKind::HttpStatus(status.as_u16()),
                format!("HTTP {status}: {detail}"),
            ));
        }
        if message.kind != OutboundKind::Request {
            if is_initialized(&message) && shared.config.get_stream {
                let shared = shared.clone();
                tokio::spawn(async move { shared.resume(None, None, Some(Duration::ZERO)).await });
            }
            return Ok(());
        }
        let is_sse = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let shared = shared.clone();
        let id = message.id.clone();
        tokio::spawn(async move {
            if is_sse {
                let (mut last_id, mut retry) = (None, None);
                if !shared
                    .read_sse(response, id.as_ref(), &mut last_id, &mut retry)
                    .await
                    && last_id.is_some()
                {
                    // T-33, T-37: the stream broke before the response: resume it with GET.
                    shared.resume(id, last_id, retry).await;
                }
            } else if let Ok(bytes) = response.bytes().await {
                shared.deliver_bytes(&bytes).await;
            }
        });
        Ok(())
    }
}

fn is_initialized(message: &Outbound) -> bool {
    message.kind == OutboundKind::Notification
        && serde_json::from_slice::<serde_json::Value>(&message.json)
            .is_ok_and(|v| v["method"] == mcp_http_proto::method::NOTIFICATION_INITIALIZED)
}

impl MessageSink for Sink {
    fn send(&self, message: Outbound) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(self.post(message))
    }

    fn close(&self) {
        let shared = self.0.clone();
        shared.closed.cancel();
        let session = lock(&shared.session_id).clone();
        if let (true, Some(_), Ok(rt)) = (
            shared.config.delete_on_close,
            session,
            tokio::runtime::Handle::try_current(),
        ) {
            rt.spawn(async move {
                // T-42; 405 means the server does not let clients end sessions (T-42a).
                if let Err(e) = shared
                    .headers(shared.http.delete(shared.url.clone()))
                    .send()
                    .await
                {
                    tracing::debug!(error = %e, "DELETE of the session failed");
                }
            });
        }
    }
}

impl Transport for StreamableHttpClient {
    fn split(self) -> (Arc<dyn MessageSink>, MessageStream) {
        let (tx, rx) = mpsc::channel(1024);
        let shared = Arc::new(Shared {
            url: self.url,
            http: self.http,
            config: self.config,
            session_id: Mutex::new(None),
            protocol_version: Mutex::new(None),
            inbound: tx,
            closed: CancellationToken::new(),
        });
        let stream =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) });
        (Arc::new(Sink(shared)), stream.boxed())
    }
}
