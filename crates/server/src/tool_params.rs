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

/// `text`, one JSON value and whitespace, decoded as `A`: by its bytes, else by serde_json,
/// the same value either way (PF-63); `None` when it is not an `A`.
pub(crate) fn decode<A: DeserializeOwned>(text: &str) -> Option<A> {
    mcp_http_proto::object_read::decode::<A>(text).or_else(|| serde_json::from_str::<A>(text).ok())
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
            if let Some(arguments) = decode::<A>(text) {
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
    /// PF-63, PF-64: a call the legacy read marked is started with the name and the
    /// arguments it marked, decoded by their bytes: the same tool and the same arguments as
    /// the one-pass read of the whole params (PF-10, PF-32), or a step aside where it steps
    /// aside.
    #[test]
    fn a_marked_call_starts_as_the_one_pass_read_starts_it() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct Many {
            message: String,
            #[serde(default)]
            n: Option<Vec<serde_json::Value>>,
        }
        for params in [
            r#"{"name":"echo","arguments":{"message":"hello"}}"#,
            r#"{"name":"echo","arguments":{ "message" : "hi" }}"#,
            r#"{"name":"echo","arguments":{"message":"h\u0069 \"q\" é✓"}}"#,
            r#"{"name":"echo","arguments":{"message":"hi","n":[1,{"a":null},"\n",-1.5e3]}}"#,
            r#"{"name":"echo","arguments":{"message":"hi","other":{"x":[true]}}}"#,
            r#"{"name":"echo","arguments":{"message":"hi","message":"ho"}}"#,
            r#"{"name":"echo","arguments":{"message":7}}"#,
            r#"{"name":"echo","arguments":{"message":null}}"#,
            r#"{"name":"echo","arguments":{"n":[]}}"#,
            r#"{"name":"echo","arguments":{}}"#,
            r#"{"name":"","arguments":{"message":"\uD800"}}"#,
            r#"{"name":"é","arguments":{"mess\u0061ge":"hi"}}"#,
        ] {
            let body =
                format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{params}}}"#);
            let Ok(mcp_http_proto::jsonrpc::Parsed::Single(mcp_http_proto::Message::Request(
                request,
            ))) = mcp_http_proto::legacy_read::read(body.as_bytes())
            else {
                panic!("{body}");
            };
            let params = request.params.unwrap();
            let (name, arguments) = params.call_parts().unwrap();
            let named = leading_name(params.get()).unwrap();
            assert_eq!(name, named.name, "{params}");
            let marked = decode::<Echo>(arguments).map(Some);
            assert_eq!(marked, read::<Echo>(&named), "{params}");
            let marked = decode::<Many>(arguments).map(Some);
            assert_eq!(marked, read::<Many>(&named), "{params}");
            let marked = decode::<serde_json::Value>(arguments).map(Some);
            assert_eq!(marked, read::<serde_json::Value>(&named), "{params}");
        }
    }
}
