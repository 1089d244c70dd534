//! The `resultType` of a 2026-07-28 result (M-8), read without a parse where its text already
//! tells (PF-20).

use mcp_http_core::RequestError;
use mcp_http_proto::modern::ResultType;
use serde_json::value::RawValue;

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Kind {
    #[serde(default)]
    result_type: Option<ResultType>,
}

/// The `resultType` of a result (M-8), read without a parse in the three usual cases: a result
/// whose text names no `resultType` (not even behind a `\u` escape) has none, and one whose
/// first member (as this project's servers write it, PF-18) or last member (as other compact
/// serializers do) is `"resultType":"complete"` is complete (PF-20).
pub(super) fn result_type(result: &RawValue) -> Result<Option<ResultType>, RequestError> {
    result_type_of(result.get())
}

/// [`result_type`] of a result's text.
pub(super) fn result_type_of(result: &str) -> Result<Option<ResultType>, RequestError> {
    const LAST_COMPLETE: &[u8] = b"\"resultType\":\"complete\"}";
    const FIRST_COMPLETE: &[u8] = b"{\"resultType\":\"complete\"";
    let text = result.as_bytes();
    // The object's first member: its name opens right after the brace, and its value ends at
    // the `,` or `}` that follows.
    if let Some(after) = text.strip_prefix(FIRST_COMPLETE)
        && matches!(after.first(), Some(b',' | b'}'))
    {
        return Ok(Some(ResultType::Complete));
    }
    if text.first() == Some(&b'{') {
        if memchr::memmem::find(text, b"\"resultType\"").is_none()
            && memchr::memmem::find(text, b"\\u").is_none()
        {
            return Ok(None);
        }
        // In valid JSON, a value right before the closing brace belongs to the object's last
        // member, and a quote after `,` or `{` opens that member's name.
        if let Some(before) = text.strip_suffix(LAST_COMPLETE)
            && matches!(before.last(), Some(b',' | b'{'))
        {
            return Ok(Some(ResultType::Complete));
        }
    }
    let kind: Kind =
        serde_json::from_str(result).map_err(|e| RequestError::InvalidResponse(e.to_string()))?;
    Ok(kind.result_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<ResultType> {
        result_type(&RawValue::from_string(text.to_owned()).unwrap()).unwrap()
    }

    #[test]
    fn result_types_are_read_with_and_without_a_parse() {
        assert_eq!(kind(r#"{"content":[]}"#), None);
        assert_eq!(
            kind(r#"{"content":[],"resultType":"complete"}"#),
            Some(ResultType::Complete)
        );
        assert_eq!(
            kind(r#"{"resultType":"complete"}"#),
            Some(ResultType::Complete)
        );
        // PF-20: first, as this project's servers write it.
        assert_eq!(
            kind(r#"{"resultType":"complete","content":[],"isError":false}"#),
            Some(ResultType::Complete)
        );
        assert_eq!(
            kind(
                r#"{"resultType":"input_required","inputRequests":{},"x":"\"resultType\":\"complete\""}"#
            ),
            Some(ResultType::InputRequired)
        );
        // A value that only starts like "complete" is not it.
        assert_eq!(
            kind(r#"{"resultType":"completed","content":[]}"#),
            Some(ResultType::Other("completed".into()))
        );
        assert_eq!(
            kind(r#"{"resultType":"input_required","inputRequests":{}}"#),
            Some(ResultType::InputRequired)
        );
        // Not the object's own member: the parse decides.
        assert_eq!(
            kind(r#"{"structuredContent":{"resultType":"complete"}}"#),
            None
        );
        assert_eq!(
            kind(r#"{"resultType":"input_required","x":{"a":"\"resultType\":\"complete"}}"#),
            Some(ResultType::InputRequired)
        );
        assert_eq!(
            kind(r#"{"result\u0054ype":"input_required"}"#),
            Some(ResultType::InputRequired)
        );
    }
}
