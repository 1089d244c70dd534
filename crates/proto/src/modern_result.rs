//! A typed `tools/call` result as the 2026-07-28 era sends it, written in one serializer pass
//! (PF-18): `resultType` and the server's prebuilt `_meta` (its `serverInfo`, already JSON)
//! first, then the result's own members; no intermediate `Value`, no flattening. A result
//! written so starts with [`COMPLETED_PREFIX`], which tells it is complete without a search.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::modern::ResultType;
use crate::tools::CallToolResult;

/// How a result written by [`CompletedCall`] with a `resultType` of `complete` begins.
pub const COMPLETED_PREFIX: &str =
    "{\"resultType\":\"complete\",\"_meta\":{\"io.modelcontextprotocol/serverInfo\":";

/// A `tools/call` result without a `_meta` of its own, with the server's `_meta` given as
/// prebuilt JSON (`{"io.modelcontextprotocol/serverInfo":{...}}`).
#[derive(Debug, Clone, Copy)]
pub struct CompletedCall<'a> {
    meta: &'a RawValue,
    result: &'a CallToolResult,
}

impl<'a> CompletedCall<'a> {
    /// `result` completed with `meta`; `None` when the result has a `_meta` of its own (the
    /// server's info must then join it).
    pub fn new(meta: &'a RawValue, result: &'a CallToolResult) -> Option<Self> {
        result
            .meta
            .is_none()
            .then_some(CompletedCall { meta, result })
    }
}

impl Serialize for CompletedCall<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Every member named: a member added to the result must be written here too.
        let CallToolResult {
            meta: _,
            content,
            structured_content,
            is_error,
            result_type,
        } = self.result;
        let len = 3 + usize::from(structured_content.is_some()) + usize::from(is_error.is_some());
        let mut out = s.serialize_struct("CallToolResult", len)?;
        out.serialize_field(
            "resultType",
            result_type.as_ref().unwrap_or(&ResultType::Complete),
        )?;
        out.serialize_field("_meta", self.meta)?;
        out.serialize_field("content", content)?;
        if let Some(structured) = structured_content {
            out.serialize_field("structuredContent", structured)?;
        }
        if let Some(is_error) = is_error {
            out.serialize_field("isError", is_error)?;
        }
        out.end()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_completed_call_has_result_type_and_server_info_first_then_its_members() {
        let meta = crate::jsonrpc::to_raw(
            &serde_json::json!({"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}}),
        )
        .unwrap();
        let mut result = CallToolResult::text("hi");
        result.is_error = Some(false);
        let text = crate::jsonrpc::to_raw(&CompletedCall::new(&meta, &result).unwrap()).unwrap();
        assert!(text.get().starts_with(COMPLETED_PREFIX), "{}", text.get());
        let value: serde_json::Value = serde_json::from_str(text.get()).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "resultType": "complete",
                "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}},
                "content": [{"type": "text", "text": "hi"}],
                "isError": false,
            })
        );
        result.result_type = Some(ResultType::InputRequired);
        let text = crate::jsonrpc::to_raw(&CompletedCall::new(&meta, &result).unwrap()).unwrap();
        assert!(!text.get().starts_with(COMPLETED_PREFIX));
        result.meta = Some(crate::Meta::new());
        assert!(CompletedCall::new(&meta, &result).is_none());
    }
}
