//! A request of the 2026-07-28 era over HTTP: its own POST outside any session (no
//! `Mcp-Session-Id`, no GET stream, no DELETE, no resumption: H-6, H-12), with the
//! `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and `Mcp-Param-{Name}` headers (H-7, H-10),
//! values that need it in the base64 sentinel (H-9). An error answer that holds a JSON-RPC error
//! (-32020, -32022, ... on HTTP 4xx) comes back as that error, so the client can act on its code;
//! 401 and 403 stay typed HTTP errors.

use std::sync::Mutex;

use http::StatusCode;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use mcp_http_core::reply::{Answered, ReplyReader};
use mcp_http_core::sync::lock;
use mcp_http_core::{ModernRequest, Outbound, OutboundKind, TransportError, TransportErrorKind};
use mcp_http_proto::jsonrpc::{Message, Response};

use crate::connection::Connection;
use crate::exchange::{
    Answer, body_bytes, content_type, error_body, is_event_stream, status_error, with_post_headers,
    with_room,
};
use crate::stream::{Cursor, Ended, Keep};

/// `MCP-Protocol-Version`.
const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
/// `Mcp-Method` (H-7).
const MCP_METHOD: HeaderName = HeaderName::from_static("mcp-method");
/// `Mcp-Name` (H-7).
const MCP_NAME: HeaderName = HeaderName::from_static("mcp-name");

/// The header value for `value`: as is, or `=?base64?{b64 of UTF-8}?=` when it needs it (H-9;
/// `mcp_http_proto::header_value::encode`).
pub fn encode_header_value(value: &str) -> HeaderValue {
    let encoded = mcp_http_proto::header_value::encode(value);
    // Plain values are visible ASCII, spaces and tabs, and Base64 is too: always valid.
    HeaderValue::from_str(&encoded).unwrap_or(HeaderValue::from_static(""))
}

/// How many header sets [`ModernHeaders`] keeps.
const KEPT: usize = 32;

/// The headers of the modern POSTs of a connection, built once per protocol version, method
/// and name and then copied: a client calls the same few tools again and again.
pub(crate) struct ModernHeaders {
    /// The configured headers with Accept and Content-Type.
    base: HeaderMap,
    kept: Mutex<Vec<Kept>>,
}

/// The headers of requests with this version, method and name.
struct Kept {
    version: Box<str>,
    method: Option<Box<str>>,
    name: Option<Box<str>>,
    headers: HeaderMap,
}

impl Kept {
    fn is_for(&self, version: &str, method: Option<&str>, name: Option<&str>) -> bool {
        *self.version == *version
            && self.method.as_deref() == method
            && self.name.as_deref() == name
    }
}

impl ModernHeaders {
    /// The headers of modern POSTs with the `configured` ones.
    pub(crate) fn new(configured: &HeaderMap) -> ModernHeaders {
        ModernHeaders {
            base: with_post_headers(configured.clone()),
            kept: Mutex::new(Vec::new()),
        }
    }

    /// The headers of a modern POST: the configured ones, Accept and Content-Type, and the
    /// per-request ones (protocol headers give way to configured ones of the same name).
    fn of(&self, message: &Outbound, modern: &ModernRequest) -> HeaderMap {
        let (version, method, name) = (
            &*modern.protocol_version,
            message.method.as_deref(),
            message.name.as_deref(),
        );
        let mut headers = {
            let mut kept = lock(&self.kept);
            match kept.iter().find(|k| k.is_for(version, method, name)) {
                Some(k) => k.headers.clone(),
                None => {
                    // PF-73: with room for what a request adds, so its clones' index need not grow.
                    let headers = with_room(self.build(version, method, name));
                    if kept.len() == KEPT {
                        kept.clear();
                    }
                    kept.push(Kept {
                        version: version.into(),
                        method: method.map(Into::into),
                        name: name.map(Into::into),
                        headers: headers.clone(),
                    });
                    headers
                }
            }
        };
        for (name, value) in &modern.params {
            // The client checked the names (H-10); one that is not a token is left out.
            if let Ok(header) = HeaderName::try_from(format!("mcp-param-{name}")) {
                headers.insert(header, encode_header_value(value));
            }
        }
        headers
    }

    fn build(&self, version: &str, method: Option<&str>, name: Option<&str>) -> HeaderMap {
        let mut headers = self.base.clone();
        if let Ok(v) = HeaderValue::from_str(version) {
            headers.entry(PROTOCOL_VERSION).or_insert(v);
        }
        if let Some(method) = method {
            headers
                .entry(MCP_METHOD)
                .or_insert(encode_header_value(method));
        }
        if let Some(name) = name {
            headers.entry(MCP_NAME).or_insert(encode_header_value(name));
        }
        headers
    }
}

impl Connection {
    /// Sends a message of the 2026-07-28 era; for a request, returns its response.
    pub(crate) async fn post_modern(
        &self,
        message: &Outbound,
        modern: &ModernRequest,
        read: Option<&mut ReplyReader<'_>>,
    ) -> Result<Option<Answered>, TransportError> {
        let response = self
            .exchange
            .post(self.endpoint.uri(), message, || {
                self.modern_headers.of(message, modern)
            })
            .await?;
        let status = response.status();
        if !status.is_success() {
            // PF-74: off the quick path, boxed (see `Connection::post_unbounded`).
            return Box::pin(error_answer(response, message))
                .await
                .map(|r| r.map(Answered::Response));
        }
        if message.kind != OutboundKind::Request {
            return Ok(None);
        }
        let id = message.id.as_ref();
        if is_event_stream(&response) {
            // H-6: no resumption. A stream that ends before its response loses the request.
            let mut cursor = Cursor::default();
            let streams = self.streams();
            return match Box::pin(streams.read(response, id, Keep::IfFirst, &mut cursor)).await {
                Ended::Answered(reply) => Ok(reply.map(|r| Answered::Response(*r))),
                Ended::Failed(e) => Err(e),
                Ended::Broken if self.inbound.is_closed() => Err(TransportError::closed()),
                Ended::Broken => Err(TransportError::new(
                    TransportErrorKind::Io,
                    "the server closed the response stream before answering (the request is \
                     lost; a 2026-07-28 stream is not resumed)",
                )),
            };
        }
        if !content_type(&response).starts_with("application/json") {
            return Err(TransportError::new(
                TransportErrorKind::Protocol,
                format!(
                    "the server answered a request with {status} and content type {kind:?}, \
                     without its response",
                    kind = content_type(&response)
                ),
            ));
        }
        let body = body_bytes(response, self.config.max_body_size).await?;
        if let Some(answer) = self.json_answer(&body, id, read).await {
            return Ok(answer);
        }
        Err(TransportError::new(
            TransportErrorKind::Protocol,
            format!(
                "the server answered a request with {status} and content type \"application/json\", \
                 without its response"
            ),
        ))
    }
}

/// An error answer: the JSON-RPC error it holds as the request's response, or a typed HTTP
/// error (always for 401 and 403, which are about authorization, not the message).
async fn error_answer(
    response: Answer,
    message: &Outbound,
) -> Result<Option<Response>, TransportError> {
    let status = response.status();
    let json = content_type(&response).starts_with("application/json");
    let body = error_body(response).await;
    let auth = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
    if json
        && !auth
        && message.kind == OutboundKind::Request
        && let Ok(Message::Response(mut reply)) = Message::parse(&body)
        && reply.outcome.is_err()
        && (reply.id.is_none() || reply.id == message.id)
    {
        // An error about an unreadable request may carry a null id: it is still this one's.
        reply.id = message.id.clone();
        return Ok(Some(reply));
    }
    let detail = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned());
    Err(status_error(status, &detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_stay_plain() {
        for v in [
            "us-west1",
            "42",
            "true",
            "",
            "us west 1",
            "file:///a%20b.txt",
        ] {
            assert_eq!(encode_header_value(v), v, "{v:?}");
        }
    }

    #[test]
    fn unsafe_values_use_the_sentinel() {
        for (v, b64) in [
            ("Hello, 世界", "SGVsbG8sIOS4lueVjA=="),
            (" padded ", "IHBhZGRlZCA="),
            ("line1\nline2", "bGluZTEKbGluZTI="),
            ("\tindented", "CWluZGVudGVk"),
            ("=?base64?eA==?=", "PT9iYXNlNjQ/ZUE9PT89"),
        ] {
            assert_eq!(encode_header_value(v), format!("=?base64?{b64}?="), "{v:?}");
        }
    }
}
