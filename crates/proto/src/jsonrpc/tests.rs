use super::*;

fn err(bytes: &str) -> InvalidMessage {
    Message::parse(bytes.as_bytes()).unwrap_err()
}

/// PF-5: a result's envelope is written into a buffer of exactly its size (so a `Bytes`
/// made from it needs no allocation of its own), with the same text serde writes.
#[test]
fn a_response_is_written_into_a_buffer_of_its_exact_size() {
    let result = RawValue::from_string(r#"{"content":[]}"#.to_owned()).unwrap();
    for (id, expected) in [
        (
            RequestId::Number(-17),
            r#"{"jsonrpc":"2.0","id":-17,"result":{"content":[]}}"#,
        ),
        (
            RequestId::from("a-1"),
            r#"{"jsonrpc":"2.0","id":"a-1","result":{"content":[]}}"#,
        ),
        (
            RequestId::from("q\"\\\n"),
            r#"{"jsonrpc":"2.0","id":"q\"\\\n","result":{"content":[]}}"#,
        ),
    ] {
        let message = Message::Response(Response {
            id: Some(id),
            outcome: Ok(result.clone()),
        });
        let bytes = message.to_json_bytes();
        assert_eq!(std::str::from_utf8(&bytes).unwrap(), expected);
        let through_serde = serde_json::to_vec(&message).unwrap();
        assert_eq!(bytes, through_serde, "the same text as serde's");
        if !expected.contains('\\') {
            assert_eq!(bytes.capacity(), bytes.len(), "{expected}");
        }
    }
}

#[test]
fn parses_every_kind() {
    let m = Message::parse(br#"{"jsonrpc":"2.0","id":"a","method":"x","params":{"k":1}}"#).unwrap();
    assert!(
        matches!(&m, Message::Request(r) if r.id == RequestId::from("a") && r.params.as_ref().unwrap().get() == r#"{"k":1}"#)
    );
    let m = Message::parse(br#"{"jsonrpc":"2.0","method":"n"}"#).unwrap();
    assert!(matches!(m, Message::Notification(n) if n.method == "n"));
    let m = Message::parse(br#"{"jsonrpc":"2.0","id":7,"result":{}}"#).unwrap();
    assert!(matches!(
        m,
        Message::Response(Response {
            id: Some(RequestId::Number(7)),
            outcome: Ok(_)
        })
    ));
    let m = Message::parse(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#)
        .unwrap();
    assert!(
        matches!(m, Message::Response(Response { id: None, outcome: Err(e) }) if e.code == -32700)
    );
}

#[test]
fn bad_json_is_parse_error() {
    assert_eq!(err("{not json").error.code, error_code::PARSE_ERROR);
    assert_eq!(err("").error.code, error_code::PARSE_ERROR);
    assert_eq!(err("\u{0}").error.code, error_code::PARSE_ERROR);
    let deep = "[".repeat(10_000);
    assert_eq!(err(&deep).error.code, error_code::PARSE_ERROR);
    let deep_params = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"x","params":{{"a":{}1{}}}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    // The envelope skips raw params without recursing; decoding them is where depth is refused.
    let Message::Request(r) = Message::parse(deep_params.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(
        r.params_as::<serde_json::Value>().unwrap_err().code,
        error_code::INVALID_PARAMS
    );
}

#[test]
fn invalid_jsonrpc_is_invalid_request() {
    assert_eq!(err("42").error.code, error_code::INVALID_REQUEST);
    assert_eq!(err("[1]").error.code, error_code::INVALID_REQUEST);
    assert_eq!(
        err(r#"{"id":1,"method":"x"}"#).error.code,
        error_code::INVALID_REQUEST
    );
    assert_eq!(
        err(r#"{"jsonrpc":"1.0","id":1,"method":"x"}"#).id,
        Some(RequestId::Number(1))
    );
    assert_eq!(
        err(r#"{"jsonrpc":"2.0","id":null,"method":"x"}"#)
            .error
            .code,
        error_code::INVALID_REQUEST
    );
    assert_eq!(
        err(r#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#).error.code,
        error_code::INVALID_REQUEST
    );
    assert_eq!(
        err(r#"{"jsonrpc":"2.0","id":{},"method":"x"}"#).error.code,
        error_code::INVALID_REQUEST
    );
    assert_eq!(
        err(r#"{"jsonrpc":"2.0","id":1,"method":5}"#).error.code,
        error_code::INVALID_REQUEST
    );
    assert_eq!(
        err(r#"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#)
            .error
            .code,
        error_code::INVALID_REQUEST
    );
    assert_eq!(
        err(r#"{"jsonrpc":"2.0","id":1}"#).error.code,
        error_code::INVALID_REQUEST
    );
}

#[test]
fn batches_parse_only_through_parsed() {
    let p =
        Parsed::parse(br#"[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","id":1,"method":"b"}]"#)
            .unwrap();
    assert!(matches!(p, Parsed::Batch(items) if items.len() == 2));
    assert!(Parsed::parse(b"[]").is_err());
}

#[test]
fn serializes_round_trip() {
    let text = r#"{"jsonrpc":"2.0","id":"x","method":"m","params":{"a":[1,2]}}"#;
    assert_eq!(Message::parse(text.as_bytes()).unwrap().to_json(), text);
    let e = Message::Response(Response {
        id: None,
        outcome: Err(ErrorObject::parse_error("bad")),
    });
    assert_eq!(
        e.to_json(),
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}}"#
    );
}

#[test]
fn a_result_is_written_as_the_serializer_writes_it() {
    let result = || RawValue::from_string(r#"{"content":[]}"#.into()).unwrap();
    for id in [
        RequestId::Number(-7),
        RequestId::Number(i64::MAX),
        RequestId::String("a \"quoted\" \u{e9} id\n".into()),
    ] {
        let message = Message::Response(Response {
            id: Some(id),
            outcome: Ok(result()),
        });
        let direct = message.to_json_bytes();
        assert_eq!(direct, serde_json::to_vec(&message).unwrap());
        assert!(matches!(Message::parse(&direct), Ok(Message::Response(_))));
    }
}

#[test]
fn decode_params_names_the_field() {
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct P {
        name: String,
    }
    let e = decode_params::<P>(Some("{}")).unwrap_err();
    assert_eq!(e.code, error_code::INVALID_PARAMS);
    assert!(e.message.contains("name"), "{}", e.message);
}
