//! 2026-07-28 requests relayed to a legacy stdio child (BR-20). The endpoint hands each one to
//! the stateless relay on a fresh peer whose state comes from the request's `_meta` (the
//! client's capabilities and its log level, LGm-1); the bridge answers `server/discover` from
//! the child's handshake (M-7), relays everything else to the shared child, and completes the
//! child's legacy result as the era sends it: `resultType`, the server's info in `_meta`
//! (M-4, M-8) and the caching fields of the methods that have them (CA-1: `private`, 0 ms,
//! since the bridge cannot know how long the child's lists stay valid).

use mcp_http_proto::modern::{CacheScope, DiscoverResult, META_SERVER_INFO, ResultType};
use mcp_http_proto::{ErrorObject, InitializeResult, ProtocolVersion, error_code, method};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The methods whose results carry `ttlMs` and `cacheScope` (CA-1).
const CACHEABLE: [&str; 6] = [
    method::TOOLS_LIST,
    method::PROMPTS_LIST,
    method::RESOURCES_LIST,
    method::RESOURCES_TEMPLATES_LIST,
    method::RESOURCES_READ,
    method::SERVER_DISCOVER,
];

/// The `server/discover` result of the child whose `initialize` result is `init`.
pub(crate) fn discover(init: &RawValue) -> Result<Box<RawValue>, ErrorObject> {
    let init: InitializeResult =
        serde_json::from_str(init.get()).map_err(|_| ErrorObject::internal())?;
    let mut result = DiscoverResult::new(
        vec![ProtocolVersion::V2026_07_28.as_str().to_owned()],
        init.capabilities,
    );
    result.instructions = init.instructions;
    let raw = serde_json::value::to_raw_value(&result).map_err(|_| ErrorObject::internal())?;
    let info = serde_json::to_value(&init.server_info).unwrap_or(Value::Null);
    complete(method::SERVER_DISCOVER, &info, raw)
}

/// A legacy result of `method` as the modern era sends it (see the module's text): members
/// already there are kept.
pub(crate) fn complete(
    method: &str,
    server_info: &Value,
    result: Box<RawValue>,
) -> Result<Box<RawValue>, ErrorObject> {
    let Ok(mut object) = serde_json::from_str::<Map<String, Value>>(result.get()) else {
        // Not an object: no result of a request the era knows; passed on as it is.
        return Ok(result);
    };
    object
        .entry("resultType")
        .or_insert_with(|| serde_json::to_value(ResultType::Complete).unwrap_or(Value::Null));
    if let Value::Object(meta) = object
        .entry("_meta")
        .or_insert_with(|| Value::Object(Map::new()))
    {
        meta.entry(META_SERVER_INFO)
            .or_insert_with(|| server_info.clone());
    }
    if CACHEABLE.contains(&method) {
        object.entry("ttlMs").or_insert(Value::from(0));
        object
            .entry("cacheScope")
            .or_insert_with(|| serde_json::to_value(CacheScope::Private).unwrap_or(Value::Null));
    }
    serde_json::value::to_raw_value(&object).map_err(|_| ErrorObject::internal())
}

/// An error of the child as the era sends it (BR-77): the legacy "resource not found"
/// (-32002) becomes -32602 (Invalid Params), as SEP-2164 standardizes; message and data are
/// kept.
pub(crate) fn error(mut error: ErrorObject) -> ErrorObject {
    if error.code == error_code::RESOURCE_NOT_FOUND {
        error.code = error_code::INVALID_PARAMS;
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legacy_result_is_completed_and_discover_comes_from_the_handshake() {
        let init = RawValue::from_string(
            r#"{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"child","version":"1"},"instructions":"hi"}"#.into(),
        )
        .unwrap();
        let found: Value = serde_json::from_str(discover(&init).unwrap().get()).unwrap();
        assert_eq!(
            found["supportedVersions"],
            serde_json::json!(["2026-07-28"])
        );
        assert_eq!(found["capabilities"]["tools"], serde_json::json!({}));
        assert_eq!(found["instructions"], "hi");
        assert_eq!(found["resultType"], "complete");
        assert_eq!(found["_meta"][META_SERVER_INFO]["name"], "child");
        assert_eq!(
            (found["ttlMs"].as_u64(), found["cacheScope"].as_str()),
            (Some(0), Some("private"))
        );

        let info = serde_json::json!({"name": "child", "version": "1"});
        let call = RawValue::from_string(r#"{"content":[],"_meta":{"x":1}}"#.into()).unwrap();
        let done: Value =
            serde_json::from_str(complete(method::TOOLS_CALL, &info, call).unwrap().get()).unwrap();
        assert_eq!(done["resultType"], "complete");
        assert_eq!(done["_meta"]["x"], 1);
        assert_eq!(done["_meta"][META_SERVER_INFO], info);
        assert!(done.get("ttlMs").is_none());
    }
}
