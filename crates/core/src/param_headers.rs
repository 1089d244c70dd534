//! The `Mcp-Param-*` headers of a 2026-07-28 `tools/call` (H-10): the transport hands them to
//! the role in the request's extensions, and the role, which knows the tool's `x-mcp-header`
//! annotations, checks them against the arguments.

use mcp_http_proto::x_mcp_header::{self, ParamHeader};
use mcp_http_proto::{ErrorObject, JsonObject, header_value, modern::header_mismatch_error};
use serde_json::value::RawValue;

/// The `Mcp-Param-{Name}` headers of one request, as received (values not yet decoded; see
/// `mcp_http_proto::header_value`). Present in a modern request's extensions even when empty,
/// so a missing header can be told from a transport that has none.
#[derive(Debug, Clone, Default)]
pub struct ParamHeaders {
    /// `(Name, value)`: the name after `Mcp-Param-`, as sent.
    headers: Vec<(String, String)>,
}

impl ParamHeaders {
    /// Records one header: `name` is what follows `Mcp-Param-`.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.headers.push((name.into(), value.into()));
    }

    /// The raw value of `Mcp-Param-{name}` (names compare case-insensitively, H-7). `Err` when
    /// the header came more than once.
    pub fn get(&self, name: &str) -> Result<Option<&str>, RepeatedHeader> {
        let mut found = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        let first = found.next().map(|(_, v)| v.as_str());
        match found.next() {
            Some(_) => Err(RepeatedHeader),
            None => Ok(first),
        }
    }

    /// Every header, in the order received.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Checks these headers against a call's arguments, for a tool whose annotated arguments
    /// are `declared` (H-10): an argument with a value needs its header with the same value; an
    /// absent or null one, no header. The error is -32020 (`HeaderMismatch`).
    pub fn check(
        &self,
        declared: &[ParamHeader],
        arguments: Option<&RawValue>,
    ) -> Result<(), ErrorObject> {
        if declared.is_empty() {
            return Ok(());
        }
        let arguments: JsonObject = arguments
            .and_then(|a| serde_json::from_str(a.get()).ok())
            .unwrap_or_default();
        for param in declared {
            let header = self
                .get(&param.header)
                .map_err(|e| mismatch(&param.header, &e.to_string()))?;
            let body = arguments.get(&param.property).filter(|v| !v.is_null());
            match (header, body) {
                (None, None) => {}
                (None, Some(_)) => {
                    return Err(mismatch(
                        &param.header,
                        "is required: the argument has a value",
                    ));
                }
                (Some(_), None) => {
                    return Err(mismatch(
                        &param.header,
                        "is set but the argument has no value",
                    ));
                }
                (Some(raw), Some(body)) => {
                    let decoded = header_value::decode(raw)
                        .map_err(|e| mismatch(&param.header, &e.to_string()))?;
                    if !x_mcp_header::matches(param.kind, &decoded, body) {
                        return Err(mismatch(&param.header, "differs from the argument"));
                    }
                }
            }
        }
        Ok(())
    }
}

fn mismatch(header: &str, why: &str) -> ErrorObject {
    header_mismatch_error(format!("Header mismatch: Mcp-Param-{header} {why}"))
}

/// An `Mcp-Param-*` header that came more than once: which value counts is unknowable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatedHeader;

impl std::fmt::Display for RepeatedHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the header appears more than once")
    }
}

impl std::error::Error for RepeatedHeader {}
