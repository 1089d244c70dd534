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
    // Nested as deep as the check of the params goes (PF-66).
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":{}1{}}}"#,
        "[".repeat(64),
        "]".repeat(64)
    );
    for body in [
        &deep,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"n":[0,-0,1.5,-1.5e-3,1E+9,4E454,123456789012345678901234567890]}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"s":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00\uD800"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1,"a":2}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"":{"":[[],{}]}}}"#,
        "{\"jsonrpc\":\"2.0\",\"id\": 1,\"method\": \"m\",\"params\": [ 1 , { \"a\" : null } ] }",
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
    // Nested deeper than the check of the params goes (PF-66): serde_json reads it, without a
    // recursion limit for a raw value.
    let deeper = |n: usize| {
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":{}1{}}}"#,
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    let (deep, deeper) = (deeper(65), deeper(200));
    let deep_objects = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":{}1{}}}"#,
        r#"{"a":"#.repeat(65),
        "}".repeat(65)
    );
    for body in [
        &deep,
        &deeper,
        &deep_objects,
        // Not as written: read by the general read, the same message.
        r#"{"jsonrpc":"2.0","id":-1,"method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":1.5,"method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":1e3,"method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":"a\"b","method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m\u0061"}"#,
        r#"{"jsonrpc":"2.0", "id":1,"method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":1 ,"method":"m"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m" ,"params":{}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m", "params":{}}"#,
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
        // Params that are not JSON at some edge of its grammar, or not an object or array.
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"n":01}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"n":1.}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"n":-}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"n":1e}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"n":.5}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"n":+1}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"s":"\u00G0"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"s":"\u00"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":tru}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1,}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":[1,]}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{a:1}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":[}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1}]}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{} {}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{}}x"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":true}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":"#,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"a\":\"x\ny\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"a\":1}\u{a0}}",
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
    for invalid in [
        &b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}"[..],
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"a\":\"\xc3\"}}",
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"a\":\"\xed\xa0\x80\"}}",
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"\xff\":1}}",
    ] {
        assert!(as_written(invalid).is_none());
        assert_eq!(
            outcome(super::read(invalid)),
            outcome(Parsed::parse(invalid))
        );
    }
}

/// The bodies the fuzz target (`jsonrpc_parse`) makes of `data`: the data as a body, and
/// placed in a body as written where the id, the method, the params and a value inside the
/// params are.
fn bodies(data: &[u8]) -> Vec<Vec<u8>> {
    let mut bodies = vec![data.to_vec()];
    for (head, tail) in HEADS {
        bodies.push([head.as_bytes(), data, tail.as_bytes()].concat());
    }
    bodies
}

/// The places in a body as written the fuzz target puts its input (kept the same there).
const HEADS: [(&str, &str); 6] = [
    (
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"#,
        "}",
    ),
    (
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":"#,
        "}}",
    ),
    (r#"{"jsonrpc":"2.0","id":1,"method":"m","params":["#, "]}"),
    (r#"{"jsonrpc":"2.0","id":"#, "}"),
    (r#"{"jsonrpc":"2.0","id":1,"method":"#, "}"),
    (
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":"#,
        "}}",
    ),
];

/// PF-11, PF-66: the fuzz targets' committed seeds of JSON-RPC bodies (`jsonrpc_parse`,
/// `modern_params`), as bodies and placed in a body as written, read alike by both reads (the
/// fuzz target runs the same check on what it makes of its inputs).
#[test]
fn the_fuzz_seeds_are_read_alike() {
    let mut read_as_written = 0;
    let mut seeds = 0;
    for target in ["jsonrpc_parse", "modern_params"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/seeds")
            .join(target);
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            seeds += 1;
            for body in bodies(&data) {
                read_as_written += usize::from(as_written(&body).is_some());
                assert_eq!(
                    outcome(super::read(&body)),
                    outcome(Parsed::parse(&body)),
                    "{}",
                    String::from_utf8_lossy(&body)
                );
            }
        }
    }
    assert!(seeds == 0 || read_as_written > 0);
}

/// The name and the arguments' text of `params` as serde_json reads them, when the params are
/// an object whose `name` is a string and whose `arguments` are an object.
fn serde_call_parts(params: &str) -> Option<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Call<'a> {
        name: String,
        #[serde(borrow)]
        arguments: &'a serde_json::value::RawValue,
    }
    let call: Call<'_> = serde_json::from_str(params).ok()?;
    let arguments = call.arguments.get();
    arguments
        .starts_with('{')
        .then(|| (call.name, arguments.to_owned()))
}

/// PF-64: a call as clients write it has its name and arguments marked where the read found
/// them, the same text serde_json reads there; any other params are not marked.
#[test]
fn a_call_as_clients_write_it_has_its_name_and_arguments_marked() {
    let deep = format!(
        r#"{{"name":"deep","arguments":{}1{}}}"#,
        r#"{"a":"#.repeat(63),
        "}".repeat(63)
    );
    let marked = [
        r#"{"name":"echo","arguments":{"message":"hello"}}"#,
        r#"{"name":"","arguments":{}}"#,
        r#"{"name":"é✓","arguments":{"message":"h\u0069 \"q\"","n":[1,{"a":null}]}}"#,
        r#"{"name":"echo","arguments":{ "message" : "hi" }}"#,
        r#"{"name":"echo","arguments":{"message":"hi","message":"ho"}}"#,
        &deep,
    ];
    let unmarked = [
        r#"{"name":"echo"}"#,
        r#"{"name":"echo","arguments":null}"#,
        r#"{"name":"echo","arguments":[1]}"#,
        r#"{"name":"echo","arguments":"x"}"#,
        r#"{"name":"echo","arguments":{},"_meta":{}}"#,
        r#"{"name":"echo","arguments":{},"name":"other"}"#,
        r#"{"arguments":{},"name":"echo"}"#,
        r#"{"name":"ec\"ho","arguments":{}}"#,
        r#"{"name":7,"arguments":{}}"#,
        r#"{"name": "echo","arguments":{}}"#,
        r#"{ "name":"echo","arguments":{}}"#,
        r#"{"name":"echo", "arguments":{}}"#,
        r#"{"name":"echo","arguments": {}}"#,
        r#"{"name":"echo","arguments":{} }"#,
        r#"{"name":"echo","arguments":{},}"#,
        r#"[{"name":"echo","arguments":{}}]"#,
    ];
    for params in marked.iter().chain(&unmarked) {
        let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{params}}}"#);
        assert_eq!(
            outcome(super::read(body.as_bytes())),
            outcome(Parsed::parse(body.as_bytes())),
            "{body}"
        );
        let Some(read) = as_written(body.as_bytes()) else {
            assert!(!marked.contains(params), "{params}");
            continue;
        };
        let params_read = read.params.unwrap();
        assert_eq!(params_read.get(), *params);
        let parts = params_read.call_parts();
        assert_eq!(parts.is_some(), marked.contains(params), "{params}");
        if let Some((name, arguments)) = parts {
            let (serde_name, serde_arguments) = serde_call_parts(params).unwrap();
            assert_eq!(
                (name, arguments),
                (&*serde_name, &*serde_arguments),
                "{params}"
            );
        }
    }
    // Params that are no call at all, and the general read's params, are never marked.
    for body in [
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":[1]}"#,
        r#"{"params":{"name":"echo","arguments":{}},"jsonrpc":"2.0","id":1,"method":"tools/call"}"#,
    ] {
        let Ok(Parsed::Single(Message::Request(request))) = super::read(body.as_bytes()) else {
            panic!("{body}");
        };
        assert_eq!(request.params.unwrap().call_parts(), None, "{body}");
    }
}

/// The module's word: whitespace is taken after the `:` of the id, the method and the params,
/// inside the params, before the closing brace and after it; anywhere else in the envelope
/// the body is the general read's (PF-11).
#[test]
fn whitespace_is_taken_only_where_the_module_says() {
    let taken = [
        "{\"jsonrpc\":\"2.0\",\"id\": 1,\"method\":\"m\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":\t\"x\",\"method\":\"m\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\": \"m\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\n\"m\",\"params\": {\"a\" : [ 1 ] }}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\" }",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{} }\r\n",
    ];
    let left = [
        " {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}",
        "{ \"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}",
        "{\"jsonrpc\" :\"2.0\",\"id\":1,\"method\":\"m\"}",
        "{\"jsonrpc\":\"2.0\",\"id\" :1,\"method\":\"m\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1 ,\"method\":\"m\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1, \"method\":\"m\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\" :\"m\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\" ,\"params\":{}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\" :{}}",
    ];
    for (read_as_written, bodies) in [(true, &taken[..]), (false, &left[..])] {
        for body in bodies {
            let read = as_written(body.as_bytes());
            assert_eq!(read.is_some(), read_as_written, "{body}");
            assert_eq!(
                outcome(super::read(body.as_bytes())),
                outcome(Parsed::parse(body.as_bytes())),
                "{body}"
            );
        }
    }
}
