//! Request checks: Host and Origin (SEC-1, SEC-2, SEC-5), Accept (406), Content-Type (415),
//! and the protocol version header (T-44..T-47).

use http::{HeaderMap, HeaderValue, header};
use mcp_http_proto::ProtocolVersion;

/// The request headers the endpoint reads, found in one pass over the header map: a hashed
/// lookup of each (five to eight per request) cost more than reading them all once. Each field
/// is the header's first value, as [`HeaderMap::get`] gives it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Headers<'h> {
    pub(crate) host: Option<&'h HeaderValue>,
    pub(crate) origin: Option<&'h HeaderValue>,
    pub(crate) content_type: Option<&'h HeaderValue>,
    /// `Mcp-Session-Id`.
    pub(crate) session: Option<&'h HeaderValue>,
    /// `MCP-Protocol-Version`.
    pub(crate) version: Option<&'h HeaderValue>,
    pub(crate) last_event_id: Option<&'h HeaderValue>,
    /// `Mcp-Method`.
    pub(crate) method: Option<&'h HeaderValue>,
    /// `Mcp-Name`.
    pub(crate) name: Option<&'h HeaderValue>,
    accept: Option<&'h HeaderValue>,
    /// Which of the headers above came more than once ([`Repeated`] bits).
    repeated: u8,
    /// Whether any `Mcp-Param-*` header came (they are collected only then).
    pub(crate) has_param_headers: bool,
    map: &'h HeaderMap,
}

/// Bits of [`Headers::repeated`].
#[derive(Debug, Clone, Copy)]
#[repr(u8)]
pub(crate) enum Repeated {
    Accept = 1,
    Version = 2,
    Method = 4,
    Name = 8,
}

impl<'h> Headers<'h> {
    /// Reads `map` once.
    pub(crate) fn read(map: &'h HeaderMap) -> Self {
        let mut h = Headers {
            host: None,
            origin: None,
            content_type: None,
            session: None,
            version: None,
            last_event_id: None,
            method: None,
            name: None,
            accept: None,
            repeated: 0,
            has_param_headers: false,
            map,
        };
        for (name, value) in map {
            // The standard names compared as `http`'s constants (a tag each, PF-113), the
            // others by their text only when they may be ours.
            let (slot, bit) = if name == header::HOST {
                (&mut h.host, 0)
            } else if name == header::ACCEPT {
                (&mut h.accept, Repeated::Accept as u8)
            } else if name == header::CONTENT_TYPE {
                (&mut h.content_type, 0)
            } else if name == header::ORIGIN {
                (&mut h.origin, 0)
            } else {
                let text = name.as_str();
                match text.strip_prefix("mcp-") {
                    Some("protocol-version") => (&mut h.version, Repeated::Version as u8),
                    Some("session-id") => (&mut h.session, 0),
                    Some("method") => (&mut h.method, Repeated::Method as u8),
                    Some("name") => (&mut h.name, Repeated::Name as u8),
                    Some(other) => {
                        h.has_param_headers |= other.starts_with("param-");
                        continue;
                    }
                    None if text == "last-event-id" => (&mut h.last_event_id, 0),
                    None => continue,
                }
            };
            match slot {
                None => *slot = Some(value),
                Some(_) => h.repeated |= bit,
            }
        }
        h
    }

    /// Whether the header of `bit` came more than once.
    pub(crate) fn is_repeated(&self, bit: Repeated) -> bool {
        self.repeated & bit as u8 != 0
    }

    /// The whole map, for what the fields above do not cover.
    pub(crate) fn map(&self) -> &'h HeaderMap {
        self.map
    }
}

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

/// A `Host` that names loopback as clients write it (`127.0.0.1` or `localhost`, with or
/// without a port), read on the header's bytes: no UTF-8 check, no splitting (PF-34). Only
/// ever true where [`is_loopback_host`] is; anything else goes to it.
fn is_plain_loopback(host: &[u8]) -> bool {
    [b"127.0.0.1".as_slice(), b"localhost"]
        .iter()
        .any(|name| match host.strip_prefix(*name) {
            Some([]) => true,
            Some([b':', port @ ..]) => port.iter().all(u8::is_ascii_digit),
            _ => false,
        })
}

/// SEC-5: the Host (or HTTP/2 authority) must be loopback or allow-listed.
pub(crate) fn host_allowed(uri: &http::Uri, headers: &Headers<'_>, allowed: &[String]) -> bool {
    if uri.authority().is_none()
        && headers
            .host
            .is_some_and(|h| is_plain_loopback(h.as_bytes()))
    {
        return true;
    }
    let host = uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| headers.host.and_then(|h| h.to_str().ok()));
    match host {
        Some(host) => {
            let bare = host.rsplit_once(':').map_or(host, |(h, _)| h);
            is_loopback_host(host) || listed(host, allowed) || listed(bare, allowed)
        }
        None => listed("", allowed),
    }
}

/// SEC-1, SEC-2: an Origin, when present, must be a loopback origin or allow-listed.
pub(crate) fn origin_allowed(headers: &Headers<'_>, allowed: &[String]) -> bool {
    let Some(origin) = headers.origin else {
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
pub(crate) fn accepted(headers: &Headers<'_>) -> Accepted {
    // What the official SDKs (and ours) send, checked whole before any parsing.
    if let Some(value) = headers.accept
        && !headers.is_repeated(Repeated::Accept)
        && value.as_bytes() == b"application/json, text/event-stream"
    {
        return Accepted {
            json: true,
            event_stream: true,
        };
    }
    let mut values = headers.map.get_all(header::ACCEPT).iter().peekable();
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
pub(crate) fn is_json(headers: &Headers<'_>) -> bool {
    let value = headers.content_type;
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
pub(crate) fn protocol_version(headers: &Headers<'_>) -> Result<Option<ProtocolVersion>, String> {
    let Some(value) = headers.version else {
        return Ok(None);
    };
    // Read by its bytes (PF-113); the text only for the refusal.
    match ProtocolVersion::from_bytes(value.as_bytes()) {
        Some(v) if v.is_legacy() => Ok(Some(v)),
        _ => {
            let text = value.to_str().unwrap_or("");
            Err(format!(
                "Bad Request: unsupported MCP-Protocol-Version {text:?}"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> Headers<'static> {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        Headers::read(Box::leak(Box::new(h)))
    }

    #[test]
    fn one_pass_reads_first_values_and_notes_repeats() {
        let h = headers(&[
            ("host", "localhost"),
            ("mcp-method", "tools/call"),
            ("mcp-method", "tools/list"),
            ("mcp-session-id", "abc"),
            ("mcp-param-region", "eu"),
            ("x-other", "1"),
        ]);
        assert_eq!(h.host.unwrap(), "localhost");
        assert_eq!(h.method.unwrap(), "tools/call");
        assert!(h.is_repeated(Repeated::Method));
        assert!(!h.is_repeated(Repeated::Version));
        assert_eq!(h.session.unwrap(), "abc");
        assert!(h.has_param_headers);
        assert!(h.version.is_none() && h.name.is_none() && h.origin.is_none());
        assert!(!headers(&[("x-mcp-param-a", "1")]).has_param_headers);
    }

    /// PF-113: each field is what the map's own lookup gives, whatever else the request has.
    #[test]
    fn each_field_is_the_map_s_first_value() {
        let names = [
            "host",
            "accept",
            "content-type",
            "origin",
            "mcp-protocol-version",
            "mcp-session-id",
            "mcp-method",
            "mcp-name",
            "last-event-id",
        ];
        let mut map = HeaderMap::new();
        for (i, name) in names.iter().enumerate().rev() {
            map.append(*name, HeaderValue::from(i));
            map.append("content-length", HeaderValue::from(i));
            map.append("mcp-other", HeaderValue::from(i));
            map.append("last-event", HeaderValue::from(i));
        }
        map.append("mcp-name", HeaderValue::from_static("second"));
        let h = Headers::read(&map);
        let fields = [
            h.host,
            h.accept,
            h.content_type,
            h.origin,
            h.version,
            h.session,
            h.method,
            h.name,
            h.last_event_id,
        ];
        for (name, field) in names.iter().zip(fields) {
            assert_eq!(field, map.get(*name), "{name}");
        }
        assert!(h.is_repeated(Repeated::Name) && !h.is_repeated(Repeated::Accept));
        assert!(!h.has_param_headers);
        assert!(Headers::read(&HeaderMap::new()).host.is_none());
    }

    /// PF-113: the version header read by its bytes refuses what the text read refused.
    #[test]
    fn the_version_header_is_read_by_its_bytes() {
        let version = |v: &'static [u8]| {
            let mut map = HeaderMap::new();
            map.insert("mcp-protocol-version", HeaderValue::from_bytes(v).unwrap());
            protocol_version(&Headers::read(Box::leak(Box::new(map))))
        };
        assert_eq!(
            version(b"2025-06-18"),
            Ok(Some(ProtocolVersion::V2025_06_18))
        );
        assert!(
            version(b"2026-07-28").is_err(),
            "not negotiated in a session"
        );
        assert!(version(b"2025-06-18x").is_err());
        let refused = version(b"2025-06-1\xe9").unwrap_err();
        assert!(
            refused.contains("unsupported MCP-Protocol-Version"),
            "{refused}"
        );
        assert_eq!(protocol_version(&headers(&[])), Ok(None));
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
        // PF-34: the byte-level loopback check agrees with the general one wherever it answers.
        for host in [
            "127.0.0.1",
            "127.0.0.1:18700",
            "localhost:",
            "localhost:80x",
            "localhost.evil.com",
            "127.0.0.10",
            "127.0.0.1.evil",
            "LOCALHOST:1",
            "[::1]:1",
            "",
        ] {
            if is_plain_loopback(host.as_bytes()) {
                assert!(is_loopback_host(host), "{host}");
            }
        }
        assert!(is_plain_loopback(b"127.0.0.1:18700") && is_plain_loopback(b"localhost"));
        assert!(!is_plain_loopback(b"localhost:80x") && !is_plain_loopback(b"127.0.0.10"));
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
