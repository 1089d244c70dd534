//! The JSON-RPC envelope parse: any bytes give a message, a batch or a typed error, never a
//! panic; a message that parses is written back as JSON that parses to the same kind and id.
//! The legacy read of a body as clients write it (PF-11), its params checked by their bytes
//! (PF-66), gives what the general read gives (message or refusal), for the bytes as they are
//! and placed in such a body where the id, the method, the params, a value in the params and a
//! call's arguments are; a call's name and arguments it marks (PF-64) are serde_json's; the
//! bytes decoded as a tool's arguments by theirs (PF-63) give serde_json's value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_http_proto::jsonrpc::{Message, Parsed};

fn kind_and_id(message: &Message) -> (u8, Option<String>) {
    match message {
        Message::Request(r) => (0, Some(r.id.to_string())),
        Message::Notification(_) => (1, None),
        Message::Response(r) => (2, r.id.as_ref().map(ToString::to_string)),
    }
}

/// The two reads' outcomes, comparable.
fn both(body: &[u8]) -> (String, String) {
    (
        format!("{:?}", mcp_http_proto::legacy_read::read(body)),
        format!("{:?}", Parsed::parse(body)),
    )
}

/// Where the input is put in a body as written (as in `legacy_read`'s seed test).
const HEADS: [(&[u8], &[u8]); 6] = [
    (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"#, b"}"),
    (br#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":"#, b"}}"),
    (br#"{"jsonrpc":"2.0","id":1,"method":"m","params":["#, b"]}"),
    (br#"{"jsonrpc":"2.0","id":"#, b"}"),
    (br#"{"jsonrpc":"2.0","id":1,"method":"#, b"}"),
    (
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":"#,
        b"}}",
    ),
];

/// A call's name and arguments as serde_json reads them from `params`.
#[derive(serde::Deserialize)]
struct Call<'a> {
    name: String,
    #[serde(borrow)]
    arguments: &'a serde_json::value::RawValue,
}

/// The name and arguments the legacy read marks in `body`'s params are serde_json's.
fn marks_alike(body: &[u8]) {
    if let Ok(Parsed::Single(Message::Request(request))) = mcp_http_proto::legacy_read::read(body)
        && let Some(params) = request.params
        && let Some((name, arguments)) = params.call_parts()
    {
        let call: Call<'_> = serde_json::from_str(params.get()).expect("marked params are a call");
        assert_eq!(
            (name, arguments),
            (call.name.as_str(), call.arguments.get())
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let (legacy, general) = both(data);
    assert_eq!(legacy, general, "body: {data:?}");
    for (head, tail) in HEADS {
        let body = [head, data, tail].concat();
        let (legacy, general) = both(&body);
        assert_eq!(legacy, general, "body: {body:?}");
        marks_alike(&body);
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Some(value) = mcp_http_proto::object_read::decode::<serde_json::Value>(text)
    {
        assert_eq!(Some(value), serde_json::from_str(text).ok());
    }
    let _ = Message::parse(data);
    if let Ok(Parsed::Single(message)) = Parsed::parse(data) {
        let again = Message::parse(&message.to_json_bytes())
            .unwrap_or_else(|e| panic!("our own JSON does not parse: {}", e.error));
        assert_eq!(kind_and_id(&message), kind_and_id(&again));
    }
});
