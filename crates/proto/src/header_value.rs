//! Values of the 2026-07-28 request headers that mirror the body (`Mcp-Name`, `Mcp-Param-*`,
//! H-9): a value an HTTP header cannot carry as it is travels as `=?base64?<Base64 of UTF-8>?=`.
//!
//! ```
//! use mcp_http_proto::header_value::{decode, encode};
//! assert_eq!(encode("report.pdf"), "report.pdf");
//! assert_eq!(encode("Zürich"), "=?base64?WsO8cmljaA==?=");
//! assert_eq!(decode(" =?base64?WsO8cmljaA==?= ").unwrap(), "Zürich");
//! assert!(decode("=?base64?SGVsbG8?=").is_err()); // bad padding
//! ```

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const PREFIX: &str = "=?base64?";
const SUFFIX: &str = "?=";

/// Why a header value could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderValueError {
    /// The value is wrapped in the Base64 sentinel but is not valid Base64 (H-8).
    InvalidBase64,
    /// The decoded bytes are not UTF-8.
    NotUtf8,
}

impl std::fmt::Display for HeaderValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HeaderValueError::InvalidBase64 => "the =?base64?...?= value is not valid Base64",
            HeaderValueError::NotUtf8 => "the =?base64?...?= value is not UTF-8",
        })
    }
}

impl std::error::Error for HeaderValueError {}

/// The value a header carries for `value`: itself, or the Base64 sentinel when it is not
/// plain ASCII, has control characters or surrounding whitespace, or looks like the sentinel.
pub fn encode(value: &str) -> Cow<'_, str> {
    let visible = value
        .bytes()
        .all(|b| b == b' ' || b == b'\t' || (0x21..0x7f).contains(&b));
    let padded = value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']);
    let sentinel_like = value.starts_with(PREFIX) && value.ends_with(SUFFIX);
    let plain = visible && !padded && !sentinel_like;
    if plain {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(format!("{PREFIX}{}{SUFFIX}", STANDARD.encode(value)))
    }
}

/// `value` without its optional whitespace (spaces and tabs) at either end, found by its bytes
/// (PF-55): the same text as `value.trim_matches([' ', '\t'])`, without decoding characters
/// (both are ASCII, so every place they end is a character's boundary).
pub fn trim_ows(value: &str) -> &str {
    let ows = |b: &u8| matches!(b, b' ' | b'\t');
    let bytes = value.as_bytes();
    if !bytes.first().is_some_and(ows) && !bytes.last().is_some_and(ows) {
        // The common value: none to remove.
        return value;
    }
    let start = bytes.iter().position(|b| !ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !ows(b))
        .map_or(start, |last| last + 1);
    value.get(start..end).unwrap_or_default()
}

/// The value a header stands for: optional whitespace around it removed (RFC 9110 section
/// 5.5), and the Base64 sentinel decoded (strict: padding and alphabet checked).
pub fn decode(header: &str) -> Result<Cow<'_, str>, HeaderValueError> {
    let value = trim_ows(header);
    let Some(inner) = value
        .strip_prefix(PREFIX)
        .and_then(|v| v.strip_suffix(SUFFIX))
    else {
        return Ok(Cow::Borrowed(value));
    };
    let bytes = STANDARD
        .decode(inner)
        .map_err(|_| HeaderValueError::InvalidBase64)?;
    String::from_utf8(bytes)
        .map(Cow::Owned)
        .map_err(|_| HeaderValueError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_what_needs_the_sentinel() {
        for value in [
            "plain",
            "with space",
            " leading",
            "trailing\t",
            "ünïcödé",
            "line\nbreak",
            "=?base64?abc?=",
            "",
        ] {
            assert_eq!(decode(&encode(value)).unwrap(), value, "{value:?}");
        }
        assert_eq!(encode("us-west-2"), "us-west-2");
    }

    #[test]
    fn half_a_sentinel_is_a_literal() {
        assert_eq!(decode("=?base64?SGVsbG8=").unwrap(), "=?base64?SGVsbG8=");
        assert_eq!(decode("SGVsbG8=?=").unwrap(), "SGVsbG8=?=");
    }

    #[test]
    fn bad_base64_is_refused() {
        assert_eq!(
            decode("=?base64?SGVs!!!bG8=?="),
            Err(HeaderValueError::InvalidBase64)
        );
        assert_eq!(
            decode("=?base64?SGVsbG8?="),
            Err(HeaderValueError::InvalidBase64)
        );
        assert_eq!(decode("=?base64?/w==?="), Err(HeaderValueError::NotUtf8));
    }

    #[test]
    fn optional_whitespace_is_trimmed_as_trim_matches_trims_it() {
        let cases = [
            "",
            " ",
            "\t \t",
            "a",
            " a",
            "a\t",
            " \ta b\t ",
            "a  b",
            "\u{e9} x ",
            " ü\t",
        ];
        for value in cases {
            assert_eq!(
                trim_ows(value),
                value.trim_matches([' ', '\t']),
                "{value:?}"
            );
        }
    }
}
