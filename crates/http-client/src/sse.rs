//! An incremental Server-Sent Events parser (the WHATWG event-stream format): `data`, `id`,
//! `retry` and `event` fields, comments ignored, CR, LF and CRLF line ends.
//!
//! Bytes that are not UTF-8 are decoded as the format says, each invalid sequence becoming
//! U+FFFD; an event is never dropped for them. What an event may hold is bounded
//! ([`SseParser::with_max_event_size`]): a server cannot make the parser buffer without end by
//! never ending a line or an event (RL-21).

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event` field, when present.
    pub event: Option<String>,
    /// The `data` lines, joined with `\n`. Empty for a priming event (T-21).
    pub data: String,
    /// The `id` field, when this event set one.
    pub id: Option<String>,
    /// The `retry` field in milliseconds, when this event set one.
    pub retry: Option<u64>,
}

/// The default of [`SseParser::with_max_event_size`]: 16 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

/// An event (or a line of one) grew past the parser's limit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventTooLarge {
    /// The limit, in bytes.
    pub limit: usize,
}

impl std::fmt::Display for EventTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an SSE event is larger than {} bytes", self.limit)
    }
}

impl std::error::Error for EventTooLarge {}

/// Feeds bytes in, takes events out.
#[derive(Debug)]
pub struct SseParser {
    buffer: Vec<u8>,
    current: SseEvent,
    has_fields: bool,
    data_lines: usize,
    max_event_size: usize,
    /// Set once an event went over the limit: the stream is not read further.
    failed: bool,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser::with_max_event_size(DEFAULT_MAX_EVENT_SIZE)
    }
}

impl SseParser {
    /// A parser whose events may hold at most `max` bytes: the data of an event not yet
    /// dispatched plus the line being read. Past it, [`SseParser::try_feed`] fails.
    pub fn with_max_event_size(max: usize) -> Self {
        SseParser {
            buffer: Vec::new(),
            current: SseEvent::default(),
            has_fields: false,
            data_lines: 0,
            max_event_size: max,
            failed: false,
        }
    }

    /// Appends bytes and returns every event they complete. After an event over the limit it
    /// returns the events before that one, then nothing more (see [`SseParser::try_feed`]).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        let _ = self.feed_into(bytes, &mut events);
        events
    }

    /// Appends bytes and returns every event they complete, or fails once the event being read
    /// (its data so far and the line not yet ended) holds more than the limit; the parser then
    /// stays failed, and the events completed before it in these bytes are lost with it.
    pub fn try_feed(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, EventTooLarge> {
        let mut events = Vec::new();
        self.feed_into(bytes, &mut events)?;
        Ok(events)
    }

    fn too_large(&mut self) -> EventTooLarge {
        self.failed = true;
        self.buffer = Vec::new();
        self.current = SseEvent::default();
        EventTooLarge {
            limit: self.max_event_size,
        }
    }

    fn feed_into(&mut self, bytes: &[u8], events: &mut Vec<SseEvent>) -> Result<(), EventTooLarge> {
        if self.failed {
            return Err(EventTooLarge {
                limit: self.max_event_size,
            });
        }
        self.buffer.extend_from_slice(bytes);
        let mut start = 0;
        let mut i = 0;
        while i < self.buffer.len() {
            let b = self.buffer[i];
            if b == b'\n' || b == b'\r' {
                // A CR at the very end may be the first half of CRLF: wait for more.
                if b == b'\r' && i + 1 == self.buffer.len() {
                    break;
                }
                let line = String::from_utf8_lossy(&self.buffer[start..i]).into_owned();
                let next = if b == b'\r' && self.buffer.get(i + 1) == Some(&b'\n') {
                    i + 2
                } else {
                    i + 1
                };
                self.line(&line, events);
                if self.current.data.len() > self.max_event_size {
                    return Err(self.too_large());
                }
                start = next;
                i = next;
                continue;
            }
            i += 1;
        }
        self.buffer.drain(..start);
        // RL-21: a line that never ends, or an event that never does, is cut off here.
        if self.buffer.len() + self.current.data.len() > self.max_event_size {
            return Err(self.too_large());
        }
        Ok(())
    }

    fn line(&mut self, line: &str, events: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if self.has_fields {
                events.push(std::mem::take(&mut self.current));
                self.has_fields = false;
                self.data_lines = 0;
            }
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.data_lines > 0 {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.data_lines += 1;
            }
            "id" if !value.contains('\0') => self.current.id = Some(value.to_owned()),
            "retry" => {
                if let Ok(ms) = value.parse() {
                    self.current.retry = Some(ms);
                }
            }
            "event" => self.current.event = Some(value.to_owned()),
            _ => return,
        }
        self.has_fields = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_split_anywhere() {
        let input = "id: a.0.0\nretry: 500\ndata: \n\n: keep-alive\n\nevent: message\r\nid: a.0.1\r\ndata: {\"x\":1}\r\n\r\ndata: one\ndata: two\n\n";
        for split in 1..input.len() {
            let mut parser = SseParser::default();
            let mut events = parser.feed(&input.as_bytes()[..split]);
            events.extend(parser.feed(&input.as_bytes()[split..]));
            assert_eq!(events.len(), 3, "split at {split}: {events:?}");
            assert_eq!(
                events[0],
                SseEvent {
                    event: None,
                    data: String::new(),
                    id: Some("a.0.0".into()),
                    retry: Some(500)
                }
            );
            assert_eq!(events[1].data, "{\"x\":1}");
            assert_eq!(events[1].id.as_deref(), Some("a.0.1"));
            assert_eq!(events[1].event.as_deref(), Some("message"));
            assert_eq!(events[2].data, "one\ntwo");
        }
    }

    #[test]
    fn an_event_over_the_limit_fails_the_parser() {
        let mut parser = SseParser::with_max_event_size(16);
        assert_eq!(parser.try_feed(b"data: small\n\n").unwrap().len(), 1);
        // A line that never ends, fed in pieces.
        assert!(parser.try_feed(b"data: 0123456789").is_ok());
        assert_eq!(
            parser.try_feed(b"0123456789"),
            Err(EventTooLarge { limit: 16 })
        );
        assert!(parser.try_feed(b"\n\n").is_err());
        // Many short data lines of one event.
        let mut parser = SseParser::with_max_event_size(16);
        assert!(
            parser
                .try_feed(b"data: 0123\ndata: 4567\ndata: 89ab\ndata: cdef\n")
                .is_err()
        );
        // Invalid UTF-8 becomes U+FFFD.
        let events = SseParser::default().feed(b"data: a\xffb\n\n");
        assert_eq!(events[0].data, "a\u{fffd}b");
    }
}
