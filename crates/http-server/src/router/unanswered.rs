//! A session's request cancelled with no response: its stream ends as an answered one's
//! does, with nothing more (RL-53).

use std::sync::atomic::Ordering;

use mcp_http_proto::RequestId;

use super::{Router, finish};

impl Router {
    /// Whether the JSON-only stream `sid` ended with no response (its request was cancelled,
    /// RL-53); it is then finished.
    pub(crate) fn take_ended(&self, sid: u64) -> bool {
        let mut st = self.lock();
        let ended = st
            .streams
            .get(&sid)
            .and_then(|s| s.waiting.as_ref())
            .is_some_and(|w| w.ended);
        if ended {
            finish(&mut st, sid);
        }
        ended
    }

    /// Session request `id` was cancelled and gets no response: its stream ends as an
    /// answered one does, with nothing more (RL-53). A POST that still waits to choose is woken
    /// to end it; a connected SSE body ends after what it carried; a stream with no connection
    /// is forgotten (the event log keeps what a resumption may replay). Stateless routers carry
    /// one request each and are left as they were.
    pub(super) fn end_unanswered_request(&self, id: &RequestId) {
        if self.stateless || self.is_solo() {
            return;
        }
        let mut st = self.lock();
        // Cancelled before its POST opened its stream (PF-23): the stream is not opened to be
        // ended, its reservation is marked; its POST, which opens it right after the
        // handler's first poll, opens it ended.
        if st.reserved.end(id) {
            return;
        }
        let Some(sid) = st.requests.get(id).copied() else {
            return;
        };
        let Some(stream) = st.streams.get_mut(&sid) else {
            return;
        };
        if let Some(waiting) = &mut stream.waiting {
            waiting.ended = true;
            waiting.wake();
            return;
        }
        if stream.conn.take().is_some()
            && let Some(done) = &stream.completed
        {
            // The body ends normally with everything its client will get: nothing to replay.
            done.store(true, Ordering::Release);
        }
        finish(&mut st, sid);
    }
}
