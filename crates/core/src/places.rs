//! A request's places among the limits on requests in progress, which a transport takes before
//! the request runs (over HTTP: the server-wide permit, RL-6, and the session's place, RL-7).
//!
//! The request's [`RequestContext`](crate::RequestContext) holds them until the handler is done
//! with it (and a context that outlives the request, [`RequestContext::outliving`](crate::RequestContext::outliving),
//! until it is gone too), so a request whose client went away still counts while it runs. They
//! live in the context itself, not in the request's extensions: a request that answers in its
//! first poll then costs no allocation for them (PF-2).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::OwnedSemaphorePermit;

/// What a request holds while it runs; given back when dropped. Empty by default (stdio, a
/// message with no limit to count against).
#[derive(Default)]
pub struct Places {
    _permit: Option<CountedPlace>,
    _counted: Option<CountedPlace>,
    shared: Option<Arc<dyn Send + Sync>>,
}

impl Places {
    /// Also holds `permit` (a place in a semaphore's limit). Held as a share, as
    /// [`Places::with_shared`] holds one (an allocation): the permit's own place is
    /// [`Places::with_permit_place`]'s, so that places the transports take keep its size (PF-84).
    pub fn with_permit(mut self, permit: OwnedSemaphorePermit) -> Self {
        self.shared = Some(match self.shared.take() {
            None => Arc::new(permit),
            Some(shared) => Arc::new((shared, permit)),
        });
        self
    }

    /// Also holds `place` as the request's permit: a place in a limit kept as a counter
    /// rather than a semaphore (a server-wide one, PF-84), held beside a [`Places::with_counted`]
    /// place.
    pub fn with_permit_place(mut self, place: CountedPlace) -> Self {
        self._permit = Some(place);
        self
    }

    /// Also holds `place` (a place in a counted limit).
    pub fn with_counted(mut self, place: CountedPlace) -> Self {
        self._counted = Some(place);
        self
    }

    /// Also holds a share of `shared`: places that several requests hold together (the items of
    /// a batch share their POST's permit), given back when the last share goes. A share held
    /// already (a [`Places::with_permit`]) is held too.
    pub fn with_shared(mut self, shared: Arc<dyn Send + Sync>) -> Self {
        self.shared = Some(match self.shared.take() {
            None => shared,
            Some(held) => Arc::new((held, shared)),
        });
        self
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self._permit.is_none() && self._counted.is_none() && self.shared.is_none()
    }
}

/// What keeps the counter of a counted limit: the counter on its own, or something shared
/// that has it inline (a session's router keeps its session's count, so an idle session pays
/// no allocation for it, PF-36).
pub trait Counts: Send + Sync + 'static {
    /// The counter of the places taken.
    fn counter(&self) -> &AtomicUsize;

    /// Gives one place back: the counter goes down. A limit that someone may wait on also
    /// wakes a waiter here (PF-84).
    fn give_back(&self) {
        self.counter().fetch_sub(1, Ordering::AcqRel);
    }
}

impl Counts for AtomicUsize {
    fn counter(&self) -> &AtomicUsize {
        self
    }
}

/// One place in a limit kept as a counter of the places taken: the counter goes down when the
/// place is dropped.
pub struct CountedPlace {
    owner: Arc<dyn Counts>,
}

impl CountedPlace {
    /// Takes one of `counter`'s `max` places, or `None` when all are taken.
    pub fn take(counter: &Arc<AtomicUsize>, max: usize) -> Option<CountedPlace> {
        Self::take_in(counter, max)
    }

    /// Takes one of the `max` places that `owner` counts, or `None` when all are taken; the
    /// place holds a share of `owner` (PF-36).
    pub fn take_in<C: Counts>(owner: &Arc<C>, max: usize) -> Option<CountedPlace> {
        owner
            .counter()
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        Some(CountedPlace {
            owner: owner.clone(),
        })
    }
}

impl Drop for CountedPlace {
    fn drop(&mut self) {
        self.owner.give_back();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_counted_place_is_given_back_when_dropped() {
        let counter = Arc::new(AtomicUsize::new(0));
        let first = CountedPlace::take(&counter, 2).unwrap();
        let shared: Arc<dyn Send + Sync> = Arc::new(CountedPlace::take(&counter, 2).unwrap());
        assert!(CountedPlace::take(&counter, 2).is_none());
        let held = Places::default().with_shared(shared.clone());
        drop(first);
        assert_eq!(counter.load(Ordering::Acquire), 1);
        drop(shared);
        assert_eq!(counter.load(Ordering::Acquire), 1, "a share still holds it");
        assert!(!held.is_empty());
        drop(held);
        assert_eq!(counter.load(Ordering::Acquire), 0);
        assert!(CountedPlace::take(&counter, 2).is_some());
    }

    /// PF-84: a semaphore's permit is held as a share, beside another share, until the places
    /// go; a counted permit place beside a counted place.
    #[test]
    fn a_semaphore_permit_and_a_permit_place_are_held_until_the_places_go() {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(1));
        let permit = semaphore.clone().try_acquire_owned().unwrap();
        let counter = Arc::new(AtomicUsize::new(0));
        let shared: Arc<dyn Send + Sync> = Arc::new(CountedPlace::take(&counter, 3).unwrap());
        let places = Places::default()
            .with_permit(permit)
            .with_shared(shared)
            .with_permit_place(CountedPlace::take(&counter, 3).unwrap())
            .with_counted(CountedPlace::take(&counter, 3).unwrap());
        assert_eq!(semaphore.available_permits(), 0);
        assert_eq!(counter.load(Ordering::Acquire), 3);
        assert!(!places.is_empty());
        drop(places);
        assert_eq!(semaphore.available_permits(), 1);
        assert_eq!(counter.load(Ordering::Acquire), 0);
    }

    /// A counter kept inside something shared, as a session's router keeps its count.
    struct Owner {
        in_flight: AtomicUsize,
    }

    impl Counts for Owner {
        fn counter(&self) -> &AtomicUsize {
            &self.in_flight
        }
    }

    #[test]
    fn a_counter_kept_inline_counts_as_one_of_its_own() {
        let owner = Arc::new(Owner {
            in_flight: AtomicUsize::new(0),
        });
        let first = CountedPlace::take_in(&owner, 2).unwrap();
        let second = Places::default().with_counted(CountedPlace::take_in(&owner, 2).unwrap());
        assert!(CountedPlace::take_in(&owner, 2).is_none());
        assert_eq!(Arc::strong_count(&owner), 3, "each place holds a share");
        drop(first);
        assert_eq!(owner.in_flight.load(Ordering::Acquire), 1);
        drop(second);
        assert_eq!(owner.in_flight.load(Ordering::Acquire), 0);
        assert_eq!(Arc::strong_count(&owner), 1);
    }
}

#[cfg(test)]
mod context_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::context::{Extensions, RequestContext};
    use crate::peer::{Handler, Peer, PeerConfig};
    use futures::future::BoxFuture;
    use mcp_http_proto::jsonrpc::Request;
    use mcp_http_proto::{ErrorObject, RequestId};
    use serde_json::value::RawValue;
    use tokio_util::sync::CancellationToken;

    struct Nothing;

    impl Handler for Nothing {
        fn handle_request(
            &self,
            request: Request,
            _ctx: RequestContext,
        ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
            let error = ErrorObject::method_not_found(&request.method);
            Box::pin(async move { Err(error) })
        }
    }

    #[tokio::test]
    async fn a_context_outliving_its_request_keeps_the_requests_places() {
        let (a, _b) = crate::memory::pair();
        let peer = Peer::connect(a, std::sync::Arc::new(Nothing), PeerConfig::default());
        let counter = Arc::new(AtomicUsize::new(0));
        let places = Places::default().with_counted(CountedPlace::take(&counter, 1).unwrap());
        let ctx = RequestContext::new(
            peer,
            RequestId::Number(1),
            None,
            None,
            (Extensions::new(), None),
            places,
        );
        let task = ctx.outliving(CancellationToken::new(), Extensions::new());
        drop(ctx);
        assert_eq!(
            counter.load(Ordering::Acquire),
            1,
            "the task still holds it"
        );
        assert!(CountedPlace::take(&counter, 1).is_none());
        drop(task);
        assert_eq!(counter.load(Ordering::Acquire), 0);
    }
}
