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

/// Where a plain run ends, a byte at a time: what the word-at-a-time search must find.
fn run_end_bytewise(bytes: &[u8]) -> Option<usize> {
    bytes
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
}

/// PF-83: every byte value at every offset 0..17 of runs of every length up to 24 (a word,
/// two, their tails, the buffer's end), after plain bytes that sit next to the specials (the
/// space, `!`, `#`, `[`, `]`, DEL, and UTF-8's lead and continuation bytes, among them 0xA2 and
/// 0xDC, a quote's and a backslash's with the high bit set), and followed by specials that a
/// borrow could mark: the word-at-a-time search ends where a byte-at-a-time one does.
#[test]
fn a_plain_run_ends_where_a_bytewise_search_ends() {
    let fillers = [
        b'a', b' ', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xa2, 0xdc, 0xc3, 0xff, 0x21, 0x5d,
    ];
    let afters: [&[u8]; 4] = [b"", b"\"", b"\\\x00\"", &[0x1f, 0x22, 0x5c, 0x00, 0x01]];
    for filler in fillers {
        for len in 0..=24 {
            for at in 0..len.min(18) {
                for byte in 0..=255u8 {
                    for after in afters {
                        let mut bytes = vec![filler; len];
                        bytes[at] = byte;
                        bytes.extend_from_slice(after);
                        assert_eq!(run_end(&bytes), run_end_bytewise(&bytes), "{bytes:x?}");
                    }
                }
            }
            let mut bytes = vec![filler; len];
            bytes.extend_from_slice(b"\"");
            assert_eq!(run_end(&bytes), run_end_bytewise(&bytes), "{bytes:x?}");
        }
    }
}

/// PF-83: strings with a quote, an escape or a control byte at every offset 0..17 of their
/// body, multi-byte UTF-8 across a word's boundary, and strings that end at the text's end
/// (closed or not), read as serde_json reads them.
#[test]
fn strings_at_every_word_boundary_are_checked_as_serde_json_checks_them() {
    let mut texts = Vec::new();
    for at in 0..18 {
        let pad = "a".repeat(at);
        for special in ["\"", "\\n", "\\u00e9", "\\x", "\\", "\u{1}", "\u{1f}", "\t"] {
            texts.push(format!("\"{pad}{special}b\""));
            texts.push(format!("\"{pad}{special}"));
            texts.push(format!("[\"{pad}{special}\",1]"));
            texts.push(format!("{{\"{pad}{special}\":\"{pad}\"}}"));
        }
        for wide in ["é", "€", "😀"] {
            texts.push(format!("\"{pad}{wide}{wide}\""));
            texts.push(format!("\"{pad}{wide}"));
            texts.push(format!("{{\"{pad}{wide}\":[\"{wide}{pad}\"]}}"));
        }
        texts.push(format!("\"{pad}\""));
        texts.push(format!("\"{pad}"));
    }
    for text in &texts {
        assert_eq!(check(text), serde(text), "{text:?}");
        let mut cursor = Cursor::new(text, 0);
        let plain = cursor.plain();
        let expected = serde_json::Deserializer::from_str(text)
            .into_iter::<&str>()
            .next()
            .and_then(Result::ok);
        assert_eq!(plain, expected, "{text:?}");
    }
}

/// PF-99: whitespace is skipped as before its loop went out of line: every byte at or below
/// the space, as the first byte and after each kind of whitespace, around values, as
/// serde_json reads it.
#[test]
fn whitespace_is_skipped_as_serde_json_skips_it() {
    for byte in 0u8..=b' ' {
        let b = char::from(byte);
        for text in [
            format!("{b}1"),
            format!(" \t\n\r{b}[1]"),
            format!("[{b}1{b},{b}2{b}]"),
            format!(r#"{{{b}"a"{b}:{b}1{b}}}{b}"#),
        ] {
            assert_eq!(check(&text), serde(&text).map(str::trim), "{text:?}");
        }
    }
    let mut cursor = Cursor::new(" \t\r\n x", 0);
    cursor.space();
    assert_eq!(cursor.at, 5);
    let mut cursor = Cursor::new("\u{b}x", 0);
    cursor.space();
    assert_eq!(cursor.at, 0);
    let mut cursor = Cursor::new("  ", 0);
    cursor.space();
    assert_eq!(cursor.at, 2);
}
