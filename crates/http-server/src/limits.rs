//! Limits on what one request may cost while it runs: the size of its body and the time to
//! read it (RL-3, RL-4), and the requests in progress, in all (RL-6) and per session (RL-7).
//! The limits on connections are in [`crate::serve`].

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http_body::Body;
use http_body_util::{BodyExt, Limited};
use mcp_http_core::Extensions;
use mcp_http_proto::RequestId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::rejection::Rejection;

/// The most permits a tokio semaphore holds.
pub(crate) fn permits(max: usize) -> usize {
    max.clamp(1, Semaphore::MAX_PERMITS)
}

/// Reads a whole body of at most `max` bytes within `timeout`. The timer is armed only for a
/// body that is not all there at once (most are), so a quick POST never touches it.
pub(crate) async fn read_body<B>(body: B, max: usize, timeout: Duration) -> Result<Bytes, Rejection>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    // A declared length over the limit is refused before a byte of the body is read.
    if body.size_hint().lower() > max as u64 {
        return Err(Rejection::PayloadTooLarge);
    }
    let mut collect = std::pin::pin!(Limited::new(body, max).collect());
    let collected = match futures::poll!(collect.as_mut()) {
        Poll::Ready(collected) => collected,
        Poll::Pending => match tokio::time::timeout(timeout, collect).await {
            Ok(collected) => collected,
            Err(_) => return Err(Rejection::BodyTimeout),
        },
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(Rejection::PayloadTooLarge)
        }
        Err(_) => Err(Rejection::BodyUnreadable),
    }
}

/// One request's places in the limits on requests in progress, kept in its extensions: the
/// handler's context holds them until the handler is done, so a request whose client went away
/// still counts while it runs (T-19), and a peer cannot get around the limits by disconnecting.
#[derive(Clone)]
pub(crate) struct InFlight {
    _permit: Arc<OwnedSemaphorePermit>,
}

impl InFlight {
    /// Puts the server-wide permit into a request's extensions.
    pub(crate) fn hold(extensions: &mut Extensions, permit: OwnedSemaphorePermit) {
        extensions.insert(InFlight {
            _permit: Arc::new(permit),
        });
    }
}

/// A request's place among its session's requests in progress (RL-7).
#[derive(Clone)]
pub(crate) struct SessionSlot {
    _slot: Arc<Slot>,
}

struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl SessionSlot {
    /// Takes one of the session's `max` places for the request `id`, or refuses it with 429.
    pub(crate) fn take(
        counter: &Arc<AtomicUsize>,
        max: usize,
        id: &RequestId,
    ) -> Result<SessionSlot, Rejection> {
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|_| Rejection::SessionBusy(id.clone()))?;
        Ok(SessionSlot {
            _slot: Arc::new(Slot(counter.clone())),
        })
    }

    /// Puts the place into a request's extensions, where its handler holds it.
    pub(crate) fn hold(self, extensions: &mut Extensions) {
        extensions.insert(self);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_session_slot_is_given_back_when_the_last_copy_goes() {
        let counter = Arc::new(AtomicUsize::new(0));
        let id = RequestId::Number(1);
        let first = SessionSlot::take(&counter, 2, &id).unwrap();
        let copy = first.clone();
        let _second = SessionSlot::take(&counter, 2, &id).unwrap();
        assert!(matches!(
            SessionSlot::take(&counter, 2, &id),
            Err(Rejection::SessionBusy(_))
        ));
        drop(first);
        assert_eq!(counter.load(Ordering::Acquire), 2, "a copy still holds it");
        drop(copy);
        assert_eq!(counter.load(Ordering::Acquire), 1);
        assert!(SessionSlot::take(&counter, 2, &id).is_ok());
    }
}
