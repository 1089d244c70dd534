//! JSON-RPC on the wire for the load generator: prebuilt request bodies, answers checked by id
//! (JSON or SSE), and the initialize handshake of a session.

use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::conn::{Conn, McpHeaders, Target};

/// Why one request did not succeed; `kind` is the key errors are counted by.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// An HTTP status other than the expected one.
    Http(u16),
    /// A JSON-RPC error response: its code and message.
    Rpc(i64, String),
    /// A tool result with `isError: true`.
    ToolError,
    /// Connecting, writing or reading failed.
    Transport(String),
    /// No answer within the timeout.
    Timeout,
    /// An answer that is not what the protocol says (no response with our id, bad JSON...).
    Invalid(String),
}

impl Failure {
    /// The counting key: `http 404`, `json-rpc -32602`, `tool isError`, `transport`...
    pub(crate) fn kind(&self) -> String {
        match self {
            Failure::Http(status) => format!("http {status}"),
            Failure::Rpc(code, _) => format!("json-rpc {code}"),
            Failure::ToolError => "tool isError".to_owned(),
            Failure::Transport(_) => "transport".to_owned(),
            Failure::Timeout => "timeout".to_owned(),
            Failure::Invalid(_) => "invalid response".to_owned(),
        }
    }

    /// Whether the connection can no longer be trusted (its state is unknown).
    pub(crate) fn breaks_connection(&self) -> bool {
        matches!(
            self,
            Failure::Transport(_) | Failure::Timeout | Failure::Invalid(_)
        )
    }

    /// A one-line description, for the report's examples.
    pub(crate) fn describe(&self) -> String {
        match self {
            Failure::Transport(m) | Failure::Invalid(m) | Failure::Rpc(_, m) => {
                format!("{}: {m}", self.kind())
            }
            _ => self.kind(),
        }
    }
}

/// Builds `tools/call` bodies: a fixed prefix and suffix around a fresh id.
#[derive(Clone)]
pub(crate) struct CallBody {
    suffix: Vec<u8>,
}

const PREFIX: &[u8] = br#"{"jsonrpc":"2.0","id":"#;

impl CallBody {
    /// Bodies for `tools/call` of `tool` with `arguments` (a JSON object).
    pub(crate) fn new(tool: &str, arguments: &serde_json::Value) -> CallBody {
        let suffix = format!(
            r#","method":"tools/call","params":{{"name":{},"arguments":{}}}}}"#,
            serde_json::Value::from(tool),
            arguments
        );
        CallBody {
            suffix: suffix.into_bytes(),
        }
    }

    /// Bodies for a 2026-07-28 `tools/call`: the same, with the `_meta` envelope.
    pub(crate) fn modern(tool: &str, arguments: &serde_json::Value) -> CallBody {
        let meta = serde_json::json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "mcp-http-bench", "version": env!("CARGO_PKG_VERSION")},
        });
        let suffix = format!(
            r#","method":"tools/call","params":{{"name":{},"arguments":{},"_meta":{}}}}}"#,
            serde_json::Value::from(tool),
            arguments,
            meta
        );
        CallBody {
            suffix: suffix.into_bytes(),
        }
    }

    /// The body with this id.
    pub(crate) fn with_id(&self, id: u64) -> Bytes {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(id).as_bytes();
        let mut body = Vec::with_capacity(PREFIX.len() + digits.len() + self.suffix.len());
        body.extend_from_slice(PREFIX);
        body.extend_from_slice(digits);
        body.extend_from_slice(&self.suffix);
        Bytes::from(body)
    }
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(default)]
    result: Option<ResultFlags>,
    #[serde(default)]
    error: Option<ErrorCode>,
}

#[derive(Deserialize)]
struct ResultFlags {
    #[serde(rename = "isError", default)]
    is_error: bool,
}

#[derive(Deserialize)]
struct ErrorCode {
    code: i64,
    #[serde(default)]
    message: String,
}

/// Finds the response to `id` in a JSON body or an SSE body and checks it succeeded.
pub(crate) fn check_answer(body: &[u8], sse: bool, id: u64) -> Result<(), Failure> {
    let mut digits = itoa::Buffer::new();
    let want = digits.format(id);
    let mut outcome = None;
    let mut visit = |data: &[u8]| {
        if outcome.is_some() || data.is_empty() {
            return;
        }
        if let Ok(message) = serde_json::from_slice::<Message<'_>>(data)
            && message.id.is_some_and(|got| got.get() == want)
        {
            outcome = Some(match (message.result, message.error) {
                (_, Some(error)) => Err(Failure::Rpc(error.code, error.message)),
                (Some(result), None) if result.is_error => Err(Failure::ToolError),
                (Some(_), None) => Ok(()),
                (None, None) => Err(Failure::Invalid("neither result nor error".to_owned())),
            });
        }
    };
    if sse {
        for_each_event(body, &mut visit);
    } else {
        visit(body);
    }
    outcome.unwrap_or_else(|| Err(Failure::Invalid(format!("no response with id {id}"))))
}

/// Calls `visit` with the data of every SSE event of a complete body.
pub(crate) fn for_each_event(body: &[u8], visit: &mut impl FnMut(&[u8])) {
    let mut data: Vec<u8> = Vec::new();
    let mut any = false;
    for line in body.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            if any {
                visit(&data);
            }
            data.clear();
            any = false;
        } else if let Some(value) = line.strip_prefix(b"data:") {
            if any {
                data.push(b'\n');
            }
            data.extend_from_slice(value.strip_prefix(b" ").unwrap_or(value));
            any = true;
        }
    }
    if any {
        visit(&data);
    }
}

/// An initialized session: its id and the negotiated protocol version.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) headers: McpHeaders,
}

/// Initializes a session on `conn`: `initialize`, then `notifications/initialized`.
pub(crate) async fn initialize(
    conn: &mut Conn,
    target: &Target,
    version: &str,
    id: u64,
    timeout: Duration,
) -> Result<Session, Failure> {
    let body = serde_json::json!({
        "jsonrpc": "2.0", "id": id, "method": "initialize",
        "params": {"protocolVersion": version, "capabilities": {},
                   "clientInfo": {"name": "mcp-http-bench", "version": env!("CARGO_PKG_VERSION")}}
    });
    let reply = within(
        timeout,
        conn.post(
            target,
            &McpHeaders::default(),
            Bytes::from(body.to_string()),
        ),
    )
    .await?;
    if reply.status != http::StatusCode::OK {
        return Err(Failure::Http(reply.status.as_u16()));
    }
    let session = reply.headers.get("mcp-session-id").cloned();
    let mut negotiated = None;
    let mut visit = |data: &[u8]| {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data)
            && let Some(v) = value
                .pointer("/result/protocolVersion")
                .and_then(|v| v.as_str())
        {
            negotiated = Some(v.to_owned());
        }
    };
    if reply.is_sse() {
        for_each_event(&reply.body, &mut visit);
    } else {
        visit(&reply.body);
    }
    check_answer(&reply.body, reply.is_sse(), id)?;
    let version = negotiated.unwrap_or_else(|| version.to_owned());
    let headers = McpHeaders {
        session,
        version: Some(
            HeaderValue::from_str(&version)
                .map_err(|_| Failure::Invalid(format!("protocol version {version:?}")))?,
        ),
        ..McpHeaders::default()
    };
    let note = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    let reply = within(
        timeout,
        conn.post(target, &headers, Bytes::from_static(note)),
    )
    .await?;
    if !reply.status.is_success() {
        return Err(Failure::Http(reply.status.as_u16()));
    }
    Ok(Session { headers })
}

/// Bounds a step by `timeout`.
pub(crate) async fn within<T>(
    timeout: Duration,
    step: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    tokio::time::timeout(timeout, step)
        .await
        .map_err(|_| Failure::Timeout)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_the_id() {
        let body = CallBody::new("echo", &serde_json::json!({"message": "hi"}));
        let value: serde_json::Value = serde_json::from_slice(&body.with_id(42)).unwrap();
        assert_eq!(value["id"], 42);
        assert_eq!(value["params"]["name"], "echo");
        assert_eq!(value["params"]["arguments"]["message"], "hi");
    }

    #[test]
    fn answers_are_found_by_id() {
        let ok = br#"{"jsonrpc":"2.0","id":7,"result":{"content":[]}}"#;
        assert!(check_answer(ok, false, 7).is_ok());
        assert!(matches!(
            check_answer(ok, false, 8),
            Err(Failure::Invalid(_))
        ));
        let sse = b"id: a\nretry: 5\ndata: \n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32602,\"message\":\"m\"}}\n\n";
        assert!(matches!(
            check_answer(sse, true, 7),
            Err(Failure::Rpc(-32602, _))
        ));
        let tool_error = br#"{"jsonrpc":"2.0","id":7,"result":{"content":[],"isError":true}}"#;
        assert!(matches!(
            check_answer(tool_error, false, 7),
            Err(Failure::ToolError)
        ));
    }
}
