//! The session's standalone GET stream (T-25): opening it (a second GET replaces the
//! first), what goes on it, the bounded buffer that holds its messages while none is open, the
//! hand-off to the instance that holds it in a cluster (RB-20), and its drain.

use bytes::{Bytes, BytesMut};
use mcp_http_core::OutboundKind;

use super::{Router, State, Stream};
use crate::body::ResponseBody;
use crate::queue::{QueueRx, QueueTx, queue};
use crate::sse;

/// How long a JSON answer in a cluster waits at most for its request's notifications to be
/// written where the session's GET stream is held, or claimed (RB-48): a Redis round trip or
/// three, and, while no GET stream is held anywhere yet, the client's GET on its way.
const REMOTE_GET_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Hands messages for the session's GET stream to the instance that holds it.
pub(crate) trait RemoteGet: Send + Sync {
    /// Sends a message there; gives it back when no other instance holds the stream.
    fn send(&self, json: Bytes) -> Result<(), Bytes>;
    /// Done once what was sent before is written to the holder's connection (or no instance
    /// holds the stream), so that a JSON response sent after it does not overtake the
    /// request's notifications (RB-20).
    fn flush(&self) -> futures::future::BoxFuture<'static, ()>;
}

impl Router {
    /// Sends messages for the GET stream to another instance while it holds the stream.
    pub(crate) fn with_remote_get(mut self, remote: Box<dyn RemoteGet>) -> Self {
        self.cluster.get_or_insert_default().remote_get = Some(remote);
        self
    }

    /// Another instance took the GET stream: this one's connection ends (the stream stays in
    /// the log for resumption) and what waited for a GET stream is returned, to send there.
    pub(crate) fn release_get(&self) -> Vec<Bytes> {
        let mut st = self.lock();
        if let Some(sid) = st.get_stream.take() {
            st.streams.remove(&sid);
        }
        st.get_buffer.drain(..).collect()
    }

    /// Whether a GET stream was opened here (and not taken by another instance since).
    pub(crate) fn holds_get(&self) -> bool {
        self.lock().get_stream.is_some()
    }

    /// A message for the GET stream that another instance produced: delivered here, or held
    /// until a GET stream opens.
    pub(crate) fn deliver_to_get(&self, json: Bytes) {
        let mut st = self.lock();
        self.to_get(&mut st, OutboundKind::Notification, json, false);
    }

    /// The GET stream's share of routing: the open stream here, else the instance that holds it,
    /// else a bounded buffer until one opens.
    pub(super) fn to_get(
        &self,
        st: &mut State,
        kind: OutboundKind,
        json: Bytes,
        may_forward: bool,
    ) {
        if let Some(sid) = st.get_stream {
            self.deliver(st, sid, kind, json);
            return;
        }
        let json = match self.remote_get() {
            Some(remote) if may_forward => match remote.send(json) {
                Ok(()) => return,
                Err(json) => json,
            },
            _ => json,
        };
        if st.get_buffer.len() >= self.get_buffer as usize {
            tracing::warn!("GET stream buffer full; the oldest message is dropped");
            st.get_buffer.pop_front();
        }
        st.get_buffer.push_back(json);
    }

    /// Opens the standalone GET stream, replacing an open one (its connection ends cleanly).
    pub(crate) fn open_get(&self) -> ResponseBody {
        let (prefix, rx) = self.open_get_parts();
        self.body(prefix, rx, None)
    }

    /// [`Router::open_get`], as what its body starts with and the queue of what follows: a
    /// resume that takes over a GET stream numbered elsewhere puts the old stream's events
    /// before them (RB-44).
    pub(crate) fn open_get_parts(&self) -> (BytesMut, QueueRx) {
        let (tx, rx) = queue(self.queue as usize);
        let mut prefix = BytesMut::new();
        let mut st = self.lock();
        let sid = match st.get_stream {
            Some(sid) => sid,
            None => {
                let sid = st.next_stream;
                st.next_stream += 1;
                st.get_stream = Some(sid);
                st.streams.insert(sid, Stream::new(None, None));
                sid
            }
        };
        let buffered: Vec<Bytes> = st.get_buffer.drain(..).collect();
        if let Some(stream) = st.streams.get_mut(&sid) {
            self.prime(sid, stream, &mut prefix, true);
            for json in &buffered {
                self.frame(sid, stream, json, &mut prefix);
            }
            stream.conn = Some(tx);
        }
        drop(st);
        (prefix, rx)
    }

    /// Ends the standalone GET stream's connection with a `retry` field (a drain: the stream
    /// never ends on its own, and its client reconnects elsewhere); request streams stay open
    /// so their handlers can still answer on them.
    pub(crate) fn close_get(&self) {
        let mut st = self.lock();
        let Some(sid) = st.get_stream else { return };
        if let Some(stream) = st.streams.get_mut(&sid) {
            if let Some(conn) = stream.conn.take() {
                let _ = conn.try_send(sse::retry(self.retry_ms()));
            }
            if let Some(waiting) = &stream.waiting {
                waiting.wake();
            }
        }
    }

    /// In forced-JSON mode a request's notifications travel on the GET stream: waits (briefly)
    /// until that connection's queue is written out, so they reach the client before the JSON
    /// response that ends the request.
    pub(crate) async fn drain_get(&self, limit: std::time::Duration) {
        let remote = self.remote_get();
        let conn = self.local_get_probe();
        if remote.is_none() && conn.is_none() {
            // No GET stream here or elsewhere (a stateless request, most calls): nothing to
            // wait for, and no clock to read (PF-9).
            return;
        }
        let now = tokio::time::Instant::now();
        let deadline = now + limit;
        // Boxed: the waiting's timers would size the future of every JSON answer (PF-33).
        Box::pin(async move {
            if let Some(remote) = remote {
                // Held elsewhere: what went there is written there first (RB-20), or, while
                // no instance holds it yet, after the claim that takes it (RB-48).
                let _ =
                    tokio::time::timeout_at(now + limit.max(REMOTE_GET_WAIT), remote.flush()).await;
            }
            self.drain_local_get(deadline).await;
        })
        .await;
    }

    /// The queue of the GET stream's connection here, if one is open.
    fn local_get_probe(&self) -> Option<crate::queue::QueueProbe> {
        let st = self.lock();
        st.get_stream
            .and_then(|sid| st.streams.get(&sid))
            .and_then(|s| s.conn.as_ref().map(QueueTx::probe))
    }

    /// Waits (until `deadline`) until the GET stream's connection here has written its queue.
    pub(crate) async fn drain_local_get(&self, deadline: tokio::time::Instant) {
        let Some(conn) = self.local_get_probe() else {
            return;
        };
        while !conn.drained_or_gone() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
}
