//! A 2026-07-28 request read in one serde pass (PF-51): the envelope and the params' members
//! the validation ladder checks ([`ModernParams`]) in the same pass over the body, the params
//! kept as a range of the body ([`Params`], PF-50) whose ends are found from where the
//! neighbouring keys were borrowed, not by skipping the params a second time.
//!
//! Anything this pass does not read the way [`Parsed::parse_shared`] would (a body that is not
//! one object, an escaped key, a duplicate member, params the typed read refuses, a message
//! that is not valid JSON-RPC) is read again by [`Parsed::parse_shared`], and the ladder reads
//! the params on its own ([`ModernParams::read`]): every refusal is the two-pass reader's.
//!
//! Before this pass, a request written as clients write it is read by its bytes into the same
//! record (PF-61); whatever that read does not take is this pass's (PF-62).

use std::fmt;

use bytes::Bytes;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::jsonrpc::{Envelope, IdField, InvalidMessage, Message, Params, Parsed, first_byte};
use crate::modern_params::{self, EnvelopeError, ModernParams};

/// What the ladder reads of a request's params: `None` when they were not read in the
/// envelope's pass (the ladder reads them itself).
pub type Members<'a> = Option<Result<ModernParams<'a>, EnvelopeError>>;

/// Reads a POST's body: by its bytes when it is a request written as clients write it
/// (the `modern_scan` module, PF-61), else as [`read_by_serde`] reads it; the outcome is
/// [`read_by_serde`]'s in every case (PF-62).
pub fn read(body: &Bytes) -> Result<(Parsed, Members<'_>), InvalidMessage> {
    if let Some((message, members)) = crate::modern_scan::scan(body) {
        return Ok((Parsed::Single(message), members));
    }
    read_by_serde(body)
}

/// Reads a POST's body without the byte scan: one serde pass when it is a single request (with
/// the ladder's members of its params), else [`Parsed::parse_shared`] with no members. The
/// reference the scan is compared with (tests, the `modern_params` fuzz target).
pub fn read_by_serde(body: &Bytes) -> Result<(Parsed, Members<'_>), InvalidMessage> {
    if let Some((message, members)) = one_pass(body) {
        return Ok((Parsed::Single(message), members));
    }
    Parsed::parse_shared(body).map(|parsed| (parsed, None))
}

/// What a read of a body gave, in a form two reads are compared by (the byte read against
/// [`read_by_serde`] in tests and in the `modern_params` fuzz target, PF-62): the message's
/// debug form, where its params lie in memory, and the ladder's members' debug form; or the
/// refusal.
pub fn comparable(
    read: Result<(Parsed, Members<'_>), InvalidMessage>,
) -> Result<(String, Option<usize>, String), InvalidMessage> {
    read.map(|(parsed, members)| {
        let at = match &parsed {
            Parsed::Single(Message::Request(r)) => {
                r.params.as_ref().map(|p| p.as_bytes().as_ptr() as usize)
            }
            _ => None,
        };
        (format!("{parsed:?}"), at, format!("{members:?}"))
    })
}

/// The one pass, or `None` for what the two-pass reader must read (see the module docs).
fn one_pass(body: &Bytes) -> Option<(Message, Members<'_>)> {
    if first_byte(body) != Some(b'{') {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    // Filled where it lies, not returned through serde's nested results (PF-60).
    let mut read = Read::default();
    Base(text, &mut read).deserialize(&mut de).ok()?;
    de.end().ok()?;
    let mut span_text = None;
    let params = match read.span {
        Some((start, end)) => {
            let span = text.get(start..end)?;
            let whole = (span.starts_with('{') && span.ends_with('}'))
                || (span.starts_with('[') && span.ends_with(']'));
            if !whole {
                return None;
            }
            span_text = Some(span);
            Some(Params::shared(body.slice_ref(span.as_bytes())))
        }
        None => None,
    };
    let message = Message::classify(read.envelope, params).ok()?;
    let members = match (&message, read.members, span_text) {
        (Message::Request(_), Some(members), _) => Some(ModernParams::from_members(members)),
        // Params that are not an object were not read: refused as the ladder's read refuses
        // them.
        (Message::Request(_), None, Some(span)) => Some(ModernParams::read(span)),
        _ => None,
    };
    Some((message, members))
}

/// The envelope, and the params' members with the params' start and end in the body.
#[derive(Default)]
struct Read<'a> {
    envelope: Envelope<'a>,
    members: Option<modern_params::Params<'a>>,
    span: Option<(usize, usize)>,
}

/// The body's text (where borrowed keys are found), and what the pass reads.
struct Base<'a, 'r>(&'a str, &'r mut Read<'a>);

impl<'de> DeserializeSeed<'de> for Base<'de, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

/// A value read into its slot.
struct Into<'r, T>(&'r mut Option<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Into<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        *self.0 = Some(T::deserialize(d)?);
        Ok(())
    }
}

/// A key of the envelope, where it was borrowed from the body.
enum Key<'a> {
    Borrowed(&'a str),
    /// An escaped key: a known member may hide behind it, the two-pass reader decides.
    Escaped,
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E>(self, _: &str) -> Result<Key<'de>, E> {
                Ok(Key::Escaped)
            }
        }
        d.deserialize_str(V)
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The offset in `text` of `part`, a slice borrowed from it.
fn offset(text: &str, part: &str) -> Option<usize> {
    let at = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    (at + part.len() <= text.len()).then_some(at)
}

/// Where the value of the key ending at `key_end` starts: after `"`, `:` and whitespace.
fn value_start(text: &[u8], key_end: usize) -> Option<usize> {
    let mut at = key_end;
    if text.get(at) != Some(&b'"') {
        return None;
    }
    at += 1;
    while text.get(at).copied().is_some_and(is_space) {
        at += 1;
    }
    if text.get(at) != Some(&b':') {
        return None;
    }
    at += 1;
    while text.get(at).copied().is_some_and(is_space) {
        at += 1;
    }
    Some(at)
}

/// Where the value before `at` ends, `at` being past the separator that follows it (`,` before
/// a key's `"`, or the envelope's `}`), with whitespace on both sides.
fn value_end(text: &[u8], mut at: usize, separator: u8) -> Option<usize> {
    while at > 0 && is_space(text[at - 1]) {
        at -= 1;
    }
    if at == 0 || text[at - 1] != separator {
        return None;
    }
    at -= 1;
    while at > 0 && is_space(text[at - 1]) {
        at -= 1;
    }
    Some(at)
}

/// The envelope's members, as [`Envelope`]'s derived reader names them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Member {
    Jsonrpc = 1,
    Id = 2,
    Method = 4,
    Params = 8,
    Result = 16,
    Error = 32,
}

impl<'de> Visitor<'de> for Base<'de, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC message")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Base(text, read) = self;
        let bytes = text.as_bytes();
        let lost = || de::Error::custom("read in two passes");
        let envelope = &mut read.envelope;
        // The params' start, until the next key (or the envelope's end) shows their end.
        let mut open: Option<usize> = None;
        let mut seen = 0u8;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let Key::Borrowed(key) = key else {
                return Err(lost());
            };
            let at = offset(text, key).ok_or_else(lost)?;
            if let Some(start) = open.take() {
                let end =
                    value_end(bytes, at.checked_sub(1).ok_or_else(lost)?, b',').ok_or_else(lost)?;
                read.span = Some((start, end));
            }
            let member = match key {
                "jsonrpc" => Member::Jsonrpc,
                "id" => Member::Id,
                "method" => Member::Method,
                "params" => Member::Params,
                "result" => Member::Result,
                "error" => Member::Error,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if seen & member as u8 != 0 {
                return Err(de::Error::custom("duplicate member"));
            }
            seen |= member as u8;
            match member {
                Member::Jsonrpc => envelope.jsonrpc = Some(map.next_value::<&RawValue>()?),
                Member::Id => envelope.id = Some(map.next_value::<IdField>()?),
                Member::Method => envelope.method = map.next_value::<Option<String>>()?,
                Member::Params => {
                    let start = value_start(bytes, at + key.len()).ok_or_else(lost)?;
                    if bytes.get(start) == Some(&b'{') {
                        map.next_value_seed(Into(&mut read.members))?;
                    } else {
                        // Not an object (an array would be read member by position): the
                        // ladder reads the params itself, and refuses them.
                        map.next_value::<IgnoredAny>()?;
                    }
                    open = Some(start);
                }
                Member::Result => envelope.result = Some(map.next_value::<&RawValue>()?),
                Member::Error => envelope.error = Some(map.next_value::<&RawValue>()?),
            }
        }
        if let Some(start) = open {
            let end = value_end(bytes, bytes.trim_ascii_end().len(), b'}').ok_or_else(lost)?;
            read.span = Some((start, end));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const META: &str = r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"}}"#;

    fn two_passes(text: &str) -> (Result<Parsed, InvalidMessage>, Option<String>) {
        let parsed = Parsed::parse_shared(&Bytes::from(text.to_owned()));
        let members = match &parsed {
            Ok(Parsed::Single(Message::Request(r))) => Some(format!(
                "{:?}",
                ModernParams::read(r.params.as_deref().unwrap_or("{}"))
            )),
            _ => None,
        };
        (parsed, members)
    }

    /// PF-51: a request read in one pass is the message the two-pass reader reads, its params
    /// the same range of the body, and the ladder's members what the ladder's own read gives.
    #[test]
    fn one_pass_reads_what_two_passes_read() {
        let bodies = [
            format!(
                r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"echo","arguments":{{"m":"x"}},"_meta":{META}}}}}"#
            ),
            // Params first, whitespace around everything, members after them.
            format!(
                " {{ \"params\" :\n {{\"uri\":\"a\",\"_meta\":{META}}} , \"id\" : \"s\",\"method\":\"resources/read\" ,\"jsonrpc\":\"2.0\"\t}} \n"
            ),
            format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{"_meta":{META}}},"x":[1]}}"#
            ),
            // An array of params, read as the derived struct reads one.
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":[]}"#.to_owned(),
            // No params.
            r#"{"jsonrpc":"2.0","id":1,"method":"server/discover"}"#.to_owned(),
            r#"{"jsonrpc":"2.0","method":"notifications/x","params":{"_meta":{}}}"#.to_owned(),
        ];
        for text in &bodies {
            let body = Bytes::from(text.clone());
            let (message, members) = one_pass(&body).unwrap_or_else(|| panic!("{text}"));
            let (two, two_members) = two_passes(text);
            let Ok(Parsed::Single(two)) = two else {
                panic!("{text}")
            };
            assert_eq!(message.to_json(), two.to_json(), "{text}");
            let params = |m: &Message| match m {
                Message::Request(r) => r.params.clone(),
                Message::Notification(n) => n.params.clone(),
                Message::Response(_) => None,
            };
            if let Some(p) = params(&message) {
                assert_eq!(Some(p.get()), params(&two).as_deref(), "{text}");
                assert!(body.as_ptr_range().contains(&p.as_bytes().as_ptr()));
            }
            let members = members.map(|m| format!("{m:?}"));
            match &message {
                Message::Request(r) if r.params.is_some() => assert_eq!(members, two_members),
                _ => assert_eq!(members, None, "{text}"),
            }
        }
    }

    /// PF-51: what the one pass does not read is read by the two-pass reader, with its refusals.
    #[test]
    fn the_rest_is_read_in_two_passes_with_the_same_refusals() {
        for text in [
            // Escaped keys, duplicates, params the typed read refuses, not JSON-RPC, not JSON.
            r#"{"jsonrpc":"2.0","id":1,"method":"m","p\u0061rams":{"_meta":{}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{},"params":{"a":1}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":3}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":null}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"name":"a","name":"b"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":[[4E454]]}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"m","params":{}}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"m","params":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{}"#,
            r#"[{"jsonrpc":"2.0","id":1,"method":"m"}]"#,
            "",
        ] {
            let body = Bytes::from(text.to_owned());
            let (ours, ours_members) = match read(&body) {
                Ok((parsed, members)) => (Ok(parsed), members.map(|m| format!("{m:?}"))),
                Err(e) => (Err(e), None),
            };
            let (two, two_members) = two_passes(text);
            match (&ours, &two) {
                (Err(a), Err(b)) => assert_eq!(a, b, "{text}"),
                (Ok(Parsed::Single(a)), Ok(Parsed::Single(b))) => {
                    assert_eq!(a.to_json(), b.to_json(), "{text}");
                    // Read apart by the ladder, or in the pass with the same outcome.
                    assert!(
                        ours_members.is_none() || ours_members == two_members,
                        "{text}"
                    );
                }
                (Ok(Parsed::Batch(a)), Ok(Parsed::Batch(b))) => assert_eq!(a.len(), b.len()),
                _ => panic!("{text}: {ours:?} / {two:?}"),
            }
        }
    }
}
