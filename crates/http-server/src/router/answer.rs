//! How a request's POST is answered as SSE: its events framed (priming event, what waited for
//! the POST's choice, the response), in one buffer, into the response body.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use bytes::{Bytes, BytesMut};
use mcp_http_core::OutboundKind;

use super::{Router, Stream, Waiting, finish, is_quiet, take_reserved};
use crate::body::{Completion, ConnectionGuard, ResponseBody};
use crate::queue::{QueueRx, queue};
use crate::sse;

impl Router {
    /// Frames one message as the next event of a stream, keeping it for replay.
    pub(super) fn frame(&self, sid: u64, stream: &mut Stream, json: &Bytes, out: &mut BytesMut) {
        self.frame_kept(sid, stream, json, out, true);
    }

    /// Frames an event; `keep` says whether it goes into the event store for replay.
    pub(super) fn frame_kept(
        &self,
        sid: u64,
        stream: &mut Stream,
        json: &Bytes,
        out: &mut BytesMut,
        keep: bool,
    ) {
        let id = self.resumable.then(|| {
            let seq = stream.next_seq;
            stream.next_seq += 1;
            if keep {
                self.log
                    .append(&self.session, self.key(sid), seq, Some(json.clone()));
            }
            self.event_id(sid, seq)
        });
        sse::put_event(out, id, json);
    }

    /// Frames what waited for the POST's choice; returns whether the response was among it.
    pub(super) fn flush_waiting(
        &self,
        sid: u64,
        stream: &mut Stream,
        waiting: &Waiting,
        out: &mut BytesMut,
        keep: bool,
    ) -> bool {
        let mut answered = false;
        for (kind, json) in &waiting.messages {
            self.frame_kept(sid, stream, json, out, keep);
            answered |= *kind == OutboundKind::Response;
        }
        answered
    }

    pub(super) fn prime(&self, sid: u64, stream: &mut Stream, out: &mut BytesMut, keep: bool) {
        if self.priming() {
            let seq = stream.next_seq;
            stream.next_seq += 1;
            if keep {
                self.log.append(&self.session, self.key(sid), seq, None);
            }
            sse::put_priming(out, self.event_id(sid, seq), self.retry_ms());
        }
    }

    pub(super) fn body(
        &self,
        prefix: BytesMut,
        rx: QueueRx,
        completion: Option<(u64, Arc<AtomicBool>)>,
    ) -> ResponseBody {
        let completion = completion.map(|(stream, done)| Completion {
            done,
            log: self.log.clone(),
            session: self.session.clone(),
            tag: self.tag.clone(),
            stream,
        });
        let guard = Some(ConnectionGuard::new(&self.connections));
        ResponseBody::sse(prefix.freeze(), rx, self.keep_alive, guard, completion)
    }

    /// Answers stream `sid`'s POST with SSE when its response came at once and alone: the
    /// priming event and the response, framed straight into the body (not stored: see
    /// [`Router::upgrade`]). `None` when something else was sent on the stream first.
    pub(crate) fn answer_at_once(&self, sid: u64, json: &Bytes) -> Option<ResponseBody> {
        let mut st = self.lock();
        let stream = st.streams.get_mut(&sid)?;
        if !is_quiet(stream) {
            return None;
        }
        stream.waiting = None;
        // One buffer of exactly the body's size: framed without growing, frozen without an
        // allocation of its own, written in one piece (PF-6).
        let (seq, id) = (stream.next_seq, |seq| self.event_id(sid, seq));
        let priming = match self.priming() {
            true => sse::priming_len(id(seq), self.retry_ms()),
            false => 0,
        };
        let event_seq = seq + u64::from(self.priming());
        let size = priming + sse::event_len(self.resumable.then(|| id(event_seq)), json);
        let mut prefix = BytesMut::with_capacity(size);
        self.prime(sid, stream, &mut prefix, false);
        self.frame_kept(sid, stream, json, &mut prefix, false);
        finish(&mut st, sid);
        drop(st);
        // Nothing more comes: the bytes alone (PF-76).
        Some(ResponseBody::sse_whole(prefix.freeze()))
    }

    /// Writes the head of stream `sid`'s answer at once into `out`, before its handler runs
    /// (PF-43): the priming event and the response event's lines up to its `data: `, numbered
    /// as [`Router::answer_at_once`] numbers them when nothing else comes first. The peer then
    /// writes the response after it, and [`Router::answer_framed`] ends it. Returns the head's
    /// length.
    ///
    /// Written without the router's lock (PF-75): a stream that still waits for its POST to
    /// choose has framed no event, so its events are numbered from 0 (its number goes up only
    /// once the POST chose); and [`Router::answer_framed`] checks, under the lock, that nothing
    /// else was sent on it, or takes the head off.
    pub(crate) fn put_at_once_head(&self, sid: u64, out: &mut Vec<u8>) -> usize {
        let start = out.len();
        let tag = self.resumable.then_some(&*self.tag);
        let retry = self.priming().then_some(self.retry_ms());
        sse::put_first_head(out, tag, sid, retry);
        out.len() - start
    }

    /// Answers stream `sid`'s POST with `out`: the head [`Router::put_at_once_head`] wrote, then
    /// the response, when nothing else was sent on the stream meanwhile (the events are not
    /// stored, as [`Router::answer_at_once`]'s are not). Otherwise gives back the response
    /// alone, the head taken off.
    pub(crate) fn answer_framed(
        &self,
        sid: u64,
        mut out: Vec<u8>,
        head: usize,
    ) -> Result<ResponseBody, Vec<u8>> {
        let mut st = self.lock();
        // Reserved and never opened (PF-23): nothing was sent on it.
        if !take_reserved(&mut st, sid) {
            let Some(stream) = st.streams.get_mut(&sid).filter(|s| is_quiet(s)) else {
                drop(st);
                out.drain(..head);
                return Err(out);
            };
            stream.waiting = None;
            finish(&mut st, sid);
        }
        drop(st);
        out.extend_from_slice(sse::EVENT_END);
        // Exactly its size: frozen without an allocation of its own (in place when the buffer
        // was at most twice as large); nothing more comes, so the bytes alone (PF-76).
        out.shrink_to_fit();
        Ok(ResponseBody::sse_whole(Bytes::from(out)))
    }

    /// Answers stream `sid`'s POST with SSE: the priming event, what was waiting, then live events.
    pub(crate) fn upgrade(&self, sid: u64) -> ResponseBody {
        // Room for a priming event and a short response: most streams are built without a copy.
        let mut prefix = BytesMut::with_capacity(512);
        let mut st = self.lock();
        let Some(stream) = st.streams.get_mut(&sid) else {
            drop(st);
            return self.body(prefix, QueueRx::closed(), None);
        };
        let waiting = stream.waiting.take();
        let answered = waiting.as_ref().is_some_and(|w| {
            // A cancelled request's stream ends the same way, with no response (RL-53).
            w.ended
                || w.messages
                    .iter()
                    .any(|(kind, _)| *kind == OutboundKind::Response)
        });
        if answered {
            // Answered at once: the whole stream is this one body, nothing follows. Its events
            // are not stored: a client that got none of them cannot name the stream, and one
            // that got the body needs no replay.
            self.prime(sid, stream, &mut prefix, false);
            if let Some(waiting) = &waiting {
                self.flush_waiting(sid, stream, waiting, &mut prefix, false);
            }
            finish(&mut st, sid);
            drop(st);
            // No queue: the stream has nothing more to receive.
            return self.body(prefix, QueueRx::closed(), None);
        }
        if self.bus().is_some()
            && self.resumable
            && let Some(request) = &stream.request
        {
            // Before its first event: a resume elsewhere can answer it if this instance dies.
            self.log.note_request(&self.session, self.key(sid), request);
        }
        self.prime(sid, stream, &mut prefix, true);
        if let Some(waiting) = &waiting {
            self.flush_waiting(sid, stream, waiting, &mut prefix, true);
        }
        let done = Arc::new(AtomicBool::new(false));
        let mut rx = QueueRx::closed();
        if waiting.is_some_and(|w| w.close_requested) {
            prefix.extend_from_slice(&sse::retry(self.retry_ms()));
        } else {
            let (tx, live) = queue(self.queue as usize);
            rx = live;
            stream.conn = Some(tx);
            stream.completed = Some(done.clone());
        }
        drop(st);
        self.body(prefix, rx, Some((sid, done)))
    }
}
