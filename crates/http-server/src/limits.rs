//! Limits on what one request may cost while it runs: the size of its body and the time to
//! read it (RL-3, RL-4), and the requests in progress, in all (RL-6) and per session (RL-7).
//! The limits on connections are in [`crate::serve`].

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::Body;
use http_body_util::{BodyExt, Limited};
use mcp_http_core::CountedPlace;
use mcp_http_proto::RequestId;
use tokio::sync::futures::OwnedNotified;
use tokio::sync::{Notify, Semaphore};

use crate::rejection::Rejection;

/// The most permits a tokio semaphore holds.
pub(crate) fn permits(max: usize) -> usize {
    max.clamp(1, Semaphore::MAX_PERMITS)
}

/// The server-wide limit on POSTs in progress (RL-6): a counter of the places taken, where a
/// semaphore's lock and waiter list were paid on every request though only the tower
/// `Service`'s `poll_ready` ever waits (PF-84). A place given back wakes a waiter, if any.
pub(crate) struct InFlight {
    taken: AtomicUsize,
    max: usize,
    /// How many `poll_ready`s wait for a place (registered before they look again).
    waiting: AtomicUsize,
    freed: Arc<Notify>,
}

impl InFlight {
    /// A limit of `max` places (at least one, as many as a semaphore would hold).
    pub(crate) fn new(max: usize) -> InFlight {
        InFlight {
            taken: AtomicUsize::new(0),
            max: permits(max),
            waiting: AtomicUsize::new(0),
            freed: Arc::new(Notify::new()),
        }
    }

    /// A place, or `None` when all are taken.
    #[inline]
    pub(crate) fn try_take(self: &Arc<Self>) -> Option<CountedPlace> {
        CountedPlace::take_in(self, self.max)
    }

    /// How many places are taken.
    pub(crate) fn taken(&self) -> usize {
        self.taken.load(Ordering::Acquire)
    }

    /// Ready with a place once one is free; `wait` keeps the registration between polls (the
    /// tower `Service`'s backpressure, RL-6).
    pub(crate) fn poll_take(
        self: &Arc<Self>,
        wait: &mut Option<Waiter>,
        cx: &mut Context<'_>,
    ) -> Poll<CountedPlace> {
        loop {
            if let Some(place) = self.try_take() {
                *wait = None;
                return Poll::Ready(place);
            }
            match wait {
                // Registered before looking again: a place given back after that look wakes it.
                None => *wait = Some(Waiter::new(self)),
                Some(waiter) => match waiter.notified.as_mut().poll(cx) {
                    Poll::Ready(()) => waiter.renew(),
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }
}

impl mcp_http_core::Counts for InFlight {
    fn counter(&self) -> &AtomicUsize {
        &self.taken
    }

    fn give_back(&self) {
        // SeqCst with the waiter's count and its look (`poll_take`): either it sees this place
        // free, or this sees it waiting and wakes it.
        self.taken.fetch_sub(1, Ordering::SeqCst);
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.freed.notify_one();
        }
    }
}

/// A `poll_ready` registered to be woken when a place is given back.
pub(crate) struct Waiter {
    notified: Pin<Box<OwnedNotified>>,
    in_flight: Arc<InFlight>,
}

impl Waiter {
    fn new(in_flight: &Arc<InFlight>) -> Waiter {
        in_flight.waiting.fetch_add(1, Ordering::SeqCst);
        Waiter {
            notified: registered(&in_flight.freed),
            in_flight: in_flight.clone(),
        }
    }

    /// Registered again after a wake-up (a notification is used once).
    fn renew(&mut self) {
        self.notified = registered(&self.in_flight.freed);
    }
}

/// A wait for `freed`, registered now, ordered before the look at the counter that follows.
fn registered(freed: &Arc<Notify>) -> Pin<Box<OwnedNotified>> {
    let mut notified = Box::pin(freed.clone().notified_owned());
    notified.as_mut().enable();
    std::sync::atomic::fence(Ordering::SeqCst);
    notified
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.in_flight.waiting.fetch_sub(1, Ordering::SeqCst);
    }
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
        // A body still coming (rare for a small request): its timer boxed, so that it does not
        // size the future of every request (PF-33).
        Poll::Pending => match Box::pin(tokio::time::timeout(timeout, collect)).await {
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

/// A request's place among its session's requests in progress (RL-7), or 429 when `max` are
/// taken. Its handler's context holds it (with the server-wide permit, RL-6) until the handler
/// is done, so a request whose client went away still counts while it runs (T-19).
pub(crate) fn session_place<C: mcp_http_core::Counts>(
    counter: &Arc<C>,
    max: usize,
    id: &RequestId,
) -> Result<CountedPlace, Rejection> {
    CountedPlace::take_in(counter, max).ok_or_else(|| Rejection::SessionBusy(id.clone()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_session_place_is_refused_with_429_when_all_are_taken() {
        let counter = Arc::new(AtomicUsize::new(0));
        let id = RequestId::Number(1);
        let first = session_place(&counter, 2, &id).unwrap();
        let _second = session_place(&counter, 2, &id).unwrap();
        assert!(matches!(
            session_place(&counter, 2, &id),
            Err(Rejection::SessionBusy(_))
        ));
        drop(first);
        assert_eq!(counter.load(Ordering::Acquire), 1);
        assert!(session_place(&counter, 2, &id).is_ok());
    }
}
