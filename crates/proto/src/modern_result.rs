//! A typed `tools/call` result as the 2026-07-28 era sends it, written in one serializer pass
//! (PF-18): `resultType` and the server's prebuilt `_meta` (its `serverInfo`, already JSON)
//! first, then the result's own members; no intermediate `Value`, no flattening. A result
//! written so starts with [`COMPLETED_PREFIX`], which tells it is complete without a search.
//! [`CompletedHead`] writes the same bytes with the parts every such result shares copied as
//! prebuilt bytes (PF-54).

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::content::ContentBlock;
use crate::modern::ResultType;
use crate::result_write::{write_blocks, write_structured_and_error};
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

/// A result's members besides its `_meta`, which a completed result writes.
struct Parts<'a> {
    content: &'a [ContentBlock],
    structured_content: &'a Option<serde_json::Value>,
    is_error: &'a Option<bool>,
    result_type: &'a Option<ResultType>,
}

impl<'a> Parts<'a> {
    fn of(result: &'a CallToolResult) -> Self {
        // Every member named: a member added to the result must be written too.
        let CallToolResult {
            meta: _,
            content,
            structured_content,
            is_error,
            result_type,
        } = result;
        Parts {
            content,
            structured_content,
            is_error,
            result_type,
        }
    }
}

impl Serialize for CompletedCall<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Parts {
            content,
            structured_content,
            is_error,
            result_type,
        } = Parts::of(self.result);
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

/// How a complete `tools/call` result begins, up to its `content`'s value, with the server's
/// `_meta` in it: `{"resultType":"complete","_meta":{...},"content":`. Built once per server;
/// [`CompletedHead::write`] then writes a result with it, exactly as [`CompletedCall`]
/// serializes it, without escaping the same keys and the same `_meta` again per call (PF-54).
#[derive(Debug, Clone)]
pub struct CompletedHead {
    meta: Box<RawValue>,
    head: Box<[u8]>,
}

impl CompletedHead {
    /// The head of a result completed with `meta` (the server's prebuilt `_meta`, as given to
    /// [`CompletedCall::new`]).
    pub fn new(meta: &RawValue) -> Self {
        let mut head = Vec::with_capacity(COMPLETED_PREFIX.len() + meta.get().len() + 16);
        head.extend_from_slice(b"{\"resultType\":\"complete\",\"_meta\":");
        head.extend_from_slice(meta.get().as_bytes());
        head.extend_from_slice(b",\"content\":");
        CompletedHead {
            meta: meta.to_owned(),
            head: head.into_boxed_slice(),
        }
    }

    /// Appends `result` to `out` as [`CompletedCall`] with this head's `_meta` serializes it,
    /// byte for byte; `None` (nothing written) when the result has a `_meta` of its own, as
    /// [`CompletedCall::new`]. A complete result's shared parts are copied, a text block with
    /// no members but its text is written around its escaped text; anything else is
    /// serialized. On an error, part of the result may have been written.
    pub fn write(
        &self,
        result: &CallToolResult,
        out: &mut Vec<u8>,
    ) -> Option<serde_json::Result<()>> {
        let completed = CompletedCall::new(&self.meta, result)?;
        let parts = Parts::of(result);
        if !matches!(parts.result_type, None | Some(ResultType::Complete)) {
            return Some(serde_json::to_writer(&mut *out, &completed));
        }
        Some(self.write_complete(
            parts.content,
            parts.structured_content.as_ref(),
            *parts.is_error,
            out,
        ))
    }

    fn write_complete(
        &self,
        content: &[ContentBlock],
        structured: Option<&serde_json::Value>,
        is_error: Option<bool>,
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        out.extend_from_slice(&self.head);
        write_blocks(content, out)?;
        write_structured_and_error(structured, is_error, out)?;
        out.push(b'}');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::content::TextContent;

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

    #[test]
    fn a_completed_head_writes_what_a_completed_call_serializes_byte_for_byte() {
        use crate::content::{Annotations, ImageContent};
        let meta = crate::jsonrpc::to_raw(
            &serde_json::json!({"io.modelcontextprotocol/serverInfo": {"name": "s\"q", "version": "1"}}),
        )
        .unwrap();
        let head = CompletedHead::new(&meta);
        let mut annotated = TextContent::new("a");
        annotated.annotations = Some(Annotations::default());
        let mut text_meta = TextContent::new("m");
        text_meta.meta = Some(crate::Meta::new());
        let mut results = vec![
            CallToolResult::text("hi \"there\"\n\u{1}é\\"),
            CallToolResult::text(""),
            CallToolResult::new(Vec::new()),
            CallToolResult::new(vec![
                ContentBlock::Text(TextContent::new("one")),
                ContentBlock::Image(ImageContent::new("AAAA", "image/png")),
                ContentBlock::Text(annotated),
                ContentBlock::Text(text_meta),
                ContentBlock::Text(TextContent::new("two")),
            ]),
            CallToolResult::structured(serde_json::json!({"k": [1, "v"]})),
            CallToolResult::error("nope"),
        ];
        let mut with_flags = CallToolResult::text("f");
        with_flags.is_error = Some(false);
        with_flags.structured_content = Some(serde_json::json!("any value"));
        results.push(with_flags);
        let mut complete = CallToolResult::text("c");
        complete.result_type = Some(ResultType::Complete);
        results.push(complete);
        let mut input = CallToolResult::text("i");
        input.result_type = Some(ResultType::InputRequired);
        results.push(input);
        let mut other = CallToolResult::text("o");
        other.result_type = Some(ResultType::Other("x\"y".into()));
        results.push(other);
        for result in &results {
            let serialized =
                serde_json::to_vec(&CompletedCall::new(&meta, result).unwrap()).unwrap();
            let mut written = b"prefix".to_vec();
            head.write(result, &mut written).unwrap().unwrap();
            assert_eq!(
                String::from_utf8(written[6..].to_vec()).unwrap(),
                String::from_utf8(serialized).unwrap()
            );
        }
        let mut own = CallToolResult::text("own");
        own.meta = Some(crate::Meta::new());
        let mut written = Vec::new();
        assert!(head.write(&own, &mut written).is_none());
        assert!(written.is_empty());
    }
}
