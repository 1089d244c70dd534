//! `-H 'Name: value'` arguments (the client commands and `mcp-http bench`).

use http::{HeaderName, HeaderValue};

/// Parses one `Name: value` line; the error says what is wrong with it.
pub fn parse(line: &str) -> Result<(HeaderName, HeaderValue), String> {
    let bad = |why: &str| format!("invalid --header {line:?}: {why}");
    let (name, value) = line
        .split_once(':')
        .ok_or_else(|| bad("expected 'Name: value'"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| bad("not a valid header name"))?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| bad("not a valid header value"))?;
    Ok((name, value))
}
