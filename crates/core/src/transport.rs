//! The `Transport` trait: how the peer engine exchanges messages with the other side.
//!
//! A transport is split into a [`MessageSink`], which sends serialized messages, and a stream of
//! received messages. Each outbound message says which inbound request it belongs to
//! ([`Outbound::related`]), so a transport with several streams (Streamable HTTP) can route it to
//! that request's stream (T-16, T-29b); a single-stream transport (stdio) ignores it.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use mcp_http_proto::jsonrpc::{InvalidMessage, Message, RequestId, Response};

use crate::reply::{Answered, ReplyReader};

/// What kind of JSON-RPC message an [`Outbound`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundKind {
    /// A request to the other side.
    Request,
    /// A notification.
    Notification,
    /// A response (result or error) to a request the other side sent.
    Response,
}

/// A message ready to send: serialized once, with what a transport needs to route it.
///
/// Besides the JSON, it carries what a transport may have to send beside the message (the
/// 2026-07-28 revision's `Mcp-Method` and `Mcp-Name` headers), so no transport parses the JSON
/// again to learn them.
///
/// ```
/// use bytes::Bytes;
/// use mcp_http_core::{Outbound, OutboundKind};
/// use mcp_http_proto::RequestId;
/// let call = Outbound::new(
///     Bytes::from_static(br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add"}}"#),
///     OutboundKind::Request,
/// )
/// .id(RequestId::Number(1))
/// .method("tools/call")
/// .name("add");
/// assert_eq!(call.name.as_deref(), Some("add"));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Outbound {
    /// The JSON text of the message, without a trailing newline.
    pub json: Bytes,
    /// Request, notification or response.
    pub kind: OutboundKind,
    /// The inbound request this message belongs to: the request a response answers, or the
    /// request whose handler sent a notification or a server-to-client request.
    pub related: Option<RequestId>,
    /// For a request: its id. For a response: the id it answers (same as `related`).
    pub id: Option<RequestId>,
    /// For a request or a notification: its JSON-RPC method.
    pub method: Option<Cow<'static, str>>,
    /// What a `tools/call`, `resources/read` or `prompts/get` request is about: the tool name,
    /// the resource URI or the prompt name. `None` for every other message.
    pub name: Option<Cow<'static, str>>,
    /// Set on a request of the 2026-07-28 era: what it carries beside its JSON (H-7, H-10).
    /// `None` for a message of a legacy session.
    pub modern: Option<Arc<ModernRequest>>,
}

/// What a request of the 2026-07-28 era carries beside its JSON: the protocol version it is
/// sent under (the `MCP-Protocol-Version` header, H-7) and the values of its tool's
/// `x-mcp-header` parameters (the `Mcp-Param-{Name}` headers, H-10), unencoded. A transport
/// that sees it sends the message on its own, outside any session (H-6, H-12).
///
/// ```
/// use mcp_http_core::ModernRequest;
/// let modern = ModernRequest::new("2026-07-28").param("Region", "us-west1");
/// assert_eq!(modern.params[0].1, "us-west1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModernRequest {
    /// The protocol version of the request (the `_meta` one).
    pub protocol_version: Cow<'static, str>,
    /// `(Name, value)` of each `Mcp-Param-{Name}` header, in the tool's order.
    pub params: Vec<(String, String)>,
}

impl ModernRequest {
    /// A request sent under `protocol_version`, with no parameter headers.
    pub fn new(protocol_version: impl Into<Cow<'static, str>>) -> Self {
        ModernRequest {
            protocol_version: protocol_version.into(),
            params: Vec::new(),
        }
    }

    /// Adds an `Mcp-Param-{name}` header with `value` (encoded by the transport, H-9).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }
}

impl Outbound {
    /// A serialized message of `kind`, with nothing else known about it yet.
    pub fn new(json: Bytes, kind: OutboundKind) -> Self {
        Outbound {
            json,
            kind,
            related: None,
            id: None,
            method: None,
            name: None,
            modern: None,
        }
    }

    /// Marks the message as belonging to the inbound request `related`.
    pub fn related(mut self, related: RequestId) -> Self {
        self.related = Some(related);
        self
    }

    /// Sets the id: a request's own, or the one a response answers.
    pub fn id(mut self, id: RequestId) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the JSON-RPC method of a request or notification.
    pub fn method(mut self, method: impl Into<Cow<'static, str>>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Sets the name a request is about (tool name, resource URI, prompt name).
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// The sending half of a transport.
pub trait MessageSink: Send + Sync + 'static {
    /// Sends one message. Resolves once the message is queued or written.
    fn send(&self, message: Outbound) -> Sending<'_>;

    /// Sends a request. A transport that reads the response in the same exchange (an HTTP POST
    /// answered with the response alone) may return it here instead of passing it through the
    /// message stream: the peer then completes the request in the sending task, with no hand-off
    /// between tasks. The default sends and returns `None`.
    fn send_request(
        &self,
        message: Outbound,
    ) -> BoxFuture<'_, Result<Option<Response>, TransportError>> {
        Box::pin(async move { self.send(message).await.map(|()| None) })
    }

    /// [`MessageSink::send_request`], offering the answer's body to `read` when the exchange
    /// holds it whole (an HTTP POST's JSON answer): what it takes never becomes a message, and
    /// the send returns [`Answered::Read`] (PF-35). What it declines goes the usual way. The
    /// default never offers it.
    fn send_request_reading<'a>(
        &'a self,
        message: Outbound,
        read: Option<&'a mut ReplyReader<'_>>,
    ) -> BoxFuture<'a, Result<Option<Answered>, TransportError>> {
        let _ = read;
        let send = self.send_request(message);
        Box::pin(async move { send.await.map(|r| r.map(Answered::Response)) })
    }

    /// Closes the connection carrying the stream of inbound request `related`, without ending the
    /// stream: the client resumes it later (SSE polling, T-12, T-13). Returns whether the
    /// transport did so; transports without such streams do nothing.
    fn close_stream(&self, related: &RequestId) -> bool {
        let _ = related;
        false
    }

    /// Inbound request `id` was cancelled and ends with no response (X-2): whatever the
    /// transport holds for its answer (an HTTP POST's stream) ends as if answered, with nothing
    /// more (RL-53). Not called for a request that was answered, nor when the peer closes.
    /// Transports without such state do nothing.
    fn end_unanswered(&self, id: &RequestId) {
        let _ = id;
    }

    /// The peer is closing: release the connection (an HTTP client ends its session here).
    fn close(&self) {}

    /// The sink as its own type, for the transport that made it ([`crate::Peer::sink_as`]).
    /// The default: not told.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }

    /// Resolves when what [`MessageSink::close`] started has finished (an HTTP client's DELETE
    /// answered), so a short-lived process can wait for it before it exits. Bounded by the
    /// transport.
    fn closed(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
}

/// A sink that queues each message's JSON on a channel, for transports with a writer task.
#[derive(Debug, Clone)]
pub struct ChannelSink(pub tokio::sync::mpsc::Sender<Bytes>);

impl MessageSink for ChannelSink {
    fn send(&self, message: Outbound) -> Sending<'_> {
        use tokio::sync::mpsc::error::TrySendError;
        match self.0.try_send(message.json) {
            Ok(()) => Sending::done(Ok(())),
            Err(TrySendError::Closed(_)) => Sending::done(Err(TransportError::closed())),
            // Only a full queue makes the sender wait.
            Err(TrySendError::Full(json)) => Sending::waiting(async move {
                self.0
                    .send(json)
                    .await
                    .map_err(|_| TransportError::closed())
            }),
        }
    }
}

/// What [`MessageSink::send`] returns: a send that finished at once (the message is queued),
/// which costs no allocation, or one still to wait for.
///
/// ```
/// use mcp_http_core::transport::Sending;
/// # async fn f() {
/// assert!(Sending::done(Ok(())).await.is_ok());
/// assert!(Sending::waiting(async { Ok(()) }).await.is_ok());
/// # }
/// ```
#[must_use = "a send that is not awaited may not happen"]
pub struct Sending<'a>(SendingState<'a>);

enum SendingState<'a> {
    Done(Option<Result<(), TransportError>>),
    Waiting(BoxFuture<'a, Result<(), TransportError>>),
}

impl<'a> Sending<'a> {
    /// A send that has already finished with `result`.
    pub fn done(result: Result<(), TransportError>) -> Self {
        Sending(SendingState::Done(Some(result)))
    }

    /// A send that finishes when `future` does.
    pub fn waiting(future: impl Future<Output = Result<(), TransportError>> + Send + 'a) -> Self {
        Sending(SendingState::Waiting(Box::pin(future)))
    }
}

impl fmt::Debug for Sending<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.0 {
            SendingState::Done(_) => "done",
            SendingState::Waiting(_) => "waiting",
        };
        f.debug_tuple("Sending").field(&state).finish()
    }
}

impl Future for Sending<'_> {
    type Output = Result<(), TransportError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            // Polled again after it finished: the message went already.
            SendingState::Done(result) => Poll::Ready(result.take().unwrap_or(Ok(()))),
            SendingState::Waiting(future) => future.as_mut().poll(cx),
        }
    }
}

/// The stream of received messages. An item is a message, or the error to answer for bytes
/// that were not a valid JSON-RPC message. The stream ends when the connection closes.
pub type MessageStream = BoxStream<'static, Result<Message, InvalidMessage>>;

/// A bidirectional message transport, such as stdio or an in-memory pair.
pub trait Transport: Send + 'static {
    /// Splits the transport into its sending half and its stream of received messages.
    fn split(self) -> (Arc<dyn MessageSink>, MessageStream);

    /// Where the transport connects, as a key for what a client remembers per server (the era
    /// a server speaks, H-13): an HTTP endpoint's `scheme://host:port/path`. `None` (the
    /// default) for transports with no such address.
    fn origin(&self) -> Option<String> {
        None
    }
}

/// What went wrong in a transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection is closed.
    Closed,
    /// An I/O error.
    Io,
    /// The HTTP peer answered with an unexpected status.
    HttpStatus(u16),
    /// The session is gone (HTTP 404 on a request that carried a session id, T-41).
    SessionExpired,
    /// The peer broke the protocol (bad content type, bad framing).
    Protocol,
}

/// The cause of a [`TransportError`], shared by its clones.
type Source = Arc<dyn StdError + Send + Sync + 'static>;

/// A transport failure: a kind, a message, and the error that caused it when there is one.
///
/// The predicates answer the questions a caller asks, in hyper's style: [`is_connect`]
/// (the connection could not be opened), [`is_timeout`], [`is_closed`],
/// [`is_session_expired`], [`is_status`] (with [`status`]) and [`is_protocol`].
///
/// [`is_connect`]: TransportError::is_connect
/// [`is_timeout`]: TransportError::is_timeout
/// [`is_closed`]: TransportError::is_closed
/// [`is_session_expired`]: TransportError::is_session_expired
/// [`is_status`]: TransportError::is_status
/// [`status`]: TransportError::status
/// [`is_protocol`]: TransportError::is_protocol
///
/// ```
/// use std::error::Error;
/// use mcp_http_core::TransportError;
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let e = TransportError::connect("cannot connect to 127.0.0.1:1").with_source(refused);
/// assert!(e.is_connect());
/// assert!(e.source().is_some());
/// ```
#[derive(Debug, Clone)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: Arc<str>,
    /// Set when opening the connection failed: the kind stays `Io`, which callers match on.
    connect: bool,
    source: Option<Source>,
}

impl TransportError {
    /// A new error of a kind, with a message.
    pub fn new(kind: TransportErrorKind, message: impl Into<Arc<str>>) -> Self {
        TransportError {
            kind,
            message: message.into(),
            connect: false,
            source: None,
        }
    }

    /// The connection could not be opened: an [`TransportErrorKind::Io`] error for which
    /// [`TransportError::is_connect`] holds.
    pub fn connect(message: impl Into<Arc<str>>) -> Self {
        TransportError {
            connect: true,
            ..Self::new(TransportErrorKind::Io, message)
        }
    }

    /// The connection is closed.
    pub fn closed() -> Self {
        Self::new(TransportErrorKind::Closed, "connection closed")
    }

    /// The same error, caused by `source` (what [`std::error::Error::source`] returns).
    pub fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.source = Some(Arc::from(source.into()));
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.kind == TransportErrorKind::Closed
    }

    /// Whether the session expired (T-41).
    pub fn is_session_expired(&self) -> bool {
        self.kind == TransportErrorKind::SessionExpired
    }

    /// Whether the connection to the other side could not be opened (refused, unreachable,
    /// name not resolved, TLS handshake failed).
    pub fn is_connect(&self) -> bool {
        self.connect
    }

    /// Whether something took too long: an I/O timeout among the causes (a connect timeout,
    /// say).
    pub fn is_timeout(&self) -> bool {
        let mut cause = self
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static));
        while let Some(c) = cause {
            if let Some(io) = c.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::TimedOut {
                    return true;
                }
                // An io::Error's source skips the error it wraps: look at that one too.
                if let Some(inner) = io.get_ref() {
                    cause = Some(inner);
                    continue;
                }
            }
            cause = c.source();
        }
        false
    }

    /// Whether the other side answered with an unexpected HTTP status.
    pub fn is_status(&self) -> bool {
        self.status().is_some()
    }

    /// The HTTP status the other side answered with, when that is the failure.
    pub fn status(&self) -> Option<u16> {
        match self.kind {
            TransportErrorKind::HttpStatus(status) => Some(status),
            _ => None,
        }
    }

    /// Whether the other side broke the protocol (or a setting made the message unsendable).
    pub fn is_protocol(&self) -> bool {
        self.kind == TransportErrorKind::Protocol
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl From<std::io::Error> for TransportError {
    fn from(e: std::io::Error) -> Self {
        Self::new(TransportErrorKind::Io, e.to_string()).with_source(e)
    }
}
