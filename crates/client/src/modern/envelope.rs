//! The per-client part of every 2026-07-28 request's `_meta` (M-1, M-1a, M-1b), kept as text.

use std::sync::Arc;

use mcp_http_core::ModernRequest;
use mcp_http_proto::jsonrpc::to_raw;
use mcp_http_proto::modern::{
    META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_LOG_LEVEL, META_PROTOCOL_VERSION,
};
use mcp_http_proto::{LoggingLevel, ProtocolVersion};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The per-client part of every request's `_meta` (M-1, M-1a, M-1b).
pub(super) struct Envelope {
    pub(super) version: ProtocolVersion,
    /// The log level asked for in every request's `_meta` (LGm-1); `None` asks for no logs.
    pub(super) log_level: Option<LoggingLevel>,
    /// `"key":value,...` of the members below, built when one of them changes, so a request
    /// copies text instead of building and serializing a JSON tree.
    pub(super) members: String,
    /// The same members as a `_meta` object, checked once when built: a `tools/call` serializes
    /// it into its params as it is (PF-29), shared so the call writes it outside the lock
    /// (PF-105).
    pub(super) meta: Arc<RawValue>,
    /// What the transport needs of a request sent under `version` with no parameter headers,
    /// shared by every such request (PF-89).
    pub(super) request: Arc<ModernRequest>,
}

impl Envelope {
    pub(super) fn new(
        version: ProtocolVersion,
        log_level: Option<LoggingLevel>,
        capabilities: &Value,
        info: &Value,
    ) -> Envelope {
        let mut envelope = Envelope {
            version,
            log_level,
            members: String::new(),
            meta: Arc::from(empty_object()),
            request: Arc::new(ModernRequest::new(version.as_str())),
        };
        envelope.rebuild(capabilities, info);
        envelope
    }

    /// The members in the order [`Modern::members`] inserts them.
    pub(super) fn rebuild(&mut self, capabilities: &Value, info: &Value) {
        let mut meta = Map::new();
        meta.insert(META_PROTOCOL_VERSION.into(), self.version.as_str().into());
        meta.insert(META_CLIENT_CAPABILITIES.into(), capabilities.clone());
        meta.insert(META_CLIENT_INFO.into(), info.clone());
        if let Some(level) = self.log_level {
            meta.insert(
                META_LOG_LEVEL.into(),
                serde_json::to_value(level).unwrap_or_default(),
            );
        }
        let text = Value::Object(meta).to_string();
        // `{...}` without its braces.
        self.members = text
            .get(1..text.len().saturating_sub(1))
            .unwrap_or_default()
            .to_owned();
        self.meta = Arc::from(RawValue::from_string(text).unwrap_or_else(|_| empty_object()));
        self.request = Arc::new(ModernRequest::new(self.version.as_str()));
    }
}

/// `{}`, as raw JSON.
fn empty_object() -> Box<RawValue> {
    to_raw(&Map::new()).unwrap_or_default()
}
