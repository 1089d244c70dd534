//! The timer hyper's header timeout runs on, for one HTTP/1 connection (RL-1), kept off the
//! path of a quick request (PF-1).
//!
//! hyper makes a new sleep for every request head it waits for (and drops it when the head
//! came): with tokio's own timer that is an allocation and an entry put into and taken out of
//! the timer wheel per request, about 1.5k instructions. Here every sleep of a connection shares
//! one tokio sleep, made at the first head the connection waits for and moved only when it
//! fires before the deadline of the sleep waiting then. A request costs a small box and a
//! comparison; the wheel sees the connection about once per timeout. The deadlines are hyper's
//! own, so a head that does not arrive in time ends the connection exactly when it did before.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// The sleep a connection's header timeouts share (none until the first is polled), and the
/// waker it last had: a wait polled again by the same task, before the sleep fired, need not
/// poll it.
type Shared = Arc<Mutex<(Option<Pin<Box<Sleep>>>, Option<Waker>)>>;

/// hyper's [`Timer`](hyper::rt::Timer) for one HTTP/1 connection's header timeout.
#[derive(Clone, Default)]
pub(crate) struct HeadTimer {
    shared: Shared,
}

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let now = Instant::now();
        let deadline = now
            .checked_add(duration)
            .unwrap_or(now + crate::serve::FOREVER);
        self.sleep_until(deadline.into_std())
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HeadSleep {
            deadline: Instant::from_std(deadline),
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
        let mut shared = self
            .shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (sleep, waker) = &mut *shared;
        let sleep = sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.deadline() > deadline {
            sleep.as_mut().reset(deadline);
        } else if !sleep.is_elapsed() && waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
        // At most twice: a shared sleep that fired for an earlier wait is moved to this one's
        // deadline, which is then still ahead (or it is ready at once).
        for _ in 0..2 {
            match sleep.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) if sleep.deadline() >= deadline => return Poll::Ready(()),
                Poll::Ready(()) => sleep.as_mut().reset(deadline),
            }
        }
        sleep.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer;

    #[tokio::test(start_paused = true)]
    async fn each_sleep_ends_at_its_own_deadline_though_they_share_one() {
        let timer = HeadTimer::default();
        let start = Instant::now();
        // A first wait that ends early (its head came): the shared sleep stays at its deadline.
        let mut first = timer.sleep(Duration::from_secs(1));
        assert!(futures::poll!(first.as_mut()).is_pending());
        drop(first);
        tokio::time::advance(Duration::from_millis(600)).await;
        // A later wait: ready one second after it began, not when the shared sleep first fires.
        let second = timer.sleep(Duration::from_secs(1));
        second.await;
        assert_eq!(start.elapsed(), Duration::from_millis(1600));
        // A shorter one after a longer one still ends at its own deadline.
        let mut long = timer.sleep(Duration::from_secs(10));
        assert!(futures::poll!(long.as_mut()).is_pending());
        drop(long);
        let began = Instant::now();
        timer.sleep(Duration::from_millis(300)).await;
        assert_eq!(began.elapsed(), Duration::from_millis(300));
    }
}
