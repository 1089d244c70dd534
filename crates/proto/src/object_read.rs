//! A JSON object decoded as a type by its bytes (PF-63): a tool's arguments, whose text the
//! request's read has found and checked already, read without serde_json's reader around the
//! object. The members' keys and the strings written without escapes are read where they lie
//! (borrowed, as serde_json borrows them); every other value is checked as [`crate::json_skip`]
//! checks it and handed to serde_json's own reader, alone. So a decode that succeeds gives what
//! `serde_json::from_str` gives; a decode this read does not finish (an escaped key, a key read
//! as a number, a value of the wrong type, text that is not JSON) gives `None`, and the caller
//! reads the text with serde_json, whose value or message it then is.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::de::StrRead;

use crate::json_skip::Cursor;

/// How deep objects read here may nest: with the values handed to serde_json (checked to
/// [`crate::json_skip`]'s depth) well within serde_json's own limit of 128, so nothing this
/// read takes is one serde_json would refuse as too deep.
const NESTING: u32 = 32;

/// `json` (an object, whitespace around it allowed) decoded as `T`; `None` when this read does
/// not decode it (the caller reads it with serde_json, PF-63).
///
/// ```
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Echo<'a> { message: &'a str }
/// let echo: Option<Echo> = mcp_http_proto::object_read::decode(r#"{"message":"hi"}"#);
/// assert_eq!(echo, Some(Echo { message: "hi" }));
/// ```
pub fn decode<'de, T: Deserialize<'de>>(json: &'de str) -> Option<T> {
    let mut at = Cursor::new(json, 0);
    at.space();
    if at.peek() != Some(b'{') {
        return None;
    }
    let value = T::deserialize(Value {
        at: &mut at,
        depth: NESTING,
    })
    .ok()?;
    at.at_end().then_some(value)
}

/// What this read refuses: the caller reads the text with serde_json instead.
fn refused() -> serde_json::Error {
    de::Error::custom("not read by bytes")
}

/// The value at the cursor, with how deep objects may still nest in it.
struct Value<'a, 'de> {
    at: &'a mut Cursor<'de>,
    depth: u32,
}

impl<'de> Value<'_, 'de> {
    /// The value's text checked and handed to serde_json's reader alone: `read` is the
    /// `Deserializer` method serde_json would have been asked for.
    fn by_serde<V>(
        self,
        read: impl FnOnce(&mut serde_json::Deserializer<StrRead<'de>>) -> Result<V, serde_json::Error>,
    ) -> Result<V, serde_json::Error> {
        let text = self.at.value().ok_or_else(refused)?;
        // One value exactly: serde_json reads all of it when it reads it at all.
        read(&mut serde_json::Deserializer::from_str(text))
    }

    /// A string without escapes at the cursor, read past; `None` leaves the cursor there.
    fn plain(&mut self) -> Option<&'de str> {
        if self.at.peek() != Some(b'"') {
            return None;
        }
        let start = self.at.at;
        let plain = self.at.plain();
        if plain.is_none() {
            self.at.at = start;
        }
        plain
    }

    /// An object's members, visited as serde_json visits them (`visit_map`, and every member
    /// read when it returns).
    fn object<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        let depth = self.depth.checked_sub(1).ok_or_else(refused)?;
        self.at.at += 1;
        let mut members = Members {
            at: self.at,
            depth,
            first: true,
            done: false,
        };
        let value = visitor.visit_map(&mut members)?;
        // serde_json refuses members the visitor left unread.
        if members.done {
            Ok(value)
        } else {
            Err(refused())
        }
    }
}

/// The `Deserializer` methods that serde_json's reader answers for this value.
macro_rules! by_serde {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, serde_json::Error> {
                self.by_serde(|json| json.$method($($arg,)* visitor))
            }
        )*
    };
}

impl<'de> Deserializer<'de> for Value<'_, 'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Self::Error> {
        self.at.space();
        match self.at.peek() {
            Some(b'{') => self.object(visitor),
            _ => match self.plain() {
                Some(text) => visitor.visit_borrowed_str(text),
                None => self.by_serde(|json| json.deserialize_any(visitor)),
            },
        }
    }

    fn deserialize_str<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Self::Error> {
        self.at.space();
        match self.plain() {
            Some(text) => visitor.visit_borrowed_str(text),
            None => self.by_serde(|json| json.deserialize_str(visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.at.space();
        match self.at.peek() {
            Some(b'n') => self.by_serde(|json| json.deserialize_option(visitor)),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.at.space();
        match self.at.peek() {
            Some(b'{') => self.object(visitor),
            _ => self.by_serde(|json| json.deserialize_map(visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.at.space();
        match self.at.peek() {
            Some(b'{') => self.object(visitor),
            _ => self.by_serde(|json| json.deserialize_struct(name, fields, visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        // Checked and skipped as serde_json skips it.
        self.at.value().ok_or_else(refused)?;
        visitor.visit_unit()
    }

    by_serde! {
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }
}

/// An object's members, read past as they are visited.
struct Members<'a, 'de> {
    at: &'a mut Cursor<'de>,
    depth: u32,
    first: bool,
    /// The object's `}` read.
    done: bool,
}

impl<'de> MapAccess<'de> for Members<'_, 'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        if self.done {
            return Err(refused());
        }
        self.at.space();
        match (self.at.peek(), self.first) {
            (Some(b'}'), _) => {
                self.at.at += 1;
                self.done = true;
                return Ok(None);
            }
            (Some(b','), false) => self.at.at += 1,
            (_, true) => {}
            _ => return Err(refused()),
        }
        self.first = false;
        // A key with an escape, or read as anything but a string, is serde_json's to read.
        let key = self.at.plain().ok_or_else(refused)?;
        self.at.expect(b':').ok_or_else(refused)?;
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        seed.deserialize(Value {
            at: self.at,
            depth: self.depth,
        })
    }
}

#[cfg(test)]
mod tests;
