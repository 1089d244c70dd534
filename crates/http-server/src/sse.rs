//! Server-Sent Events framing, appended straight into the buffer a response is written from.
//! JSON text from serde never holds a raw newline, so a message is always one `data:` line.

use bytes::{BufMut, Bytes, BytesMut};

/// A keep-alive comment (ignored by clients, T-22).
pub(crate) const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

/// An event id: `{tag}.{stream}.{seq}` (see the router).
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventId<'a> {
    pub(crate) tag: &'a str,
    pub(crate) stream: u64,
    pub(crate) seq: u64,
}

/// How many decimal digits `n` has.
fn digits(mut n: u64) -> usize {
    let mut count = 1;
    while n >= 10 {
        n /= 10;
        count += 1;
    }
    count
}

impl EventId<'_> {
    /// The length of [`EventId::put_line`]'s line.
    fn line_len(&self) -> usize {
        "id: ..\n".len() + self.tag.len() + digits(self.stream) + digits(self.seq)
    }

    /// `id: {tag}.{stream}.{seq}\n`, without the formatting machinery (this runs per event).
    fn put_line(&self, out: &mut BytesMut) {
        let mut number = itoa::Buffer::new();
        out.put_slice(b"id: ");
        out.put_slice(self.tag.as_bytes());
        out.put_u8(b'.');
        out.put_slice(number.format(self.stream).as_bytes());
        out.put_u8(b'.');
        out.put_slice(number.format(self.seq).as_bytes());
        out.put_u8(b'\n');
    }
}

/// The length of the event [`put_event`] appends.
pub(crate) fn event_len(id: Option<EventId<'_>>, json: &[u8]) -> usize {
    "event: message\ndata: \n\n".len() + id.map_or(0, |id| id.line_len()) + json.len()
}

/// The length of the priming event [`put_priming`] appends.
pub(crate) fn priming_len(id: EventId<'_>, retry_ms: u64) -> usize {
    id.line_len() + "retry: \ndata: \n\n".len() + digits(retry_ms)
}

/// Appends one `message` event, with an id when resumable. Reserves exactly what it writes: a
/// buffer sized with [`event_len`] is not grown (PF-6).
pub(crate) fn put_event(out: &mut BytesMut, id: Option<EventId<'_>>, json: &[u8]) {
    out.reserve(event_len(id, json));
    out.put_slice(b"event: message\n");
    if let Some(id) = id {
        id.put_line(out);
    }
    out.put_slice(b"data: ");
    out.put_slice(json);
    out.put_slice(b"\n\n");
}

/// Appends a priming event: an id, a `retry`, and empty data (T-11, T-13).
pub(crate) fn put_priming(out: &mut BytesMut, id: EventId<'_>, retry_ms: u64) {
    out.reserve(priming_len(id, retry_ms));
    id.put_line(out);
    out.put_slice(b"retry: ");
    out.put_slice(itoa::Buffer::new().format(retry_ms).as_bytes());
    out.put_slice(b"\ndata: \n\n");
}

/// Just a `retry` field, sent before the server closes a connection for polling (T-13).
pub(crate) fn retry(retry_ms: u64) -> Bytes {
    Bytes::from(format!("retry: {retry_ms}\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        let id = EventId {
            tag: "a",
            stream: 1,
            seq: 2,
        };
        let mut out = BytesMut::new();
        put_event(&mut out, Some(id), b"{}");
        assert_eq!(&out[..], b"event: message\nid: a.1.2\ndata: {}\n\n");
        assert_eq!(out.len(), event_len(Some(id), b"{}"));
        let mut out = BytesMut::new();
        put_event(&mut out, None, b"{}");
        assert_eq!(&out[..], b"event: message\ndata: {}\n\n");
        let mut out = BytesMut::new();
        put_priming(
            &mut out,
            EventId {
                tag: "x",
                stream: 0,
                seq: 0,
            },
            500,
        );
        assert_eq!(&out[..], b"id: x.0.0\nretry: 500\ndata: \n\n");
        let long = EventId {
            tag: "tag",
            stream: 1234,
            seq: 10,
        };
        assert_eq!(
            priming_len(long, 10_000),
            "id: tag.1234.10\nretry: 10000\ndata: \n\n".len()
        );
        assert_eq!(
            priming_len(long, 0),
            "id: tag.1234.10\nretry: 0\ndata: \n\n".len()
        );
        assert_eq!(&retry(500)[..], b"retry: 500\n\n");
    }
}
