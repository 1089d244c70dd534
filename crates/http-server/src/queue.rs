//! The queue between a stream's router and its SSE response body: a bounded single-producer,
//! single-consumer queue. tokio's mpsc did this job but allocates a fixed block of slots per
//! channel (about 1 KiB), which every open GET stream held while idle; this one holds an empty
//! `VecDeque` until something is sent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;

#[derive(Debug, Default)]
struct State {
    items: VecDeque<Bytes>,
    /// The sender is gone: the body ends once `items` is drained.
    sender_gone: bool,
    /// The body is gone: sends fail.
    receiver_gone: bool,
    waker: Option<Waker>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        mcp_http_core::sync::lock(&self.state)
    }
}

/// A bounded queue of `capacity` frames.
pub(crate) fn queue(capacity: usize) -> (QueueTx, QueueRx) {
    let shared = Arc::new(Shared::default());
    (
        QueueTx {
            shared: shared.clone(),
            capacity: capacity.max(1),
        },
        QueueRx {
            shared: Some(shared),
        },
    )
}

/// The router's end. Dropping it ends the body (after what was queued).
#[derive(Debug)]
pub(crate) struct QueueTx {
    shared: Arc<Shared>,
    capacity: usize,
}

impl QueueTx {
    /// Queues a frame; `Err` when the body is gone or the queue is full (a slow reader).
    pub(crate) fn try_send(&self, frame: Bytes) -> Result<(), Bytes> {
        let waker = {
            let mut st = self.shared.lock();
            if st.receiver_gone || st.items.len() >= self.capacity {
                return Err(frame);
            }
            st.items.push_back(frame);
            st.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Whether the body is gone (its client disconnected).
    pub(crate) fn receiver_gone(&self) -> bool {
        self.shared.lock().receiver_gone
    }

    /// A view of the queue that does not keep the body open.
    pub(crate) fn probe(&self) -> QueueProbe {
        QueueProbe {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for QueueTx {
    fn drop(&mut self) {
        let waker = {
            let mut st = self.shared.lock();
            st.sender_gone = true;
            st.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Watches a queue without being its sender.
#[derive(Debug)]
pub(crate) struct QueueProbe {
    shared: Arc<Shared>,
}

impl QueueProbe {
    /// Whether everything queued was taken by the body, or the body is gone.
    pub(crate) fn drained_or_gone(&self) -> bool {
        let st = self.shared.lock();
        st.items.is_empty() || st.receiver_gone
    }
}

/// The body's end.
#[derive(Debug)]
pub(crate) struct QueueRx {
    /// `None`: a body whose whole content was known up front (nothing to receive).
    shared: Option<Arc<Shared>>,
}

impl QueueRx {
    /// A receiver with no sender: it yields nothing (and allocates nothing).
    pub(crate) fn closed() -> QueueRx {
        QueueRx { shared: None }
    }

    /// Whether this receiver never had a sender (see [`QueueRx::closed`]).
    pub(crate) fn is_closed(&self) -> bool {
        self.shared.is_none()
    }

    /// The next frame; `None` once the sender is gone and the queue drained.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let Some(shared) = &self.shared else {
            return Poll::Ready(None);
        };
        let mut st = shared.lock();
        if let Some(frame) = st.items.pop_front() {
            return Poll::Ready(Some(frame));
        }
        if st.sender_gone {
            return Poll::Ready(None);
        }
        match &mut st.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// A frame that is ready now, if any.
    pub(crate) fn try_recv(&mut self) -> Option<Bytes> {
        self.shared.as_ref()?.lock().items.pop_front()
    }
}

impl Drop for QueueRx {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            let mut st = shared.lock();
            st.receiver_gone = true;
            st.items.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use super::*;

    #[test]
    fn frames_flow_until_the_sender_is_gone() {
        let (tx, mut rx) = queue(2);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(rx.poll_recv(&mut cx).is_pending());
        tx.try_send(Bytes::from_static(b"a")).unwrap();
        tx.try_send(Bytes::from_static(b"b")).unwrap();
        // Bounded: a slow reader is detected by a failed send.
        assert!(tx.try_send(Bytes::from_static(b"c")).is_err());
        let probe = tx.probe();
        assert!(!probe.drained_or_gone());
        assert_eq!(
            rx.poll_recv(&mut cx),
            Poll::Ready(Some(Bytes::from_static(b"a")))
        );
        assert_eq!(rx.try_recv(), Some(Bytes::from_static(b"b")));
        assert!(probe.drained_or_gone());
        drop(tx);
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(None));
        assert!(QueueRx::closed().poll_recv(&mut cx).is_ready());
    }

    #[test]
    fn sends_fail_once_the_body_is_gone() {
        let (tx, rx) = queue(4);
        drop(rx);
        assert!(tx.try_send(Bytes::from_static(b"a")).is_err());
        assert!(tx.probe().drained_or_gone());
    }

    #[tokio::test]
    async fn a_waiting_body_is_woken() {
        let (tx, mut rx) = queue(4);
        let reader = tokio::spawn(async move { std::future::poll_fn(|cx| rx.poll_recv(cx)).await });
        tokio::task::yield_now().await;
        tx.try_send(Bytes::from_static(b"x")).unwrap();
        assert_eq!(reader.await.unwrap(), Some(Bytes::from_static(b"x")));
    }
}
