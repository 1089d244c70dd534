//! The Base64 sentinel of 2026-07-28 header values (H-9): decoding any text never panics, and
//! whatever is encoded decodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_http_proto::header_value::{decode, encode};

fuzz_target!(|input: (String, String)| {
    let (value, header) = input;
    let _ = decode(&header);
    let encoded = encode(&value);
    assert!(encoded.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\t'), "{encoded:?}");
    assert_eq!(decode(&encoded).as_deref().ok(), Some(value.as_str()), "{value:?} -> {encoded:?}");
});
