//! The client's SSE parser: any bytes, fed whole or in pieces cut anywhere, give the same events.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_http_client_http::sse::SseParser;

fuzz_target!(|input: (Vec<u8>, Vec<u16>)| {
    let (bytes, cuts) = input;
    let whole = SseParser::default().feed(&bytes);
    let mut parser = SseParser::default();
    let mut pieces = Vec::new();
    let mut at = 0;
    for cut in cuts {
        let end = (at + usize::from(cut) % 64).min(bytes.len());
        pieces.extend(parser.feed(&bytes[at..end]));
        at = end;
    }
    pieces.extend(parser.feed(&bytes[at..]));
    assert_eq!(whole, pieces, "events depend on where the bytes were cut");
});
