//! One client's connection to a Streamable HTTP endpoint, as its sink and background tasks
//! share it: each message its own POST (T-2), the answer read from a JSON body or an SSE stream
//! (T-8), a new session when the old one is gone (T-41), the standalone GET stream once the
//! session is initialized (T-9), the 2024-11-05 fallback (T-49), and DELETE on close (T-42).

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Method, StatusCode};
use mcp_http_core::reply::{Answered, ReplyReader};
use mcp_http_core::{
    CancellationToken, Outbound, OutboundKind, TransportError, TransportErrorKind,
};
use mcp_http_proto::jsonrpc::{Message, Parsed, Response};
use mcp_http_proto::method;
use tokio::sync::oneshot;

use crate::client::HttpClient;
use crate::config::HttpClientConfig;
use crate::endpoint::Endpoint;
use crate::exchange::{Answer, Exchange, body_bytes, content_type, is_event_stream, refused};
use crate::inbound::Inbound;
use crate::legacy::{self, Legacy};
use crate::session::{
    Handshake, Session, issued_session_id, negotiated_version, retryable, session_expired,
    session_gone,
};
use crate::stream::{Cursor, Ended, Keep, Streams};

/// How long opening the GET stream may hold up the handshake.
const GET_STREAM_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// What the sink of a Streamable HTTP transport and its background tasks share.
pub(crate) struct Connection {
    pub(crate) endpoint: Endpoint,
    pub(crate) exchange: Exchange,
    session: Session,
    pub(crate) config: HttpClientConfig,
    legacy: Legacy,
    pub(crate) inbound: Inbound,
    /// What the headers of 2026-07-28 POSTs start from.
    pub(crate) modern_headers: crate::modern::ModernHeaders,
    /// Cancelled when closing has finished (the DELETE answered).
    finished: CancellationToken,
}

impl Connection {
    /// A connection to `endpoint` over `http`, delivering what the server sends to `inbound`.
    pub(crate) fn new(
        endpoint: Endpoint,
        http: HttpClient,
        config: HttpClientConfig,
        inbound: Inbound,
    ) -> Connection {
        // PF-112: the `Host` every request carries, in the headers they start from.
        let headers = crate::pool::with_plain_host(config.headers.clone(), endpoint.uri());
        Connection {
            exchange: Exchange::new(
                http,
                endpoint.uri(),
                config.auth.clone(),
                config.authorizer.clone(),
                config.max_redirects,
                config.cookies,
            ),
            modern_headers: crate::modern::ModernHeaders::new(&headers),
            session: Session::new(headers),
            endpoint,
            config,
            legacy: Legacy::default(),
            inbound,
            finished: CancellationToken::new(),
        }
    }

    /// The SSE reading and resumption of this connection.
    pub(crate) fn streams(&self) -> Streams<'_> {
        Streams {
            exchange: &self.exchange,
            session: &self.session,
            inbound: &self.inbound,
            config: &self.config,
            uri: self.endpoint.uri(),
        }
    }

    /// POSTs a message in the current session (or, for `initialize`, in none yet).
    async fn post_json(&self, message: &Outbound) -> Result<Answer, TransportError> {
        self.exchange
            .post(self.endpoint.uri(), message, || self.session.post_headers())
            .await
    }

    /// Sends a message. The response to a request comes back when the answer held it first
    /// (see `MessageSink::send_request`); anything else is delivered to the message stream.
    /// A request is bounded by the peer's timeout; a notification or a response, which no
    /// timer of the peer's waits on, by `send_timeout` (RL-25). A request's JSON answer is
    /// offered to `read` first (PF-35).
    pub(crate) async fn post(
        self: &Arc<Self>,
        message: Outbound,
        read: Option<&mut ReplyReader<'_>>,
    ) -> Result<Option<Answered>, TransportError> {
        if message.kind == OutboundKind::Request {
            return self.post_unbounded(message, read).await;
        }
        let limit = self.config.send_timeout;
        match tokio::time::timeout(limit, self.post_unbounded(message, None)).await {
            Ok(sent) => sent,
            Err(elapsed) => Err(TransportError::new(
                TransportErrorKind::Io,
                format!("the server did not take the message within {limit:?}"),
            )
            .with_source(std::io::Error::new(std::io::ErrorKind::TimedOut, elapsed))),
        }
    }

    /// [`Connection::post`] without the bound on notifications and responses.
    async fn post_unbounded(
        self: &Arc<Self>,
        message: Outbound,
        mut read: Option<&mut ReplyReader<'_>>,
    ) -> Result<Option<Answered>, TransportError> {
        if let Some(modern) = &message.modern {
            return self.post_modern(&message, modern, read).await;
        }
        // PF-74: the paths off the quick one are boxed, so the future every request moves
        // (into its box, through its awaits) is as large as the quick path's alone.
        if let Some(endpoint) = self.legacy.endpoint() {
            return Box::pin(legacy::post(
                &self.exchange,
                &endpoint,
                &self.config.headers,
                &message,
            ))
            .await
            .map(|()| None);
        }
        let handshake = self.session.note_handshake(&message);
        let mut retried = false;
        loop {
            let (generation, had_session) = (self.session.generation(), self.session.has_id());
            let response = self.post_json(&message).await?;
            let status = response.status();
            // A session's id, once taken, stays: only a request sent without one looks.
            if !had_session {
                self.session.adopt_issued_id(&response);
            }
            if matches!(status, StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST) && had_session {
                Box::pin(session_gone(response)).await?;
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
                    return Box::pin(self.legacy.connect(
                        &self.exchange,
                        &self.endpoint,
                        &self.config,
                        &self.inbound,
                        &message,
                        status,
                    ))
                    .await
                    .map(|()| None);
                }
                return Err(Box::pin(refused(response)).await);
            }
            if message.kind != OutboundKind::Request {
                // A body on a 200 to a notification or response is tolerated and ignored.
                if handshake == Handshake::Initialized && self.config.get_stream {
                    Box::pin(self.open_get_stream()).await;
                }
                return Ok(None);
            }
            if handshake == Handshake::Initialize {
                return Box::pin(self.read_initialize(response, &message))
                    .await
                    .map(|()| None);
            }
            return self.read_answer(response, &message, read.take()).await;
        }
    }

    /// Reads the answer to a request: a JSON body, or an SSE stream resumed when it breaks.
    async fn read_answer(
        &self,
        response: Answer,
        message: &Outbound,
        read: Option<&mut ReplyReader<'_>>,
    ) -> Result<Option<Answered>, TransportError> {
        let id = message.id.as_ref();
        let kind = content_type(&response);
        if kind.starts_with("text/event-stream") {
            return Box::pin(self.read_stream_answer(response, id)).await;
        }
        if kind.starts_with("application/json") {
            let body = body_bytes(response, self.config.max_body_size).await?;
            if let Some(answer) = self.json_answer(&body, id, read).await {
                return Ok(answer);
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

    /// Reads the answer to request `id` from an SSE stream, resumed when it breaks.
    async fn read_stream_answer(
        &self,
        response: Answer,
        id: Option<&mcp_http_proto::RequestId>,
    ) -> Result<Option<Answered>, TransportError> {
        let mut cursor = Cursor::default();
        let streams = self.streams();
        match streams.read(response, id, Keep::IfFirst, &mut cursor).await {
            Ended::Answered(reply) => return Ok(reply.map(|r| Answered::Response(*r))),
            Ended::Failed(e) => return Err(e),
            Ended::Broken => {}
        }
        if self.inbound.is_closed() {
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
        streams
            .resume(id.cloned(), cursor, None)
            .await
            .map(|()| None)
    }

    /// A JSON answer to request `id`: taken by `read` (PF-35) or its response when the body is
    /// that alone (the usual answer, straight back to the caller), `None` inside when the
    /// messages the body holds were delivered and answered it, `None` when they did not.
    pub(crate) async fn json_answer(
        &self,
        body: &[u8],
        id: Option<&mcp_http_proto::RequestId>,
        read: Option<&mut ReplyReader<'_>>,
    ) -> Option<Option<Answered>> {
        if let (Some(read), Some(id)) = (read, id)
            && read(id, body)
        {
            return Some(Some(Answered::Read));
        }
        match Parsed::parse(body) {
            Ok(Parsed::Single(Message::Response(reply))) if reply.id.as_ref() == id => {
                Some(Some(Answered::Response(reply)))
            }
            parsed => self.inbound.deliver_body(parsed, id).await.then_some(None),
        }
    }

    /// Reads the answer to `initialize`, taking the negotiated version from it (T-44).
    async fn read_initialize(
        &self,
        response: Answer,
        message: &Outbound,
    ) -> Result<(), TransportError> {
        let reply = self.initialize_reply(response, message).await?;
        if let Some(version) = negotiated_version(&reply) {
            self.session.set_protocol_version(version);
        }
        self.inbound.deliver(Message::Response(reply)).await;
        Ok(())
    }

    /// The response to an `initialize` POST, JSON or SSE, kept rather than delivered.
    async fn initialize_reply(
        &self,
        response: Answer,
        message: &Outbound,
    ) -> Result<Response, TransportError> {
        let id = message.id.as_ref();
        if is_event_stream(&response) {
            match self
                .streams()
                .read(response, id, Keep::Always, &mut Cursor::default())
                .await
            {
                Ended::Answered(Some(reply)) => return Ok(*reply),
                Ended::Failed(e) => return Err(e),
                _ => {}
            }
        } else if content_type(&response).starts_with("application/json") {
            let body = body_bytes(response, self.config.max_body_size).await?;
            if let Ok(Message::Response(reply)) = Message::parse(&body)
                && reply.id.as_ref() == id
            {
                return Ok(reply);
            }
        } else {
            // RL-26: an HTML page (a login page, a proxy's error) is not read at all.
            return Err(TransportError::new(
                TransportErrorKind::Protocol,
                format!(
                    "the server answered initialize with {status} and content type \
                     {content_type:?}, neither JSON nor an SSE stream",
                    status = response.status(),
                    content_type = content_type(&response),
                ),
            ));
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
            let Some(renewal) = self.session.renew(expired).await else {
                return Ok(()); // another request has done it
            };
            let (initialize, headers) = renewal.initialize()?;
            tracing::info!("the session expired; starting a new one");
            let response = self
                .exchange
                .post(self.endpoint.uri(), &initialize, || headers.clone())
                .await?;
            if !response.status().is_success() {
                return Err(refused(response).await);
            }
            let new_id = issued_session_id(&response).cloned();
            let reply = self.initialize_reply(response, &initialize).await?;
            renewal.finish(new_id, &reply)?;
            let initialized = Outbound::new(
                Bytes::from_static(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
                OutboundKind::Notification,
            )
            .method(method::NOTIFICATION_INITIALIZED);
            let response = self.post_json(&initialized).await?;
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
        let connection = self.clone();
        let (connected, answered) = oneshot::channel();
        tokio::spawn(async move {
            let generation = connection.session.generation();
            match connection
                .streams()
                .resume(None, Cursor::default(), Some(connected))
                .await
            {
                // When a new session has already replaced this one, reinitialize does nothing.
                Err(e) if e.is_session_expired() => {
                    if connection.config.reinitialize
                        && let Err(e) = connection.reinitialize(generation).await
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

    /// Closes the connection: ends the message stream and, when there is a session and the
    /// settings say so, sends DELETE in the background (T-42).
    pub(crate) fn close(self: &Arc<Self>) {
        self.inbound.close();
        if let (true, true, Ok(rt)) = (
            self.config.delete_on_close,
            self.session.has_id(),
            tokio::runtime::Handle::try_current(),
        ) {
            let connection = self.clone();
            rt.spawn(async move {
                // 405 means the server does not let clients end sessions (T-42a).
                if let Err(e) = connection
                    .exchange
                    .send(
                        Method::DELETE,
                        connection.endpoint.uri(),
                        || connection.session.headers(),
                        |_| {},
                    )
                    .await
                {
                    tracing::debug!(error = %e, "DELETE of the session failed");
                }
                connection.finished.cancel();
            });
        } else {
            self.finished.cancel();
        }
    }

    /// Passes a message on to the peer.
    pub(crate) async fn deliver(&self, message: Message) {
        self.inbound.deliver(message).await;
    }

    /// Resolves when closing has finished.
    pub(crate) async fn finished(&self) {
        self.finished.cancelled().await;
    }
}
