//! Sleeps for far-off deadlines that need not be exact to the microsecond (a connection's
//! header timeout, the idle-session reaper's period), watched by one thread of their own
//! rather than by the runtime's timer (PF-114).
//!
//! While any tokio sleep is pending, each time a runtime worker parks it waits in `epoll_wait`
//! with a timeout, which the kernel arms and cancels as a timer, and reads tokio's timer wheel
//! before and after: about a microsecond a call on a server that idles between calls (c = 1),
//! where a kept-alive connection's header timeout is always pending. Here such deadlines wait
//! in one ordered map, and a thread (started with the first sleep) sleeps until the earliest
//! and wakes the tasks whose deadline has passed; the workers park with no timeout. Putting a
//! deadline in the map takes a lock, so callers do it rarely: a connection's header timeouts
//! share one sleep (`head_timer`). A sleep ends as soon as the thread is scheduled after its
//! deadline; this clock does not follow tokio's paused time.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A deadline's place in the map: equal deadlines told apart by a counter.
type Key = (Instant, u64);

/// The deadlines waited for, and the thread's wake-up call.
struct Watch {
    due: Mutex<Due>,
    earlier: Condvar,
}

#[derive(Default)]
struct Due {
    wakers: BTreeMap<Key, Waker>,
    next: u64,
}

/// The process's watch, its thread started on first use; `None` if the thread could not be
/// started (the sleeps then fall back to tokio's timer).
fn watch() -> Option<&'static Watch> {
    static WATCH: OnceLock<Option<&'static Watch>> = OnceLock::new();
    *WATCH.get_or_init(|| {
        let watch: &'static Watch = Box::leak(Box::new(Watch {
            due: Mutex::new(Due::default()),
            earlier: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("mcp-http-timer".into())
            .spawn(move || watch.run())
            .ok()
            .map(|_| watch)
    })
}

impl Watch {
    fn lock(&self) -> MutexGuard<'_, Due> {
        self.due.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The thread: wakes each task whose deadline has passed, then sleeps until the next.
    fn run(&self) {
        let mut due = self.lock();
        loop {
            let now = Instant::now();
            let mut woken = Vec::new();
            while let Some(entry) = due.wakers.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                woken.push(entry.remove());
            }
            if !woken.is_empty() {
                // Woken outside the lock: a task may run (and register again) at once.
                drop(due);
                woken.into_iter().for_each(Waker::wake);
                due = self.lock();
                continue;
            }
            due = match due.wakers.keys().next() {
                Some(&(deadline, _)) => {
                    self.earlier
                        .wait_timeout(due, deadline.saturating_duration_since(now))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .earlier
                    .wait(due)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
    }

    fn insert(&self, deadline: Instant, waker: Waker) -> Key {
        let mut due = self.lock();
        let key = (deadline, due.next);
        due.next = due.next.wrapping_add(1);
        let first = due.wakers.keys().next().is_none_or(|k| key < *k);
        due.wakers.insert(key, waker);
        drop(due);
        if first {
            self.earlier.notify_one();
        }
        key
    }

    fn remove(&self, key: Key) {
        // The thread may have taken it already (it fired); no need to wake the thread either
        // way: at worst it wakes once for nothing.
        self.lock().wakers.remove(&key);
    }
}

/// A future ready at its deadline, watched by the timer thread.
pub(crate) struct Sleep {
    deadline: Instant,
    /// Where it waits in the watch's map, with the waker it was put there with.
    waiting: Option<(Key, Waker)>,
    /// tokio's sleep, if the watch's thread could not be started.
    fallback: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// A sleep ready once `duration` has passed.
pub(crate) fn sleep(duration: Duration) -> Sleep {
    Sleep::until(deadline_after(duration))
}

/// The instant `duration` from now; a year from now for a duration past what `Instant` holds.
pub(crate) fn deadline_after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .unwrap_or(now + crate::serve::FOREVER)
}

impl Sleep {
    /// A sleep ready at `deadline`.
    pub(crate) fn until(deadline: Instant) -> Self {
        Sleep {
            deadline,
            waiting: None,
            fallback: None,
        }
    }

    /// When it is ready.
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Ready at `deadline` instead.
    pub(crate) fn reset(&mut self, deadline: Instant) {
        self.stop_waiting();
        self.deadline = deadline;
        if let Some(fallback) = self.fallback.as_mut() {
            fallback.as_mut().reset(deadline.into());
        }
    }

    fn stop_waiting(&mut self) {
        if let (Some((key, _)), Some(watch)) = (self.waiting.take(), watch()) {
            watch.remove(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            this.stop_waiting();
            return Poll::Ready(());
        }
        // Polled again by the task that already waits: nothing to do (no lock).
        if this
            .waiting
            .as_ref()
            .is_some_and(|(_, w)| w.will_wake(cx.waker()))
        {
            return Poll::Pending;
        }
        this.stop_waiting();
        let Some(watch) = watch() else {
            let deadline = this.deadline;
            let fallback = this
                .fallback
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline.into())));
            return fallback.as_mut().poll(cx);
        };
        let key = watch.insert(this.deadline, cx.waker().clone());
        this.waiting = Some((key, cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.stop_waiting();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// How late the timer thread may be scheduled on a loaded test machine. The wrong answers
    /// the timer's tests (here and in `head_timer`) tell apart are early ends (at a shared
    /// sleep's first deadline), or ends 10 s and more late.
    pub(crate) const SLACK: Duration = Duration::from_secs(1);

    #[tokio::test]
    async fn a_sleep_ends_at_its_deadline() {
        let start = Instant::now();
        sleep(Duration::from_millis(200)).await;
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(200), "{took:?}");
        assert!(took < Duration::from_millis(200) + SLACK, "{took:?}");
    }

    #[tokio::test]
    async fn an_earlier_deadline_put_after_a_later_one_is_not_kept_waiting() {
        let mut late = sleep(Duration::from_secs(30));
        assert!(futures::poll!(&mut late).is_pending());
        let start = Instant::now();
        sleep(Duration::from_millis(100)).await;
        assert!(start.elapsed() < Duration::from_millis(100) + SLACK);
        assert!(futures::poll!(&mut late).is_pending());
    }

    /// The number of sleeps waiting in the map with a deadline in `range`: tests run at once
    /// in one process, so each counts its own deadlines only.
    fn waiting_between(range: std::ops::Range<Instant>) -> usize {
        let watch = watch().expect("the timer thread starts");
        let due = watch.lock();
        due.wakers.keys().filter(|k| range.contains(&k.0)).count()
    }

    #[tokio::test]
    async fn dropped_or_moved_sleeps_leave_the_map() {
        // Deadlines no other test uses.
        let mark = Instant::now() + Duration::from_secs(3600);
        let mine = mark..mark + Duration::from_secs(60);
        let mut a = Sleep::until(mark);
        let mut b = Sleep::until(mark + Duration::from_secs(1));
        assert!(futures::poll!(&mut a).is_pending());
        assert!(futures::poll!(&mut b).is_pending());
        // Polled again by the same task: still one entry each.
        assert!(futures::poll!(&mut a).is_pending());
        assert_eq!(waiting_between(mine.clone()), 2);
        drop(a);
        assert_eq!(waiting_between(mine.clone()), 1);
        b.reset(Instant::now() + Duration::from_millis(50));
        assert_eq!(waiting_between(mine), 0);
        b.await;
    }

    #[tokio::test]
    async fn many_sleeps_each_end_after_their_deadline_and_leave_the_map() {
        let start = Instant::now();
        // 200 deadlines from 100 to 300 ms, put in out of order, some equal; each 777 ns past
        // its millisecond, which tells them from other tests' in the map.
        let mark = Duration::from_nanos(777);
        let ends = futures::future::join_all((0..200u64).map(|i| async move {
            let ms = 100 + (i * 37) % 201;
            Sleep::until(start + Duration::from_millis(ms) + mark).await;
            (ms, start.elapsed())
        }))
        .await;
        for (ms, took) in ends {
            assert!(took >= Duration::from_millis(ms), "{ms}: {took:?}");
            assert!(took < Duration::from_millis(ms) + SLACK, "{ms}: {took:?}");
        }
        let watch = watch().expect("the timer thread starts");
        let left = watch
            .lock()
            .wakers
            .keys()
            .filter(|k| k.0 > start && (k.0 - start).subsec_nanos() % 1_000_000 == 777)
            .count();
        assert_eq!(left, 0);
    }
}
