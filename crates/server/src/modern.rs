//! What a 2026-07-28 request gets from the server beyond the legacy answer: `server/discover`
//! (M-7), `resultType` and `serverInfo` on every result (M-8, M-4), the caching fields on
//! lists, reads and discover (CA-1), and the part of a `subscriptions/listen` filter the
//! server can deliver (SB-1).

use std::time::Duration;

use mcp_http_core::peer::{AtOnce, ResultWriter};
use mcp_http_proto::modern::{CacheScope, DiscoverResult, META_SERVER_INFO};
use mcp_http_proto::modern_result::{COMPLETED_PREFIX, CompletedCall, CompletedHead};
use mcp_http_proto::task_extension::TASKS_EXTENSION;
use mcp_http_proto::{ErrorObject, Meta, ProtocolVersion, SubscriptionFilter, method};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::server::Inner;

/// How long a result may be cached, and by whom (CA-1): `ttlMs` and `cacheScope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheHint {
    /// How long the client may reuse the result.
    pub ttl: Duration,
    /// Who may share it.
    pub scope: CacheScope,
}

impl CacheHint {
    /// Not to be reused (`ttlMs: 0`, private): the default, since a server's lists can change
    /// at any time and may depend on who asks.
    pub const NONE: CacheHint = CacheHint {
        ttl: Duration::ZERO,
        scope: CacheScope::Private,
    };

    /// Reusable for `ttl` by any client or intermediary.
    pub fn public(ttl: Duration) -> Self {
        CacheHint {
            ttl,
            scope: CacheScope::Public,
        }
    }

    /// Reusable for `ttl` within one authorization context.
    pub fn private(ttl: Duration) -> Self {
        CacheHint {
            ttl,
            scope: CacheScope::Private,
        }
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)
    }
}

/// The methods whose results carry caching fields (CA-1).
pub(crate) const CACHEABLE: [&str; 6] = [
    method::TOOLS_LIST,
    method::PROMPTS_LIST,
    method::RESOURCES_LIST,
    method::RESOURCES_TEMPLATES_LIST,
    method::RESOURCES_READ,
    method::SERVER_DISCOVER,
];

/// The server's answers to the modern era's own questions, prepared once.
pub(crate) struct Modern {
    /// `{"io.modelcontextprotocol/serverInfo":{...}}`, ready to serialize or splice as a
    /// result's `_meta`.
    meta_object: Box<RawValue>,
    /// A complete `tools/call` result's bytes up to its content, with `meta_object` (PF-54).
    completed_head: CompletedHead,
    server_info: Value,
    /// The hint of each method in [`CACHEABLE`], in that order.
    hints: [CacheHint; 6],
}

impl Modern {
    pub(crate) fn new(info: &mcp_http_proto::Implementation, hints: [CacheHint; 6]) -> Self {
        let server_info = serde_json::to_value(info).unwrap_or(Value::Null);
        let mut meta = Map::new();
        meta.insert(META_SERVER_INFO.into(), server_info.clone());
        // Serializing a JSON value cannot fail.
        let meta_object = mcp_http_proto::jsonrpc::to_raw(&meta).unwrap_or_default();
        Modern {
            completed_head: CompletedHead::new(&meta_object),
            meta_object,
            server_info,
            hints,
        }
    }

    fn hint(&self, method: &str) -> Option<&CacheHint> {
        CACHEABLE
            .iter()
            .position(|m| *m == method)
            .and_then(|i| self.hints.get(i))
    }

    /// The `server/discover` result (M-7): the versions served per request (legacy ones are
    /// negotiated through `initialize`, as the TypeScript SDK answers), the capabilities and
    /// instructions.
    pub(crate) fn discover(&self, inner: &Inner) -> Result<Box<RawValue>, ErrorObject> {
        let mut capabilities = inner.capabilities.clone();
        if inner.offers_tasks {
            // TK-1: under `extensions`, never a `tasks` capability of the 2025-11-25 kind.
            capabilities
                .extensions
                .get_or_insert_with(Default::default)
                .insert(
                    TASKS_EXTENSION.to_owned(),
                    mcp_http_proto::JsonObject::new(),
                );
        }
        let mut result = DiscoverResult::new(
            vec![ProtocolVersion::V2026_07_28.as_str().to_owned()],
            capabilities,
        );
        result.instructions = inner.instructions.clone();
        mcp_http_proto::jsonrpc::to_raw(&result)
            .map(|raw| self.complete(method::SERVER_DISCOVER, raw))
            .map_err(|_| ErrorObject::internal())
    }

    /// A typed `tools/call` result serialized for the modern era, completed where it is built:
    /// `resultType` and `serverInfo` written in the same pass (the server's info as prebuilt
    /// JSON), so that [`Modern::complete`] then finds nothing to add.
    pub(crate) fn encode_call(
        &self,
        result: &mut mcp_http_proto::CallToolResult,
    ) -> Result<Box<RawValue>, serde_json::Error> {
        mcp_http_proto::jsonrpc::to_raw(&self.completed_call(result))
    }

    /// [`Modern::encode_call`] written straight into the transport's buffer, after the
    /// response's envelope prefix (PF-44): no `Box<RawValue>`, no copy of it, no completion
    /// after the fact.
    pub(crate) fn write_call(
        &self,
        result: &mut mcp_http_proto::CallToolResult,
        out: ResultWriter<'_>,
    ) -> AtOnce {
        if result.meta.is_none() {
            // PF-54: the shared parts copied as bytes, the same bytes as `completed_call`'s.
            return out.write_with(|buf| {
                self.completed_head
                    .write(result, buf)
                    .unwrap_or_else(|| serde_json::to_writer(buf, &self.completed_call(result)))
            });
        }
        out.write(&self.completed_call(result))
    }

    /// A `tools/call` result as the era sends it: with the server's prebuilt `_meta` in one
    /// pass ([`CompletedCall`]), or, when the tool gave a `_meta` of its own, with the server's
    /// info joined to it.
    fn completed_call<'a>(
        &'a self,
        result: &'a mut mcp_http_proto::CallToolResult,
    ) -> CompletedOrOwn<'a> {
        if let Some(meta) = result.meta.as_mut() {
            // The tool's own `_meta`: the server's info joins it.
            result
                .result_type
                .get_or_insert(mcp_http_proto::ResultType::Complete);
            meta.entry(META_SERVER_INFO)
                .or_insert_with(|| self.server_info.clone());
            return CompletedOrOwn::Own(result);
        }
        match CompletedCall::new(&self.meta_object, result) {
            Some(completed) => CompletedOrOwn::Completed(completed),
            None => CompletedOrOwn::Own(result),
        }
    }

    /// A result as the modern era sends it: `resultType` (`complete` unless the result says
    /// otherwise), `serverInfo` in `_meta`, and the caching fields where the method has them.
    pub(crate) fn complete(&self, method: &str, result: Box<RawValue>) -> Box<RawValue> {
        let hint = self.hint(method);
        let text = result.get();
        if hint.is_none() && text.starts_with(COMPLETED_PREFIX) {
            // Completed where it was built (a typed tools/call result, encode_call): PF-18.
            return result;
        }
        // Searchers built once: making one costs more than searching a short result.
        static MEMBERS: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 4]> =
            std::sync::LazyLock::new(|| {
                [
                    b"\"_meta\"".as_slice(),
                    b"\"resultType\"",
                    b"\"ttlMs\"",
                    b"\"io.modelcontextprotocol/serverInfo\"",
                ]
                .map(memchr::memmem::Finder::new)
            });
        let has = |i: usize| MEMBERS[i].find(text.as_bytes()).is_some();
        let result_type = has(1);
        if result_type && hint.is_none() && has(3) {
            // Completed where it was built (a typed tools/call result, encode_call).
            return result;
        }
        let (meta, ttl) = (has(0), has(2));
        if result_type && has(3) && ttl {
            return result;
        }
        let simple = text.starts_with('{') && !meta && !result_type && !ttl;
        if simple {
            // The common case: splice the members in front, no parse.
            let meta = self.meta_object.get();
            let mut out = String::with_capacity(text.len() + meta.len() + 72);
            out.push_str("{\"resultType\":\"complete\",");
            out.push_str("\"_meta\":");
            out.push_str(meta);
            if let Some(hint) = hint {
                out.push_str(",\"ttlMs\":");
                out.push_str(itoa::Buffer::new().format(hint.ttl_ms()));
                out.push_str(",\"cacheScope\":\"");
                out.push_str(scope_name(hint.scope));
                out.push('"');
            }
            let rest = &text[1..];
            if !rest.trim_start().starts_with('}') {
                out.push(',');
            }
            out.push_str(rest);
            return RawValue::from_string(out).unwrap_or(result);
        }
        let Ok(mut object) = serde_json::from_str::<Map<String, Value>>(text) else {
            return result;
        };
        object
            .entry("resultType")
            .or_insert_with(|| Value::String("complete".into()));
        let meta = object
            .entry("_meta")
            .or_insert_with(|| Value::Object(Meta::new()));
        if let Value::Object(meta) = meta {
            meta.entry(META_SERVER_INFO)
                .or_insert_with(|| self.server_info.clone());
        }
        let input_required =
            object.get("resultType").and_then(Value::as_str) == Some("input_required");
        // CA-1: an input-required answer is never cached.
        if let (Some(hint), false) = (hint, input_required) {
            object
                .entry("ttlMs")
                .or_insert_with(|| Value::from(hint.ttl_ms()));
            object
                .entry("cacheScope")
                .or_insert_with(|| Value::String(scope_name(hint.scope).into()));
        }
        mcp_http_proto::jsonrpc::to_raw(&object).unwrap_or(result)
    }
}

/// A `tools/call` result completed for the era (see [`Modern::completed_call`]).
enum CompletedOrOwn<'a> {
    /// Completed with the server's prebuilt `_meta` as it is written.
    Completed(CompletedCall<'a>),
    /// Completed in place (its own `_meta` holds the server's info).
    Own(&'a mcp_http_proto::CallToolResult),
}

impl serde::Serialize for CompletedOrOwn<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CompletedOrOwn::Completed(completed) => completed.serialize(s),
            CompletedOrOwn::Own(result) => result.serialize(s),
        }
    }
}

fn scope_name(scope: CacheScope) -> &'static str {
    match scope {
        CacheScope::Public => "public",
        _ => "private",
    }
}

/// The part of `requested` the server's capabilities let it deliver (SB-1).
pub(crate) fn honoured(inner: &Inner, requested: &SubscriptionFilter) -> SubscriptionFilter {
    let caps = &inner.capabilities;
    let tools = caps.tools.as_ref().and_then(|t| t.list_changed) == Some(true);
    let prompts = caps.prompts.as_ref().and_then(|p| p.list_changed) == Some(true);
    let resources = caps.resources.as_ref();
    let resources_list = resources.and_then(|r| r.list_changed) == Some(true);
    let subscribe = resources.and_then(|r| r.subscribe) == Some(true);
    let mut out = SubscriptionFilter::default();
    out.tools_list_changed = (tools && requested.tools_list_changed == Some(true)).then_some(true);
    out.prompts_list_changed =
        (prompts && requested.prompts_list_changed == Some(true)).then_some(true);
    out.resources_list_changed =
        (resources_list && requested.resources_list_changed == Some(true)).then_some(true);
    out.resource_subscriptions = requested
        .resource_subscriptions
        .clone()
        .filter(|uris| subscribe && !uris.is_empty());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn modern() -> Modern {
        let mut hints = [CacheHint::NONE; 6];
        hints[0] = CacheHint::public(Duration::from_secs(60));
        Modern::new(&mcp_http_proto::Implementation::new("s", "1"), hints)
    }

    fn decorate(method: &str, json: &str) -> Value {
        let raw = RawValue::from_string(json.into()).unwrap();
        serde_json::from_str(modern().complete(method, raw).get()).unwrap()
    }

    #[test]
    fn results_get_result_type_server_info_and_cache_fields() {
        let v = decorate(method::TOOLS_LIST, r#"{"tools":[]}"#);
        assert_eq!(v["resultType"], "complete");
        assert_eq!(v["_meta"][META_SERVER_INFO]["name"], "s");
        assert_eq!(
            (v["ttlMs"].as_u64(), v["cacheScope"].as_str()),
            (Some(60_000), Some("public"))
        );
        let v = decorate(method::TOOLS_CALL, r#"{}"#);
        assert_eq!(v["resultType"], "complete");
        assert!(v.get("ttlMs").is_none());
        // A result with its own _meta keeps it, and an input-required one stays so, uncached.
        let v = decorate(
            method::RESOURCES_READ,
            r#"{"_meta":{"k":1},"resultType":"input_required","inputRequests":{}}"#,
        );
        assert_eq!(v["_meta"]["k"], 1);
        assert_eq!(v["_meta"][META_SERVER_INFO]["version"], "1");
        assert_eq!(v["resultType"], "input_required");
        assert!(v.get("ttlMs").is_none());
    }
}
