//! What every request of one client shares: the endpoint, the session, authorization, and the
//! reading of answers (JSON bodies and SSE streams, resumed with GET + `Last-Event-ID`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use mcp_http_core::{CancellationToken, Outbound, TransportError, TransportErrorKind};
use mcp_http_proto::RequestId;
use mcp_http_proto::jsonrpc::{InvalidMessage, Message, Parsed, Response};
use tokio::sync::{mpsc, oneshot};

use crate::client::HttpClient;
use crate::config::HttpClientConfig;
use crate::pool::ResponseBody;
use crate::sse::SseParser;

pub(crate) use mcp_http_core::sync::lock;

/// A request as the transport builds it.
pub(crate) type Outgoing = Request<Full<Bytes>>;
/// A response as the pool hands it over: the body still to read.
pub(crate) type Answer = http::Response<ResponseBody>;

/// The whole body of a response.
pub(crate) async fn body_bytes(response: Answer) -> Result<Bytes, TransportError> {
    match response.into_body().collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => Err(TransportError::new(
            TransportErrorKind::Io,
            format!("reading the HTTP response failed: {e}"),
        )),
    }
}

pub(crate) async fn error_detail(response: Answer) -> String {
    let status = response.status();
    let body = body_bytes(response).await.unwrap_or_default();
    serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned())
}

/// An HTTP status error with the server's reason.
pub(crate) fn status_error(status: StatusCode, detail: &str) -> TransportError {
    TransportError::new(
        TransportErrorKind::HttpStatus(status.as_u16()),
        format!("HTTP {status}: {detail}"),
    )
}

/// The response's content type, or "" when it has none.
pub(crate) fn content_type(response: &Answer) -> &str {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Whether the response is an SSE stream.
pub(crate) fn is_event_stream(response: &Answer) -> bool {
    content_type(response).starts_with("text/event-stream")
}

/// `Last-Event-ID` (T-14).
const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");
/// `text/event-stream`, the Accept of a GET.
pub(crate) const EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream");
/// `application/json`, the Content-Type of a POST.
pub(crate) const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// The Accept of a POST: both answer types (T-2).
const JSON_OR_EVENT_STREAM: HeaderValue =
    HeaderValue::from_static("application/json, text/event-stream");

/// Sets a protocol header, unless the configured headers already set it.
pub(crate) fn default_header(request: &mut Outgoing, name: HeaderName, value: HeaderValue) {
    request.headers_mut().entry(name).or_insert(value);
}

/// `headers` with the Accept and Content-Type of a POST of a message, unless set already.
fn with_post_headers(mut headers: HeaderMap) -> HeaderMap {
    headers.entry(ACCEPT).or_insert(JSON_OR_EVENT_STREAM);
    headers.entry(CONTENT_TYPE).or_insert(JSON);
    headers
}

/// The headers a request starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    /// The configured headers only: no session (yet), or the 2024-11-05 transport.
    Configured,
    /// The configured headers and the session's (T-39, T-44).
    Session,
    /// A POST of a message: the headers of `Session`, with Accept and Content-Type. Without
    /// a session yet, the configured headers with them.
    Post { in_session: bool },
}

/// `Mcp-Session-Id` (T-38).
pub(crate) const MCP_SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
/// `MCP-Protocol-Version` (T-44).
const MCP_PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");

/// The session id the server issued with this response (T-38): visible ASCII, as the spec
/// requires, or none.
pub(crate) fn issued_session_id(response: &Answer) -> Option<&HeaderValue> {
    response
        .headers()
        .get(MCP_SESSION_ID)
        .filter(|v| v.to_str().is_ok())
}

/// Whether an error answer to a request that carried a session id says the session is gone:
/// 404 (T-41), or the 400 "No valid session ID provided" that servers built on the TypeScript
/// SDK's examples send for a session they do not know (after a restart, say).
pub(crate) async fn session_gone(response: Answer) -> Result<(), TransportError> {
    let status = response.status();
    if status == StatusCode::NOT_FOUND {
        return Ok(());
    }
    let detail = error_detail(response).await;
    if status == StatusCode::BAD_REQUEST && detail.to_ascii_lowercase().contains("session") {
        return Ok(());
    }
    Err(status_error(status, &detail))
}

/// The session as the server gave it.
pub(crate) struct Session {
    id: Option<HeaderValue>,
    protocol_version: Option<String>,
    /// The headers of every request in the session: the configured ones, the session id and
    /// the negotiated version. Built when the session changes rather than per request.
    headers: HeaderMap,
    /// `headers` with the Accept and Content-Type of a POST.
    post_headers: HeaderMap,
    /// The `initialize` request as the client sent it, replayed to start a new session.
    pub(crate) initialize: Option<Outbound>,
    /// Whether `notifications/initialized` has gone out.
    pub(crate) initialized: bool,
}

impl Session {
    /// No session yet; requests carry the configured `headers`.
    pub(crate) fn new(headers: HeaderMap) -> Self {
        Session {
            id: None,
            protocol_version: None,
            post_headers: with_post_headers(headers.clone()),
            headers,
            initialize: None,
            initialized: false,
        }
    }

    pub(crate) fn has_id(&self) -> bool {
        self.id.is_some()
    }

    pub(crate) fn protocol_version(&self) -> Option<&str> {
        self.protocol_version.as_deref()
    }

    /// Takes the session id the server issued (T-38), or drops it.
    pub(crate) fn set_id(&mut self, id: Option<HeaderValue>) {
        match &id {
            Some(id) => self.headers.insert(MCP_SESSION_ID, id.clone()),
            None => self.headers.remove(MCP_SESSION_ID),
        };
        self.id = id;
        self.post_headers = with_post_headers(self.headers.clone());
    }

    /// Takes the negotiated version, sent on every later request (T-44). A version that is not
    /// a valid header value is not sent.
    pub(crate) fn set_protocol_version(&mut self, version: String) {
        match HeaderValue::from_str(&version) {
            Ok(value) => self.headers.insert(MCP_PROTOCOL_VERSION, value),
            Err(_) => self.headers.remove(MCP_PROTOCOL_VERSION),
        };
        self.protocol_version = Some(version);
        self.post_headers = with_post_headers(self.headers.clone());
    }
}

/// Where a response stream stands: the last event id and the server's `retry`.
#[derive(Default)]
pub(crate) struct Cursor {
    pub(crate) last_id: Option<String>,
    pub(crate) retry: Option<Duration>,
}

/// What [`Shared::read_sse`] does with the response it waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Returns it.
    Always,
    /// Returns it when nothing else came on the stream before it (nothing it could overtake on
    /// the message stream); delivers it otherwise.
    IfFirst,
    /// Delivers it.
    Never,
}

/// How reading a stream ended.
pub(crate) enum Ended {
    /// The response arrived; it is here when the caller asked to keep it.
    Answered(Option<Box<Response>>),
    /// The stream ended or broke first.
    Broken,
}

/// How long the rest of an answered stream is read before its connection is given up.
const FINISH_LIMIT: Duration = Duration::from_secs(5);

/// Reads what is left of an answered SSE stream, in the background. A body dropped before its
/// end closes its connection; one read to its end lets the connection go back to the pool.
/// Servers end the stream right after the response: without this, calls to the Python SDK's
/// server (SSE answers) opened a new connection almost every time.
fn finish_in_background(mut body: ResponseBody) {
    // Usually the end is already here: read it before the response is delivered, so the
    // connection is back in the pool before the caller's next request looks for one.
    if let Some(None) = body.frame().now_or_never() {
        return;
    }
    tokio::spawn(async move {
        let _ = tokio::time::timeout(FINISH_LIMIT, async {
            while let Some(Ok(_)) = body.frame().await {}
        })
        .await;
    });
}

/// The most redirects one request follows.
const MAX_REDIRECTS: u32 = 5;

/// Where a redirect points, when that is on the same origin as `from` (the session id and
/// credentials must not go to another server).
fn same_origin_location(from: &Uri, response: &Answer) -> Option<Uri> {
    let location = response
        .headers()
        .get(http::header::LOCATION)?
        .to_str()
        .ok()?;
    let base = url::Url::parse(&from.to_string()).ok()?;
    let next = base.join(location).ok()?;
    if next.origin() != base.origin() {
        tracing::debug!(%next, "a redirect to another origin is not followed");
        return None;
    }
    crate::transport::endpoint_uri(&next).ok()
}

pub(crate) struct Shared {
    /// The endpoint as the user named it (the 2024-11-05 endpoint is resolved against it).
    pub(crate) url: url::Url,
    /// The endpoint as requests carry it, built once.
    pub(crate) uri: Uri,
    pub(crate) http: HttpClient,
    /// The `Proxy-Authorization` of a plain-HTTP proxy the endpoint is reached through.
    pub(crate) proxy_authorization: Option<HeaderValue>,
    pub(crate) config: HttpClientConfig,
    pub(crate) session: Mutex<Session>,
    /// Counts sessions: a stream of an older session stops instead of competing with the new one.
    pub(crate) generation: AtomicU64,
    /// One re-initialization at a time.
    pub(crate) reinitializing: tokio::sync::Mutex<()>,
    /// Set when the server speaks the 2024-11-05 HTTP+SSE transport: where messages are POSTed.
    pub(crate) legacy_endpoint: Mutex<Option<Uri>>,
    pub(crate) inbound: mpsc::Sender<Result<Message, InvalidMessage>>,
    /// Cancelled when the client closes or the connection is lost for good; ends the inbound
    /// stream, which closes the peer.
    pub(crate) closed: CancellationToken,
    /// Cancelled when closing has finished (the DELETE answered).
    pub(crate) finished: CancellationToken,
}

impl Shared {
    pub(crate) fn has_session(&self) -> bool {
        lock(&self.session).has_id()
    }

    /// Which session this is: it changes when a new session replaces an expired one.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Sends a `method` request to `uri` with the `base` headers, what `fill` adds (protocol
    /// headers give way to configured ones of the same name), and a bearer token from the auth
    /// hook, refreshed once after a 401. A 307 or 308 to the same origin is followed (method,
    /// body and headers kept), up to [`MAX_REDIRECTS`] times.
    pub(crate) async fn send(
        &self,
        method: Method,
        uri: &Uri,
        base: Base,
        fill: impl Fn(&mut Outgoing),
    ) -> Result<Answer, TransportError> {
        let mut rejected: Option<String> = None;
        let mut target = uri.clone();
        let mut redirects = 0;
        loop {
            let mut request = Request::new(Full::new(Bytes::new()));
            *request.method_mut() = method.clone();
            *request.uri_mut() = target.clone();
            *request.headers_mut() = match base {
                Base::Configured => self.config.headers.clone(),
                Base::Session => lock(&self.session).headers.clone(),
                Base::Post { in_session: true } => lock(&self.session).post_headers.clone(),
                Base::Post { in_session: false } => with_post_headers(self.config.headers.clone()),
            };
            fill(&mut request);
            if let Some(value) = &self.proxy_authorization {
                default_header(
                    &mut request,
                    http::header::PROXY_AUTHORIZATION,
                    value.clone(),
                );
            }
            let mut token = None;
            if let Some(auth) = &self.config.auth {
                token = auth.token(rejected.as_deref()).await?;
                if let Some(token) = &token {
                    let value = HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
                        TransportError::new(
                            TransportErrorKind::Protocol,
                            "the auth hook gave a token that cannot be sent in a header",
                        )
                    })?;
                    request.headers_mut().insert(AUTHORIZATION, value);
                }
            }
            let response = self.http.send(request).await?;
            if response.status() == StatusCode::UNAUTHORIZED
                && rejected.is_none()
                && let Some(token) = token
            {
                rejected = Some(token);
                continue;
            }
            if matches!(
                response.status(),
                StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
            ) && redirects < MAX_REDIRECTS
                && let Some(next) = same_origin_location(&target, &response)
            {
                redirects += 1;
                target = next;
                continue;
            }
            return Ok(response);
        }
    }

    pub(crate) async fn deliver(&self, message: Message) {
        let _ = self.inbound.send(Ok(message)).await;
    }

    /// Delivers a parsed JSON body; returns whether it held the response to `request`.
    pub(crate) async fn deliver_body(
        &self,
        parsed: Result<Parsed, InvalidMessage>,
        request: Option<&RequestId>,
    ) -> bool {
        let mut answered = false;
        let mut one = |message: &Message| {
            if let (Message::Response(r), Some(request)) = (message, request) {
                answered |= r.id.as_ref() == Some(request);
            }
        };
        match parsed {
            Ok(Parsed::Single(message)) => {
                one(&message);
                self.deliver(message).await;
            }
            Ok(Parsed::Batch(items)) => {
                for item in items {
                    if let Ok(message) = Message::parse(item.get().as_bytes()) {
                        one(&message);
                        self.deliver(message).await;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "the server sent a message that is not JSON-RPC"),
        }
        answered
    }

    /// Reads an SSE response until the response to `request` (kept, not delivered, when `keep`),
    /// delivering every other message and tracking the cursor.
    pub(crate) async fn read_sse(
        &self,
        response: Answer,
        request: Option<&RequestId>,
        keep: Keep,
        cursor: &mut Cursor,
    ) -> Ended {
        let mut parser = SseParser::default();
        let mut first = true;
        let mut body = response.into_body();
        loop {
            let frame = tokio::select! {
                _ = self.closed.cancelled() => return Ended::Broken,
                frame = body.frame() => frame,
            };
            let Some(Ok(frame)) = frame else {
                return Ended::Broken;
            };
            let Ok(chunk) = frame.into_data() else {
                continue; // trailers
            };
            for event in parser.feed(&chunk) {
                if let Some(ms) = event.retry {
                    cursor.retry = Some(Duration::from_millis(ms));
                }
                if let Some(id) = &event.id {
                    cursor.last_id = Some(id.clone());
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
                match Message::parse(event.data.as_bytes()) {
                    Ok(Message::Response(r)) if request.is_some() && r.id.as_ref() == request => {
                        finish_in_background(body);
                        if keep == Keep::Always || (keep == Keep::IfFirst && first) {
                            return Ended::Answered(Some(Box::new(r)));
                        }
                        self.deliver(Message::Response(r)).await;
                        return Ended::Answered(None);
                    }
                    Ok(message) => {
                        first = false;
                        self.deliver(message).await;
                    }
                    Err(e) => tracing::warn!(error = %e, "unreadable SSE event ignored"),
                }
            }
        }
    }

    /// The wait before reconnection attempt `failures + 1`: the server's `retry` (or the
    /// default), doubled for each failure in a row, capped.
    fn backoff(&self, retry: Option<Duration>, failures: u32) -> Duration {
        let base = retry.unwrap_or(self.config.default_retry);
        base.saturating_mul(1 << failures.min(16))
            .min(self.config.max_retry.max(base))
    }

    /// GET with `Last-Event-ID` until the stream delivers the response to `request` (for the
    /// standalone stream, until the client closes), waiting `retry` between attempts (T-14).
    /// Gives up after `max_reconnect_attempts` failures in a row, or at once when the session
    /// is gone.
    pub(crate) async fn resume(
        &self,
        request: Option<RequestId>,
        mut cursor: Cursor,
        mut connected: Option<oneshot::Sender<()>>,
    ) -> Result<(), TransportError> {
        let generation = self.generation();
        let mut failures = 0;
        let mut first = true;
        loop {
            if failures > 0 && failures >= self.config.max_reconnect_attempts {
                return Err(TransportError::new(
                    TransportErrorKind::Io,
                    format!("the stream broke and {failures} attempts to resume it failed"),
                ));
            }
            let delay = if first && request.is_none() {
                Duration::ZERO
            } else {
                self.backoff(cursor.retry, failures)
            };
            first = false;
            tokio::select! {
                _ = self.closed.cancelled() => return Err(TransportError::closed()),
                _ = tokio::time::sleep(delay) => {}
            }
            if self.generation() != generation {
                return Err(TransportError::new(
                    TransportErrorKind::SessionExpired,
                    "the session this stream belonged to has ended",
                ));
            }
            let last_id = match cursor.last_id.as_deref().map(HeaderValue::from_str) {
                None => None,
                Some(Ok(id)) => Some(id),
                Some(Err(_)) => {
                    return Err(TransportError::new(
                        TransportErrorKind::Protocol,
                        "the server's event id cannot be sent back in Last-Event-ID",
                    ));
                }
            };
            let sent = self
                .send(Method::GET, &self.uri, Base::Session, |request| {
                    default_header(request, ACCEPT, EVENT_STREAM);
                    if let Some(id) = &last_id {
                        request.headers_mut().insert(LAST_EVENT_ID, id.clone());
                    }
                })
                .await;
            if let Some(connected) = connected.take() {
                let _ = connected.send(());
            }
            let response = match sent {
                Ok(r) if r.status().is_success() => r,
                Ok(r) if r.status() == StatusCode::METHOD_NOT_ALLOWED && request.is_none() => {
                    // T-10: the server offers no standalone stream.
                    return Ok(());
                }
                Ok(r)
                    if matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST)
                        && self.has_session() =>
                {
                    match session_gone(r).await {
                        Ok(()) => {
                            return Err(TransportError::new(
                                TransportErrorKind::SessionExpired,
                                "the server ended the session",
                            ));
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "GET stream refused");
                            failures += 1;
                            continue;
                        }
                    }
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
            if let Ended::Answered(_) = self
                .read_sse(response, request.as_ref(), Keep::Never, &mut cursor)
                .await
            {
                return Ok(());
            }
        }
    }
}
