//! The JSON-RPC envelope parse: any bytes give a message, a batch or a typed error, never a
//! panic; a message that parses is written back as JSON that parses to the same kind and id.
//! The legacy read of a body as clients write it (PF-11), its params checked by their bytes
//! (PF-66), gives what the general read gives (message or refusal), for the bytes as they are
//! and placed in such a body where the id, the method, the params and a value in the params are.
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
const HEADS: [(&[u8], &[u8]); 5] = [
    (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"#, b"}"),
    (br#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":"#, b"}}"),
    (br#"{"jsonrpc":"2.0","id":1,"method":"m","params":["#, b"]}"),
    (br#"{"jsonrpc":"2.0","id":"#, b"}"),
    (br#"{"jsonrpc":"2.0","id":1,"method":"#, b"}"),
];

fuzz_target!(|data: &[u8]| {
    let (legacy, general) = both(data);
    assert_eq!(legacy, general, "body: {data:?}");
    for (head, tail) in HEADS {
        let body = [head, data, tail].concat();
        let (legacy, general) = both(&body);
        assert_eq!(legacy, general, "body: {body:?}");
    }
    let _ = Message::parse(data);
    if let Ok(Parsed::Single(message)) = Parsed::parse(data) {
        let again = Message::parse(&message.to_json_bytes())
            .unwrap_or_else(|e| panic!("our own JSON does not parse: {}", e.error));
        assert_eq!(kind_and_id(&message), kind_and_id(&again));
    }
});
