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

    /// `id: {tag}.{stream}.{seq}\n`, without the formatting machinery (this runs per event):
    /// the two numbers are formatted together on the stack, so the line is three copies.
    fn put_line(&self, out: &mut impl BufMut) {
        let mut numbers = [0u8; 2 * 20 + 3];
        let mut number = itoa::Buffer::new();
        let stream = number.format(self.stream).as_bytes();
        let mut end = 1 + stream.len();
        numbers[0] = b'.';
        numbers[1..end].copy_from_slice(stream);
        numbers[end] = b'.';
        let seq = number.format(self.seq).as_bytes();
        numbers[end + 1..end + 1 + seq.len()].copy_from_slice(seq);
        end += 1 + seq.len();
        numbers[end] = b'\n';
        out.put_slice(b"id: ");
        out.put_slice(self.tag.as_bytes());
        out.put_slice(&numbers[..=end]);
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

/// Appends everything of a `message` event before its data (PF-43): the response is then
/// written after it, then [`EVENT_END`]. The answer writes it with [`put_first_head`]; kept as
/// the reference its bytes are checked against.
#[cfg(test)]
pub(crate) fn put_event_head(out: &mut Vec<u8>, id: Option<EventId<'_>>) {
    out.put_slice(b"event: message\n");
    if let Some(id) = id {
        id.put_line(out);
    }
    out.put_slice(b"data: ");
}

/// Appends the head of the answer of a stream that has framed no event yet (PF-43, PF-75): its
/// priming event (with `retry_ms`, when priming) and the response event's lines up to its
/// `data: `, numbered from 0, with ids (`{tag}.{stream}.{seq}`) when `tag` is given. The same
/// bytes as [`put_priming`] then [`put_event_head`], written with one reservation, the stream's
/// number formatted once and the fixed text between the ids copied as one piece.
pub(crate) fn put_first_head(
    out: &mut Vec<u8>,
    tag: Option<&str>,
    stream: u64,
    retry_ms: Option<u64>,
) {
    let Some(tag) = tag else {
        out.extend_from_slice(b"event: message\ndata: ");
        return;
    };
    let mut number = itoa::Buffer::new();
    let stream = number.format(stream).as_bytes();
    // `{tag}.{stream}.` up to the event's number.
    let id_len = tag.len() + 1 + stream.len() + 1;
    let put_id = |out: &mut Vec<u8>| {
        out.extend_from_slice(tag.as_bytes());
        out.push(b'.');
        out.extend_from_slice(stream);
        out.push(b'.');
    };
    match retry_ms {
        Some(retry_ms) => {
            let mut retry = itoa::Buffer::new();
            let retry = retry.format(retry_ms).as_bytes();
            out.reserve(
                "id: 0\nretry: \ndata: \n\nevent: message\nid: 1\ndata: ".len()
                    + 2 * id_len
                    + retry.len(),
            );
            out.extend_from_slice(b"id: ");
            let id_start = out.len();
            put_id(out);
            let id = id_start..out.len();
            out.extend_from_slice(b"0\nretry: ");
            out.extend_from_slice(retry);
            out.extend_from_slice(b"\ndata: \n\nevent: message\nid: ");
            // The same id again, copied as one piece (PF-82).
            out.extend_from_within(id);
            out.extend_from_slice(b"1\ndata: ");
        }
        None => {
            out.reserve("event: message\nid: 0\ndata: ".len() + id_len);
            out.extend_from_slice(b"event: message\nid: ");
            put_id(out);
            out.extend_from_slice(b"0\ndata: ");
        }
    }
}

/// What ends an event whose head [`put_event_head`] wrote.
pub(crate) const EVENT_END: &[u8] = b"\n\n";

/// Appends a priming event: an id, a `retry`, and empty data (T-11, T-13).
pub(crate) fn put_priming(out: &mut (impl BufMut + Reserve), id: EventId<'_>, retry_ms: u64) {
    out.reserve_more(priming_len(id, retry_ms));
    id.put_line(out);
    out.put_slice(b"retry: ");
    out.put_slice(itoa::Buffer::new().format(retry_ms).as_bytes());
    out.put_slice(b"\ndata: \n\n");
}

/// A buffer that can be grown ahead of its writes.
pub(crate) trait Reserve {
    /// Makes room for `n` more bytes.
    fn reserve_more(&mut self, n: usize);
}

impl Reserve for BytesMut {
    fn reserve_more(&mut self, n: usize) {
        self.reserve(n);
    }
}

impl Reserve for Vec<u8> {
    fn reserve_more(&mut self, n: usize) {
        self.reserve(n);
    }
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
        // The head of an event, then its data and end: the same bytes as `put_event`.
        let mut head = Vec::new();
        put_event_head(&mut head, Some(long));
        head.extend_from_slice(b"{}");
        head.extend_from_slice(EVENT_END);
        let mut whole = BytesMut::new();
        put_event(&mut whole, Some(long), b"{}");
        assert_eq!(head, &whole[..]);
        let big = EventId {
            tag: "t",
            stream: u64::MAX,
            seq: u64::MAX,
        };
        let mut line = Vec::new();
        big.put_line(&mut line);
        assert_eq!(
            line,
            format!("id: t.{}.{}\n", u64::MAX, u64::MAX).as_bytes()
        );
        assert_eq!(line.len(), big.line_len());
    }

    /// PF-75: the head of a stream's first answer is the priming event then the event's head,
    /// byte for byte, in every form (priming or not, ids or not, numbers of every width).
    #[test]
    fn the_first_head_is_the_priming_event_then_the_event_head() {
        for stream in [0, 7, 10, 99, 12_345, u64::MAX] {
            for retry in [None, Some(0), Some(500), Some(3_000), Some(u64::MAX)] {
                for tag in [None, Some("t"), Some("0123456789ab"), Some("i~9f8e")] {
                    let mut expected = b"xx".to_vec();
                    let id = |seq| tag.map(|tag| EventId { tag, stream, seq });
                    let mut seq = 0;
                    // Priming only where there are ids (the router primes only resumable
                    // streams).
                    if let (Some(retry), Some(id)) = (retry, id(0)) {
                        put_priming(&mut expected, id, retry);
                        seq = 1;
                    }
                    put_event_head(&mut expected, id(seq));
                    let mut out = b"xx".to_vec();
                    put_first_head(&mut out, tag, stream, retry.filter(|_| tag.is_some()));
                    assert_eq!(
                        String::from_utf8_lossy(&out),
                        String::from_utf8_lossy(&expected),
                        "{tag:?} {stream} {retry:?}"
                    );
                }
            }
        }
    }
}
