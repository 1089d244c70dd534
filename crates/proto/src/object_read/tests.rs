#![allow(clippy::unwrap_used)]
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::decode;

#[derive(Debug, PartialEq, Deserialize)]
struct Echo {
    message: String,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Strict {
    message: String,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Many {
    a: Option<f64>,
    #[serde(default)]
    b: Vec<i64>,
    #[serde(default)]
    inner: Option<Inner>,
    #[serde(default)]
    flag: bool,
    #[serde(default)]
    kind: Option<Kind>,
    #[serde(default)]
    letter: Option<char>,
    #[serde(default)]
    wide: Option<u128>,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Inner {
    s: String,
    #[serde(default)]
    n: Option<u8>,
}

#[derive(Debug, PartialEq, Deserialize)]
enum Kind {
    Plain,
    With(u32),
    Pair { x: i32 },
}

#[derive(Debug, PartialEq, Deserialize)]
struct Flat {
    message: String,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(tag = "type")]
enum Tagged {
    Text { text: String },
    Number { n: f64 },
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum Either {
    Text { text: String },
    Other(serde_json::Value),
}

#[derive(Debug, Deserialize)]
struct Raw<'a> {
    #[serde(borrow)]
    value: &'a RawValue,
    #[serde(default)]
    owned: Option<Box<RawValue>>,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Borrowed<'a> {
    #[serde(borrow)]
    text: Cow<'a, str>,
    #[serde(default)]
    plain: Option<&'a str>,
}

/// Arguments of every shape a tool gets: escapes, unicode, nested values, whitespace,
/// duplicate and unknown keys, wrong types, not JSON.
const TEXTS: &[&str] = &[
    r#"{"message":"hello"}"#,
    r#"{"message":""}"#,
    r#" { "message" : "hello" } "#,
    "{\n\t\"message\":\r\n\"hello\"\n}\n",
    r#"{"message":"h\u0069 \"q\" \\ \/ \n"}"#,
    r#"{"message":"é✓😀 ünïcödé"}"#,
    r#"{"message":"\uD83D\uDE00"}"#,
    r#"{"message":"\uD800"}"#,
    r#"{"message":"hi","other":[1,{"a":null}],"x":{"y":{"z":[true,false,"s\n"]}}}"#,
    r#"{"message":"hi","message":"ho"}"#,
    r#"{"message":"hi","message":7}"#,
    r#"{"message":7}"#,
    r#"{"message":null}"#,
    r#"{"message":["hi"]}"#,
    r#"{"message":{"a":1}}"#,
    r#"{}"#,
    r#"{"other":1}"#,
    r#"{"mess\u0061ge":"hi"}"#,
    r#"{"message":"hi",}"#,
    r#"{"message":"hi" "x":1}"#,
    r#"{"message" "hi"}"#,
    r#"{"message":"hi"} x"#,
    r#"{"message":"hi"}}"#,
    r#"{"message":"hi""#,
    r#"{"message":"hi"#,
    "{\"message\":\"a\tb\"}",
    r#"{"message":"\q"}"#,
    r#"{,"message":"hi"}"#,
    r#"{"message":"hi",,"x":1}"#,
    r#"{"message":"hi","x":01}"#,
    r#"{"message":"hi","x":1.}"#,
    r#"{"message":"hi","x":tru}"#,
    r#"{"message":"hi","x":[1,]}"#,
    r#"["hi"]"#,
    r#""hi""#,
    "null",
    "7",
    "",
    "{",
    r#"{"a":1.5,"b":[1,-2,3],"inner":{"s":"x","n":255},"flag":true,"kind":"Plain","letter":"z"}"#,
    r#"{"a":-0,"b":[],"inner":{"s":"x\ty","n":256},"flag":false}"#,
    r#"{"a":1e400}"#,
    r#"{"a":123456789012345678901234567890,"wide":340282366920938463463374607431768211455}"#,
    r#"{"a":null,"kind":{"With":7},"letter":"ab"}"#,
    r#"{"kind":{"Pair":{"x":-3}},"inner":{"s":"\u00e9"}}"#,
    r#"{"kind":{"Pair":{"x":-3},"With":1}}"#,
    r#"{"kind":"Nope"}"#,
    r#"{"inner":["x",1]}"#,
    r#"{"inner":{"s":"x","n":1,"n":2}}"#,
    r#"{"b":{"0":1}}"#,
    r#"{"type":"Text","text":"hi"}"#,
    r#"{"text":"hi","type":"Number","n":2}"#,
    r#"{"type":"Other"}"#,
    r#"{"text":"hi"}"#,
    r#"{"text":"h\"i","plain":"p"}"#,
    r#"{"text":"hi","plain":"p\n"}"#,
    r#"{"value":{"a":[1, 2]},"owned":"x"}"#,
    r#"{"value": 5 ,"owned":null}"#,
    r#"{"1":"one","2":"two"}"#,
    r#"{"message":"hi","1":{"\u0041":true},"":""}"#,
];

/// PF-63: whatever this read decodes, serde_json decodes alike; what it does not, it leaves.
fn alike<T: DeserializeOwned + Debug + PartialEq>() -> usize {
    let mut read = 0;
    for text in TEXTS {
        let serde = serde_json::from_str::<T>(text).ok();
        if let Some(ours) = decode::<T>(text) {
            read += 1;
            assert_eq!(Some(ours), serde, "{text}");
        }
    }
    read
}

/// PF-63: decoded by bytes, every kind of value comes out as serde_json reads it.
#[test]
fn a_decode_gives_what_serde_json_gives() {
    assert!(alike::<Echo>() >= 6);
    assert!(alike::<Strict>() >= 5);
    assert!(alike::<Many>() >= 5);
    assert!(alike::<serde_json::Value>() >= 20);
    assert!(alike::<serde_json::Map<String, serde_json::Value>>() >= 20);
    assert!(alike::<HashMap<String, serde_json::Value>>() >= 20);
    assert!(alike::<BTreeMap<String, String>>() >= 3);
    assert!(alike::<Flat>() >= 3);
    assert!(alike::<Tagged>() >= 2);
    assert!(alike::<Either>() >= 5);
    // Keys read as numbers are serde_json's to read.
    alike::<BTreeMap<u32, String>>();
    alike::<HashMap<bool, String>>();
    for text in TEXTS {
        let serde = serde_json::from_str::<Borrowed<'_>>(text).ok();
        if let Some(ours) = decode::<Borrowed<'_>>(text) {
            assert_eq!(Some(&ours), serde.as_ref(), "{text}");
            // Borrowed where serde_json borrows.
            assert_eq!(
                matches!(ours.text, Cow::Borrowed(_)),
                matches!(serde.unwrap().text, Cow::Borrowed(_))
            );
        }
        let serde = serde_json::from_str::<Raw<'_>>(text).ok();
        if let Some(ours) = decode::<Raw<'_>>(text) {
            let serde = serde.unwrap();
            assert_eq!(ours.value.get(), serde.value.get(), "{text}");
            assert_eq!(
                ours.owned.map(|o| o.get().to_owned()),
                serde.owned.map(|o| o.get().to_owned())
            );
        }
    }
}

/// PF-63: the arguments clients send are read by bytes, not left to serde_json.
#[test]
fn the_usual_arguments_are_read_by_bytes() {
    for text in [
        r#"{"message":"hello"}"#,
        r#" { "message" : "hello" } "#,
        r#"{"message":"hi","other":[1,{"a":null}],"x":{"y":"z"}}"#,
        r#"{"message":"h\u0069"}"#,
    ] {
        assert_eq!(
            decode::<Echo>(text),
            serde_json::from_str(text).ok(),
            "{text}"
        );
        assert!(decode::<Echo>(text).is_some(), "{text}");
    }
    assert_eq!(
        decode::<Borrowed<'_>>(r#"{"text":"hi"}"#).map(|b| matches!(b.text, Cow::Borrowed("hi"))),
        Some(true)
    );
}

/// PF-63: nesting deeper than this read goes is serde_json's, which reads it or refuses it.
#[test]
fn deep_objects_are_left_to_serde_json() {
    for depth in [1, 31, 32, 33, 64, 100, 127, 128, 129, 200] {
        let text = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        let serde = serde_json::from_str::<serde_json::Value>(&text).ok();
        let ours = decode::<serde_json::Value>(&text);
        if ours.is_some() {
            assert_eq!(ours, serde, "{depth}");
        }
        assert_eq!(ours.is_some(), depth <= 32, "{depth}");
    }
}
