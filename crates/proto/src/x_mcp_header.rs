//! `x-mcp-header` (H-10): a property of a tool's input schema whose value a 2026-07-28 client
//! mirrors into an `Mcp-Param-{Name}` HTTP header. The rules are the same for both roles: the
//! server checks a tool's annotations when it is registered and a call's headers against its
//! arguments; the client drops a listed tool whose annotations break them and mirrors the
//! others.
//!
//! ```
//! use mcp_http_proto::x_mcp_header::{annotations, header_text};
//! let schema = serde_json::json!({"type": "object", "properties": {
//!     "region": {"type": "string", "x-mcp-header": "Region"}}});
//! let found = annotations(schema.as_object().unwrap()).unwrap();
//! assert_eq!((found[0].property.as_str(), found[0].header.as_str()), ("region", "Region"));
//! assert_eq!(header_text(&serde_json::json!(42)).as_deref(), Some("42"));
//! ```

use serde_json::{Map, Value};

/// The schema keyword.
pub const KEYWORD: &str = "x-mcp-header";

/// The largest integer every client holds exactly (JavaScript's `Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// The JSON type of an annotated argument: the only ones a header can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamKind {
    /// `"type": "string"`.
    String,
    /// `"type": "integer"` (within [`MAX_SAFE_INTEGER`]).
    Integer,
    /// `"type": "boolean"`.
    Boolean,
}

/// One annotated argument.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParamHeader {
    /// The property (a top-level argument).
    pub property: String,
    /// The header name after `Mcp-Param-`.
    pub header: String,
    /// The argument's type.
    pub kind: ParamKind,
}

/// Why a schema's annotations break the rules, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidAnnotation(pub String);

impl std::fmt::Display for InvalidAnnotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidAnnotation {}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn count(value: &Value) -> usize {
    match value {
        Value::Object(map) => {
            usize::from(map.contains_key(KEYWORD)) + map.values().map(count).sum::<usize>()
        }
        Value::Array(items) => items.iter().map(count).sum(),
        _ => 0,
    }
}

/// The annotated arguments of `input_schema`, in schema order, or why its annotations are
/// invalid: each a non-empty token, unique without regard to case, on a string, integer or
/// boolean property reached directly through `properties` (an annotation anywhere else is
/// refused, not ignored).
pub fn annotations(
    input_schema: &Map<String, Value>,
) -> Result<Vec<ParamHeader>, InvalidAnnotation> {
    let mut found: Vec<ParamHeader> = Vec::new();
    let properties = input_schema.get("properties").and_then(Value::as_object);
    for (property, spec) in properties.into_iter().flatten() {
        let Some(annotation) = spec.get(KEYWORD) else {
            continue;
        };
        let bad = |why: &str| Err(InvalidAnnotation(format!("property `{property}`: {why}")));
        let Some(header) = annotation.as_str() else {
            return bad("the x-mcp-header value is not a string");
        };
        if header.is_empty() || !header.bytes().all(is_tchar) {
            return bad(
                "the x-mcp-header value must be a non-empty HTTP token (letters, digits and !#$%&'*+-.^_`|~)",
            );
        }
        let kind = match spec.get("type").and_then(Value::as_str) {
            Some("string") => ParamKind::String,
            Some("integer") => ParamKind::Integer,
            Some("boolean") => ParamKind::Boolean,
            _ => {
                return bad(
                    "x-mcp-header is only allowed on string, integer and boolean properties",
                );
            }
        };
        if found.iter().any(|f| f.header.eq_ignore_ascii_case(header)) {
            return bad(
                "the x-mcp-header name is used twice (names are compared without regard to case)",
            );
        }
        found.push(ParamHeader {
            property: property.clone(),
            header: header.to_owned(),
            kind,
        });
    }
    if count(&Value::Object(input_schema.clone())) != found.len() {
        return Err(InvalidAnnotation(
            "x-mcp-header is only allowed on properties directly under the input schema's `properties`".into(),
        ));
    }
    Ok(found)
}

/// The header text of an argument's value (before the Base64 sentinel): strings as they are,
/// integers in decimal, booleans as `true`/`false`; `None` for null and for what no header
/// carries (an integer beyond [`MAX_SAFE_INTEGER`] included).
pub fn header_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => n
            .as_i64()
            .filter(|i| i.abs() <= MAX_SAFE_INTEGER)
            .map(|i| i.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether header text (already decoded) stands for an argument of `kind` with value `body`:
/// integers compare as numbers (H-8), so `042` matches `42`.
pub fn matches(kind: ParamKind, header: &str, body: &Value) -> bool {
    match (kind, body) {
        (ParamKind::String, Value::String(s)) => header == s,
        (ParamKind::Integer, Value::Number(n)) => {
            match (header.trim().parse::<i64>(), n.as_i64()) {
                (Ok(h), Some(b)) => h == b && b.abs() <= MAX_SAFE_INTEGER,
                _ => false,
            }
        }
        (ParamKind::Boolean, Value::Bool(b)) => header == if *b { "true" } else { "false" },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn schema(properties: Value) -> Map<String, Value> {
        json!({"type": "object", "properties": properties})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn valid_annotations_are_listed_in_order() {
        let found = annotations(&schema(json!({
            "region": {"type": "string", "x-mcp-header": "Region"},
            "priority": {"type": "integer", "x-mcp-header": "Priority"},
            "dry": {"type": "boolean", "x-mcp-header": "Dry"},
            "query": {"type": "string"}
        })))
        .unwrap();
        let kinds: Vec<_> = found.iter().map(|f| (f.header.as_str(), f.kind)).collect();
        assert_eq!(kinds.len(), 3);
        assert!(kinds.contains(&("Priority", ParamKind::Integer)));
    }

    #[test]
    fn invalid_annotations_are_refused() {
        for bad in [
            json!({"v": {"type": "string", "x-mcp-header": ""}}),
            json!({"v": {"type": "string", "x-mcp-header": 7}}),
            json!({"v": {"type": "object", "x-mcp-header": "V"}}),
            json!({"v": {"type": "array", "x-mcp-header": "V"}}),
            json!({"v": {"type": "null", "x-mcp-header": "V"}}),
            json!({"v": {"type": "number", "x-mcp-header": "V"}}),
            json!({"a": {"type": "string", "x-mcp-header": "R"}, "b": {"type": "string", "x-mcp-header": "r"}}),
            json!({"v": {"type": "string", "x-mcp-header": "My Region"}}),
            json!({"v": {"type": "string", "x-mcp-header": "Region:Primary"}}),
            json!({"v": {"type": "string", "x-mcp-header": "Région"}}),
            json!({"o": {"type": "object", "properties": {"s": {"type": "string", "x-mcp-header": "Deep"}}}}),
        ] {
            assert!(annotations(&schema(bad.clone())).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_and_their_header_text() {
        assert_eq!(header_text(&json!(null)), None);
        assert_eq!(header_text(&json!(false)).as_deref(), Some("false"));
        assert_eq!(header_text(&json!(1.5)), None);
        assert_eq!(header_text(&json!(MAX_SAFE_INTEGER + 1)), None);
        assert!(matches(ParamKind::Integer, " 042 ", &json!(42)));
        assert!(!matches(ParamKind::Integer, "42", &json!("42")));
        assert!(!matches(ParamKind::Boolean, "TRUE", &json!(true)));
    }
}
