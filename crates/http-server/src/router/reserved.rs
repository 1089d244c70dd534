//! A session's requests whose handlers run their first poll, with the stream number each has
//! (PF-23): their streams are opened only when a message comes for one or its POST has to wait.

use mcp_http_proto::RequestId;

use super::{Router, State, open_stream_as};

/// The reserved streams: boxed, and made only while the session is busy, so that an idle
/// session's router pays one pointer for them (PF-3). At most one per thread running a first
/// poll of the session's requests, so a list.
#[derive(Default)]
// Boxed: one pointer in an idle session's router where a `Vec` is three words (PF-3).
#[allow(clippy::box_collection)]
pub(super) struct Reserved(Option<Box<Vec<Reservation>>>);

/// A request's reserved stream number.
#[derive(Debug)]
pub(super) struct Reservation {
    id: RequestId,
    sid: u64,
    /// The request was cancelled with no response (RL-53): its stream opens ended.
    ended: bool,
}

impl Reserved {
    fn list(&self) -> &[Reservation] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }

    /// How many there are.
    pub(super) fn len(&self) -> usize {
        self.list().len()
    }

    /// Whether request `id` has one.
    pub(super) fn has_id(&self, id: &RequestId) -> bool {
        self.list().iter().any(|r| r.id == *id)
    }

    /// Reserves stream `sid` for request `id`.
    pub(super) fn push(&mut self, id: RequestId, sid: u64) {
        let ended = false;
        self.0
            .get_or_insert_default()
            .push(Reservation { id, sid, ended });
    }

    /// Takes request `id`'s out.
    fn take_id(&mut self, id: &RequestId) -> Option<Reservation> {
        let list = self.0.as_mut()?;
        let at = list.iter().position(|r| r.id == *id)?;
        Some(list.swap_remove(at))
    }

    /// Takes stream `sid` out.
    fn take_sid(&mut self, sid: u64) -> Option<Reservation> {
        let list = self.0.as_mut()?;
        let at = list.iter().position(|r| r.sid == sid)?;
        Some(list.swap_remove(at))
    }

    /// Marks request `id`'s reservation ended (RL-53); returns whether it has one.
    pub(super) fn end(&mut self, id: &RequestId) -> bool {
        let list = self.0.as_deref_mut().map_or(&mut [][..], Vec::as_mut_slice);
        match list.iter_mut().find(|r| r.id == *id) {
            Some(r) => {
                r.ended = true;
                true
            }
            None => false,
        }
    }

    /// Lets the room go when there is none (an idle session keeps none, PF-3).
    pub(super) fn release_if_empty(&mut self) {
        if self.len() == 0 {
            self.0 = None;
        }
    }

    /// Whether it holds room (a busy session's).
    #[cfg(test)]
    pub(super) fn has_room(&self) -> bool {
        self.0.is_some()
    }
}

impl std::fmt::Debug for Reserved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.list()).finish()
    }
}

/// Opens the stream of the reserved request `id` (see [`Router::reserve_request`]), if it is
/// still reserved: the first message for it comes, or its handler closes it.
pub(super) fn open_reserved_id(st: &mut State, id: &RequestId) -> Option<u64> {
    let reservation = st.reserved.take_id(id)?;
    Some(open(st, reservation))
}

/// Opens a reserved stream: ended, when its request was cancelled meanwhile (RL-53).
fn open(st: &mut State, Reservation { id, sid, ended }: Reservation) -> u64 {
    open_stream_as(st, id, sid, false);
    if ended && let Some(waiting) = st.streams.get_mut(&sid).and_then(|s| s.waiting.as_mut()) {
        waiting.ended = true;
    }
    sid
}

/// Takes reserved stream `sid` out of the reserved ones, unopened; returns whether it was there.
pub(super) fn take_reserved(st: &mut State, sid: u64) -> bool {
    if st.reserved.take_sid(sid).is_none() {
        return false;
    }
    st.finished = st.finished.saturating_add(1);
    // As `finish` lets the tables go: a session that is not busy keeps no room for these.
    if st.finished <= 1 {
        st.reserved.release_if_empty();
    }
    true
}

impl Router {
    /// [`Router::open_request`] for a session's request whose POST may answer with what its
    /// handler's first poll gives (PF-23): its stream's number is reserved now, and the stream
    /// is opened when a message comes for it, its handler closes it, or its POST has to wait
    /// ([`Router::open_reserved`]); one answered in that poll with nothing sent is ended by
    /// [`Router::end_quiet`] or [`Router::answer_framed`] without ever being opened. `None`
    /// when a request with that id is still in progress.
    pub(crate) fn reserve_request(&self, id: &RequestId) -> Option<u64> {
        let mut st = self.lock();
        if st.requests.contains_key(id) || st.reserved.has_id(id) {
            return None;
        }
        let sid = st.next_stream;
        st.next_stream += 1;
        st.reserved.push(id.clone(), sid);
        Some(sid)
    }

    /// Opens reserved stream `sid` (see [`Router::reserve_request`]) unless something opened
    /// it already: its POST goes on as with [`Router::open_request`]'s stream.
    pub(crate) fn open_reserved(&self, sid: u64) {
        let mut st = self.lock();
        if let Some(reservation) = st.reserved.take_sid(sid) {
            open(&mut st, reservation);
        }
    }
}
