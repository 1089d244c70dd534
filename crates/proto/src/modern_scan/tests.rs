#![allow(clippy::unwrap_used)]
use super::*;
use crate::modern_read::{comparable, read, read_by_serde};

/// Both reads of `body`, and whether the scan read it.
fn both(body: &[u8]) -> (bool, bool) {
    let body = Bytes::copy_from_slice(body);
    let scanned = scan(&body).is_some();
    let same = comparable(read(&body)) == comparable(read_by_serde(&body));
    (scanned, same)
}

const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"mcp-http-bench","version":"0.1.0"}}"#;

/// PF-61: requests as our client, the TypeScript and the Python clients write them (members in
/// their orders, with and without whitespace) are read by their bytes into the serde pass's
/// record.
#[test]
fn a_request_as_clients_write_it_is_read_into_the_serde_pass_record() {
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"x","arguments":{{"a":{}1{}}},{META}}}}}"#,
        "[".repeat(60),
        "]".repeat(60)
    );
    let bodies = [
        deep,
        format!(
            r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"hi"}},{META}}}}}"#
        ),
        format!(
            r#"{{"method":"tools/call","params":{{"name":"echo","arguments":{{"m":"x\"\u00e9\n","n":[-1.5e-3,0,true,false,null,{{}},[]]}},{META}}},"jsonrpc":"2.0","id":"a-1"}}"#
        ),
        format!(
            "{{\"jsonrpc\": \"2.0\", \"id\": 0, \"method\": \"resources/read\", \"params\": {{\"uri\": \"file:///a\", {}}}}}\n",
            META.replace(':', ": ").replace("file: ", "file:")
        ),
        format!(
            " {{ \"params\" :\n {{\"taskId\":\"t\",{META},\"other\":{{\"x\\u0041\":[1]}}}} , \"id\" : 922337203685477580,\"method\":\"tasks/get\" ,\"jsonrpc\":\"2.0\"\t}} \r\n"
        ),
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/logLevel":"warning","x":1}}}"#.to_owned(),
        // The ladder refuses these params; the record is the serde pass's all the same.
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"io.modelcontextprotocol/logLevel":"loud"},"inputResponses":{},"requestState":"s"}}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":"","method":"server/discover"}"#.to_owned(),
        // A number beyond an `f64` in a value skipped: serde_json skips it unparsed too.
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"x":[4E454]}}"#.to_owned(),
    ];
    for body in &bodies {
        let (scanned, same) = both(body.as_bytes());
        assert!(scanned, "{body}: not scanned");
        assert!(same, "{body}");
    }
}

/// PF-62: what the scan does not take is read by the serde pass, each reason on its own, with
/// the serde pass's record or refusal.
#[test]
fn every_other_body_is_the_serde_pass_s() {
    let call = |params: &str| {
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{params}}}"#)
    };
    let deep = call(&format!(
        r#"{{"name":"x","arguments":{}1{}}}"#,
        "[".repeat(70),
        "]".repeat(70)
    ));
    let bodies = [
        deep,
        // Escapes where the record keeps or matches a string.
        r#"{"jsonrpc":"2.0","id":1,"me\u0074hod":"m","params":{}}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":"a\"b","method":"m"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"method":"m\u0061"}"#.to_owned(),
        call(r#"{"n\u0061me":"x"}"#),
        call(r#"{"name":"\u0065cho"}"#),
        call(r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026\u002d07-28"}}"#),
        // A key without its opening quote.
        r#"{jsonrpc":"2.0","id":1,"method":"m"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{name":"x"}}"#.to_owned(),
        call(r#"{"_meta":{io.modelcontextprotocol/protocolVersion":"2026-07-28"}}"#),
        // Other envelope members, notifications, responses, batches.
        r#"{"jsonrpc":"2.0","id":1,"method":"m","x":1}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"method":"m","result":{}}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"result":{}}"#.to_owned(),
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{}}"#.to_owned(),
        r#"[{"jsonrpc":"2.0","id":1,"method":"m"}]"#.to_owned(),
        // Duplicates, at every level.
        r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"m"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{},"params":{}}"#.to_owned(),
        call(r#"{"name":"a","name":"b"}"#),
        call(r#"{"requestState":1,"requestState":2}"#),
        call(r#"{"_meta":{},"_meta":{}}"#),
        call(
            r#"{"_meta":{"io.modelcontextprotocol/clientInfo":{},"io.modelcontextprotocol/clientInfo":{}}}"#,
        ),
        // A jsonrpc, an id, params or `_meta` the scan does not take.
        r#"{"jsonrpc":"1.0","id":1,"method":"m"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":null,"method":"m"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":-1,"method":"m"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":01,"method":"m"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1.5,"method":"m"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1e3,"method":"m"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":9223372036854775808,"method":"m"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":true,"method":"m"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"method":7}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"method":null}"#.to_owned(),
        call("[]"),
        call(r#"[{"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"echo"]"#),
        call("3"),
        call("null"),
        call(r#"{"_meta":null}"#),
        call(r#"{"_meta":["2026-07-28",{}]}"#),
        // A null or non-string where the record keeps a string or a value.
        call(r#"{"name":null}"#),
        call(r#"{"name":7,"uri":"x"}"#),
        call(r#"{"name":"x","arguments":null}"#),
        call(r#"{"_meta":{"io.modelcontextprotocol/clientCapabilities":null}}"#),
        call(r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":null}}"#),
        call(r#"{"_meta":{"io.modelcontextprotocol/logLevel":{"debug":null}}}"#),
        call(r#"{"_meta":{"io.modelcontextprotocol/logLevel":null}}"#),
        // Not JSON, or not all of it.
        call(r#"{"name":"x","arguments":{"a":01}}"#),
        call(r#"{"name":"x","arguments":{"a":1.}}"#),
        call(r#"{"name":"x","arguments":{"a":1e}}"#),
        call(r#"{"name":"x","arguments":{"a":-}}"#),
        call(r#"{"name":"x","arguments":{"a":"\q"}}"#),
        call(r#"{"name":"x","arguments":{"a":"\u12G4"}}"#),
        call(r#"{"name":"x","arguments":{"a":[1,]}}"#),
        call(r#"{"name":"x","arguments":{"a":1,}}"#),
        call(r#"{"name":"x","arguments":{"a":tru}}"#),
        call(r#"{"name":"x","arguments":{"a" 1}}"#),
        call(r#"{"name":"x","arguments":{1:1}}"#),
        call(r#"{"name":"x","arguments":{"a":[}}"#),
        call(r#"{"name":"x",}"#),
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\ttab\"}".to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"method":"m"} x"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"method":"m"}}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"method":"m""#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1}"#.to_owned(),
        String::new(),
    ];
    for body in &bodies {
        let (scanned, same) = both(body.as_bytes());
        assert!(!scanned, "{body}: scanned");
        assert!(same, "{body}");
    }
    let invalid = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}";
    assert_eq!(both(invalid), (false, true));
}

/// PF-62: the seeds of the `modern_params` and `jsonrpc_parse` fuzz targets, as bodies and as
/// the params of a request (last, and first with whitespace), read alike by both reads (the
/// `modern_params` fuzz target runs the same check on what it makes of them).
#[test]
fn the_fuzz_seeds_are_read_alike() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    let mut scanned = 0;
    for dir in ["modern_params", "jsonrpc_parse"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            for body in bodies(&data) {
                let (read, same) = both(&body);
                scanned += usize::from(read);
                assert!(same, "{}", String::from_utf8_lossy(&body));
            }
        }
    }
    assert!(scanned > 0);
}

/// `data` as a body, and as the params of a request last and first.
fn bodies(data: &[u8]) -> [Vec<u8>; 3] {
    [
        data.to_vec(),
        [
            &br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"#[..],
            data,
            b"}",
        ]
        .concat(),
        [
            &b"{ \"params\" : "[..],
            data,
            b" ,\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}",
        ]
        .concat(),
    ]
}

/// The raw values the scan keeps are the body's own text, not copies, as serde_json borrows
/// them.
#[test]
fn a_kept_value_is_borrowed_from_the_body() {
    let text = r#"{"a":[1,"x"]}"#;
    let value = raw(text).unwrap();
    assert_eq!(value.get().as_ptr(), text.as_ptr());
    assert_eq!(value.get(), text);
}

/// PF-86: a `_meta` key is one of ours only when all of it is: keys that share the prefix and
/// the byte after it, or that one of ours begins, are skipped as the serde pass skips them, and
/// ours are read in any order.
#[test]
fn a_meta_key_that_only_begins_like_ours_is_skipped_alike() {
    let p = "io.modelcontextprotocol/";
    let meta = |members: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{"_meta":{{{members}}}}}}}"#
        )
    };
    let version = format!(r#""{p}protocolVersion":"2026-07-28""#);
    let capabilities = format!(r#""{p}clientCapabilities":{{}}"#);
    let info = format!(r#""{p}clientInfo":{{"name":"c","version":"1"}}"#);
    let level = format!(r#""{p}logLevel":"debug""#);
    let mut bodies = vec![
        meta(&format!("{level},{info},{capabilities},{version}")),
        meta(&format!("{info},{version},{capabilities}")),
    ];
    for near in [
        "",
        "p",
        "protocol",
        "protocolVersions",
        "c",
        "client",
        "clientCapabilitie",
        "clientCapabilitiesX",
        "clientInf",
        "clientInfos",
        "clientX",
        "logLeve",
        "logLevel2",
        "x",
    ] {
        bodies.push(meta(&format!(
            r#""{p}{near}":{{"a":[1]}},{version},{capabilities}"#
        )));
        bodies.push(meta(&format!(
            r#"{version},{capabilities},"{p}{near}":null"#
        )));
    }
    for body in &bodies {
        let (scanned, same) = both(body.as_bytes());
        assert!(scanned, "{body}: not scanned");
        assert!(same, "{body}");
    }
    // Ours twice: the serde pass's refusal.
    for twice in [&version, &capabilities, &info, &level] {
        let body = meta(&format!("{version},{twice},{twice}"));
        let (_, same) = both(body.as_bytes());
        assert!(same, "{body}");
    }
    // A key of ours whose opening `"` is another byte is not a key: the serde pass's parse error
    // (found by the fuzz target `modern_params`).
    for opener in ["*", "'", " ", "x", "\\"] {
        for member in [&version, &capabilities, &info, &level] {
            let body = meta(&format!("{opener}{}", &member[1..]));
            let (_, same) = both(body.as_bytes());
            assert!(same, "{body}");
            let after = meta(&format!("{version},{opener}{}", &member[1..]));
            let (_, same) = both(after.as_bytes());
            assert!(same, "{after}");
        }
    }
}
