//! The JSON-RPC envelope parse: any bytes give a message, a batch or a typed error, never a
//! panic; a message that parses is written back as JSON that parses to the same kind and id.
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

fuzz_target!(|data: &[u8]| {
    let _ = Message::parse(data);
    if let Ok(Parsed::Single(message)) = Parsed::parse(data) {
        let again = Message::parse(&message.to_json_bytes())
            .unwrap_or_else(|e| panic!("our own JSON does not parse: {}", e.error));
        assert_eq!(kind_and_id(&message), kind_and_id(&again));
    }
});
