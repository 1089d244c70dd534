//! The timer hyper's HTTP/1 header timeout runs on, for one connection (RL-1), kept off the
//! path of a quick request (PF-1) and off the runtime's timer (PF-114).
//!
//! hyper makes a new sleep for every request head it waits for (and drops it when the head
//! came): with tokio's own timer that is an allocation and an entry put into and taken out of
//! the timer wheel per request, about 1.5k instructions, and a kept-alive connection always has
//! one pending. Here every sleep of a connection shares one `coarse_timer` sleep, made at the
//! first head the connection waits for and moved only when it fires before the deadline of the
//! wait then. A request costs a small box and a comparison; the timer thread sees the
//! connection about once per timeout. The deadlines are hyper's own, so a head that does not
//! arrive in time ends the connection when it did before.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::coarse_timer::Sleep;

/// The sleep a connection's header timeouts share (none until the first is polled).
type Shared = Arc<Mutex<Option<Sleep>>>;

/// hyper's [`Timer`](hyper::rt::Timer) for one HTTP/1 connection's header timeout.
#[derive(Clone, Default)]
pub(crate) struct HeadTimer {
    shared: Shared,
}

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(crate::coarse_timer::deadline_after(duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HeadSleep {
            deadline,
            shared: self.shared.clone(),
        })
    }
}

/// One wait for a head: ready at its deadline.
struct HeadSleep {
    deadline: Instant,
    shared: Shared,
}

impl hyper::rt::Sleep for HeadSleep {}

impl Future for HeadSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        let sleep = shared.get_or_insert_with(|| Sleep::until(deadline));
        if sleep.deadline() > deadline {
            sleep.reset(deadline);
        }
        // The shared sleep ends no later than this wait. Ready at this wait's own deadline: a
        // sleep that fired for an earlier wait is moved to this one's, still ahead or ready.
        if Pin::new(&mut *sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        if sleep.deadline() >= deadline {
            return Poll::Ready(());
        }
        sleep.reset(deadline);
        Pin::new(sleep).poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coarse_timer::tests::SLACK;
    use hyper::rt::Timer;

    #[tokio::test]
    async fn each_sleep_ends_at_its_own_deadline_though_they_share_one() {
        let timer = HeadTimer::default();
        let start = Instant::now();
        // A first wait that ends early (its head came): the shared sleep stays at its deadline.
        let mut first = timer.sleep(Duration::from_millis(400));
        assert!(futures::poll!(first.as_mut()).is_pending());
        drop(first);
        tokio::time::sleep(Duration::from_millis(250)).await;
        // A later wait: ready 400 ms after it began, not when the shared sleep first fires.
        let began = Instant::now();
        timer.sleep(Duration::from_millis(400)).await;
        let took = began.elapsed();
        assert!(took >= Duration::from_millis(400), "{took:?}");
        assert!(took < Duration::from_millis(400) + SLACK, "{took:?}");
        assert!(start.elapsed() >= Duration::from_millis(650));
        // A shorter one after a longer one still ends at its own deadline.
        let mut long = timer.sleep(Duration::from_secs(10));
        assert!(futures::poll!(long.as_mut()).is_pending());
        drop(long);
        let began = Instant::now();
        timer.sleep(Duration::from_millis(300)).await;
        let took = began.elapsed();
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_millis(300) + SLACK, "{took:?}");
    }
}
