//! Server-Sent Events framing. JSON text from serde never holds a raw newline, so a message is
//! always one `data:` line.

use bytes::{BufMut, Bytes, BytesMut};

/// A keep-alive comment (ignored by clients, T-22).
pub(crate) const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

/// One `message` event, with an id when resumable.
pub(crate) fn event(id: Option<&str>, json: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(json.len() + id.map_or(0, str::len) + 32);
    buf.put_slice(b"event: message\n");
    if let Some(id) = id {
        buf.put_slice(b"id: ");
        buf.put_slice(id.as_bytes());
        buf.put_u8(b'\n');
    }
    buf.put_slice(b"data: ");
    buf.put_slice(json);
    buf.put_slice(b"\n\n");
    buf.freeze()
}

/// A priming event: an id, a `retry`, and empty data (T-11, T-13).
pub(crate) fn priming(id: &str, retry_ms: u128) -> Bytes {
    Bytes::from(format!("id: {id}\nretry: {retry_ms}\ndata: \n\n"))
}

/// Just a `retry` field, sent before the server closes a connection for polling (T-13).
pub(crate) fn retry(retry_ms: u128) -> Bytes {
    Bytes::from(format!("retry: {retry_ms}\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        assert_eq!(
            &event(Some("a.1.2"), b"{}")[..],
            b"event: message\nid: a.1.2\ndata: {}\n\n"
        );
        assert_eq!(&event(None, b"{}")[..], b"event: message\ndata: {}\n\n");
        assert_eq!(&priming("x", 500)[..], b"id: x\nretry: 500\ndata: \n\n");
    }
}
