#![allow(clippy::unwrap_used)]
use super::*;
use mcp_http_proto::jsonrpc::Message;

fn request(body: &str) -> RpcRequest {
    match Message::parse(body.as_bytes()).unwrap() {
        Message::Request(r) => r,
        _ => panic!("not a request"),
    }
}

fn headers(pairs: &[(&'static str, &str)]) -> Headers<'static> {
    let mut h = http::HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, v.parse().unwrap());
    }
    Headers::read(Box::leak(Box::new(h)))
}

const META: &str = r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;

fn call(name: &str) -> RpcRequest {
    request(&format!(
        r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"{name}","_meta":{META}}}}}"#
    ))
}

fn ok_headers(name: &str) -> Headers<'static> {
    headers(&[
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", name),
    ])
}

#[test]
fn every_rung_in_order() {
    let refused = |r: &RpcRequest, h: &Headers<'_>| {
        check(r, None, h, &LastClient::default()).unwrap_err().rung
    };
    // No _meta at all: the envelope rung, whatever the headers say.
    let bare = request(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#);
    assert_eq!(refused(&bare, &headers(&[])), Rung::Envelope);
    // The headers come before the version.
    let v999 = request(&format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{"_meta":{}}}}}"#,
        META.replace("2026-07-28", "v999")
    ));
    let h = headers(&[
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/list"),
    ]);
    assert_eq!(refused(&v999, &h), Rung::Headers);
    let h = headers(&[
        ("mcp-protocol-version", "v999"),
        ("mcp-method", "tools/list"),
    ]);
    let refusal = check(&v999, None, &h, &LastClient::default()).unwrap_err();
    assert_eq!(refusal.rung, Rung::Version);
    let data = refusal.error.data.unwrap();
    assert_eq!(data["supported"], serde_json::json!(["2026-07-28"]));
    assert_eq!(data["requested"], "v999");
    // Removed methods last.
    let ping = request(&format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"_meta":{META}}}}}"#
    ));
    let h = headers(&[
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "ping"),
    ]);
    let refusal = check(&ping, None, &h, &LastClient::default()).unwrap_err();
    assert_eq!(
        (refusal.rung.status(), refusal.rung.code()),
        (StatusCode::NOT_FOUND, -32601)
    );
    assert!(
        check(
            &call("echo"),
            None,
            &ok_headers("echo"),
            &LastClient::default()
        )
        .is_ok()
    );
}

#[test]
fn mcp_name_is_compared_after_trimming_and_decoding() {
    assert!(
        check(
            &call("echo"),
            None,
            &ok_headers("  echo\t"),
            &LastClient::default()
        )
        .is_ok()
    );
    assert!(
        check(
            &call("Zürich"),
            None,
            &ok_headers("=?base64?WsO8cmljaA==?="),
            &LastClient::default()
        )
        .is_ok()
    );
    assert_eq!(
        check(
            &call("echo"),
            None,
            &ok_headers("Echo"),
            &LastClient::default()
        )
        .unwrap_err()
        .rung,
        Rung::Headers
    );
    assert_eq!(
        check(
            &call("echo"),
            None,
            &ok_headers("=?base64?ZWNobw?="),
            &LastClient::default()
        )
        .unwrap_err()
        .rung,
        Rung::Headers
    );
    let missing = headers(&[
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
    ]);
    assert_eq!(
        check(&call("echo"), None, &missing, &LastClient::default())
            .unwrap_err()
            .rung,
        Rung::Headers
    );
}

#[test]
fn method_values_are_case_sensitive() {
    let h = headers(&[
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "TOOLS/CALL"),
        ("mcp-name", "echo"),
    ]);
    assert_eq!(
        check(&call("echo"), None, &h, &LastClient::default())
            .unwrap_err()
            .rung,
        Rung::Headers
    );
}

#[test]
fn the_claim_needs_the_key_inside_meta() {
    let inside = request(&format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{"_meta":{META}}}}}"#
    ));
    assert!(claims_modern(inside.params.as_ref()));
    let in_arguments = request(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
    );
    assert!(!claims_modern(in_arguments.params.as_ref()));
}

/// PF-58: whether the params hold the version key is told from where the body's search found
/// it, as a search of the params tells it, for params shared from the body or copied.
#[test]
fn the_body_search_tells_whether_the_params_mention_the_version() {
    let key = VERSION_KEY;
    for text in [
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":{{"_meta":{META}}}}}"#),
        // Before the params (the id), after them (another member), both, in the arguments.
        format!(r#"{{"jsonrpc":"2.0","id":"{key}","method":"m","params":{{"a":1}}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":"{key}","method":"m","params":{{"_meta":{META}}}}}"#),
        format!(r#"{{"params":{{"a":1}},"x":"{key}","jsonrpc":"2.0","id":1,"method":"m"}}"#),
        format!(r#"{{"params":{{"a":"{key}"}},"x":"{key}","jsonrpc":"2.0","id":1,"method":"m"}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":["{key}"]}}"#),
        r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1}}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"method":"m"}"#.to_owned(),
    ] {
        let body = bytes::Bytes::from(text.clone());
        let mention = Mention::of(&body);
        assert_eq!(mention.found(), mentions_version(&body), "{text}");
        let shared = mcp_http_proto::modern_read::read(&body).map(|(p, _)| p);
        let copied = mcp_http_proto::jsonrpc::Parsed::parse(&body);
        for parsed in [shared, copied] {
            let mcp_http_proto::jsonrpc::Parsed::Single(Message::Request(r)) = parsed.unwrap()
            else {
                panic!("{text}")
            };
            let searched = may_claim_modern(r.params.as_ref());
            assert_eq!(mention.in_params(r.params.as_ref()), searched, "{text}");
            assert!(!Mention::none().in_params(r.params.as_ref()));
        }
    }
}

/// PF-85: the search by the key's rare byte finds the key where a search for the whole
/// key does, wherever the byte lies without the rest of the key.
#[test]
fn the_byte_search_finds_the_key_where_the_whole_key_is() {
    let key = VERSION_KEY;
    let whole = |t: &[u8]| t.windows(key.len()).position(|w| w == key.as_bytes());
    let texts = [
        String::new(),
        key.to_owned(),
        key[..key.len() - 1].to_owned(),
        key[1..].to_owned(),
        "V".repeat(80),
        format!("V{key}V"),
        format!("io.modelcontextprotocol/protocolV{key}"),
        format!("io.modelcontextprotocol{key}"),
        format!("io.modelcontextprotocol/{key}/protocolVersion"),
        format!(r#"{{"a":"{key}","b":"{key}"}}"#),
        format!(
            r#"{{"protocolVersion":"2025-11-25","x":"{}"}}"#,
            &key[..BYTE_AT + 1]
        ),
        format!(
            r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"echo","_meta":{META}}}}}"#
        ),
    ];
    for text in &texts {
        assert_eq!(
            first_mention(text.as_bytes()),
            whole(text.as_bytes()),
            "{text}"
        );
        for cut in 0..=text.len() {
            let part = &text.as_bytes()[cut..];
            assert_eq!(first_mention(part), whole(part), "{text} from {cut}");
        }
    }
}

/// PF-59: the ladder tells a first call from a retry by the params' own members.
#[test]
fn a_first_call_is_told_by_the_params_own_members() {
    let first = |members: &str| {
        let r = request(&format!(
            r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"echo",{members}"_meta":{META}}}}}"#
        ));
        let checked = check(&r, None, &ok_headers("echo"), &LastClient::default()).unwrap();
        assert!(checked.tool_call.is_some());
        checked.first_call
    };
    assert!(first(""));
    assert!(first(r#""arguments":{"requestState":"s"},"#));
    assert!(!first(r#""requestState":"s","#));
    assert!(!first(r#""inputResponses":{},"#));
}

#[test]
fn malformed_meta_fields_are_invalid_params() {
    for meta in [
        r#"{"io.modelcontextprotocol/protocolVersion":7,"io.modelcontextprotocol/clientCapabilities":{}}"#,
        r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":[]}"#,
        r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/logLevel":"loud"}"#,
        r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":1}}"#,
        r#"[]"#,
    ] {
        let r = request(&format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{"_meta":{meta}}}}}"#
        ));
        let refusal = check(&r, None, &headers(&[]), &LastClient::default()).unwrap_err();
        assert_eq!(refusal.rung, Rung::Envelope, "{meta}");
        assert_eq!(refusal.error.code, -32602);
    }
}

/// PF-51: the ladder's answer is the same whether the params' members were read in the
/// envelope's pass or by the ladder itself.
#[test]
fn members_read_with_the_envelope_give_the_same_answer() {
    let debug = |r: &Result<Checked, Refusal>| format!("{r:?}");
    for meta in [
        META,
        r#"{"io.modelcontextprotocol/protocolVersion":"2025-11-25","io.modelcontextprotocol/clientCapabilities":{}}"#,
        r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":[]}"#,
        r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/logLevel":"loud"}"#,
        r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":1}}"#,
    ] {
        for (method, name) in [
            ("tools/call", "echo"),
            ("tools/call", "other"),
            ("ping", "x"),
        ] {
            let text = format!(
                r#"{{"jsonrpc":"2.0","id":7,"method":"{method}","params":{{"name":"{name}","arguments":{{"a":1}},"_meta":{meta}}}}}"#
            );
            let body = bytes::Bytes::from(text.clone());
            let (parsed, members) = mcp_http_proto::modern_read::read(&body).unwrap();
            assert!(members.is_some(), "{text}: read in one pass");
            let mcp_http_proto::jsonrpc::Parsed::Single(Message::Request(one)) = parsed else {
                panic!("{text}")
            };
            let h = headers(&[
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", method),
                ("mcp-name", "echo"),
            ]);
            let last = LastClient::default();
            let in_one = check(&one, members, &h, &last);
            let apart = check(&request(&text), None, &h, &LastClient::default());
            assert_eq!(debug(&in_one), debug(&apart), "{text}");
        }
    }
}

/// PF-99: the refusals made out of line say, word for word, what they said when they were made
/// in place (the texts below are the ones `check` wrote before).
#[test]
fn refusals_made_out_of_line_keep_their_words() {
    let message = |r: &RpcRequest, pairs: &[(&'static str, &str)]| {
        let refusal = check(r, None, &headers(pairs), &LastClient::default()).unwrap_err();
        (refusal.rung, refusal.error.message, refusal.claimed)
    };
    let echo = call("echo");
    let headers_rung = |text: &str| (Rung::Headers, text.to_owned(), true);
    let v = ("mcp-protocol-version", "2026-07-28");
    let m = ("mcp-method", "tools/call");
    assert_eq!(
        message(&echo, &[m, ("mcp-name", "echo")]),
        headers_rung("Header mismatch: the MCP-Protocol-Version header is required in 2026-07-28")
    );
    assert_eq!(
        message(
            &echo,
            &[
                ("mcp-protocol-version", "2025-11-25"),
                m,
                ("mcp-name", "echo")
            ]
        ),
        headers_rung(
            r#"Header mismatch: MCP-Protocol-Version "2025-11-25" differs from _meta's "2026-07-28""#
        )
    );
    assert_eq!(
        message(&echo, &[v, v, m, ("mcp-name", "echo")]),
        headers_rung("the mcp-protocol-version header must appear once")
    );
    assert_eq!(
        message(&echo, &[v, ("mcp-name", "echo")]),
        headers_rung("Header mismatch: the Mcp-Method header is required")
    );
    assert_eq!(
        message(
            &echo,
            &[v, ("mcp-method", "tools/list"), ("mcp-name", "echo")]
        ),
        headers_rung(
            r#"Header mismatch: Mcp-Method "tools/list" differs from the body's method "tools/call""#
        )
    );
    assert_eq!(
        message(
            &echo,
            &[v, ("mcp-method", "tööls/call"), ("mcp-name", "echo")]
        ),
        headers_rung("the mcp-method header is not visible ASCII")
    );
    assert_eq!(
        message(&echo, &[v, m, ("mcp-name", "echo"), ("mcp-name", "echo")]),
        headers_rung("the mcp-name header must appear once")
    );
    assert_eq!(
        message(&echo, &[v, m]),
        headers_rung("Header mismatch: the Mcp-Name header is required on tools/call")
    );
    assert_eq!(
        message(&echo, &[v, m, ("mcp-name", "Echo")]),
        headers_rung("Header mismatch: Mcp-Name differs from the body's name or uri")
    );
    let undecodable = "=?base64?%%%?=";
    let error = header_value::decode(undecodable).unwrap_err();
    assert_eq!(
        message(&echo, &[v, m, ("mcp-name", undecodable)]),
        headers_rung(&format!("Header mismatch: Mcp-Name: {error}"))
    );
    // The version rung and the method rung.
    let v999 = request(&format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{"_meta":{}}}}}"#,
        META.replace("2026-07-28", "v999")
    ));
    let (rung, text, _) = message(
        &v999,
        &[
            ("mcp-protocol-version", "v999"),
            ("mcp-method", "tools/list"),
        ],
    );
    assert_eq!(
        (rung, text.as_str()),
        (
            Rung::Version,
            r#"Unsupported protocol version "v999": this server serves 2026-07-28 per request, and 2025-11-25 and earlier through initialize"#
        )
    );
    let ping = request(&format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"_meta":{META}}}}}"#
    ));
    assert_eq!(
        message(&ping, &[v, ("mcp-method", "ping")]),
        (Rung::Method, "Method not found: ping".to_owned(), true)
    );
    // The envelope rung: a client whose info is not an Implementation.
    let bad_info = request(&format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{"_meta":{}}}}}"#,
        META.replace(
            "{}}",
            r#"{},"io.modelcontextprotocol/clientInfo":{"name":1}}"#
        )
    ));
    assert_eq!(
        message(&bad_info, &[v, ("mcp-method", "tools/list")]),
        (
            Rung::Envelope,
            "Invalid params: io.modelcontextprotocol/clientInfo must be an Implementation (name and version)".to_owned(),
            true
        )
    );
}

/// PF-99: the client read out of line is kept, and the next request that describes it alike
/// gets the same client; one described otherwise is read again.
#[test]
fn a_client_described_alike_is_read_once() {
    let last = LastClient::default();
    let caps = RawValue::from_string("{}".into()).unwrap();
    let other = RawValue::from_string(r#"{"roots":{}}"#.into()).unwrap();
    let first = last.get(None, &caps).unwrap();
    let again = last.get(None, &caps).unwrap();
    assert!(format!("{first:?}") == format!("{again:?}"));
    let changed = last.get(None, &other).unwrap();
    assert!(format!("{first:?}") != format!("{changed:?}"));
}
