//! What the POST of a request asks its router while it waits to choose between JSON and SSE:
//! whether anything came for it, its response alone (answered as JSON), or that it streams.

use std::sync::Arc;

use bytes::Bytes;
use mcp_http_core::OutboundKind;
use tokio::sync::Notify;

use super::{Router, Stream, finish, take_reserved};

/// What a POST waiting for its request's first message sees.
#[derive(Debug)]
pub(crate) enum Pending {
    /// Nothing yet.
    Empty,
    /// The response came first and alone: answer with plain JSON.
    Json(Bytes),
    /// Something else came first, or the handler asked to close the stream: answer with SSE.
    Stream,
    /// The request was cancelled with nothing sent for it: no response will come (RL-53).
    Ended,
}

/// What waits for a stream's POST to choose (see [`is_quiet`]).
pub(super) struct Waiting {
    pub(super) messages: Vec<(OutboundKind, Bytes)>,
    /// Made when the POST first has to wait ([`Router::waiter`]): a request answered in its
    /// handler's first poll never needs one (PF-7).
    pub(super) notify: Option<Arc<Notify>>,
    pub(super) close_requested: bool,
    /// The request was cancelled: no response will come, the stream ends after what it holds
    /// (RL-53).
    pub(super) ended: bool,
}

impl Waiting {
    /// Wakes the POST waiting to choose, if it waits already (one that does not yet sees
    /// the change when it first checks).
    pub(super) fn wake(&self) {
        if let Some(notify) = &self.notify {
            notify.notify_one();
        }
    }
}

/// Whether a request's stream still waits for its POST to choose, with nothing sent on it and no
/// close asked: its response may then go back without it.
pub(super) fn is_quiet(stream: &Stream) -> bool {
    stream
        .waiting
        .as_ref()
        .is_some_and(|w| w.messages.is_empty() && !w.close_requested)
}

impl Router {
    /// What wakes the POST of stream `sid` when something comes for it, made the first time
    /// the POST has to wait (PF-7). Messages that came before are seen by its next check.
    pub(crate) fn waiter(&self, sid: u64) -> Arc<Notify> {
        let mut st = self.lock();
        match st.streams.get_mut(&sid).and_then(|s| s.waiting.as_mut()) {
            Some(waiting) => waiting
                .notify
                .get_or_insert_with(|| Arc::new(Notify::new()))
                .clone(),
            // No longer waiting: the POST's next check sees it and does not wait.
            None => Arc::new(Notify::new()),
        }
    }

    /// Whether the response of stream `sid` is there (or the stream no longer waits).
    pub(crate) fn answered(&self, sid: u64) -> bool {
        let st = self.lock();
        match st.streams.get(&sid).and_then(|s| s.waiting.as_ref()) {
            Some(waiting) => {
                waiting.close_requested
                    || waiting.ended
                    || waiting
                        .messages
                        .iter()
                        .any(|(kind, _)| *kind == OutboundKind::Response)
            }
            None => true,
        }
    }

    /// The response of a JSON-only stream, once it came; the stream is then finished.
    pub(crate) fn take_response(&self, sid: u64) -> Option<Bytes> {
        let mut st = self.lock();
        let waiting = st.streams.get_mut(&sid)?.waiting.as_mut()?;
        let at = waiting
            .messages
            .iter()
            .position(|(kind, _)| *kind == OutboundKind::Response)?;
        let (_, json) = waiting.messages.swap_remove(at);
        finish(&mut st, sid);
        Some(json)
    }

    /// Forgets stream `sid` without keeping anything of it (its POST went away and no event id
    /// of it was ever sent).
    pub(crate) fn discard(&self, sid: u64) {
        let mut st = self.lock();
        if st.streams.contains_key(&sid) {
            finish(&mut st, sid);
        }
    }

    /// What the POST of stream `sid` should do now.
    pub(crate) fn pending(&self, sid: u64) -> Pending {
        let mut st = self.lock();
        let Some(stream) = st.streams.get_mut(&sid) else {
            return Pending::Stream;
        };
        let Some(waiting) = &mut stream.waiting else {
            return Pending::Stream;
        };
        if waiting.close_requested {
            return Pending::Stream;
        }
        match waiting.messages.as_slice() {
            [] if waiting.ended => {
                finish(&mut st, sid);
                Pending::Ended
            }
            [] => Pending::Empty,
            [(OutboundKind::Response, json)] => {
                let json = json.clone();
                finish(&mut st, sid);
                Pending::Json(json)
            }
            _ => Pending::Stream,
        }
    }

    /// Ends stream `sid` when nothing was sent on it and its POST may still answer as it likes:
    /// the response that came at once then goes back as it is, without passing through the
    /// stream. Returns whether it did.
    pub(crate) fn end_quiet(&self, sid: u64) -> bool {
        let mut st = self.lock();
        if take_reserved(&mut st, sid) {
            return true;
        }
        let quiet = st.streams.get(&sid).is_some_and(is_quiet);
        if quiet {
            finish(&mut st, sid);
        }
        quiet
    }

    /// Whether the POST of stream `sid` has something to send (or must stop waiting).
    pub(crate) fn has_waiting(&self, sid: u64) -> bool {
        let st = self.lock();
        match st.streams.get(&sid).and_then(|s| s.waiting.as_ref()) {
            Some(waiting) => {
                waiting.close_requested || waiting.ended || !waiting.messages.is_empty()
            }
            None => true,
        }
    }

    /// The POST of stream `sid` went away before choosing. The request keeps running (T-19),
    /// but no event id of its stream was sent, so nothing of it can be resumed: nothing is kept
    /// (RL-44). Its stream stays until the response, so that what the handler sends for it
    /// goes nowhere else (T-16).
    pub(crate) fn abandon(&self, sid: u64) {
        let mut st = self.lock();
        let Some(stream) = st.streams.get_mut(&sid) else {
            return;
        };
        let Some(waiting) = stream.waiting.take() else {
            return;
        };
        stream.unnamed = true;
        let answered = waiting.ended
            || waiting
                .messages
                .iter()
                .any(|(kind, _)| *kind == OutboundKind::Response);
        if answered {
            finish(&mut st, sid);
        }
    }
}
