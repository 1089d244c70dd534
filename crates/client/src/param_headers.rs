//! `x-mcp-header` annotations of a tool's input schema (H-10): which parameters a 2026-07-28
//! client mirrors into `Mcp-Param-{Name}` headers, whether a tool's annotations are valid (a
//! tool with an invalid one is dropped from `tools/list`), and the header values of a call's
//! arguments.

use serde_json::{Map, Value};

use mcp_http_proto::x_mcp_header::{self, ParamHeader};

/// Why a tool's annotations are invalid (H-10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidAnnotation(pub(crate) String);

/// `(property, header name)` of each annotated top-level property, in schema order; an error
/// when any annotation breaks a rule of H-10 (the rules are `mcp_http_proto::x_mcp_header`'s,
/// the same the server applies).
pub(crate) fn annotations(
    input_schema: &Map<String, Value>,
) -> Result<Vec<(String, String)>, InvalidAnnotation> {
    x_mcp_header::annotations(input_schema)
        .map(|found| {
            found
                .into_iter()
                .map(
                    |ParamHeader {
                         property, header, ..
                     }| (property, header),
                )
                .collect()
        })
        .map_err(|e| InvalidAnnotation(e.0))
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
            let value = x_mcp_header::header_text(arguments.get(property)?)?;
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
