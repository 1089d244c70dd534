//! Server-Sent Events as tests read them: one event from a block of lines, every event of a
//! text, and the JSON-RPC messages of a whole body (SSE or a plain JSON document).

use serde_json::Value;

/// One SSE event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// The `id` field, if the event had one.
    pub id: Option<String>,
    /// The `retry` field (milliseconds), if the event had one that parsed.
    pub retry: Option<u64>,
    /// The `data` lines, joined with nothing between them.
    pub data: String,
}

impl Event {
    /// The data as JSON, if it is JSON (a priming event's empty data is not).
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.data).ok()
    }

    /// The event of one block (the lines between two blank lines); `None` for a block of
    /// comments only.
    pub fn parse(block: &str) -> Option<Event> {
        let mut event = Event::default();
        let mut any = false;
        for line in block.lines() {
            if line.starts_with(':') || line.is_empty() {
                continue;
            }
            any = true;
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => event.id = Some(value.to_owned()),
                "retry" => event.retry = value.parse().ok(),
                "data" => event.data.push_str(value),
                _ => {}
            }
        }
        any.then_some(event)
    }
}

/// Splits the first complete block off `buffer` (up to and including its blank line): the
/// block, or `None` while no blank line has arrived.
pub fn take_block(buffer: &mut String) -> Option<String> {
    let end = buffer.find("\n\n")?;
    Some(buffer.drain(..end + 2).collect())
}

/// Every event of an SSE text (comment-only blocks skipped).
pub fn events(text: &str) -> Vec<Event> {
    let mut buffer = text.to_owned();
    let mut events = Vec::new();
    while let Some(block) = take_block(&mut buffer) {
        events.extend(Event::parse(&block));
    }
    events.extend(Event::parse(&buffer));
    events
}

/// The JSON-RPC messages among events (events whose data is not JSON skipped).
pub fn messages(events: &[Event]) -> Vec<Value> {
    events.iter().filter_map(Event::json).collect()
}

/// The JSON-RPC messages of a whole body: a JSON document (one message, or one batch array),
/// or an SSE text (whose events with data must carry JSON).
pub fn body_messages(text: &str) -> Vec<Value> {
    if text.starts_with('{') || text.starts_with('[') {
        return vec![serde_json::from_str(text).expect("a JSON body")];
    }
    events(text)
        .iter()
        .filter(|e| !e.data.is_empty())
        .map(|e| e.json().unwrap_or_else(|| panic!("not JSON: {:?}", e.data)))
        .collect()
}
