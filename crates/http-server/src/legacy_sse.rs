//! The 2024-11-05 HTTP+SSE transport, served beside the Streamable HTTP endpoint for old
//! clients (T-48, BR-33): `GET` on the SSE path opens a stream whose first event is `endpoint`,
//! naming the address to POST to (`{messages path}?sessionId=ID`); every POST there is answered
//! 202 and what the session sends (responses, notifications, the server's requests) goes out on
//! that stream. A session per stream, ended when the stream's connection closes. The endpoint's
//! checks apply: Host and Origin, CORS, the body's size and read time, the principal.

use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use http::header::HeaderValue;
use http::{Method, Request, StatusCode};
use http_body::Body;
use mcp_http_core::transport::{Outbound, Sending, TransportError};
use mcp_http_core::{Extensions, MessageSink};
use mcp_http_proto::ErrorObject;
use mcp_http_proto::jsonrpc::Parsed;

use crate::body::ResponseBody;
use crate::checks;
use crate::queue::QueueTx;
use crate::rejection::{Rejection, error_response};
use crate::service::{HttpResponse, StreamableHttpService, preflight_allowing, sse, status};

/// Where the 2024-11-05 transport is served ([`crate::HttpConfig::legacy_sse`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LegacySse {
    /// The path of the `GET` that opens a session's stream (`/sse` by default).
    pub sse_path: String,
    /// The path the `endpoint` event names for the session's POSTs (`/messages` by default).
    pub messages_path: String,
}

impl Default for LegacySse {
    fn default() -> Self {
        LegacySse {
            sse_path: "/sse".into(),
            messages_path: "/messages".into(),
        }
    }
}

impl LegacySse {
    /// The transport at `sse_path`, its POSTs at `messages_path`.
    pub fn new(sse_path: impl Into<String>, messages_path: impl Into<String>) -> Self {
        LegacySse {
            sse_path: sse_path.into(),
            messages_path: messages_path.into(),
        }
    }

    /// Whether `path` is one of the transport's.
    pub fn serves(&self, path: &str) -> bool {
        path == self.sse_path || path == self.messages_path
    }
}

/// The stream's end of a session: each message becomes a `message` event.
struct StreamSink {
    tx: Mutex<Option<QueueTx>>,
}

impl MessageSink for StreamSink {
    fn send(&self, message: Outbound) -> Sending<'_> {
        let mut tx = mcp_http_core::sync::lock(&self.tx);
        let Some(queue) = tx.as_ref() else {
            return Sending::done(Err(TransportError::closed()));
        };
        let mut event = BytesMut::new();
        crate::sse::put_event(&mut event, None, &message.json);
        if queue.try_send(event.freeze()).is_err() {
            // The client is gone, or reads too slowly for the queue: either way the stream is
            // no use any more, and its end ends the session.
            tracing::debug!("a 2024-11-05 stream is gone or full: it is closed");
            *tx = None;
            return Sending::done(Err(TransportError::closed()));
        }
        Sending::done(Ok(()))
    }

    fn close(&self) {
        // The body ends once what was queued is written.
        mcp_http_core::sync::lock(&self.tx).take();
    }
}

impl StreamableHttpService {
    /// Answers a request on one of the 2024-11-05 transport's paths.
    pub(crate) async fn legacy_sse<B>(&self, paths: &LegacySse, request: Request<B>) -> HttpResponse
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (mut parts, body) = request.into_parts();
        // A POST's extensions go to its handler, with the principal it acts for.
        let identity = (parts.method == Method::POST).then(|| self.identity(&mut parts));
        let parts = parts;
        let headers = checks::Headers::read(&parts.headers);
        let origin = headers.origin.cloned();
        let config = self.config();
        let checked = if config.validate_host_and_origin
            && !checks::origin_allowed(&headers, &config.allowed_origins)
        {
            Err(Rejection::OriginNotAllowed)
        } else if config.validate_host_and_origin
            && !checks::host_allowed(&parts.uri, &headers, &config.allowed_hosts)
        {
            Err(Rejection::HostNotAllowed)
        } else {
            Ok(())
        };
        let path = parts.uri.path();
        let answered = match (checked, &parts.method) {
            (Err(rejection), _) => Err(rejection),
            (Ok(()), &Method::OPTIONS) if config.cors => Ok(preflight()),
            (Ok(()), &Method::GET) if path == paths.sse_path => self.open_stream(paths, &parts),
            (Ok(()), &Method::POST) if path == paths.messages_path => match identity {
                Some(identity) => self.legacy_post(&parts, &headers, body, identity).await,
                None => Ok(method_not_allowed(false)),
            },
            (Ok(()), _) => Ok(method_not_allowed(path == paths.sse_path)),
        };
        let mut response = answered.unwrap_or_else(Rejection::into_response);
        self.add_cors(origin.as_ref(), &mut response);
        response
    }

    /// `GET` on the SSE path: a new session and its stream, the `endpoint` event first.
    fn open_stream(
        &self,
        paths: &LegacySse,
        parts: &http::request::Parts,
    ) -> Result<HttpResponse, Rejection> {
        let config = self.config();
        let (tx, rx) = crate::queue::queue(config.connection_queue);
        let sink = Arc::new(StreamSink {
            tx: Mutex::new(Some(tx)),
        });
        let principal = self.principal(parts);
        let (id, _, guard) = self
            .inner
            .per_connection
            .open(&self.inner, sink, principal)?;
        tracing::debug!(session = %id, "2024-11-05 session opened");
        let endpoint = Bytes::from(format!(
            "event: endpoint\ndata: {}?sessionId={id}\n\n",
            paths.messages_path
        ));
        let body = ResponseBody::sse(endpoint, rx, config.keep_alive, None, None).on_close(guard);
        Ok(sse(body))
    }

    /// A POST to the messages path: the message goes to the session `sessionId` names, whose
    /// stream carries what answers it; 202 at once.
    async fn legacy_post<B>(
        &self,
        parts: &http::request::Parts,
        headers: &checks::Headers<'_>,
        body: B,
        (extensions, principal): (Extensions, Option<mcp_http_core::Principal>),
    ) -> Result<HttpResponse, Rejection>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let Some(id) = session_id(parts.uri.query()) else {
            return Ok(error_response(
                StatusCode::BAD_REQUEST,
                None,
                ErrorObject::invalid_request(
                    "Invalid Request: the sessionId query parameter is missing",
                ),
            ));
        };
        let connection = self.inner.per_connection.get(id, principal.as_ref())?;
        if !checks::is_json(headers) {
            return Err(Rejection::UnsupportedMediaType);
        }
        let config = self.config();
        let bytes =
            crate::limits::read_body(body, config.max_body_bytes, config.body_read_timeout).await?;
        let parsed = Parsed::parse(&bytes).map_err(Rejection::InvalidMessage)?;
        crate::per_connection::deliver(&connection.peer, parsed, &extensions).await;
        Ok(status(StatusCode::ACCEPTED))
    }
}

/// The `sessionId` parameter of a query string.
fn session_id(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("sessionId="))
        .filter(|id| !id.is_empty())
}

fn method_not_allowed(stream: bool) -> HttpResponse {
    let mut response = status(StatusCode::METHOD_NOT_ALLOWED);
    let allow = if stream { "GET" } else { "POST" };
    response
        .headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static(allow));
    response
}

fn preflight() -> HttpResponse {
    preflight_allowing("GET, POST, OPTIONS", "content-type, accept, authorization")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_id_is_read_from_the_query() {
        assert_eq!(session_id(Some("sessionId=abc")), Some("abc"));
        assert_eq!(session_id(Some("x=1&sessionId=abc")), Some("abc"));
        assert_eq!(session_id(Some("sessionId=")), None);
        assert_eq!(session_id(Some("session=abc")), None);
        assert_eq!(session_id(None), None);
    }
}
