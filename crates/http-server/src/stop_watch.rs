//! A connection's watch for the server's stop, polled only when the stop may have come (PF-102).
//!
//! A connection's task is polled at least twice a request; `tokio::select!` polled its wait for
//! the stop each time (tokio's budget, the `Notified` future, the watch's lock-free checks):
//! code and data lines of every request, on cold caches at c = 1. The wait is polled once, which
//! registers the task's waker with the watch; after that only when the watch's version moved
//! (or its sender is gone), which a load of one atomic tells.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::watch;

/// `wait`, polled the first time and then only when `probe` (a receiver of the same watch) sees
/// a change: the task is woken by the watch's notification, for which the first poll registered
/// its waker.
pub(crate) struct StopWatch<F> {
    probe: watch::Receiver<bool>,
    wait: F,
    polled: bool,
}

impl<F> StopWatch<F> {
    /// Watches `wait`, a wait on the same watch as `probe`'s.
    pub(crate) fn new(probe: watch::Receiver<bool>, wait: F) -> Self {
        StopWatch {
            probe,
            wait,
            polled: false,
        }
    }
}

impl<F: Future + Unpin> Future for StopWatch<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        // A closed watch counts as a change: the wait then ends as it did when always polled.
        if this.polled && !this.probe.has_changed().unwrap_or(true) {
            return Poll::Pending;
        }
        this.polled = true;
        Pin::new(&mut this.wait).poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts its polls; ready once the watch says stop.
    struct Counted<'a> {
        stop: &'a watch::Receiver<bool>,
        polls: &'a AtomicUsize,
    }

    impl Future for Counted<'_> {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            self.polls.fetch_add(1, Ordering::Relaxed);
            match *self.stop.borrow() {
                true => Poll::Ready(()),
                false => Poll::Pending,
            }
        }
    }

    /// Polls a watched wait `before` times, then sends the stop (or drops the sender) and polls
    /// once more: whether that poll was ready, and how often the wait itself was polled.
    fn watched(before: usize, send: bool) -> (bool, usize) {
        let (tx, rx) = watch::channel(false);
        let polls = AtomicUsize::new(0);
        let counted = Counted {
            stop: &rx,
            polls: &polls,
        };
        let mut watch = StopWatch::new(rx.clone(), counted);
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..before {
            assert!(Pin::new(&mut watch).poll(&mut cx).is_pending());
        }
        match send {
            true => assert!(tx.send(true).is_ok()),
            false => drop(tx),
        }
        let ready = Pin::new(&mut watch).poll(&mut cx).is_ready();
        (ready, polls.load(Ordering::Relaxed))
    }

    #[test]
    fn the_wait_is_polled_once_then_only_after_a_change() {
        assert_eq!(watched(5, true), (true, 2));
    }

    #[test]
    fn a_closed_watch_polls_the_wait() {
        assert_eq!(watched(1, false), (false, 2));
    }

    #[tokio::test]
    async fn the_real_wait_wakes_the_task_and_ends() {
        let (tx, mut rx) = watch::channel(false);
        let probe = rx.clone();
        let task = tokio::spawn(async move {
            let wait = std::pin::pin!(super::super::serve::stopped(&mut rx));
            StopWatch::new(probe, wait).await;
        });
        tokio::task::yield_now().await;
        let _ = tx.send(true);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
        assert!(matches!(ended, Ok(Ok(()))));
    }
}
