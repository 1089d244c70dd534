#![allow(clippy::unwrap_used)]
use super::*;
use serde::de::IgnoredAny;

/// What the check makes of `text` as one whole value: its text, or `None`.
fn check(text: &str) -> Option<&str> {
    let mut cursor = Cursor::new(text, 0);
    let value = cursor.value()?;
    cursor.at_end().then_some(value)
}

/// What serde_json makes of `text` as one raw value (the same text, or a refusal).
fn serde(text: &str) -> Option<&str> {
    serde_json::from_str::<&RawValue>(text)
        .ok()
        .map(RawValue::get)
}

/// PF-66: values at every edge of JSON's grammar are accepted or refused as serde_json accepts
/// or refuses them, with the same text.
#[test]
fn a_value_is_checked_as_serde_json_checks_it() {
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let deep_objects = |n: usize| format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
    let cases = [
        // Numbers at every edge of the grammar.
        "0",
        "-0",
        "1",
        "-1",
        "01",
        "-01",
        "00",
        "1.",
        "1.0",
        ".5",
        "-.5",
        "1e",
        "1e+",
        "1e-",
        "1e5",
        "1E5",
        "1e+5",
        "1E-05",
        "1.5e3",
        "-",
        "+1",
        "0x1",
        "1.e3",
        "4E454",
        "-4e-454",
        "123456789012345678901234567890",
        "1.2.3",
        "1e2e3",
        "0.0000",
        "-0.0e-0",
        // Literals.
        "true",
        "false",
        "null",
        "tru",
        "nul",
        "True",
        "nulll",
        "truefalse",
        // Strings and escapes.
        r#""""#,
        r#""a""#,
        r#""\"""#,
        r#""\\""#,
        r#""\/""#,
        r#""\b\f\n\r\t""#,
        r#""\u00e9""#,
        r#""\uD83D\uDE00""#,
        r#""\uD800""#,
        r#""\uDC00x""#,
        r#""\u00G0""#,
        r#""\u00""#,
        r#""\q""#,
        r#""\x41""#,
        r#""\""#,
        r#""abc"#,
        "\"a\tb\"",
        "\"a\nb\"",
        "\"\u{7f}\"",
        "\"é✓😀\"",
        "\"0123456789abcdef\\",
        "\"0123456789abcdef\"",
        "\"01234567\"",
        "\"0123456\"",
        // Arrays and objects.
        "[]",
        "{}",
        "[ ]",
        "{ }",
        "[1,]",
        "[,1]",
        "[1 2]",
        r#"{"a":1,}"#,
        r#"{"a"}"#,
        r#"{"a":}"#,
        r#"{a:1}"#,
        r#"{"a":1 "b":2}"#,
        r#"{"a":1,"a":2}"#,
        r#"{"\u0061":[{}]}"#,
        "[1,[2,[3,{}]],{\"x\":[]}]",
        "[}",
        "{]",
        "[",
        "{",
        "]",
        "}",
        "[[]",
        "[]]",
        " \t\r\n[ 1 , { \"a\" : [ ] } ]\n ",
        "\u{a0}1",
        "[1]x",
        "1 2",
        "",
        "\u{c}1",
    ];
    for text in cases {
        assert_eq!(check(text), serde(text), "{text:?}");
    }
    // Nesting to the check's limit is checked here; past it, the check leaves the value to
    // serde (which reads it).
    for n in [1, 63, 64] {
        for text in [deep(n), deep_objects(n)] {
            assert_eq!(check(&text), serde(&text), "{n}");
            assert!(check(&text).is_some(), "{n}");
        }
    }
    for text in [deep(65), deep_objects(65), deep(200)] {
        assert_eq!(check(&text), None);
        assert!(serde_json::from_str::<IgnoredAny>(&text).is_ok() || text.len() > 500);
    }
}

/// PF-66: the check reads one value and stops after it, where serde_json's reader would look
/// for what follows.
#[test]
fn the_check_stops_after_one_value() {
    let text = r#"{"a":[1,"x"]}, "rest""#;
    let mut cursor = Cursor::new(text, 0);
    assert_eq!(cursor.value(), Some(r#"{"a":[1,"x"]}"#));
    assert_eq!(&text[cursor.at..], r#", "rest""#);
}

/// The run of a string's plain bytes ends at the first quote, backslash or control byte, in
/// every position of the eight-byte word and after it.
#[test]
fn a_plain_run_ends_at_the_first_special_byte() {
    for len in 0..20 {
        for special in [b'"', b'\\', 0x00, 0x1f] {
            let mut bytes = vec![b'a'; len];
            bytes.push(special);
            bytes.extend_from_slice(b"\"\\");
            assert_eq!(run_end(&bytes), Some(len), "{len} {special}");
        }
        assert_eq!(run_end(&vec![0xc3; len]), None);
    }
}
