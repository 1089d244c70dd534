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

/// The result text of a `tools/call` answer read by its bytes, when it is laid out as servers
/// write it (`serde_json`'s compact form, members in `CallToolResult`'s order, a 2026-07-28
/// `resultType` first or last): an optional `"resultType":"complete"`, an optional `_meta`
/// object (checked and kept as text by serde_json, as [`Lazy`] keeps it), `content` of text
/// blocks whose text needs no unescaping, an optional `isError`, and nothing else (PF-110).
/// `None` for any other text, which is then read by serde as before; what it takes, [`Lazy`]
/// reads as the same reply.
pub(super) fn quick(text: &str) -> Option<Lazy> {
    const RESULT_TYPE: &str = r#""resultType":"complete""#;
    let mut rest = text.strip_prefix('{')?;
    let mut result_type = None;
    if let Some(after) = rest.strip_prefix(RESULT_TYPE) {
        rest = after.strip_prefix(',')?;
        result_type = Some(ResultType::Complete);
    }
    let mut meta = None;
    if let Some(after) = rest.strip_prefix(r#""_meta":{"#) {
        // From the object's `{`: serde_json checks it and says where it ends.
        let at = text.len() - after.len() - 1;
        let mut values =
            serde_json::Deserializer::from_str(&text[at..]).into_iter::<Box<RawValue>>();
        meta = Some(values.next()?.ok()?);
        rest = text[at + values.byte_offset()..].strip_prefix(',')?;
    }
    rest = rest.strip_prefix(r#""content":["#)?;
    // Room for the one block of the usual answer, with no growing from empty.
    let mut content = Vec::with_capacity(1);
    if let Some(after) = rest.strip_prefix(']') {
        rest = after;
    } else {
        loop {
            rest = rest.strip_prefix(r#"{"type":"text","text":""#)?;
            // Up to the closing quote: no escape and no control character, so serde's string
            // would be these very bytes.
            let end = rest
                .bytes()
                .position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
            let (block, after) = rest.split_at(end);
            content.push(ContentBlock::text(block));
            rest = after.strip_prefix(r#""}"#)?;
            match rest.as_bytes().first() {
                Some(b',') => rest = &rest[1..],
                Some(b']') => {
                    rest = &rest[1..];
                    break;
                }
                _ => return None,
            }
        }
    }
    let mut is_error = None;
    if let Some(after) = rest.strip_prefix(r#","isError":"#) {
        let (value, after) = match after.strip_prefix("true") {
            Some(after) => (true, after),
            None => (false, after.strip_prefix("false")?),
        };
        is_error = Some(value);
        rest = after;
    }
    if result_type.is_none()
        && let Some(after) = rest.strip_prefix(',')
    {
        rest = after.strip_prefix(RESULT_TYPE)?;
        result_type = Some(ResultType::Complete);
    }
    if rest != "}" {
        return None;
    }
    Some(Lazy {
        meta,
        content,
        structured_content: None,
        is_error,
        result_type,
    })
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

    /// PF-110: what the byte reader takes, serde reads as the same reply (and the same
    /// `CallToolResult`); what it leaves, serde reads as before.
    #[test]
    fn the_quick_read_is_the_serde_read() {
        let meta =
            r#"{"io.modelcontextprotocol/serverInfo":{"name":"mcp-http","version":"0.1.0"}}"#;
        let taken = [
            format!(
                r#"{{"resultType":"complete","_meta":{meta},"content":[{{"type":"text","text":"hello"}}]}}"#
            ),
            r#"{"content":[{"type":"text","text":"hello"}]}"#.to_owned(),
            r#"{"content":[]}"#.to_owned(),
            r#"{"content":[{"type":"text","text":""}],"isError":true}"#.to_owned(),
            r#"{"content":[{"type":"text","text":"a"},{"type":"text","text":"é b"}],"isError":false}"#.to_owned(),
            format!(
                r#"{{"_meta":{meta},"content":[{{"type":"text","text":"x"}}],"isError":true,"resultType":"complete"}}"#
            ),
            r#"{"_meta":{"k":"é","a":[1,{"b":null}]},"content":[]}"#.to_owned(),
            r#"{"content":[],"resultType":"complete"}"#.to_owned(),
        ];
        for text in &taken {
            let quick = ToolReply::from(quick(text).unwrap_or_else(|| panic!("{text}")));
            let serde = ToolReply::from(serde_json::from_str::<Lazy>(text).unwrap());
            assert_eq!(quick.result, serde.result, "{text}");
            assert_eq!(
                quick.meta_json().map(RawValue::get),
                serde.meta_json().map(RawValue::get),
                "{text}"
            );
            let whole: CallToolResult = serde_json::from_str(text).unwrap();
            assert_eq!(quick.into_result().unwrap(), whole, "{text}");
        }
        let left = [
            r#"{ "content":[]}"#,
            r#"{"content":[] }"#,
            r#"{"content":[{"type":"text","text":"a\nb"}]}"#,
            r#"{"content":[{"type":"text","text":"a\u0062"}]}"#,
            r#"{"content":[{"type":"text","text":"a\"b"}]}"#,
            "{\"content\":[{\"type\":\"text\",\"text\":\"a\tb\"}]}",
            r#"{"content":[{"text":"a","type":"text"}]}"#,
            r#"{"content":[{"type":"image","data":"AA==","mimeType":"image/png"}]}"#,
            r#"{"content":[{"type":"text","text":"a","annotations":{}}]}"#,
            r#"{"content":[],"isError":null}"#,
            r#"{"content":[],"structuredContent":{}}"#,
            r#"{"resultType":"input_required","content":[]}"#,
            r#"{"resultType":"complete","content":[],"resultType":"complete"}"#,
            r#"{"content":[],"other":1}"#,
            r#"{"_meta":null,"content":[]}"#,
            r#"{"_meta":{"a":},"content":[]}"#,
            r#"{"_meta":{}}"#,
            r#"{"content":[{"type":"text","text":"a"},]}"#,
            r#"{"content":[{"type":"text","text":"a"}]"#,
            r#"{"content":[{"type":"text","text":"a"}]}}"#,
            r#"{"content":[],"isError":true,"isError":true}"#,
        ];
        for text in left {
            assert!(quick(text).is_none(), "{text}");
        }
    }
}
