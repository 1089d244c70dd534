//! A `tools/call` result whose `_meta` is read only when asked for (PF-88).

use mcp_http_core::RequestError;
use mcp_http_proto::modern::ResultType;
use mcp_http_proto::{CallToolResult, ContentBlock, Meta};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// What [`crate::Client::call_tool_reply`] returns: the result of a `tools/call` with its
/// `_meta` kept as JSON text, decoded only by [`ToolReply::meta`] or
/// [`ToolReply::into_result`] (PF-88). Every other member is read as [`CallToolResult`] reads
/// it, and an answer is taken exactly when [`CallToolResult`] would take it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ToolReply {
    /// The result without its `_meta` (`result.meta` is `None`: see [`ToolReply::meta`]).
    pub result: CallToolResult,
    /// The result's `_meta` object as it came, if it had one.
    meta: Option<Box<RawValue>>,
}

impl ToolReply {
    /// Whether the call ended in an error (`isError: true`).
    pub fn is_error(&self) -> bool {
        self.result.is_error()
    }

    /// The result's `_meta` as JSON text (an object), without decoding it.
    pub fn meta_json(&self) -> Option<&RawValue> {
        self.meta.as_deref()
    }

    /// The result's `_meta`, decoded now.
    pub fn meta(&self) -> Result<Option<Meta>, RequestError> {
        self.meta
            .as_deref()
            .map(|raw| serde_json::from_str(raw.get()))
            .transpose()
            .map_err(|e| RequestError::InvalidResponse(e.to_string()))
    }

    /// The whole result, `_meta` decoded: what [`crate::Client::call_tool`] returns.
    pub fn into_result(self) -> Result<CallToolResult, RequestError> {
        let meta = self.meta()?;
        let mut result = self.result;
        result.meta = meta;
        Ok(result)
    }
}

/// [`CallToolResult`]'s members as its derived `Deserialize` reads them, but `_meta` kept as
/// text (checked to be an object, as `Meta` requires).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Lazy {
    #[serde(rename = "_meta", default, deserialize_with = "object_text")]
    meta: Option<Box<RawValue>>,
    content: Vec<ContentBlock>,
    #[serde(default)]
    structured_content: Option<Value>,
    #[serde(default)]
    is_error: Option<bool>,
    #[serde(default)]
    result_type: Option<ResultType>,
}

/// A JSON object (or `null`, as `None`) kept as its text.
fn object_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Box<RawValue>>, D::Error> {
    let raw = Option::<Box<RawValue>>::deserialize(d)?;
    match &raw {
        Some(text) if !text.get().starts_with('{') => Err(serde::de::Error::invalid_type(
            serde::de::Unexpected::Other("a value that is not an object"),
            &"a JSON object",
        )),
        _ => Ok(raw),
    }
}

impl From<Lazy> for ToolReply {
    fn from(lazy: Lazy) -> ToolReply {
        let mut result = CallToolResult::new(lazy.content);
        result.structured_content = lazy.structured_content;
        result.is_error = lazy.is_error;
        result.result_type = lazy.result_type;
        ToolReply {
            result,
            meta: lazy.meta,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PF-88: a result read lazily, then with its `_meta`, is the result read at once; what
    /// one refuses the other refuses.
    #[test]
    fn a_lazy_reply_is_the_result_read_at_once() {
        let taken = [
            r#"{"resultType":"complete","_meta":{"io.modelcontextprotocol/serverInfo":{"name":"s","version":"1"}},"content":[{"type":"text","text":"hi"}]}"#,
            r#"{"content":[],"isError":true,"structuredContent":{"a":[1,2]}}"#,
            r#"{"content":[],"_meta":null}"#,
            r#"{"content":[],"_meta":{},"other":5}"#,
            r#"{ "_meta" : { "k" : "\u00e9" } , "content" : [ ] }"#,
        ];
        for text in taken {
            let whole: CallToolResult = serde_json::from_str(text).unwrap();
            let lazy: Lazy = serde_json::from_str(text).unwrap();
            let reply = ToolReply::from(lazy);
            assert!(reply.result.meta.is_none(), "{text}");
            assert_eq!(reply.meta().unwrap(), whole.meta, "{text}");
            assert_eq!(reply.is_error(), whole.is_error(), "{text}");
            assert_eq!(reply.into_result().unwrap(), whole, "{text}");
        }
        let refused = [
            r#"{"content":[],"_meta":5}"#,
            r#"{"content":[],"_meta":[]}"#,
            r#"{"content":[],"_meta":"x"}"#,
            r#"{"content":[],"_meta":{},"_meta":{}}"#,
            r#"{"_meta":{}}"#,
            r#"{"content":[{"type":"nope"}]}"#,
            r#"{"content":[],"resultType":7}"#,
        ];
        for text in refused {
            assert!(
                serde_json::from_str::<CallToolResult>(text).is_err(),
                "{text}"
            );
            assert!(serde_json::from_str::<Lazy>(text).is_err(), "{text}");
        }
    }
}
