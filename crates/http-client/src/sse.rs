//! An incremental Server-Sent Events parser (the WHATWG event-stream format): `data`, `id`,
//! `retry` and `event` fields, comments ignored, CR, LF and CRLF line ends.

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

/// Feeds bytes in, takes events out.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
    current: SseEvent,
    has_fields: bool,
    data_lines: usize,
}

impl SseParser {
    /// Appends bytes and returns every event they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
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
                self.line(&line, &mut events);
                start = next;
                i = next;
                continue;
            }
            i += 1;
        }
        self.buffer.drain(..start);
        events
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
}
