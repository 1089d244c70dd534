use super::*;

/// What a read gives, comparable: the message's debug form (id, method, params' text) or the
/// refusal (id and error).
fn outcome(read: Result<Parsed, InvalidMessage>) -> Result<String, InvalidMessage> {
    read.map(|parsed| format!("{parsed:?}"))
}

/// PF-11: a request written as clients write it is read without the general read, into the
/// same request.
#[test]
fn a_request_as_clients_write_it_is_read_as_the_general_read_reads_it() {
    // Nested beyond serde_json's recursion limit: a raw value is skipped without one, in the
    // envelope's pass as here.
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":{}1{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    for body in [
        &deep,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}"#,
        r#"{"jsonrpc":"2.0","id":0,"method":"tools/list"}"#,
        r#"{"jsonrpc":"2.0","id":922337203685477580,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":"a-b c","method":"tools/call","params":{"name":"x"}}"#,
        r#"{"jsonrpc":"2.0","id":"","method":"","params":[]}"#,
        r#"{"jsonrpc":"2.0","id":"é✓","method":"m/ü","params":{"a":"\u00e9\n","b":[1,2.5e3,null,true]}}"#,
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"m\",\"params\": {\"a\":1} }\r\n",
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"m\"}\n",
    ] {
        let read = as_written(body.as_bytes());
        assert!(read.is_some(), "{body}: not read as written");
        assert_eq!(
            outcome(super::read(body.as_bytes())),
            outcome(Parsed::parse(body.as_bytes())),
            "{body}"
        );
    }
}

/// PF-11: everything else is the general read's, refusals included, byte for byte.
#[test]
fn everything_else_is_read_and_refused_by_the_general_read() {
    for body in [
        // Not as written: read by the general read, the same message.
        r#"{"jsonrpc":"2.0","id":-1,"method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":1.5,"method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":1e3,"method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":"a\"b","method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m\u0061"}"#,
        r#"{"jsonrpc":"2.0", "id":1,"method":"m"}"#,
        r#"{"id":1,"jsonrpc":"2.0","method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{},"extra":{}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"notifications/x","params":{"a":1},"other":1}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
        // Refused, with the general read's error and id.
        r#"{"jsonrpc":"2.0","id":01,"method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":9223372036854775808,"method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":99999999999999999999999,"method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":3}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":"x"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":null}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{},"params":{}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{},"id":2}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{},"result":{}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","result":{}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1}}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m"} x"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m""#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m\ttab"}"#,
        "{\"jsonrpc\":\"2.0\",\"id\":\"a\tb\",\"method\":\"m\"}",
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":"\q"}}"#,
        r#"{"jsonrpc":"2.0","id":null,"method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":true,"method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":"#,
        r#"{"jsonrpc":"2.0","id":1,"method":7}"#,
    ] {
        assert!(
            as_written(body.as_bytes()).is_none(),
            "{body}: read as written"
        );
        assert_eq!(
            outcome(super::read(body.as_bytes())),
            outcome(Parsed::parse(body.as_bytes())),
            "{body}"
        );
    }
    let invalid = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}";
    assert_eq!(
        outcome(super::read(invalid)),
        outcome(Parsed::parse(invalid))
    );
}

/// PF-11: the fuzz target's committed seeds (`fuzz/seeds/jsonrpc_parse`), as bodies and as the
/// params of a body as written, read alike by both reads (the fuzz target runs the same check
/// on what it makes of them).
#[test]
fn the_fuzz_seeds_are_read_alike() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/jsonrpc_parse");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut read_as_written = 0;
    for entry in entries {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let head = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"#;
        for body in [data.clone(), [&head[..], &data, b"}"].concat()] {
            read_as_written += usize::from(as_written(&body).is_some());
            assert_eq!(
                outcome(super::read(&body)),
                outcome(Parsed::parse(&body)),
                "{}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    assert!(read_as_written > 0);
}
