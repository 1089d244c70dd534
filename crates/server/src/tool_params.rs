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
pub(crate) fn leading_name(params: &str) -> Option<Named<'_>> {
    let rest = params.strip_prefix("{\"name\":\"")?;
    // A name is short: a plain loop, without a searcher's setup.
    let end = rest.bytes().position(|b| b == b'"' || b == b'\\')?;
    (rest.as_bytes().get(end) == Some(&b'"')).then(|| Named {
        name: &rest[..end],
        params,
        after: &rest[end + 1..],
    })
}

/// A call's params whose first member is the tool's name ([`leading_name`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Named<'a> {
    /// The tool's name.
    pub(crate) name: &'a str,
    /// The whole params.
    params: &'a str,
    /// What follows the name's closing quote.
    after: &'a str,
}

/// The arguments' text when the name is followed by nothing but them, as clients write a call
/// (`{"name":"echo","arguments":{..}}`): `Some(None)` for no arguments, `Some(Some(text))` for
/// the text up to the params' closing brace. That text is one value only if the arguments are
/// the last member: a decode of it that reads one value to its end tells (PF-10).
fn last_arguments(after: &str) -> Option<Option<&str>> {
    if after == "}" {
        return Some(None);
    }
    let text = after.strip_prefix(",\"arguments\":")?.strip_suffix('}')?;
    Some(Some(text))
}

/// JSON's whitespace.
const SPACE: [char; 4] = [' ', '\t', '\n', '\r'];

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
///
/// Params that hold only the name and then the arguments are not read again around them: the
/// arguments' text alone is decoded as `A`, as the general read decodes it (PF-10).
pub(crate) fn read<A: DeserializeOwned>(named: &Named<'_>) -> Option<Option<A>> {
    if let Some(arguments) = last_arguments(named.after) {
        let Some(text) = arguments else {
            return Some(None);
        };
        let value = text.trim_start_matches(SPACE);
        if value.starts_with('{') {
            // The decode reads one value and then only whitespace: if the arguments were not
            // the last member, it fails, and the whole params are read below.
            // By its bytes, else by serde_json: the same value either way (PF-63).
            let decoded = mcp_http_proto::object_read::decode::<A>(text)
                .or_else(|| serde_json::from_str::<A>(text).ok());
            if let Some(arguments) = decoded {
                return Some(Some(arguments));
            }
        } else if value.trim_end_matches(SPACE) == "null" {
            return Some(None);
        }
    }
    let read: Params<'_, A> = serde_json::from_str(named.params).ok()?;
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

    fn name(params: &str) -> Option<&str> {
        leading_name(params).map(|named| named.name)
    }

    fn one(params: &str) -> Option<Option<Echo>> {
        read::<Echo>(&leading_name(params)?)
    }

    #[test]
    fn the_leading_name_is_read_only_when_it_comes_first_unescaped() {
        assert_eq!(name(r#"{"name":"echo","arguments":{}}"#), Some("echo"));
        assert_eq!(name(r#"{"name":"","arguments":{}}"#), Some(""));
        assert_eq!(name(r#"{"arguments":{},"name":"echo"}"#), None);
        assert_eq!(name(r#"{ "name": "echo"}"#), None);
        assert_eq!(name(r#"{"name":"ec\"ho"}"#), None);
        assert_eq!(name(r#"{"name":"echo"#), None);
        assert_eq!(name(r#"{"name":7}"#), None);
    }

    #[test]
    fn one_pass_reads_what_the_general_read_accepts() {
        let hi = || {
            Some(Some(Echo {
                message: "hi".into(),
            }))
        };
        assert_eq!(
            one(r#"{"name":"echo","arguments":{"message":"hi"},"_meta":{}}"#),
            hi()
        );
        // The arguments last: their text alone is decoded (PF-10).
        assert_eq!(one(r#"{"name":"echo","arguments":{"message":"hi"}}"#), hi());
        assert_eq!(
            one("{\"name\":\"echo\",\"arguments\": \n{\"message\":\"hi\"} }"),
            hi()
        );
        assert_eq!(one(r#"{"name":"echo"}"#), Some(None));
        assert_eq!(one(r#"{"name":"echo","arguments":null}"#), Some(None));
        assert_eq!(one(r#"{"name":"echo","arguments": null }"#), Some(None));
    }

    #[test]
    fn one_pass_steps_aside_for_everything_else() {
        for params in [
            // The arguments: not an object (a struct also decodes from an array), not `A`.
            r#"{"name":"echo","arguments":["hi"]}"#,
            r#"{"name":"echo","arguments":"hi"}"#,
            r#"{"name":"echo","arguments":{"message":7}}"#,
            r#"{"name":"echo","arguments":{}}"#,
            r#"{"name":"echo","arguments":{"message":"hi","message":"hi"}}"#,
            // The params around them.
            r#"{"name":"echo","arguments":{"message":"hi"},"_meta":[]}"#,
            r#"{"name":"echo","arguments":{"message":"hi"},"task":7}"#,
            r#"{"name":"echo","arguments":{"message":"hi"},"arguments":{"message":"hi"}}"#,
            r#"{"name":"echo","arguments":null,"arguments":{"message":"hi"}}"#,
            r#"{"name":"echo","arguments":{"message":"hi"},"name":"echo"}"#,
            r#"{"name":"echo","name":"echo"}"#,
            r#"{"arguments":{"message":"hi"}}"#,
            r#"{"name":"echo","arguments":{"message":"hi"}"#,
            "[]",
        ] {
            assert!(one(params).is_none(), "{params}");
        }
    }

    /// PF-10: where the arguments are the params' last member, decoding their text alone
    /// gives what the serde pass over the whole params gives, or steps aside to it.
    #[test]
    fn the_arguments_alone_decode_as_the_whole_params_do() {
        let whole = |params: &str| -> Option<Option<Echo>> {
            let read: Params<'_, Echo> = serde_json::from_str(params).ok()?;
            Some(read.arguments.map(|Object(arguments)| arguments))
        };
        for arguments in [
            r#"{"message":"hi"}"#,
            r#"{"message":"h\u0069","other":[1,{"a":null}]}"#,
            r#" {"message":"hi"} "#,
            "null",
            " null ",
            r#"{"message":"hi"},"_meta":{}"#,
            r#"{"message":"hi"},"task":{"ttl":5}"#,
            r#"{"message":"hi"},"arguments":{"message":"ho"}"#,
            r#"null,"arguments":{"message":"ho"}"#,
            r#"{"message":"hi"},"name":"other""#,
            r#"{"message":"hi"},"x":1"#,
            r#"{"message":1}"#,
            "[]",
            "7",
        ] {
            let params = format!(r#"{{"name":"echo","arguments":{arguments}}}"#);
            let named = leading_name(&params).unwrap();
            if let Some(Some(text)) = last_arguments(named.after)
                && let Ok(alone) = serde_json::from_str::<Echo>(text)
            {
                assert_eq!(Some(Some(alone)), whole(&params), "{params}");
            }
            assert_eq!(read::<Echo>(&named), whole(&params), "{params}");
        }
    }
}
