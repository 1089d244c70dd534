//! A legacy request's body read as clients write it (PF-11): `{"jsonrpc":"2.0","id":…,
//! "method":"…","params":…}`, its members in that order, with no escape in the id or the
//! method, and whitespace only where JSON allows it after the `:` of the id, the method and the
//! params, inside the params, before the closing brace and after it (none at the start, around
//! the `jsonrpc` member, before a `:` or around a `,`). The envelope's constant parts are
//! compared as bytes, the id and the method read where they are, and the params checked by
//! their bytes as serde_json checks a raw value ([`crate::json_skip`], PF-66); no member is
//! matched by name, none is borrowed through a visitor, nothing goes through serde. Params
//! written as clients write a call, `{"name":"…","arguments":{…}}`, are marked as one, so the
//! server finds their name and arguments without reading the params again (PF-64).
//!
//! Anything else (other members, another order, whitespace elsewhere, an escape, a
//! notification, a response, a batch, a body that is not valid JSON-RPC) is read by
//! [`Parsed::parse`], and so is a body this read starts and then finds it cannot finish: every
//! refusal is that reader's.

use crate::json_skip::{Cursor, raw};
use crate::jsonrpc::{InvalidMessage, Message, Params, Parsed, Request};

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

/// The request, when `body` is one written as clients write it; `None` leaves it to the
/// general read.
fn as_written(body: &[u8]) -> Option<Request> {
    if !body.starts_with(HEAD.as_bytes()) {
        return None;
    }
    // UTF-8 checked once, as the general read does (PF-11).
    let text = std::str::from_utf8(body).ok()?;
    let mut at = Cursor::new(text, HEAD.len());
    let id = at.id()?;
    at.literal(br#","method":"#)?;
    let method = at.plain()?;
    let params = match at.literal(br#","params":"#) {
        Some(()) => {
            let start = at.at;
            // A call as clients write it: its name and arguments marked as they are checked
            // (PF-64); any other params checked whole.
            if call(&mut at).is_some() {
                let json = text.get(start..at.at)?;
                Some(Params::call(raw(json)?.to_owned()))
            } else {
                at.at = start;
                // Checked by its bytes as serde_json checks a raw value (PF-66); deeper than
                // the check goes, or not JSON, the general read decides.
                let json = at.value()?;
                // Params that are no object or array: the general read refuses them, with the
                // id.
                if !matches!(json.as_bytes().first(), Some(b'{' | b'[')) {
                    return None;
                }
                // The body's own text, as serde_json borrows it; copied once into the params.
                Some(Params::from_raw(raw(json)?.to_owned()))
            }
        }
        None => None,
    };
    // The object ends with the params (a member after them is the general read's to
    // refuse or read); whitespace may follow it, as anywhere around a JSON value.
    at.expect(b'}')?;
    if !at.at_end() {
        return None;
    }
    Some(Request {
        id,
        method: method.to_owned(),
        params,
    })
}

/// Params at the cursor written as clients write a call, `{"name":"…","arguments":{…}}` (the
/// name without escapes, the arguments an object, no whitespace but inside them), checked as
/// [`Cursor::value`] checks them whole (PF-66) and read past (PF-64). `None` for any other
/// params, the cursor left anywhere.
fn call(at: &mut Cursor<'_>) -> Option<()> {
    at.literal(br#"{"name":""#)?;
    at.at -= 1;
    at.plain()?;
    at.literal(br#","arguments":{"#)?;
    at.at -= 1;
    at.value()?;
    at.literal(b"}")
}

#[cfg(test)]
mod tests;
