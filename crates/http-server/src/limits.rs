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
    let mut body = std::pin::pin!(body);
    let mut gathered = Gathered::new(max);
    let mut collect = std::pin::pin!(std::future::poll_fn(|cx| gathered.poll(body.as_mut(), cx)));
    match futures::poll!(collect.as_mut()) {
        Poll::Ready(collected) => collected,
        // A body still coming (rare for a small request): its timer boxed, so that it does not
        // size the future of every request (PF-33).
        Poll::Pending => match Box::pin(tokio::time::timeout(timeout, collect)).await {
            Ok(collected) => collected,
            Err(_) => Err(Rejection::BodyTimeout),
        },
    }
}

/// A body's data frames as they come, within a limit: what `Limited::new(body, max).collect()`
/// then `to_bytes()` gave, without the list of frames it allocated for every body, though
/// nearly every one comes in one frame (PF-84). One frame is kept as it is; more are copied
/// into one buffer, in order. Trailers are dropped, as `to_bytes` dropped them.
struct Gathered {
    /// What the body may still send.
    left: usize,
    /// The first non-empty frame.
    first: Option<Bytes>,
    /// The frames after it, with a copy of it, once there is a second.
    more: Option<bytes::BytesMut>,
}

impl Gathered {
    fn new(max: usize) -> Gathered {
        Gathered {
            left: max,
            first: None,
            more: None,
        }
    }

    /// Polls `body` to its end: its data, or the refusal `Limited` and `collect` led to.
    fn poll<B>(
        &mut self,
        mut body: Pin<&mut B>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Bytes, Rejection>>
    where
        B: Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        loop {
            let data = match body.as_mut().poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(self.take())),
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => data,
                    Err(_) => continue,
                },
                // `Limited` boxed the body's error, and an error that was a length limit's
                // itself was refused as too large.
                Poll::Ready(Some(Err(e))) => {
                    let e: Box<dyn std::error::Error + Send + Sync> = e.into();
                    return Poll::Ready(Err(
                        match e.downcast_ref::<http_body_util::LengthLimitError>() {
                            Some(_) => Rejection::PayloadTooLarge,
                            None => Rejection::BodyUnreadable,
                        },
                    ));
                }
            };
            if data.len() > self.left {
                return Poll::Ready(Err(Rejection::PayloadTooLarge));
            }
            self.left -= data.len();
            self.push(data);
        }
    }

    fn push(&mut self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        match (&mut self.first, &mut self.more) {
            (None, _) => self.first = Some(data),
            (Some(first), None) => {
                let mut more = bytes::BytesMut::with_capacity(first.len() + data.len());
                more.extend_from_slice(first);
                more.extend_from_slice(&data);
                self.more = Some(more);
            }
            (Some(_), Some(more)) => more.extend_from_slice(&data),
        }
    }

    /// The whole body.
    fn take(&mut self) -> Bytes {
        match self.more.take() {
            Some(more) => more.freeze(),
            None => self.first.take().unwrap_or_default(),
        }
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

    /// What the body read gave before PF-84: `Limited` and `collect`, its refusals mapped alike.
    async fn read_collected<B>(body: B, max: usize) -> Result<Bytes, Rejection>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        use http_body_util::{BodyExt, Limited};
        if body.size_hint().lower() > max as u64 {
            return Err(Rejection::PayloadTooLarge);
        }
        match Limited::new(body, max).collect().await {
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

    type Frames = Vec<Result<http_body::Frame<Bytes>, std::io::Error>>;

    /// A body of `frames`, each polled after a yield when `slow` (a body still coming).
    fn body_of(
        frames: Frames,
        slow: bool,
    ) -> impl Body<Data = Bytes, Error = std::io::Error> + Send + 'static {
        use futures::StreamExt;
        let stream = futures::stream::iter(frames).then(move |frame| async move {
            if slow {
                tokio::task::yield_now().await;
            }
            frame
        });
        http_body_util::StreamBody::new(stream)
    }

    fn frames(case: usize) -> Frames {
        use http_body::Frame;
        let data = |text: &'static str| Ok(Frame::data(Bytes::from_static(text.as_bytes())));
        let mut trailers = http::HeaderMap::new();
        trailers.insert("x-t", http::HeaderValue::from_static("1"));
        match case {
            0 => vec![],
            1 => vec![data("{\"jsonrpc\":\"2.0\"}")],
            2 => vec![data("{\"a\":"), data(""), data("1"), data("}")],
            3 => vec![data(""), data("[1]"), Ok(Frame::trailers(trailers))],
            4 => vec![data("0123456789"), data("abcdef")],
            5 => vec![data("01234567890123456789")],
            6 => vec![data("01"), Err(std::io::Error::other("gone"))],
            7 => vec![data("0123456789"), data("0123456"), data("x")],
            _ => vec![data("")],
        }
    }

    fn same(a: &Result<Bytes, Rejection>, b: &Result<Bytes, Rejection>) -> bool {
        match (a, b) {
            (Ok(a), Ok(b)) => a == b,
            (Err(a), Err(b)) => std::mem::discriminant(a) == std::mem::discriminant(b),
            _ => false,
        }
    }

    /// PF-84: a body in one frame, in several (empty ones among them), with trailers, over the
    /// limit in one frame or across them, exactly at it, and one that fails, coming at once or
    /// frame by frame: read as `Limited` and `collect` read it, byte for byte and refusal for
    /// refusal.
    #[tokio::test]
    async fn a_body_is_read_as_limited_and_collect_read_it() {
        for case in 0..9 {
            for max in [0, 3, 16, 17, 20, 1024] {
                for slow in [false, true] {
                    let new =
                        read_body(body_of(frames(case), slow), max, Duration::from_secs(5)).await;
                    let old = read_collected(body_of(frames(case), slow), max).await;
                    assert!(same(&new, &old), "{case} {max} {slow}: {new:?} {old:?}");
                }
            }
        }
        let declared = http_body_util::Full::new(Bytes::from_static(b"0123456789"));
        assert!(matches!(
            read_body(declared, 9, Duration::from_secs(5)).await,
            Err(Rejection::PayloadTooLarge)
        ));
    }

    /// A body still coming after its timeout is refused with the timeout's rejection.
    #[tokio::test(start_paused = true)]
    async fn a_body_still_coming_after_the_timeout_is_refused() {
        let stream = futures::stream::pending::<Result<http_body::Frame<Bytes>, std::io::Error>>();
        let body = http_body_util::StreamBody::new(stream);
        assert!(matches!(
            read_body(body, 1024, Duration::from_millis(50)).await,
            Err(Rejection::BodyTimeout)
        ));
    }

    /// PF-84: the counter holds `max` places (at least one), refuses the next, and takes one
    /// again once one is given back.
    #[test]
    fn the_in_flight_limit_holds_its_places_and_gives_them_back() {
        assert_eq!(InFlight::new(0).max, 1);
        assert_eq!(InFlight::new(usize::MAX).max, Semaphore::MAX_PERMITS);
        let limit = Arc::new(InFlight::new(2));
        let first = limit.try_take().unwrap();
        let second = limit.try_take().unwrap();
        assert!(limit.try_take().is_none());
        assert_eq!(limit.taken(), 2);
        drop(first);
        assert_eq!(limit.taken(), 1);
        let third = limit.try_take().unwrap();
        drop((second, third));
        assert_eq!(limit.taken(), 0);
        assert_eq!(limit.waiting.load(Ordering::SeqCst), 0);
    }

    /// What `poll_take` gives, polled once with a waker that counts its wake-ups.
    fn poll_once(
        limit: &Arc<InFlight>,
        wait: &mut Option<Waiter>,
        woken: &Arc<Woken>,
    ) -> Poll<CountedPlace> {
        let waker = std::task::Waker::from(woken.clone());
        limit.poll_take(wait, &mut Context::from_waker(&waker))
    }

    #[derive(Default)]
    struct Woken(AtomicUsize);

    impl std::task::Wake for Woken {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// PF-84, RL-6: `poll_ready`'s wait is pending while every place is taken, woken when one
    /// is given back, and ready with it; each of two waiters gets one of two places given back.
    #[test]
    fn a_waiter_is_woken_when_a_place_is_given_back() {
        let limit = Arc::new(InFlight::new(2));
        let places = (limit.try_take().unwrap(), limit.try_take().unwrap());
        let (woken_a, woken_b) = (Arc::new(Woken::default()), Arc::new(Woken::default()));
        let (mut wait_a, mut wait_b) = (None, None);
        assert!(poll_once(&limit, &mut wait_a, &woken_a).is_pending());
        assert!(poll_once(&limit, &mut wait_b, &woken_b).is_pending());
        assert_eq!(limit.waiting.load(Ordering::SeqCst), 2);
        drop(places.0);
        assert_eq!(
            woken_a.0.load(Ordering::SeqCst),
            1,
            "the first waiter is woken"
        );
        let Poll::Ready(got_a) = poll_once(&limit, &mut wait_a, &woken_a) else {
            panic!("a place was free");
        };
        assert!(wait_a.is_none());
        assert!(poll_once(&limit, &mut wait_b, &woken_b).is_pending());
        // The first waiter's wake-up, unused when it found its place, was passed on: the
        // second may have been woken already; the place given back wakes it again.
        let woken_before = woken_b.0.load(Ordering::SeqCst);
        drop(places.1);
        assert!(
            woken_b.0.load(Ordering::SeqCst) > woken_before,
            "the second waiter is woken"
        );
        let Poll::Ready(got_b) = poll_once(&limit, &mut wait_b, &woken_b) else {
            panic!("a place was free");
        };
        assert_eq!(limit.taken(), 2);
        assert_eq!(limit.waiting.load(Ordering::SeqCst), 0);
        drop((got_a, got_b));
        assert_eq!(limit.taken(), 0);
    }

    /// PF-84: a waiter that goes away (its service dropped) is no longer counted, and a wake-up
    /// it was given goes to the next waiter.
    #[test]
    fn a_waiter_that_goes_away_passes_its_wake_up_on() {
        let limit = Arc::new(InFlight::new(1));
        let place = limit.try_take().unwrap();
        let (woken_a, woken_b) = (Arc::new(Woken::default()), Arc::new(Woken::default()));
        let (mut wait_a, mut wait_b) = (None, None);
        assert!(poll_once(&limit, &mut wait_a, &woken_a).is_pending());
        assert!(poll_once(&limit, &mut wait_b, &woken_b).is_pending());
        drop(place);
        drop(wait_a);
        assert_eq!(limit.waiting.load(Ordering::SeqCst), 1);
        assert_eq!(woken_b.0.load(Ordering::SeqCst), 1);
        assert!(poll_once(&limit, &mut wait_b, &woken_b).is_ready());
        assert_eq!(limit.waiting.load(Ordering::SeqCst), 0);
    }

    /// PF-84: many threads taking and giving back places never hold more than the limit, and a
    /// waiter is always woken in the end (no wake-up lost between its look and a give-back).
    #[test]
    fn the_limit_holds_under_contention_and_no_wake_up_is_lost() {
        let limit = Arc::new(InFlight::new(3));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    let limit = limit.clone();
                    tokio::spawn(async move {
                        let mut wait = None;
                        for _ in 0..500 {
                            let place =
                                std::future::poll_fn(|cx| limit.poll_take(&mut wait, cx)).await;
                            assert!(limit.taken() <= 3);
                            tokio::task::yield_now().await;
                            drop(place);
                        }
                    })
                })
                .collect();
            for task in tasks {
                tokio::time::timeout(Duration::from_secs(30), task)
                    .await
                    .expect("a waiter was never woken")
                    .unwrap();
            }
        });
        assert_eq!(limit.taken(), 0);
        assert_eq!(limit.waiting.load(Ordering::SeqCst), 0);
    }

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
