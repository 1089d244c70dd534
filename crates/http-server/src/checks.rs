//! Request checks: Host and Origin (SEC-1, SEC-2, SEC-5), Accept (406), Content-Type (415),
//! and the protocol version header (T-44..T-47).

use http::HeaderMap;
use http::header::{ACCEPT, CONTENT_TYPE, HOST, ORIGIN};
use mcp_http_proto::ProtocolVersion;

/// Whether `host` (a Host header or authority, maybe with a port) is a loopback name.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        }),
    };
    ["localhost", "127.0.0.1", "::1"]
        .iter()
        .any(|loopback| name.eq_ignore_ascii_case(loopback))
}

fn listed(value: &str, allowed: &[String]) -> bool {
    allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(value))
}

/// SEC-5: the Host (or HTTP/2 authority) must be loopback or allow-listed.
pub(crate) fn host_allowed(uri: &http::Uri, headers: &HeaderMap, allowed: &[String]) -> bool {
    let host = uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| headers.get(HOST).and_then(|h| h.to_str().ok()));
    match host {
        Some(host) => {
            let bare = host.rsplit_once(':').map_or(host, |(h, _)| h);
            is_loopback_host(host) || listed(host, allowed) || listed(bare, allowed)
        }
        None => listed("", allowed),
    }
}

/// SEC-1, SEC-2: an Origin, when present, must be a loopback origin or allow-listed.
pub(crate) fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if listed(origin, allowed) {
        return true;
    }
    let host = origin.split_once("://").map_or("", |(_, rest)| rest);
    matches!(
        origin.split_once("://").map(|(s, _)| s),
        Some("http" | "https")
    ) && is_loopback_host(host)
}

/// What the Accept header admits, directly, through `type/*` or `*/*`, with any parameters.
/// No Accept header admits all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accepted {
    /// `application/json`.
    pub(crate) json: bool,
    /// `text/event-stream`.
    pub(crate) event_stream: bool,
}

/// Reads the Accept header once for both media types (every POST checks both): bytes, no
/// allocation, no UTF-8 validation.
pub(crate) fn accepted(headers: &HeaderMap) -> Accepted {
    let all = headers.get_all(ACCEPT);
    let mut values = all.iter();
    // What the official SDKs (and ours) send, checked whole before any parsing.
    if let (Some(value), None) = (values.next(), values.next())
        && value.as_bytes() == b"application/json, text/event-stream"
    {
        return Accepted {
            json: true,
            event_stream: true,
        };
    }
    let mut values = all.iter().peekable();
    let mut out = Accepted {
        json: values.peek().is_none(),
        event_stream: values.peek().is_none(),
    };
    for item in values.flat_map(|value| value.as_bytes().split(|&b| b == b',')) {
        let media = item
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        let anything = media == b"*/*";
        out.json |= anything
            || media.eq_ignore_ascii_case(b"application/json")
            || media.eq_ignore_ascii_case(b"application/*");
        out.event_stream |= anything
            || media.eq_ignore_ascii_case(b"text/event-stream")
            || media.eq_ignore_ascii_case(b"text/*");
    }
    out
}

/// Whether the body is declared as JSON (415 otherwise).
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    let value = headers.get(CONTENT_TYPE);
    if value.is_some_and(|v| v.as_bytes() == b"application/json") {
        return true;
    }
    value
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// The `MCP-Protocol-Version` header: `Ok(None)` when absent, `Err` when not a legacy version
/// this server supports (T-46).
pub(crate) fn protocol_version(headers: &HeaderMap) -> Result<Option<ProtocolVersion>, String> {
    const NAME: http::HeaderName = http::HeaderName::from_static("mcp-protocol-version");
    let Some(value) = headers.get(NAME) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("");
    match ProtocolVersion::parse(text) {
        Some(v) if v.is_legacy() => Ok(Some(v)),
        _ => Err(format!(
            "Bad Request: unsupported MCP-Protocol-Version {text:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn hosts_and_origins() {
        let uri: http::Uri = "/mcp".parse().unwrap();
        for ok in [
            "localhost",
            "localhost:3000",
            "127.0.0.1:8080",
            "[::1]:1",
            "[::1]",
        ] {
            assert!(host_allowed(&uri, &headers(&[("host", ok)]), &[]), "{ok}");
        }
        assert!(!host_allowed(
            &uri,
            &headers(&[("host", "evil.example.com")]),
            &[]
        ));
        assert!(!host_allowed(
            &uri,
            &headers(&[("host", "localhost.evil.com")]),
            &[]
        ));
        assert!(host_allowed(
            &uri,
            &headers(&[("host", "mcp.example.com:443")]),
            &["mcp.example.com".into()]
        ));
        assert!(origin_allowed(&headers(&[]), &[]));
        assert!(origin_allowed(
            &headers(&[("origin", "http://localhost:5173")]),
            &[]
        ));
        assert!(!origin_allowed(
            &headers(&[("origin", "http://evil.example.com")]),
            &[]
        ));
        assert!(!origin_allowed(&headers(&[("origin", "null")]), &[]));
        assert!(origin_allowed(
            &headers(&[("origin", "https://app.example.com")]),
            &["https://app.example.com".into()]
        ));
    }

    #[test]
    fn accept_variants() {
        let both = |json, event_stream| Accepted { json, event_stream };
        let accept = |value: &'static str| accepted(&headers(&[("accept", value)]));
        assert_eq!(
            accept("application/json, text/event-stream"),
            both(true, true)
        );
        assert_eq!(accept("*/*"), both(true, true));
        assert_eq!(accept("application/json;q=0.9, text/*"), both(true, true));
        assert_eq!(accept("text/html"), both(false, false));
        assert_eq!(accept("Application/JSON"), both(true, false));
        assert_eq!(accept("application/*"), both(true, false));
        assert_eq!(accepted(&headers(&[])), both(true, true));
        assert!(is_json(&headers(&[(
            "content-type",
            "application/json; charset=utf-8"
        )])));
        assert!(!is_json(&headers(&[("content-type", "text/plain")])));
        assert!(
            protocol_version(&headers(&[("mcp-protocol-version", "2025-03-26")]))
                .unwrap()
                .is_some()
        );
        assert!(protocol_version(&headers(&[("mcp-protocol-version", "1999")])).is_err());
    }
}
