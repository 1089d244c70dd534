//! `x-mcp-header` (H-10): a tool argument mirrored into an `Mcp-Param-{Name}` HTTP header, so
//! that gateways can route on it without reading the body. Annotations are checked when a tool
//! is registered; in a 2026-07-28 `tools/call` the headers are checked against the arguments.

use std::fmt;

use mcp_http_core::ParamHeaders;
use mcp_http_proto::{ErrorObject, JsonObject, x_mcp_header};
use serde_json::value::RawValue;

pub(crate) use mcp_http_proto::x_mcp_header::ParamHeader;

/// Why a tool's `x-mcp-header` annotations were refused at registration (H-10).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeaderAnnotationError {
    /// The tool.
    pub tool: String,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for HeaderAnnotationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tool `{}`: invalid x-mcp-header: {}",
            self.tool, self.reason
        )
    }
}

impl std::error::Error for HeaderAnnotationError {}

/// The annotated arguments of a tool's input schema, checked (H-10; the rules are
/// `mcp_http_proto::x_mcp_header`'s).
pub(crate) fn annotations(
    tool: &str,
    schema: &JsonObject,
) -> Result<Vec<ParamHeader>, HeaderAnnotationError> {
    x_mcp_header::annotations(schema).map_err(|e| HeaderAnnotationError {
        tool: tool.to_owned(),
        reason: e.0,
    })
}

/// Checks a call's `Mcp-Param-*` headers against its arguments (H-10; the rules are
/// [`ParamHeaders::check`]'s).
pub(crate) fn check(
    declared: &[ParamHeader],
    headers: &ParamHeaders,
    arguments: Option<&RawValue>,
) -> Result<(), ErrorObject> {
    headers.check(declared, arguments)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::{Value, json};

    fn schema(v: Value) -> JsonObject {
        v.as_object().unwrap().clone()
    }

    fn region_schema() -> JsonObject {
        schema(json!({"type":"object","properties":{
            "region":{"type":"string","x-mcp-header":"Region"},
            "count":{"type":"integer","x-mcp-header":"Count"},
            "dry":{"type":"boolean","x-mcp-header":"Dry"},
            "note":{"type":"string"}}}))
    }

    #[test]
    fn registration_refuses_what_a_header_cannot_carry() {
        assert_eq!(annotations("t", &region_schema()).unwrap().len(), 3);
        for bad in [
            json!({"properties":{"n":{"type":"number","x-mcp-header":"N"}}}),
            json!({"properties":{"o":{"type":"object","x-mcp-header":"O"}}}),
            json!({"properties":{"s":{"type":"string","x-mcp-header":""}}}),
            json!({"properties":{"s":{"type":"string","x-mcp-header":"Has Space"}}}),
            json!({"properties":{"a":{"type":"string","x-mcp-header":"X"},"b":{"type":"string","x-mcp-header":"x"}}}),
            json!({"properties":{"o":{"type":"object","properties":{"s":{"type":"string","x-mcp-header":"Deep"}}}}}),
        ] {
            assert!(annotations("t", &schema(bad.clone())).is_err(), "{bad}");
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> ParamHeaders {
        let mut h = ParamHeaders::default();
        for (n, v) in pairs {
            h.push(*n, *v);
        }
        h
    }

    fn args(v: Value) -> Box<RawValue> {
        RawValue::from_string(v.to_string()).unwrap()
    }

    #[test]
    fn headers_must_mirror_the_arguments() {
        let declared = annotations("t", &region_schema()).unwrap();
        let a = args(json!({"region":"Zürich","count":42,"dry":true,"note":"x"}));
        let ok = headers(&[
            ("region", "=?base64?WsO8cmljaA==?="),
            ("COUNT", " 042 "),
            ("Dry", "true"),
        ]);
        assert!(check(&declared, &ok, Some(&a)).is_ok());
        let missing = headers(&[("Count", "42"), ("Dry", "true")]);
        assert_eq!(
            check(&declared, &missing, Some(&a)).unwrap_err().code,
            -32020
        );
        let wrong = headers(&[("Region", "Zurich"), ("Count", "42"), ("Dry", "true")]);
        assert!(check(&declared, &wrong, Some(&a)).is_err());
        let bad_b64 = headers(&[
            ("Region", "=?base64?SGVsbG8?="),
            ("Count", "42"),
            ("Dry", "true"),
        ]);
        assert!(check(&declared, &bad_b64, Some(&a)).is_err());
        // Null or absent arguments mean no header.
        let nothing = args(json!({"region":null}));
        assert!(check(&declared, &headers(&[]), Some(&nothing)).is_ok());
        assert!(check(&declared, &headers(&[("Region", "x")]), Some(&nothing)).is_err());
    }
}
