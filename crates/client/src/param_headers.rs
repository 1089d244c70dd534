//! `x-mcp-header` annotations of a tool's input schema (H-10): which parameters a 2026-07-28
//! client mirrors into `Mcp-Param-{Name}` headers, whether a tool's annotations are valid (a
//! tool with an invalid one is dropped from `tools/list`), and the header values of a call's
//! arguments.

use serde_json::{Map, Value};

/// The schema keyword naming a parameter's header.
const KEYWORD: &str = "x-mcp-header";

/// Why a tool's annotations are invalid (H-10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidAnnotation(pub(crate) String);

/// `(property, header name)` of each annotated top-level property, in schema order; an error
/// when any annotation breaks a rule of H-10: a non-empty RFC 9110 token (visible ASCII, no
/// separators), only on `string`, `integer` or `boolean` properties, unique regardless of case.
pub(crate) fn annotations(
    input_schema: &Map<String, Value>,
) -> Result<Vec<(String, String)>, InvalidAnnotation> {
    let Some(properties) = input_schema.get("properties").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    let mut found: Vec<(String, String)> = Vec::new();
    for (property, schema) in properties {
        let Some(annotation) = schema.get(KEYWORD) else {
            continue;
        };
        let bad = |why: &str| Err(InvalidAnnotation(format!("property {property:?}: {why}")));
        let Some(name) = annotation.as_str() else {
            return bad("the x-mcp-header value is not a string");
        };
        if name.is_empty() {
            return bad("the x-mcp-header value is empty");
        }
        if !name.bytes().all(is_tchar) {
            return bad("the x-mcp-header value is not an HTTP token");
        }
        if !matches!(
            schema.get("type").and_then(Value::as_str),
            Some("string" | "integer" | "boolean")
        ) {
            return bad("x-mcp-header is only allowed on string, integer and boolean properties");
        }
        if found.iter().any(|(_, n)| n.eq_ignore_ascii_case(name)) {
            return bad("the x-mcp-header name is used twice");
        }
        found.push((property.clone(), name.to_owned()));
    }
    Ok(found)
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The `(Name, value)` of each header of a call with `arguments`: strings as they are,
/// integers in decimal, booleans as `true`/`false`; a null or absent value sends no header.
pub(crate) fn values(
    annotations: &[(String, String)],
    arguments: Option<&Map<String, Value>>,
) -> Vec<(String, String)> {
    let Some(arguments) = arguments else {
        return Vec::new();
    };
    annotations
        .iter()
        .filter_map(|(property, name)| {
            let value = match arguments.get(property)? {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some((name.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(properties: Value) -> Map<String, Value> {
        match json!({"type": "object", "properties": properties}) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn valid_annotations_are_listed() {
        let s = schema(json!({
            "region": {"type": "string", "x-mcp-header": "Region"},
            "priority": {"type": "integer", "x-mcp-header": "Priority"},
            "query": {"type": "string"}
        }));
        let found = annotations(&s).unwrap();
        assert_eq!(found.len(), 2);
        let args = json!({"region": "us-west1", "priority": 42, "query": "x"});
        let mut headers = values(&found, args.as_object());
        headers.sort();
        assert_eq!(
            headers,
            vec![
                ("Priority".into(), "42".into()),
                ("Region".into(), "us-west1".into())
            ]
        );
    }

    #[test]
    fn null_values_send_no_header() {
        let s = schema(json!({"verbose": {"type": "boolean", "x-mcp-header": "Verbose"}}));
        let found = annotations(&s).unwrap();
        assert!(values(&found, json!({"verbose": null}).as_object()).is_empty());
        assert_eq!(
            values(&found, json!({"verbose": false}).as_object()),
            vec![("Verbose".into(), "false".into())]
        );
    }

    #[test]
    fn invalid_annotations_are_refused() {
        for bad in [
            json!({"v": {"type": "string", "x-mcp-header": ""}}),
            json!({"v": {"type": "object", "x-mcp-header": "V"}}),
            json!({"v": {"type": "array", "x-mcp-header": "V"}}),
            json!({"v": {"type": "null", "x-mcp-header": "V"}}),
            json!({"v": {"type": "number", "x-mcp-header": "V"}}),
            json!({"a": {"type": "string", "x-mcp-header": "R"}, "b": {"type": "string", "x-mcp-header": "r"}}),
            json!({"v": {"type": "string", "x-mcp-header": "My Region"}}),
            json!({"v": {"type": "string", "x-mcp-header": "Region:Primary"}}),
            json!({"v": {"type": "string", "x-mcp-header": "Région"}}),
            json!({"v": {"type": "string", "x-mcp-header": "Region\t1"}}),
        ] {
            assert!(annotations(&schema(bad.clone())).is_err(), "{bad}");
        }
    }
}
