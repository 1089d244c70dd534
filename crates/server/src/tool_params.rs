//! A `tools/call`'s params read in one serde pass, the arguments straight into the tool's own
//! type (PF-32). The tool is known before the pass from the params' leading `name`; anything
//! this pass does not read as a well-formed call (a `name` after the arguments or escaped, bad
//! arguments, a malformed `_meta` or `task`) is left to the general read of every call, which
//! answers with its messages: this pass only ever agrees with it or steps aside.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// `params`' `name` when it is their first member, a string written without escapes: what a
/// client writes first, and enough to find the tool before its arguments are read.
pub(crate) fn leading_name(params: &str) -> Option<&str> {
    let rest = params.strip_prefix("{\"name\":\"")?;
    // A name is short: a plain loop, without a searcher's setup.
    let end = rest.bytes().position(|b| b == b'"' || b == b'\\')?;
    (rest.as_bytes().get(end) == Some(&b'"')).then(|| &rest[..end])
}

/// The params of a call, as the general read (`CallParams` in `input.rs`) checks them, with
/// the arguments decoded as `A`.
#[derive(Deserialize)]
#[serde(bound(deserialize = "A: DeserializeOwned"))]
struct Params<'a, A> {
    #[serde(rename = "name")]
    _name: &'a str,
    #[serde(default)]
    arguments: Option<Object<A>>,
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<&'a RawValue>,
    #[serde(rename = "task", default)]
    _task: Option<mcp_http_proto::TaskMetadata>,
}

/// Arguments that must be a JSON object (as the general read requires), decoded as `A` from
/// the object's own entries.
struct Object<A>(A);

impl<'de, A: Deserialize<'de>> Deserialize<'de> for Object<A> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<A>(PhantomData<fn() -> A>);

        impl<'de, A: Deserialize<'de>> Visitor<'de> for Entries<A> {
            type Value = Object<A>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the arguments as an object")
            }

            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Object<A>, M::Error> {
                A::deserialize(MapAccessDeserializer::new(map)).map(Object)
            }
        }

        deserializer.deserialize_map(Entries(PhantomData))
    }
}

/// Reads `params` in one pass: `Some(Some(arguments))`, `Some(None)` when the call has no
/// arguments (or `null`), and `None` when this pass does not read them (the general read
/// answers: an error of the params, or the arguments' own, TL-4).
pub(crate) fn read<A: DeserializeOwned>(params: &str) -> Option<Option<A>> {
    let read: Params<'_, A> = serde_json::from_str(params).ok()?;
    if read.meta.is_some_and(|meta| !meta.get().starts_with('{')) {
        return None;
    }
    Some(read.arguments.map(|Object(arguments)| arguments))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Echo {
        message: String,
    }

    #[test]
    fn the_leading_name_is_read_only_when_it_comes_first_unescaped() {
        assert_eq!(
            leading_name(r#"{"name":"echo","arguments":{}}"#),
            Some("echo")
        );
        assert_eq!(leading_name(r#"{"name":"","arguments":{}}"#), Some(""));
        assert_eq!(leading_name(r#"{"arguments":{},"name":"echo"}"#), None);
        assert_eq!(leading_name(r#"{ "name": "echo"}"#), None);
        assert_eq!(leading_name(r#"{"name":"ec\"ho"}"#), None);
        assert_eq!(leading_name(r#"{"name":"echo"#), None);
        assert_eq!(leading_name(r#"{"name":7}"#), None);
    }

    #[test]
    fn one_pass_reads_what_the_general_read_accepts() {
        let one = read::<Echo>(r#"{"name":"echo","arguments":{"message":"hi"},"_meta":{}}"#);
        assert_eq!(
            one,
            Some(Some(Echo {
                message: "hi".into()
            }))
        );
        assert_eq!(read::<Echo>(r#"{"name":"echo"}"#), Some(None));
        assert_eq!(
            read::<Echo>(r#"{"name":"echo","arguments":null}"#),
            Some(None)
        );
    }

    #[test]
    fn one_pass_steps_aside_for_everything_else() {
        for params in [
            // The arguments: not an object (a struct also decodes from an array), not `A`.
            r#"{"name":"echo","arguments":["hi"]}"#,
            r#"{"name":"echo","arguments":"hi"}"#,
            r#"{"name":"echo","arguments":{"message":7}}"#,
            r#"{"name":"echo","arguments":{}}"#,
            // The params around them.
            r#"{"name":"echo","arguments":{"message":"hi"},"_meta":[]}"#,
            r#"{"name":"echo","arguments":{"message":"hi"},"task":7}"#,
            r#"{"name":"echo","arguments":{"message":"hi"},"arguments":{"message":"hi"}}"#,
            r#"{"name":"echo","name":"echo"}"#,
            r#"{"arguments":{"message":"hi"}}"#,
            r#"{"name":"echo","arguments":{"message":"hi"}"#,
            "[]",
        ] {
            assert!(read::<Echo>(params).is_none(), "{params}");
        }
    }
}
