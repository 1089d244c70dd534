//! Which era a server speaks (H-13): the setting, the probe's verdict, and what this process
//! remembers per server.
//!
//! A client in [`Era::Auto`] probes with `server/discover` (a 2026-07-28 request). A valid
//! `DiscoverResult` listing 2026-07-28 means the modern era. Answers that mean "I do not speak
//! it" (a JSON-RPC error such as -32601, -32600 or -32602; HTTP 400, 404 or 405 without a modern
//! answer; -32022 whose `supported` names no version we speak) mean the legacy era, and the
//! client goes on with `initialize`. A timeout, a connection failure, 401, 403 or any other
//! status is an error: it says nothing about the era.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use mcp_http_core::{RequestError, RequestOptions};
use mcp_http_proto::modern::{DiscoverResult, META_SERVER_INFO, UnsupportedProtocolVersionData};
use mcp_http_proto::{Implementation, ProtocolVersion, ServerCapabilities, error_code, method};

use crate::modern::Context;

/// Which era to speak: found out ([`Era::Auto`], the default) or pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Era {
    /// Probe with `server/discover`; fall back to `initialize` when the server is legacy.
    #[default]
    Auto,
    /// The legacy era: `initialize`, a session (2024-11-05 to 2025-11-25).
    Legacy,
    /// The 2026-07-28 era: every request stands alone, no fallback.
    Modern,
}

impl Era {
    /// `"auto"`, `"legacy"` or `"modern"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Era::Auto => "auto",
            Era::Legacy => "legacy",
            Era::Modern => "modern",
        }
    }
}

impl std::fmt::Display for Era {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one answer to the probe says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The server does not speak the modern era.
    Legacy,
    /// -32022 naming a modern version we speak: ask again with it (M-6).
    RetryWith(ProtocolVersion),
}

/// Reads a failed probe: `Ok` when the failure tells the era, `Err` (the failure itself)
/// when it does not.
pub(crate) fn classify(error: RequestError) -> Result<Verdict, RequestError> {
    match &error {
        RequestError::Rpc(e) if e.code == error_code::UNSUPPORTED_PROTOCOL_VERSION => {
            let modern = e
                .data
                .clone()
                .and_then(|d| serde_json::from_value::<UnsupportedProtocolVersionData>(d).ok())
                .and_then(|d| {
                    d.supported
                        .iter()
                        .filter_map(|v| ProtocolVersion::parse(v))
                        .filter(|v| !v.is_legacy())
                        .max()
                });
            Ok(match modern {
                Some(v) => Verdict::RetryWith(v),
                None => Verdict::Legacy,
            })
        }
        RequestError::Rpc(_) => Ok(Verdict::Legacy),
        RequestError::Transport(t) if matches!(t.status(), Some(400 | 404 | 405)) => {
            Ok(Verdict::Legacy)
        }
        _ => Err(error),
    }
}

/// What `server/discover` told about a modern server.
pub(crate) struct Discovered {
    pub(crate) version: ProtocolVersion,
    pub(crate) info: Implementation,
    pub(crate) capabilities: ServerCapabilities,
    pub(crate) instructions: Option<String>,
}

/// Probes with `server/discover` (H-13): `Some` for a modern server, `None` for an answer that
/// means legacy, an error for a failure that says nothing about the era.
pub(crate) async fn probe(context: &Context) -> Result<Option<Discovered>, RequestError> {
    let raw = match context
        .request(
            method::SERVER_DISCOVER,
            mcp_http_proto::jsonrpc::to_raw(&serde_json::json!({}))
                .map_err(|e| RequestError::Encode(e.to_string()))?,
            RequestOptions::default(),
        )
        .await
    {
        Ok(raw) => raw,
        Err(e) => return classify(e).map(|_| None),
    };
    let Ok(result) = serde_json::from_str::<DiscoverResult>(raw.get()) else {
        return Ok(None);
    };
    let Some(version) = result
        .supported_versions
        .iter()
        .filter_map(|v| ProtocolVersion::parse(v))
        .filter(|v| !v.is_legacy())
        .max()
    else {
        return Ok(None);
    };
    // M-4: `serverInfo` belongs in `_meta`; some servers put it beside the result's members.
    let whole: serde_json::Value = serde_json::from_str(raw.get()).unwrap_or_default();
    let info = result
        .meta
        .as_ref()
        .and_then(|m| m.get(META_SERVER_INFO))
        .or_else(|| whole.get("serverInfo"))
        .and_then(|v| serde_json::from_value::<Implementation>(v.clone()).ok())
        .unwrap_or_else(|| Implementation::new("unknown", ""));
    Ok(Some(Discovered {
        version,
        info,
        capabilities: result.capabilities,
        instructions: result.instructions,
    }))
}

/// What this process found each server to speak, keyed by `scheme://host:port/path` (H-13).
fn cache() -> &'static Mutex<HashMap<String, Era>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Era>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The era found earlier for `origin`, if any.
pub(crate) fn remembered(origin: Option<&str>) -> Option<Era> {
    let origin = origin?;
    mcp_http_core::sync::lock(cache()).get(origin).copied()
}

/// Remembers the era found for `origin`.
pub(crate) fn remember(origin: Option<&str>, era: Era) {
    if let Some(origin) = origin {
        mcp_http_core::sync::lock(cache()).insert(origin.to_owned(), era);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_http_core::{TransportError, TransportErrorKind};
    use mcp_http_proto::ErrorObject;
    use serde_json::json;

    fn status(code: u16) -> RequestError {
        RequestError::Transport(TransportError::new(
            TransportErrorKind::HttpStatus(code),
            "x",
        ))
    }

    #[test]
    fn legacy_answers() {
        for code in [-32601, -32600, -32602] {
            let e = RequestError::Rpc(ErrorObject::new(code, "no"));
            assert_eq!(classify(e).unwrap(), Verdict::Legacy);
        }
        for code in [400, 404, 405] {
            assert_eq!(classify(status(code)).unwrap(), Verdict::Legacy);
        }
        let old = ErrorObject::new(-32022, "no")
            .with_data(json!({"supported": ["2025-11-25"], "requested": "2026-07-28"}));
        assert_eq!(classify(RequestError::Rpc(old)).unwrap(), Verdict::Legacy);
    }

    #[test]
    fn a_modern_version_is_retried() {
        let e = ErrorObject::new(-32022, "no")
            .with_data(json!({"supported": ["2025-11-25", "2026-07-28"], "requested": "x"}));
        assert_eq!(
            classify(RequestError::Rpc(e)).unwrap(),
            Verdict::RetryWith(ProtocolVersion::V2026_07_28)
        );
    }

    #[test]
    fn failures_that_say_nothing_about_the_era_stay_errors() {
        for code in [401, 403, 500, 502] {
            assert!(classify(status(code)).is_err(), "{code}");
        }
        assert!(classify(RequestError::Timeout(std::time::Duration::from_secs(1))).is_err());
        assert!(classify(RequestError::Transport(TransportError::connect("refused"))).is_err());
    }

    #[test]
    fn the_cache_is_per_origin() {
        remember(Some("http://a:1/mcp"), Era::Legacy);
        assert_eq!(remembered(Some("http://a:1/mcp")), Some(Era::Legacy));
        assert_eq!(remembered(Some("http://a:1/other")), None);
        assert_eq!(remembered(None), None);
    }
}
