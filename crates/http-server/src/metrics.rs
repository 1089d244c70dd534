//! The endpoint's metrics, recorded through the `metrics` facade when
//! [`HttpConfig::metrics`](crate::HttpConfig::metrics) is on (MT-1): requests by method and
//! status, their latency per method, sessions, open SSE streams, events stored, bytes in and out.
//!
//! Handles are made once: the gauges and counters without labels when the service is built, the
//! labelled ones on first use (a cell per method and status), so a request costs a few atomic
//! operations and no registry lookup or allocation (MT-2). Label values come from fixed lists:
//! the MCP method names this crate knows, `response`, `batch`, `GET`, `DELETE`, `OPTIONS` and
//! `other`, and the HTTP statuses the endpoint answers with, or `other` (MT-3).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use foldhash::HashMap;
use mcp_http_proto::jsonrpc::{Message, Parsed};
use metrics::{Counter, Gauge, Histogram};

use crate::sessions::{EventLog, ReplayError, StreamKey};

/// Requests answered, by `method` and `status` (counter).
pub const REQUESTS: &str = "mcp_http_requests_total";
/// Seconds from a request's arrival until its response ended, by `method` (histogram).
pub const DURATION: &str = "mcp_http_request_duration_seconds";
/// Sessions this instance serves (gauge).
pub const SESSIONS: &str = "mcp_http_sessions";
/// SSE responses open now, by `kind` (`get` or `post`) (gauge).
pub const STREAMS: &str = "mcp_http_open_streams";
/// Events kept for resumption (counter).
pub const EVENTS: &str = "mcp_http_events_stored_total";
/// Request body bytes read (counter).
pub const BYTES_IN: &str = "mcp_http_received_bytes_total";
/// Response body bytes produced (counter).
pub const BYTES_OUT: &str = "mcp_http_sent_bytes_total";

/// Labels that are not MCP method names.
const RESPONSE: &str = "response";
const BATCH: &str = "batch";
const OTHER: &str = "other";

/// The statuses counted under their own label; any other is `other`.
const STATUSES: [(u16, &str); 16] = [
    (200, "200"),
    (202, "202"),
    (204, "204"),
    (400, "400"),
    (401, "401"),
    (403, "403"),
    (404, "404"),
    (405, "405"),
    (406, "406"),
    (409, "409"),
    (413, "413"),
    (415, "415"),
    (429, "429"),
    (500, "500"),
    (503, "503"),
    (0, OTHER),
];

/// The `method` label values: the MCP methods this crate knows, then the others.
fn method_labels() -> Vec<&'static str> {
    let mut labels = Vec::new();
    labels.extend(mcp_http_proto::method::ALL_REQUESTS);
    labels.extend(mcp_http_proto::method::ALL_NOTIFICATIONS);
    labels.extend([RESPONSE, BATCH, "GET", "DELETE", "OPTIONS", OTHER]);
    labels
}

/// A request's `method` label, as an index into the fixed list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MethodLabel(usize);

/// The endpoint's metric handles.
pub(crate) struct Metrics {
    labels: Vec<&'static str>,
    index: HashMap<&'static str, usize>,
    requests: Box<[OnceLock<Counter>]>,
    durations: Box<[OnceLock<Histogram>]>,
    sessions: Gauge,
    streams_get: Gauge,
    streams_post: Gauge,
    events: Counter,
    bytes_in: Counter,
    bytes_out: Counter,
}

impl Metrics {
    /// Handles from the recorder installed now.
    pub(crate) fn new() -> Self {
        let labels = method_labels();
        let index = labels.iter().enumerate().map(|(i, l)| (*l, i)).collect();
        let cells = labels.len() * STATUSES.len();
        Metrics {
            requests: (0..cells).map(|_| OnceLock::new()).collect(),
            durations: (0..labels.len()).map(|_| OnceLock::new()).collect(),
            labels,
            index,
            sessions: metrics::gauge!(SESSIONS),
            streams_get: metrics::gauge!(STREAMS, "kind" => "get"),
            streams_post: metrics::gauge!(STREAMS, "kind" => "post"),
            events: metrics::counter!(EVENTS),
            bytes_in: metrics::counter!(BYTES_IN),
            bytes_out: metrics::counter!(BYTES_OUT),
        }
    }

    /// The label of a method name (`other` for one this crate does not know: never the name
    /// itself, which a client chooses).
    fn label_of(&self, name: &str) -> MethodLabel {
        MethodLabel(
            self.index
                .get(name)
                .copied()
                .unwrap_or(self.labels.len() - 1),
        )
    }

    /// The label of an HTTP request before its body is read: its HTTP method, `other` for a
    /// POST until [`Metrics::classify`] names its message.
    pub(crate) fn label_http(&self, method: &http::Method) -> MethodLabel {
        match *method {
            http::Method::GET => self.label_of("GET"),
            http::Method::DELETE => self.label_of("DELETE"),
            http::Method::OPTIONS => self.label_of("OPTIONS"),
            _ => self.label_of(OTHER),
        }
    }

    /// The label of a parsed POST body, and its size counted.
    pub(crate) fn classify(&self, body: &Bytes, parsed: &Parsed) -> MethodLabel {
        self.bytes_in.increment(body.len() as u64);
        match parsed {
            Parsed::Single(Message::Request(r)) => self.label_of(&r.method),
            Parsed::Single(Message::Notification(n)) => self.label_of(&n.method),
            Parsed::Single(Message::Response(_)) => self.label_of(RESPONSE),
            Parsed::Batch(_) => self.label_of(BATCH),
        }
    }

    /// Counts an answered request; a JSON answer's latency is recorded now, a stream's when
    /// it ends (the returned guard, which the body keeps).
    pub(crate) fn answered(
        &self,
        label: MethodLabel,
        status: http::StatusCode,
        start: Instant,
        body: &crate::ResponseBody,
        get: bool,
    ) -> Option<StreamMetrics> {
        let s = STATUSES
            .iter()
            .position(|(code, _)| *code == status.as_u16())
            .unwrap_or(STATUSES.len() - 1);
        let method = self.labels[label.0];
        self.requests[label.0 * STATUSES.len() + s]
            .get_or_init(
                || metrics::counter!(REQUESTS, "method" => method, "status" => STATUSES[s].1),
            )
            .increment(1);
        let duration = self.durations[label.0]
            .get_or_init(|| metrics::histogram!(DURATION, "method" => method))
            .clone();
        if let Some(bytes) = body.full_bytes() {
            self.bytes_out.increment(bytes.len() as u64);
        }
        if !body.is_stream() {
            duration.record(start.elapsed().as_secs_f64());
            return None;
        }
        let open = if get {
            self.streams_get.clone()
        } else {
            self.streams_post.clone()
        };
        open.increment(1.0);
        Some(StreamMetrics {
            start,
            duration,
            open,
            bytes_out: self.bytes_out.clone(),
        })
    }

    /// Sets the session gauge.
    pub(crate) fn sessions(&self, count: usize) {
        self.sessions.set(count as f64);
    }

    /// The event log, counting what it stores.
    pub(crate) fn counting(&self, log: Arc<dyn EventLog>) -> Arc<dyn EventLog> {
        Arc::new(CountingLog {
            inner: log,
            events: self.events.clone(),
        })
    }
}

/// An SSE response's metrics: its bytes as they go, and when it ends (or its client goes away)
/// its latency and the open-stream gauge.
#[derive(Debug)]
pub(crate) struct StreamMetrics {
    start: Instant,
    duration: Histogram,
    open: Gauge,
    bytes_out: Counter,
}

impl StreamMetrics {
    /// Counts bytes written to the stream.
    pub(crate) fn sent(&self, bytes: usize) {
        self.bytes_out.increment(bytes as u64);
    }
}

impl Drop for StreamMetrics {
    fn drop(&mut self) {
        self.duration.record(self.start.elapsed().as_secs_f64());
        self.open.decrement(1.0);
    }
}

/// An event log that counts the events appended to it (priming events, which carry no
/// message, are not counted).
struct CountingLog {
    inner: Arc<dyn EventLog>,
    events: Counter,
}

impl EventLog for CountingLog {
    fn append(&self, session: &str, key: StreamKey<'_>, seq: u64, event: Option<Bytes>) {
        if event.is_some() {
            self.events.increment(1);
        }
        self.inner.append(session, key, seq, event);
    }

    fn replay(
        &self,
        session: &str,
        key: StreamKey<'_>,
        after: u64,
    ) -> futures::stream::BoxStream<'static, Result<(u64, Bytes), ReplayError>> {
        self.inner.replay(session, key, after)
    }

    fn forget_session(&self, session: &str) {
        self.inner.forget_session(session);
    }

    fn forget_stream(&self, session: &str, key: StreamKey<'_>) {
        self.inner.forget_stream(session, key);
    }

    fn prune(&self) {
        self.inner.prune();
    }

    // Passed on too: without them a resume of a dead instance's call on an instance with
    // metrics on found no request to end with an error, and polled forever (RB-29).
    fn note_request(&self, session: &str, key: StreamKey<'_>, request: &mcp_http_proto::RequestId) {
        self.inner.note_request(session, key, request);
    }

    fn request_of(
        &self,
        session: &str,
        key: StreamKey<'_>,
    ) -> futures::future::BoxFuture<'static, Option<mcp_http_proto::RequestId>> {
        self.inner.request_of(session, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded() {
        let m = Metrics::new();
        assert_eq!(m.labels[m.label_of("tools/call").0], "tools/call");
        // A name the client chose never becomes a label value.
        assert_eq!(m.labels[m.label_of("my-own/method").0], OTHER);
        assert_eq!(m.labels[m.label_http(&http::Method::GET).0], "GET");
        assert_eq!(m.labels[m.label_http(&http::Method::PUT).0], OTHER);
    }
}
