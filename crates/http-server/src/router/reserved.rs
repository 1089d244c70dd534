//! A session's requests whose handlers run their first poll, with the stream number each has
//! (PF-23): their streams are opened only when a message comes for one or its POST has to wait.

use mcp_http_proto::RequestId;

/// The reserved streams: boxed, and made only while the session is busy, so that an idle
/// session's router pays one pointer for them (PF-3). At most one per thread running a first
/// poll of the session's requests, so a list.
#[derive(Default)]
// Boxed: one pointer in an idle session's router where a `Vec` is three words (PF-3).
#[allow(clippy::box_collection)]
pub(super) struct Reserved(Option<Box<Vec<(RequestId, u64)>>>);

impl Reserved {
    fn list(&self) -> &[(RequestId, u64)] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }

    /// How many there are.
    pub(super) fn len(&self) -> usize {
        self.list().len()
    }

    /// Whether request `id` has one.
    pub(super) fn has_id(&self, id: &RequestId) -> bool {
        self.list().iter().any(|(r, _)| r == id)
    }

    /// Whether stream `sid` is one.
    pub(super) fn has_sid(&self, sid: u64) -> bool {
        self.list().iter().any(|&(_, r)| r == sid)
    }

    /// Reserves stream `sid` for request `id`.
    pub(super) fn push(&mut self, id: RequestId, sid: u64) {
        self.0.get_or_insert_default().push((id, sid));
    }

    /// Takes request `id`'s out, with its stream number.
    pub(super) fn take_id(&mut self, id: &RequestId) -> Option<(RequestId, u64)> {
        let list = self.0.as_mut()?;
        let at = list.iter().position(|(r, _)| r == id)?;
        Some(list.swap_remove(at))
    }

    /// Takes stream `sid` out, with its request's id.
    pub(super) fn take_sid(&mut self, sid: u64) -> Option<RequestId> {
        let list = self.0.as_mut()?;
        let at = list.iter().position(|&(_, r)| r == sid)?;
        Some(list.swap_remove(at).0)
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
