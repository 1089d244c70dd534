//! The raw `params` of a request or notification ([`Params`]): JSON text that is either owned
//! (a message built here) or a range of the body it was received in, shared without a copy
//! (PF-50).

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A request's or notification's `params` as JSON text (an object or an array), not yet decoded.
///
/// Read it as text with [`Params::get`] (or through `Deref<Target = str>`, so
/// `request.params.as_deref()` is an `Option<&str>`), decode it with
/// [`Request::params_as`](crate::jsonrpc::Request::params_as).
///
/// A received message's params are a range of the received body ([`Message::parse_shared`]):
/// reference-counted, never copied (PF-50). One built here owns its text.
///
/// [`Message::parse_shared`]: crate::jsonrpc::Message::parse_shared
#[derive(Clone)]
pub struct Params(Repr);

#[derive(Clone)]
enum Repr {
    /// Built here (or by a reader that copies). `call`: params written as clients write a
    /// call, `{"name":"…","arguments":{…}}` (the name without escapes, nothing after the
    /// arguments but the closing brace), as the legacy read that copied them checked them, so
    /// a server finds the name and the arguments without reading the params again (PF-64).
    /// Where they end is not kept (the name's end is its first quote, the arguments' the
    /// params' last but one byte): a field more would make every `Params` larger.
    Owned { raw: Box<RawValue>, call: bool },
    /// A range of a received body: UTF-8 JSON text, checked by the read that made it.
    Shared(Bytes),
}

/// What precedes a call's name in the params of a marked call (PF-64).
const NAME_AT: usize = r#"{"name":""#.len();
/// What separates the name's closing quote from the arguments there.
const ARGUMENTS: &str = r#"","arguments":"#;

impl Params {
    /// Params of `raw` JSON.
    pub fn from_raw(raw: Box<RawValue>) -> Params {
        Params(Repr::Owned { raw, call: false })
    }

    /// `text`, a range of a body whose UTF-8 and JSON a serde read just checked: not copied.
    pub(crate) fn shared(text: Bytes) -> Params {
        Params(Repr::Shared(text))
    }

    /// `raw`, a call's params as clients write them, `{"name":"…","arguments":{…}}`, the name
    /// without escapes and nothing after the arguments but the closing brace, as
    /// the legacy read checked them (PF-64).
    pub(crate) fn call(raw: Box<RawValue>) -> Params {
        Params(Repr::Owned { raw, call: true })
    }

    /// A call's name and its arguments' text (an object), when the read that made these
    /// params found them written as clients write a call, `{"name":"…","arguments":{…}}`, and
    /// checked them (PF-64); `None` for any other params (read them whole).
    ///
    /// ```
    /// use mcp_http_proto::jsonrpc::{Message, Parsed};
    /// let body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}"#;
    /// let Ok(Parsed::Single(Message::Request(request))) = mcp_http_proto::legacy_read::read(body)
    /// else {
    ///     panic!("not read");
    /// };
    /// let params = request.params.unwrap();
    /// assert_eq!(params.call_parts(), Some(("echo", r#"{"message":"hi"}"#)));
    /// ```
    pub fn call_parts(&self) -> Option<(&str, &str)> {
        let Repr::Owned { raw, call: true } = &self.0 else {
            return None;
        };
        let rest = raw.get().get(NAME_AT..)?;
        // The name has no escape: its end is its first quote (a short scan, no searcher).
        let end = rest.bytes().position(|b| b == b'"')?;
        let (name, rest) = rest.split_at(end);
        let arguments = rest.strip_prefix(ARGUMENTS)?.strip_suffix('}')?;
        Some((name, arguments))
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        match &self.0 {
            Repr::Owned { raw, .. } => raw.get(),
            // The range was read from a `str` (PF-50): valid UTF-8, so this never falls back.
            // Checking it again is a pass over bytes without a copy (safe code cannot skip it).
            Repr::Shared(bytes) => std::str::from_utf8(bytes).unwrap_or("{}"),
        }
    }

    /// The JSON text as bytes (no UTF-8 check: for byte searches).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Owned { raw, .. } => raw.get().as_bytes(),
            Repr::Shared(bytes) => bytes,
        }
    }

    /// The params as an owned [`RawValue`] (what a peer sends on): the owned value as it is, a
    /// shared range copied (and checked by serde_json again, the only way to make a `RawValue`).
    pub fn into_raw(self) -> Box<RawValue> {
        match self.0 {
            Repr::Owned { raw, .. } => raw,
            Repr::Shared(_) => {
                RawValue::from_string(self.get().to_owned()).unwrap_or_else(|_| empty_object())
            }
        }
    }
}

/// `{}` as a raw value.
fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".to_owned()).unwrap_or_default()
}

impl From<Box<RawValue>> for Params {
    fn from(raw: Box<RawValue>) -> Params {
        Params::from_raw(raw)
    }
}

impl From<Params> for Box<RawValue> {
    fn from(params: Params) -> Box<RawValue> {
        params.into_raw()
    }
}

impl Deref for Params {
    type Target = str;
    fn deref(&self) -> &str {
        self.get()
    }
}

impl AsRef<str> for Params {
    fn as_ref(&self) -> &str {
        self.get()
    }
}

impl PartialEq for Params {
    fn eq(&self, other: &Params) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Params").field(&self.get()).finish()
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Owned { raw, .. } => raw.serialize(s),
            // Written as raw JSON through serde_json's own raw value: borrowing one from the
            // text is a (validating) read, paid only when a received message is sent on.
            Repr::Shared(_) => match serde_json::from_str::<&RawValue>(self.get()) {
                Ok(raw) => raw.serialize(s),
                Err(_) => empty_object().serialize(s),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::jsonrpc::{Message, Parsed};

    /// PF-50: a received request's params are a range of its body (the same bytes, not a
    /// copy), read exactly as the copying parse reads them.
    #[test]
    fn received_params_are_a_range_of_the_body() {
        for text in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}"#,
            r#"{"params" : [1, "two"] , "method":"m","jsonrpc":"2.0","id":"x"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}}"#,
        ] {
            let body = Bytes::from(text.to_owned());
            let (shared, copied) = match (
                Parsed::parse_shared(&body).unwrap(),
                Message::parse(text.as_bytes()).unwrap(),
            ) {
                (Parsed::Single(Message::Request(s)), Message::Request(c)) => (s.params, c.params),
                (Parsed::Single(Message::Notification(s)), Message::Notification(c)) => {
                    (s.params, c.params)
                }
                _ => panic!("{text}"),
            };
            let (shared, copied) = (shared.unwrap(), copied.unwrap());
            assert_eq!(shared, copied);
            assert_eq!(shared.get(), copied.get());
            let range = body.as_ptr_range();
            assert!(
                range.contains(&shared.as_bytes().as_ptr()),
                "{text}: not a range of the body"
            );
            assert!(!range.contains(&copied.as_bytes().as_ptr()));
            // Sent on, it is the same JSON.
            assert_eq!(
                serde_json::to_string(&shared).unwrap(),
                serde_json::to_string(&copied).unwrap()
            );
            assert_eq!(shared.clone().into_raw().get(), copied.get());
        }
    }

    /// PF-64: marking a call's name and arguments does not make the params (and every request
    /// holding them) larger than a shared range of a body.
    #[test]
    fn marked_params_are_no_larger() {
        assert_eq!(size_of::<Params>(), size_of::<Bytes>());
        let raw =
            RawValue::from_string(r#"{"name":"a","arguments":{"b":"c"}}"#.to_owned()).unwrap();
        let params = Params::call(raw.clone());
        assert_eq!(params.call_parts(), Some(("a", r#"{"b":"c"}"#)));
        assert_eq!(params.get(), raw.get());
        assert_eq!(Params::from_raw(raw).call_parts(), None);
    }

    /// PF-50: the refusals of a body read with shared params are the copying parse's.
    #[test]
    fn a_shared_read_refuses_what_the_copying_read_refuses() {
        for text in [
            "{not json",
            "",
            "42",
            "[]",
            r#"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{},"params":{}}"#,
        ] {
            let shared = Parsed::parse_shared(&Bytes::from(text.to_owned())).unwrap_err();
            assert_eq!(
                shared,
                Parsed::parse(text.as_bytes()).unwrap_err(),
                "{text}"
            );
        }
        let invalid = Bytes::from_static(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}");
        assert_eq!(
            Parsed::parse_shared(&invalid).unwrap_err(),
            Parsed::parse(&invalid).unwrap_err()
        );
    }
}
