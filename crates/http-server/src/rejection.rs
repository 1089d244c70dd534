//! Every way the endpoint refuses an HTTP request, each with its fixed status, JSON-RPC code and
//! message, mapped to a response in one place (axum's typed rejections are the model). A message
//! says what is wrong in words a person understands and never carries internal detail.

use http::header::{ALLOW, CONNECTION, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Response, StatusCode};
use mcp_http_proto::jsonrpc::{InvalidMessage, Message, Response as RpcResponse};
use mcp_http_proto::{ErrorObject, RequestId, error_code};

use crate::body::ResponseBody;
use crate::modern::ladder::{MODERN_VERSIONS, Refusal};
use crate::router::ResumeError;

/// Why a request was refused.
#[derive(Debug)]
pub(crate) enum Rejection {
    /// Not the endpoint's path (404, no body).
    UnknownPath,
    /// An `Origin` the server does not accept (403, SEC-2).
    OriginNotAllowed,
    /// A `Host` the server does not accept (403, SEC-1).
    HostNotAllowed,
    /// A method the endpoint does not answer (405 with `Allow`, T-9).
    MethodNotAllowed {
        /// Stateless endpoints answer POST only.
        stateless: bool,
    },
    /// A POST that does not accept JSON, or SSE where the answer may be a stream (406, T-3, T-9).
    NotAcceptablePost,
    /// A GET that does not accept `text/event-stream` (406, T-24).
    NotAcceptableGet,
    /// A body that is not `application/json` (415, T-9).
    UnsupportedMediaType,
    /// A body over the configured limit (413 and `Connection: close`, after which the rest of
    /// the body is read for a while, RL-4).
    PayloadTooLarge,
    /// A body that did not arrive within the configured time (408 and `Connection: close`,
    /// RL-3).
    BodyTimeout,
    /// Too many requests in progress on the server (503 with `Retry-After`, RL-6).
    Overloaded,
    /// Too many requests in progress in this session (429 with `Retry-After`, RL-7).
    SessionBusy(RequestId),
    /// Too many open connections (503 with `Retry-After`, written by [`crate::serve`], RL-5).
    TooManyConnections,
    /// The body could not be read (the connection failed mid-body).
    BodyUnreadable,
    /// Bytes that are not a JSON-RPC message (400 with -32700 or -32600, B-4).
    InvalidMessage(InvalidMessage),
    /// No `Mcp-Session-Id` on a request that needs one (400, T-39a).
    SessionRequired,
    /// An unknown, ended or foreign session (404, T-40, SEC-6).
    SessionNotFound,
    /// An `MCP-Protocol-Version` the server does not support (400, T-46).
    UnsupportedVersion(String),
    /// An `initialize` in a session that is already initialized (400, L-1).
    AlreadyInitialized(RequestId),
    /// A request id that is still in progress in this session (400, B-2a).
    DuplicateRequest(RequestId),
    /// A JSON-RPC batch where the protocol version has none (400, T-4, T-10).
    BatchNotSupported,
    /// A request of the 2026-07-28 era on an endpoint that serves only the legacy era (400,
    /// -32601).
    ModernRequest(RequestId),
    /// A 2026-07-28 request refused on a rung of the validation ladder (its status and code).
    Modern(Refusal),
    /// A JSON-RPC batch carrying a 2026-07-28 message (400, -32600): the era has no batches.
    ModernBatch,
    /// A JSON-RPC response POSTed in the 2026-07-28 era, where the server sends no requests
    /// (400, -32600, M-9).
    ModernResponse,
    /// An `initialize` on an endpoint that serves only 2026-07-28 (400, -32022 naming the
    /// versions served, H-12): the request's id and the version it asked for.
    LegacyRefused(RequestId, String),
    /// Too many `subscriptions/listen` streams open (503 with `Retry-After`).
    TooManyListeners(RequestId),
    /// Too many SSE connections open in one session (429).
    TooManyStreams,
    /// A `Last-Event-ID` that is not visible ASCII (400).
    LastEventIdNotAscii,
    /// A `Last-Event-ID` that names nothing this session can resume (400, T-36).
    Resume(ResumeError),
    /// The server is shutting down (503 with `Retry-After`).
    ShuttingDown,
    /// The session limit is reached (503 with `Retry-After`).
    TooManySessions,
    /// The session store or message bus shared with other instances is unreachable (503 with
    /// `Retry-After`): not 404, since the session may well exist.
    StoreUnavailable,
    /// A client's answer to a server-to-client request whose instance is gone (410, RB-27): the
    /// request it answers ended with that instance, so a retry cannot help.
    AnswerOwnerGone,
    /// The session's stored record does not parse (500; the cause is logged).
    StoreCorrupt,
    /// The system's random number generator failed, so no unguessable id can be made (503 with
    /// `Retry-After`, T-38a): nothing guessable is ever handed out instead.
    RandomUnavailable,
}

impl Rejection {
    /// The HTTP status of this rejection.
    pub(crate) fn status(&self) -> StatusCode {
        use Rejection::*;
        match self {
            UnknownPath | SessionNotFound => StatusCode::NOT_FOUND,
            OriginNotAllowed | HostNotAllowed => StatusCode::FORBIDDEN,
            MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            NotAcceptablePost | NotAcceptableGet => StatusCode::NOT_ACCEPTABLE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            TooManyStreams | SessionBusy(_) => StatusCode::TOO_MANY_REQUESTS,
            StoreCorrupt => StatusCode::INTERNAL_SERVER_ERROR,
            AnswerOwnerGone => StatusCode::GONE,
            Modern(refusal) => refusal.rung.status(),
            ShuttingDown | TooManySessions | RandomUnavailable | StoreUnavailable
            | TooManyListeners(_) | Overloaded | TooManyConnections => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            BodyUnreadable
            | InvalidMessage(_)
            | SessionRequired
            | UnsupportedVersion(_)
            | AlreadyInitialized(_)
            | DuplicateRequest(_)
            | BatchNotSupported
            | ModernRequest(_)
            | ModernBatch
            | ModernResponse
            | LegacyRefused(..)
            | LastEventIdNotAscii
            | Resume(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// The JSON-RPC error of this rejection, with the id of the request when it was read.
    pub(crate) fn error(self) -> (Option<RequestId>, ErrorObject) {
        use Rejection::*;
        let server = |message: &str| ErrorObject::new(error_code::SERVER_ERROR, message);
        match self {
            InvalidMessage(invalid) => (invalid.id, invalid.error),
            AlreadyInitialized(id) => (
                Some(id),
                ErrorObject::invalid_request("Invalid Request: the session is already initialized"),
            ),
            DuplicateRequest(id) => {
                let error = ErrorObject::invalid_request(format!(
                    "Invalid Request: request id {id} is already in progress"
                ));
                (Some(id), error)
            }
            ModernRequest(id) => (
                Some(id),
                ErrorObject::new(
                    error_code::METHOD_NOT_FOUND,
                    "This server speaks MCP 2025-11-25 and earlier: start a session with initialize",
                ),
            ),
            Modern(refusal) => (Some(refusal.id), refusal.error),
            ModernBatch => (
                None,
                ErrorObject::invalid_request(
                    "Invalid Request: 2026-07-28 messages cannot be sent in a JSON-RPC batch",
                ),
            ),
            ModernResponse => (
                None,
                ErrorObject::invalid_request(
                    "Invalid Request: in 2026-07-28 the server sends no requests, so clients send no responses",
                ),
            ),
            LegacyRefused(id, requested) => {
                let data = mcp_http_proto::modern::UnsupportedProtocolVersionData::new(
                    MODERN_VERSIONS.iter().map(|v| v.as_str().into()).collect(),
                    requested,
                );
                let error = data.into_error(
                    "Unsupported protocol version: this server speaks 2026-07-28 only (no initialize; send _meta with every request)",
                );
                (Some(id), error)
            }
            TooManyListeners(id) => (
                Some(id),
                ErrorObject::new(
                    error_code::INTERNAL_ERROR,
                    "Service Unavailable: too many open subscriptions, retry later",
                ),
            ),
            SessionBusy(id) => (
                Some(id),
                server(
                    "Too Many Requests: this session has too many requests in progress; retry when some have finished",
                ),
            ),
            BatchNotSupported => (
                None,
                ErrorObject::invalid_request(
                    "Invalid Request: JSON-RPC batches are not supported in this protocol version",
                ),
            ),
            SessionNotFound => (
                None,
                ErrorObject::new(error_code::SESSION_NOT_FOUND, "Session not found"),
            ),
            UnsupportedVersion(message) => (None, server(&message)),
            other => (None, server(other.message())),
        }
    }

    /// The fixed message of a rejection whose message takes nothing from the request.
    fn message(&self) -> &'static str {
        use Rejection::*;
        match self {
            UnknownPath => "Not Found",
            OriginNotAllowed => "Forbidden: Origin not allowed",
            HostNotAllowed => "Forbidden: Host not allowed",
            MethodNotAllowed { .. } => "Method not allowed",
            NotAcceptablePost => {
                "Not Acceptable: the client must accept both application/json and text/event-stream"
            }
            NotAcceptableGet => "Not Acceptable: the client must accept text/event-stream",
            UnsupportedMediaType => "Unsupported Media Type: Content-Type must be application/json",
            PayloadTooLarge => "Payload Too Large: the request body is over the server's limit",
            BodyTimeout => "Request Timeout: the request body did not arrive in time",
            Overloaded => "Service Unavailable: too many requests in progress, retry later",
            TooManyConnections => "Service Unavailable: too many open connections, retry later",
            BodyUnreadable => "Bad Request: could not read the body",
            SessionRequired => "Bad Request: Mcp-Session-Id header is required",
            TooManyStreams => "Too Many Requests: too many open streams in this session",
            LastEventIdNotAscii => "Bad Request: Last-Event-ID is not visible ASCII",
            Resume(ResumeError::Malformed) => {
                "Bad Request: Last-Event-ID is not an event id of this server"
            }
            Resume(ResumeError::Foreign) => "Bad Request: Last-Event-ID belongs to another session",
            Resume(ResumeError::Unknown) => {
                "Bad Request: Last-Event-ID names no stream that can be resumed"
            }
            ShuttingDown => "Service Unavailable: the server is shutting down",
            TooManySessions => "Service Unavailable: too many sessions, retry later",
            StoreUnavailable => "Service Unavailable: session storage is unreachable, retry later",
            AnswerOwnerGone => {
                "Gone: the server instance that sent this request has stopped, and the request it answers ended with it"
            }
            StoreCorrupt => "Internal Server Error: the session's stored state is unreadable",
            RandomUnavailable => {
                "Service Unavailable: the server cannot make a secure identifier right now"
            }
            InvalidMessage(_)
            | SessionNotFound
            | UnsupportedVersion(_)
            | AlreadyInitialized(_)
            | DuplicateRequest(_)
            | BatchNotSupported
            | ModernRequest(_)
            | Modern(_)
            | ModernBatch
            | ModernResponse
            | LegacyRefused(..)
            | SessionBusy(_)
            | TooManyListeners(_) => "Bad Request",
        }
    }

    /// The response: the status, a JSON-RPC error body (none for an unknown path), and the
    /// headers the status calls for (`Allow`, `Retry-After`).
    pub(crate) fn into_response(self) -> Response<ResponseBody> {
        let status = self.status();
        let allow = match &self {
            Rejection::MethodNotAllowed { stateless: true } => Some("POST"),
            Rejection::MethodNotAllowed { stateless: false } => Some("GET, POST, DELETE"),
            _ => None,
        };
        // The rest of the body is not read: this connection cannot carry another request.
        let close = matches!(self, Rejection::PayloadTooLarge | Rejection::BodyTimeout);
        let retry_after = match &self {
            Rejection::SessionBusy(_) => Some("1"),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some("5"),
            _ => None,
        };
        if matches!(self, Rejection::UnknownPath) {
            let mut response = Response::new(ResponseBody::empty());
            *response.status_mut() = status;
            return response;
        }
        let (id, error) = self.error();
        let mut response = error_response(status, id, error);
        let headers = response.headers_mut();
        if let Some(allow) = allow {
            headers.insert(ALLOW, HeaderValue::from_static(allow));
        }
        if let Some(seconds) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(seconds));
        }
        if close {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// A JSON-RPC error response with `status`.
pub(crate) fn error_response(
    status: StatusCode,
    id: Option<RequestId>,
    error: ErrorObject,
) -> Response<ResponseBody> {
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

impl From<ResumeError> for Rejection {
    fn from(error: ResumeError) -> Self {
        Rejection::Resume(error)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn statuses_and_headers_come_from_the_rejection() {
        let r = Rejection::MethodNotAllowed { stateless: true }.into_response();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()[ALLOW], "POST");
        let r = Rejection::TooManySessions.into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[RETRY_AFTER], "5");
        let r = Rejection::UnknownPath.into_response();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(r.headers().get(CONTENT_TYPE).is_none());
        assert_eq!(
            Rejection::SessionNotFound.status(),
            StatusCode::NOT_FOUND,
            "T-40"
        );
    }

    #[test]
    fn limit_refusals_carry_their_status_and_headers() {
        let r = Rejection::PayloadTooLarge.into_response();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(r.headers()[CONNECTION], "close");
        let r = Rejection::BodyTimeout.into_response();
        assert_eq!(r.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(r.headers()[CONNECTION], "close");
        let r = Rejection::Overloaded.into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[RETRY_AFTER], "5");
        let r = Rejection::SessionBusy(RequestId::Number(7)).into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[RETRY_AFTER], "1");
        assert!(r.headers().get(CONNECTION).is_none());
    }
}
