//! The Streamable HTTP client transport (legacy era): each message its own POST (T-2), JSON and
//! SSE answers (T-8), the session id and protocol version on every later request (T-39, T-44),
//! resumption with GET + `Last-Event-ID` after `retry` (T-14, T-33), the standalone GET stream
//! with capped reconnects, a new session when the old one is gone (T-41), and DELETE on close
//! (T-42).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use http::{Method, StatusCode, Uri};
use mcp_http_core::{
    CancellationToken, MessageSink, MessageStream, Outbound, OutboundKind, Sending, Transport,
    TransportError, TransportErrorKind,
};
use mcp_http_proto::jsonrpc::{Message, Parsed, Response};
use mcp_http_proto::method;
use tokio::sync::{mpsc, oneshot};

use crate::client::HttpClient;
use crate::config::HttpClientConfig;
use crate::connection::{
    Answer, Base, Cursor, Ended, Keep, Session, Shared, body_bytes, content_type, error_detail,
    is_event_stream, issued_session_id, lock, session_gone, status_error,
};

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
    url: url::Url,
    uri: Uri,
    http: HttpClient,
    config: HttpClientConfig,
}

impl StreamableHttpClient {
    /// A transport for the endpoint `url`, with a pooled client of its own.
    pub fn new(url: &str) -> Result<Self, TransportError> {
        Self::with_client(url, HttpClient::new()?, HttpClientConfig::default())
    }

    /// A transport using your own [`HttpClient`] (clones share their connections) and
    /// settings.
    pub fn with_client(
        url: &str,
        http: HttpClient,
        config: HttpClientConfig,
    ) -> Result<Self, TransportError> {
        let url = url::Url::parse(url).map_err(|e| {
            TransportError::new(
                TransportErrorKind::Protocol,
                format!("invalid URL {url:?}: {e}"),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(TransportError::new(
                TransportErrorKind::Protocol,
                format!("invalid URL {url:?}: the scheme must be http or https"),
            ));
        }
        if url.scheme() == "https" && !cfg!(feature = "rustls") {
            return Err(TransportError::new(
                TransportErrorKind::Protocol,
                format!(
                    "invalid URL {:?}: https needs the rustls feature of mcp-http-client-http",
                    url.as_str()
                ),
            ));
        }
        let uri = endpoint_uri(&url)?;
        Ok(StreamableHttpClient {
            url,
            uri,
            http,
            config,
        })
    }
}

/// The URL as requests carry it: parsed once here, cloned (cheaply) per request.
pub(crate) fn endpoint_uri(url: &url::Url) -> Result<Uri, TransportError> {
    // Only the parts a request line and Host carry: a fragment is never sent.
    let without_fragment = &url[..url::Position::AfterQuery];
    Uri::try_from(without_fragment).map_err(|e| {
        TransportError::new(
            TransportErrorKind::Protocol,
            format!("invalid URL {without_fragment:?}: {e}"),
        )
    })
}

/// The method of an outgoing request or notification, read only where it matters.
fn method_of(message: &Outbound) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Head {
        method: Option<String>,
    }
    serde_json::from_slice::<Head>(&message.json)
        .ok()
        .and_then(|h| h.method)
}

fn session_expired() -> TransportError {
    TransportError::new(
        TransportErrorKind::SessionExpired,
        "the server ended the session (404)",
    )
}

/// An error answer as a typed error, with the server's reason.
async fn refused(response: Answer) -> TransportError {
    let status = response.status();
    status_error(status, &error_detail(response).await)
}

pub(crate) struct Sink(pub(crate) Arc<Shared>);

/// How long opening the GET stream may hold up the handshake.
const GET_STREAM_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// How long [`MessageSink::closed`] waits for the DELETE.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What the handshake bookkeeping learned about an outgoing message.
#[derive(PartialEq)]
enum Handshake {
    Initialize,
    Initialized,
    Other,
}

impl Shared {
    /// Remembers `initialize` (to replay it) and sees `notifications/initialized` go out.
    fn note_handshake(&self, message: &Outbound) -> Handshake {
        if lock(&self.session).initialized || message.kind == OutboundKind::Response {
            return Handshake::Other;
        }
        match method_of(message).as_deref() {
            Some(method::INITIALIZE) if message.kind == OutboundKind::Request => {
                lock(&self.session).initialize = Some(message.clone());
                Handshake::Initialize
            }
            Some(method::NOTIFICATION_INITIALIZED) => {
                lock(&self.session).initialized = true;
                Handshake::Initialized
            }
            _ => Handshake::Other,
        }
    }

    /// POSTs one JSON-RPC message to the endpoint, accepting both answer types (T-2), in the
    /// current session or (for `initialize`) in none.
    async fn post_json(&self, json: &Bytes, in_session: bool) -> Result<Answer, TransportError> {
        self.send(
            Method::POST,
            &self.uri,
            Base::Post { in_session },
            |request| {
                *request.body_mut() = json.clone().into();
            },
        )
        .await
    }

    /// POSTs a message. The response to a request comes back when the answer held it first
    /// (see [`MessageSink::send_request`]); anything else is delivered to the message stream.
    async fn post(self: &Arc<Self>, message: Outbound) -> Result<Option<Response>, TransportError> {
        let legacy = lock(&self.legacy_endpoint).clone();
        if let Some(endpoint) = legacy {
            return self.legacy_post(endpoint, &message).await.map(|()| None);
        }
        let handshake = self.note_handshake(&message);
        let mut retried = false;
        loop {
            let (generation, had_session) = (self.generation(), self.has_session());
            let response = self.post_json(&message.json, true).await?;
            let status = response.status();
            if let Some(id) = issued_session_id(&response) {
                let mut state = lock(&self.session);
                if !state.has_id() {
                    state.set_id(Some(id.clone()));
                }
            }
            if matches!(status, StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST) && had_session {
                session_gone(response).await?;
                // T-41: the session is gone. The server did not take the message, so sending
                // it again in a new session cannot do anything twice.
                if self.config.reinitialize && !retried && retryable(&message) {
                    retried = true;
                    self.reinitialize(generation).await?;
                    continue;
                }
                return Err(session_expired());
            }
            if !status.is_success() {
                let refused_initialize = handshake == Handshake::Initialize
                    && matches!(
                        status,
                        StatusCode::BAD_REQUEST
                            | StatusCode::NOT_FOUND
                            | StatusCode::METHOD_NOT_ALLOWED
                    );
                if refused_initialize && self.config.legacy_sse_fallback {
                    // T-49: perhaps a 2024-11-05 HTTP+SSE server.
                    return self.legacy_connect(&message, status).await.map(|()| None);
                }
                return Err(refused(response).await);
            }
            if message.kind != OutboundKind::Request {
                // A body on a 200 to a notification or response is tolerated and ignored.
                if handshake == Handshake::Initialized && self.config.get_stream {
                    self.open_get_stream().await;
                }
                return Ok(None);
            }
            if handshake == Handshake::Initialize {
                return self
                    .read_initialize(response, &message)
                    .await
                    .map(|()| None);
            }
            return self.read_answer(response, &message).await;
        }
    }

    /// Reads the answer to a request: a JSON body, or an SSE stream resumed when it breaks.
    async fn read_answer(
        &self,
        response: Answer,
        message: &Outbound,
    ) -> Result<Option<Response>, TransportError> {
        let id = message.id.as_ref();
        if is_event_stream(&response) {
            let mut cursor = Cursor::default();
            if let Ended::Answered(reply) = self
                .read_sse(response, id, Keep::IfFirst, &mut cursor)
                .await
            {
                return Ok(reply.map(|r| *r));
            }
            if self.closed.is_cancelled() {
                return Err(TransportError::closed());
            }
            if cursor.last_id.is_none() {
                return Err(TransportError::new(
                    TransportErrorKind::Io,
                    "the server closed the response stream before answering, and gave no event \
                     id to resume it with",
                ));
            }
            // T-33, T-37: the stream broke before the response: resume it with GET.
            return self.resume(id.cloned(), cursor, None).await.map(|()| None);
        }
        if content_type(&response).starts_with("application/json") {
            let body = body_bytes(response).await?;
            match Parsed::parse(&body) {
                // The usual answer, the response alone, goes straight back to the caller.
                Ok(Parsed::Single(Message::Response(reply))) if reply.id.as_ref() == id => {
                    return Ok(Some(reply));
                }
                parsed => {
                    if self.deliver_body(parsed, id).await {
                        return Ok(None);
                    }
                }
            }
            return Err(TransportError::new(
                TransportErrorKind::Protocol,
                "the server's JSON answer held no response to the request",
            ));
        }
        Err(TransportError::new(
            TransportErrorKind::Protocol,
            format!(
                "the server answered a request with {status} and content type {content_type:?}, \
                 neither JSON nor an SSE stream",
                status = response.status(),
                content_type = content_type(&response),
            ),
        ))
    }

    /// Reads the answer to `initialize`, taking the negotiated version from it (T-44).
    async fn read_initialize(
        &self,
        response: Answer,
        message: &Outbound,
    ) -> Result<(), TransportError> {
        let reply = self.initialize_reply(response, message).await?;
        if let Some(version) = negotiated_version(&reply) {
            lock(&self.session).set_protocol_version(version);
        }
        self.deliver(Message::Response(reply)).await;
        Ok(())
    }

    /// The response to an `initialize` POST, JSON or SSE, kept rather than delivered.
    async fn initialize_reply(
        &self,
        response: Answer,
        message: &Outbound,
    ) -> Result<mcp_http_proto::jsonrpc::Response, TransportError> {
        let id = message.id.as_ref();
        if is_event_stream(&response) {
            if let Ended::Answered(Some(reply)) = self
                .read_sse(response, id, Keep::Always, &mut Cursor::default())
                .await
            {
                return Ok(*reply);
            }
        } else {
            let body = body_bytes(response).await?;
            if let Ok(Message::Response(reply)) = Message::parse(&body)
                && reply.id.as_ref() == id
            {
                return Ok(reply);
            }
        }
        Err(TransportError::new(
            TransportErrorKind::Protocol,
            "the server's answer to initialize held no initialize response",
        ))
    }

    /// Starts a new session in place of session generation `expired`: replays `initialize`
    /// (with no session header) and `notifications/initialized` (T-41). Concurrent callers wait
    /// for one replay; until it is done, requests still go out in the old session and come back
    /// here.
    fn reinitialize(self: &Arc<Self>, expired: u64) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            let _one_at_a_time = self.reinitializing.lock().await;
            if self.generation() != expired {
                return Ok(()); // another request has done it
            }
            let (initialize, version) = {
                let session = lock(&self.session);
                let version = session.protocol_version().map(str::to_owned);
                (session.initialize.clone(), version)
            };
            let Some(initialize) = initialize else {
                return Err(session_expired());
            };
            tracing::info!("the session expired; starting a new one");
            let response = self.post_json(&initialize.json, false).await?;
            if !response.status().is_success() {
                return Err(refused(response).await);
            }
            let new_id = issued_session_id(&response).cloned();
            let reply = self.initialize_reply(response, &initialize).await?;
            let negotiated = negotiated_version(&reply);
            if negotiated.is_none() || negotiated != version {
                return Err(TransportError::new(
                    TransportErrorKind::SessionExpired,
                    format!(
                        "the session expired, and the server no longer agrees to protocol \
                         version {}",
                        version.unwrap_or_default()
                    ),
                ));
            }
            lock(&self.session).set_id(new_id);
            // Streams of the old session stop now.
            self.generation.fetch_add(1, Ordering::AcqRel);
            let initialized =
                Bytes::from_static(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
            let response = self.post_json(&initialized, true).await?;
            if !response.status().is_success() {
                return Err(refused(response).await);
            }
            if self.config.get_stream {
                self.open_get_stream().await;
            }
            Ok(())
        })
    }

    /// Opens the standalone GET stream (T-9), which then lives in the background; when its
    /// session turns out to be gone, starts a new one if allowed. Waits (briefly) until the
    /// server has answered the GET, so a server that sends its requests on that stream has it
    /// before the client's first request arrives.
    async fn open_get_stream(self: &Arc<Self>) {
        let shared = self.clone();
        let (connected, answered) = oneshot::channel();
        tokio::spawn(async move {
            let generation = shared.generation();
            match shared
                .resume(None, Cursor::default(), Some(connected))
                .await
            {
                // When a new session has already replaced this one, reinitialize does nothing.
                Err(e) if e.is_session_expired() => {
                    if shared.config.reinitialize
                        && let Err(e) = shared.reinitialize(generation).await
                    {
                        tracing::warn!(error = %e, "could not start a new session");
                    }
                }
                Err(e) if !e.is_closed() && !e.is_session_expired() => {
                    tracing::warn!(error = %e, "gave up on the GET stream");
                }
                _ => {}
            }
        });
        let _ = tokio::time::timeout(GET_STREAM_WAIT, answered).await;
    }
}

/// The protocol version an `initialize` result agreed to.
fn negotiated_version(reply: &mcp_http_proto::jsonrpc::Response) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct InitVersion {
        protocol_version: String,
    }
    let result = reply.outcome.as_ref().ok()?;
    serde_json::from_str::<InitVersion>(result.get())
        .ok()
        .map(|i| i.protocol_version)
}

/// Whether a message refused with 404 may be sent again in a new session: requests and
/// notifications may; a cancellation or a response belongs to the old session.
fn retryable(message: &Outbound) -> bool {
    match message.kind {
        OutboundKind::Request => true,
        OutboundKind::Response => false,
        OutboundKind::Notification => {
            method_of(message).as_deref() != Some(method::NOTIFICATION_CANCELLED)
        }
    }
}

impl MessageSink for Sink {
    fn send(&self, message: Outbound) -> Sending<'_> {
        Sending::waiting(async move {
            // Only a request has a response to hand back; if one came, it goes the usual way.
            if let Some(reply) = self.0.post(message).await? {
                self.0.deliver(Message::Response(reply)).await;
            }
            Ok(())
        })
    }

    fn send_request(
        &self,
        message: Outbound,
    ) -> BoxFuture<'_, Result<Option<Response>, TransportError>> {
        Box::pin(self.0.post(message))
    }

    fn close(&self) {
        let shared = self.0.clone();
        shared.closed.cancel();
        if let (true, true, Ok(rt)) = (
            shared.config.delete_on_close,
            shared.has_session(),
            tokio::runtime::Handle::try_current(),
        ) {
            rt.spawn(async move {
                // T-42; 405 means the server does not let clients end sessions (T-42a).
                if let Err(e) = shared
                    .send(Method::DELETE, &shared.uri, Base::Session, |_| {})
                    .await
                {
                    tracing::debug!(error = %e, "DELETE of the session failed");
                }
                shared.finished.cancel();
            });
        } else {
            shared.finished.cancel();
        }
    }

    fn closed(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {
            let _ = tokio::time::timeout(CLOSE_WAIT, self.0.finished.cancelled()).await;
        })
    }
}

impl Transport for StreamableHttpClient {
    fn split(self) -> (Arc<dyn MessageSink>, MessageStream) {
        let (tx, rx) = mpsc::channel(1024);
        let closed = CancellationToken::new();
        let headers = self.config.headers.clone();
        let proxy_authorization = self.http.proxy_authorization(&self.uri);
        let shared = Arc::new(Shared {
            url: self.url,
            uri: self.uri,
            http: self.http,
            proxy_authorization,
            config: self.config,
            session: Mutex::new(Session::new(headers)),
            generation: AtomicU64::new(0),
            reinitializing: tokio::sync::Mutex::new(()),
            legacy_endpoint: Mutex::new(None),
            inbound: tx,
            closed: closed.clone(),
            finished: CancellationToken::new(),
        });
        // The stream ends when the connection is lost for good (the 2024-11-05 stream broke),
        // which closes the peer.
        let stream = futures::stream::unfold((rx, closed), |(mut rx, closed)| async move {
            tokio::select! {
                message = rx.recv() => message.map(|m| (m, (rx, closed))),
                _ = closed.cancelled() => None,
            }
        });
        (Arc::new(Sink(shared)), stream.boxed())
    }
}
