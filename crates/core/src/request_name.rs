//! The name a request is about: the tool of `tools/call`, the resource URI of
//! `resources/read`, the prompt of `prompts/get`. A transport may have to send it beside the
//! message (the 2026-07-28 revision's `Mcp-Name` header), so the peer takes it from the typed
//! params as they go out rather than have the transport parse the JSON again.
//!
//! Typed params are visited with a serializer that looks at the top-level field names only and
//! descends into the one it wants: no output is written and the arguments are not walked.

use std::borrow::Cow;
use std::fmt;

use mcp_http_proto::method;
use serde::ser::{self, Impossible, Serialize};
use serde_json::value::RawValue;

/// The params field that names what `method` is about, for the methods that have one.
fn name_field(method: &str) -> Option<&'static str> {
    match method {
        method::TOOLS_CALL | method::PROMPTS_GET => Some("name"),
        method::RESOURCES_READ => Some("uri"),
        _ => None,
    }
}

/// The name a `method` request with typed `params` is about; `None` for other methods, or
/// when the params do not hold it as a string.
pub(crate) fn of_params<P: Serialize + ?Sized>(
    method: &str,
    params: &P,
) -> Option<Cow<'static, str>> {
    let field = name_field(method)?;
    match params.serialize(Finder::Object(field)) {
        Ok(Found::Text(name)) => Some(Cow::Owned(name)),
        _ => None,
    }
}

/// The same for params that are already JSON: read from them, for callers that bypassed the
/// typed path (`Peer::request_raw`). Reading stops at the wanted member: what follows it (the
/// arguments, `_meta`) is not read.
pub(crate) fn of_raw(method: &str, params: Option<&RawValue>) -> Option<Cow<'static, str>> {
    let field = name_field(method)?;
    let mut found = None;
    let mut reader = serde_json::Deserializer::from_str(params?.get());
    // Stopping early leaves the object unfinished, which the reader reports: that error says
    // nothing about the member found before it.
    let _ = serde::Deserializer::deserialize_map(
        &mut reader,
        MemberVisitor {
            field,
            found: &mut found,
        },
    );
    found.map(Cow::Owned)
}

/// Looks through an object's members for the string value of `field`; stops there.
struct MemberVisitor<'a> {
    field: &'static str,
    found: &'a mut Option<String>,
}

impl<'de> serde::de::Visitor<'de> for MemberVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(wanted) = map.next_key_seed(IsMember(self.field))? {
            if wanted {
                // A value that is not a string names nothing.
                *self.found = map.next_value::<String>().ok();
                return Ok(());
            }
            map.next_value::<serde::de::IgnoredAny>()?;
        }
        Ok(())
    }
}

/// Whether a member's name is the wanted one (read without a copy).
struct IsMember(&'static str);

impl<'de> serde::de::DeserializeSeed<'de> for IsMember {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for IsMember {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }
}

/// What a [`Finder`] came back with.
enum Found {
    /// Nothing of interest.
    Nothing,
    /// A string value: the name.
    Text(String),
    /// A map key that is the wanted field.
    Key,
}

/// The one error of a [`Finder`]: the value is not of a shape it looks into.
#[derive(Debug)]
struct NotHere;

impl fmt::Display for NotHere {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no name here")
    }
}

impl std::error::Error for NotHere {}

impl ser::Error for NotHere {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        NotHere
    }
}

/// A serializer that finds a top-level string field.
#[derive(Clone, Copy)]
enum Finder {
    /// Looking at the params: an object (struct or map) whose `field` is wanted.
    Object(&'static str),
    /// Looking at a map key: is it `field`?
    Key(&'static str),
    /// Looking at the wanted field's value: a string?
    Text,
}

/// Fields of a struct or entries of a map, looked through for the wanted one.
struct Fields {
    field: &'static str,
    /// The last map key was the wanted field.
    at_field: bool,
    found: Option<String>,
}

impl Fields {
    fn take<T: Serialize + ?Sized>(&mut self, value: &T) {
        if self.found.is_none()
            && let Ok(Found::Text(text)) = value.serialize(Finder::Text)
        {
            self.found = Some(text);
        }
    }

    fn done(self) -> Result<Found, NotHere> {
        Ok(self.found.map_or(Found::Nothing, Found::Text))
    }
}

impl ser::SerializeStruct for Fields {
    type Ok = Found;
    type Error = NotHere;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), NotHere> {
        if key == self.field {
            self.take(value);
        }
        Ok(())
    }

    fn end(self) -> Result<Found, NotHere> {
        self.done()
    }
}

impl ser::SerializeMap for Fields {
    type Ok = Found;
    type Error = NotHere;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), NotHere> {
        self.at_field = matches!(key.serialize(Finder::Key(self.field)), Ok(Found::Key));
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NotHere> {
        if std::mem::take(&mut self.at_field) {
            self.take(value);
        }
        Ok(())
    }

    fn end(self) -> Result<Found, NotHere> {
        self.done()
    }
}

/// Every shape the finder does not look into answers [`Found::Nothing`] or [`NotHere`].
macro_rules! nothing {
    ($($name:ident($($ty:ty),*);)*) => {
        $(fn $name(self, $(_: $ty),*) -> Result<Found, NotHere> {
            Ok(Found::Nothing)
        })*
    };
}

impl ser::Serializer for Finder {
    type Ok = Found;
    type Error = NotHere;
    type SerializeSeq = Impossible<Found, NotHere>;
    type SerializeTuple = Impossible<Found, NotHere>;
    type SerializeTupleStruct = Impossible<Found, NotHere>;
    type SerializeTupleVariant = Impossible<Found, NotHere>;
    type SerializeMap = Fields;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Impossible<Found, NotHere>;

    nothing! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_str(self, v: &str) -> Result<Found, NotHere> {
        Ok(match self {
            Finder::Text => Found::Text(v.to_owned()),
            Finder::Key(field) if v == field => Found::Key,
            _ => Found::Nothing,
        })
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Found, NotHere> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Found, NotHere> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Found, NotHere> {
        Ok(Found::Nothing)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, NotHere> {
        Err(NotHere)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, NotHere> {
        Err(NotHere)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, NotHere> {
        Err(NotHere)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, NotHere> {
        Err(NotHere)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Fields, NotHere> {
        self.fields()
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Fields, NotHere> {
        self.fields()
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, NotHere> {
        Err(NotHere)
    }
}

impl Finder {
    /// Looks through an object's fields, when that is what this finder looks at.
    fn fields(self) -> Result<Fields, NotHere> {
        match self {
            Finder::Object(field) => Ok(Fields {
                field,
                at_field: false,
                found: None,
            }),
            Finder::Key(_) | Finder::Text => Err(NotHere),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn finds_the_name_in_typed_params() {
        #[derive(serde::Serialize)]
        struct Call<'a> {
            arguments: serde_json::Value,
            name: &'a str,
        }
        let call = Call {
            arguments: serde_json::json!({"name": "not this one"}),
            name: "add",
        };
        assert_eq!(of_params(method::TOOLS_CALL, &call).as_deref(), Some("add"));
        let read = serde_json::json!({"uri": "file:///a", "name": "x"});
        assert_eq!(
            of_params(method::RESOURCES_READ, &read).as_deref(),
            Some("file:///a")
        );
        let prompt = Some(serde_json::json!({"name": "greet", "arguments": {}}));
        assert_eq!(
            of_params(method::PROMPTS_GET, &prompt).as_deref(),
            Some("greet")
        );
    }

    #[test]
    fn other_methods_and_shapes_have_no_name() {
        let params = serde_json::json!({"name": "add"});
        assert_eq!(of_params(method::TOOLS_LIST, &params), None);
        assert_eq!(of_params(method::TOOLS_CALL, &[1, 2]), None);
        assert_eq!(
            of_params(method::TOOLS_CALL, &serde_json::json!({"name": 1})),
            None
        );
        assert_eq!(of_params(method::TOOLS_CALL, &serde_json::json!({})), None);
    }

    #[test]
    fn finds_the_name_in_raw_params() {
        let raw = serde_json::value::to_raw_value(&serde_json::json!({"name": "a\"b"})).unwrap();
        assert_eq!(
            of_raw(method::TOOLS_CALL, Some(&raw)).as_deref(),
            Some("a\"b")
        );
        assert_eq!(of_raw(method::TOOLS_LIST, Some(&raw)), None);
        assert_eq!(of_raw(method::TOOLS_CALL, None), None);
        // Members before it are passed over, nested names are not taken for it.
        let raw = serde_json::value::RawValue::from_string(
            r#"{"arguments":{"name":"x","uri":"y"},"_meta":{},"name":"echo"}"#.to_owned(),
        )
        .unwrap();
        assert_eq!(
            of_raw(method::TOOLS_CALL, Some(&raw)).as_deref(),
            Some("echo")
        );
        assert_eq!(of_raw(method::RESOURCES_READ, Some(&raw)), None);
        for no_name in [r#"{"name":1}"#, r#"[]"#, r#""echo""#, r#"{}"#] {
            let raw = serde_json::value::RawValue::from_string(no_name.to_owned()).unwrap();
            assert_eq!(of_raw(method::TOOLS_CALL, Some(&raw)), None, "{no_name}");
        }
    }
}
