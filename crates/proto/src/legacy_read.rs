//! A legacy request's body read as clients write it (PF-11): `{"jsonrpc":"2.0","id":…,
//! "method":"…","params":…}`, its members in that order, without whitespace between them and
//! with no escape in the id or the method. The envelope's constant parts are compared as bytes,
//! the id and the method read where they are, and only the params go through serde (one
//! validating pass, which the envelope's serde pass made as well); no member is matched by
//! name, none is borrowed through a visitor.
//!
//! Anything else (other members, another order, whitespace, an escape, a notification, a
//! response, a batch, a body that is not valid JSON-RPC) is read by [`Parsed::parse`], and so is
//! a body this read starts and then finds it cannot finish: every refusal is that reader's.

use serde_json::value::RawValue;

use crate::jsonrpc::{InvalidMessage, Message, Params, Parsed, Request, RequestId};

/// Reads a legacy POST's body: a request written as clients write it in one read, anything
/// else with [`Parsed::parse`]; the outcome is [`Parsed::parse`]'s in every case.
///
/// ```
/// use mcp_http_proto::jsonrpc::{Message, Parsed};
/// let body = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo"}}"#;
/// let Ok(Parsed::Single(Message::Request(request))) = mcp_http_proto::legacy_read::read(body)
/// else {
///     panic!("not read");
/// };
/// assert_eq!((request.method.as_str(), request.params.as_deref()), ("tools/call", Some(r#"{"name":"echo"}"#)));
/// ```
pub fn read(body: &[u8]) -> Result<Parsed, InvalidMessage> {
    match as_written(body) {
        Some(request) => Ok(Parsed::Single(Message::Request(request))),
        None => Parsed::parse(body),
    }
}

/// What every such body starts with.
const HEAD: &str = r#"{"jsonrpc":"2.0","id":"#;

/// JSON's whitespace.
const SPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// The request, when `body` is one written as clients write it; `None` leaves it to the
/// general read.
fn as_written(body: &[u8]) -> Option<Request> {
    if !body.starts_with(HEAD.as_bytes()) {
        return None;
    }
    // UTF-8 checked once, as the general read does (PF-11).
    let text = std::str::from_utf8(body).ok()?;
    let (id, rest) = id(&text[HEAD.len()..])?;
    let (method, rest) = string(rest.strip_prefix(r#","method":""#)?)?;
    // What follows the method: the object's end, or the params and then its end; whitespace
    // may follow the object, as anywhere around a JSON value.
    let rest = rest.trim_end_matches(SPACE);
    let params = match rest {
        "}" => None,
        _ => {
            // The params are all that is left before the object's end: read as one value to
            // the end of that text, they are the params' whole value and the object has no
            // member after them (a member after them makes the read fail: the general read
            // decides then).
            let text = rest.strip_prefix(r#","params":"#)?.strip_suffix('}')?;
            let raw: &RawValue = serde_json::from_str(text).ok()?;
            // Params that are no object or array: the general read refuses them, with the id.
            if !matches!(raw.get().as_bytes().first(), Some(b'{' | b'[')) {
                return None;
            }
            Some(Params::from_raw(raw.to_owned()))
        }
    };
    Some(Request {
        id,
        method: method.to_owned(),
        params,
    })
}

/// A JSON string's content without escapes (and without the control characters JSON forbids
/// in it), from after its opening quote; and what follows its closing quote.
fn string(text: &str) -> Option<(&str, &str)> {
    let end = text
        .bytes()
        .position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
    match text.as_bytes()[end] {
        b'"' => Some((&text[..end], &text[end + 1..])),
        _ => None,
    }
}

/// The id at the start of `text`: a string without escapes, or a non-negative integer of at
/// most 18 digits (any such fits an `i64`) without leading zeros, as JSON writes one; and what
/// follows it. Whatever follows must be the next member (the caller checks), so a number's
/// fraction or exponent is not read here.
fn id(text: &str) -> Option<(RequestId, &str)> {
    let bytes = text.as_bytes();
    match bytes.first()? {
        b'"' => {
            let (id, rest) = string(&text[1..])?;
            Some((RequestId::String(id.into()), rest))
        }
        b'0'..=b'9' => {
            let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 18 || (digits > 1 && bytes[0] == b'0') {
                return None;
            }
            let n = bytes[..digits]
                .iter()
                .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
            Some((RequestId::Number(n), &text[digits..]))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
