//! The response body: one JSON document, or an SSE stream fed by a channel. An SSE body writes
//! everything that is ready in one frame (one write), and sends keep-alive comments when idle.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Interval, MissedTickBehavior};

use crate::queue::QueueRx;
use crate::sse::KEEP_ALIVE;

/// Counts a session's open SSE connections; decremented when the body is dropped.
#[derive(Debug)]
pub(crate) struct ConnectionGuard(Arc<AtomicUsize>);

impl ConnectionGuard {
    pub(crate) fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        ConnectionGuard(counter.clone())
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Set by the router when a stream's response went into this connection; when the body then
/// ends normally, the client has everything and the stream's stored events are dropped.
pub(crate) struct Completion {
    pub(crate) done: Arc<AtomicBool>,
    pub(crate) log: Arc<dyn crate::sessions::EventLog>,
    pub(crate) session: Arc<str>,
    pub(crate) tag: Arc<str>,
    pub(crate) stream: u64,
}

impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

/// The body of every response of the service.
#[derive(Debug)]
pub struct ResponseBody {
    kind: Kind,
    /// The standard headers its answer still needs (PF-68): written into the response's map
    /// once, where the service hands the response on.
    head: Head,
}

/// The standard headers an answer of the service is sent with, written by
/// [`crate::service`] where the response leaves it (PF-68).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head {
    /// None, or written already.
    Written,
    /// `content-type: application/json`.
    Json,
    /// `content-type: text/event-stream`, `cache-control: no-cache`, `x-accel-buffering: no`.
    Sse,
}

/// A stream's state is boxed: a response is moved through several layers per request, and
/// its body's size is part of every move (a JSON answer's, and the quick SSE answer's, PF-33).
#[derive(Debug)]
enum Kind {
    Full(Option<Bytes>),
    /// An SSE stream whose whole content is known and nothing more can come (answered at
    /// once): its bytes alone, with no stream state to box or count (PF-76). Once sent, the
    /// body is `Full(None)`.
    Whole(Bytes),
    Sse(Box<SseBody>),
}

#[derive(Debug)]
struct SseBody {
    prefix: Option<Bytes>,
    rx: QueueRx,
    keep_alive_period: Option<Duration>,
    /// Armed only while the stream is idle: a short stream never touches the timer.
    keep_alive: Option<Interval>,
    _guard: Option<ConnectionGuard>,
    completion: Option<Completion>,
    /// Dropped with the body: what must happen when the client closes the stream (a 2026-07-28
    /// request is cancelled, a listener leaves).
    _on_close: Option<Box<dyn std::any::Any + Send + Sync>>,
    /// The stream's metrics, when they are on (MT-1): bytes as they go, the rest when dropped.
    metrics: Option<Box<crate::metrics::StreamMetrics>>,
}

impl ResponseBody {
    /// A body of fixed bytes.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        ResponseBody {
            kind: Kind::Full(Some(bytes.into())),
            head: Head::Written,
        }
    }

    /// The bytes of a body of fixed bytes (`None` for a stream).
    pub(crate) fn full_bytes(&self) -> Option<&Bytes> {
        match &self.kind {
            Kind::Full(bytes) => bytes.as_ref(),
            Kind::Whole(_) | Kind::Sse(_) => None,
        }
    }

    /// Whether this is an SSE stream (not a body of fixed bytes).
    pub(crate) fn is_stream(&self) -> bool {
        matches!(self.kind, Kind::Whole(_) | Kind::Sse(_))
    }

    /// Keeps a stream's metrics until the stream ends.
    pub(crate) fn with_metrics(&mut self, metrics: crate::metrics::StreamMetrics) {
        // A whole stream keeps them as any stream does: its bytes become a closed stream's.
        if let Kind::Whole(bytes) = &mut self.kind {
            let bytes = std::mem::take(bytes);
            let head = self.head;
            *self = Self::sse(bytes, QueueRx::closed(), None, None, None).with_head(head);
        }
        if let Kind::Sse(sse) = &mut self.kind {
            sse.metrics = Some(Box::new(metrics));
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        ResponseBody {
            kind: Kind::Full(None),
            head: Head::Written,
        }
    }

    pub(crate) fn sse(
        prefix: Bytes,
        rx: QueueRx,
        keep_alive: Option<Duration>,
        guard: Option<ConnectionGuard>,
        completion: Option<Completion>,
    ) -> Self {
        let prefix = (!prefix.is_empty()).then_some(prefix);
        ResponseBody {
            kind: Kind::Sse(Box::new(SseBody {
                prefix,
                rx,
                keep_alive_period: keep_alive,
                keep_alive: None,
                _guard: guard,
                completion,
                _on_close: None,
                metrics: None,
            })),
            head: Head::Written,
        }
    }

    /// An SSE stream of `bytes` and nothing more, whose client has everything when they are
    /// sent: no keep-alive, no completion, not counted among the session's open connections
    /// (it is over when it is made, as a JSON answer is, PF-76). On the wire the same as
    /// [`ResponseBody::sse`] with a closed queue: one frame, its length known.
    pub(crate) fn sse_whole(bytes: Bytes) -> Self {
        ResponseBody {
            kind: Kind::Whole(bytes),
            head: Head::Written,
        }
    }

    /// The body, its answer still needing `head`'s headers.
    pub(crate) fn with_head(mut self, head: Head) -> Self {
        self.head = head;
        self
    }

    /// The standard headers its answer still needs (not written yet).
    pub(crate) fn head(&self) -> Head {
        self.head
    }

    /// The headers its answer still needs, now to be written.
    pub(crate) fn take_head(&mut self) -> Head {
        std::mem::replace(&mut self.head, Head::Written)
    }

    /// Keeps `guard` until the stream ends or its client goes away (a JSON body drops it at
    /// once: its answer is complete).
    pub(crate) fn on_close(mut self, guard: impl Send + Sync + 'static) -> Self {
        if let Kind::Sse(sse) = &mut self.kind {
            sse._on_close = Some(Box::new(guard));
        }
        self
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let kind = &mut self.get_mut().kind;
        match kind {
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Whole(_) => match std::mem::replace(kind, Kind::Full(None)) {
                Kind::Whole(bytes) if !bytes.is_empty() => {
                    Poll::Ready(Some(Ok(Frame::data(bytes))))
                }
                _ => Poll::Ready(None),
            },
            Kind::Sse(sse) => {
                let polled = sse.poll_next(cx);
                if let (Some(metrics), Poll::Ready(Some(bytes))) = (&sse.metrics, &polled) {
                    metrics.sent(bytes.len());
                }
                polled.map(|o| o.map(|b| Ok(Frame::data(b))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(bytes) => bytes.is_none(),
            Kind::Whole(bytes) => bytes.is_empty(),
            Kind::Sse(sse) => sse.prefix.is_none() && sse.rx.is_closed(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Kind::Full(None) => SizeHint::with_exact(0),
            Kind::Whole(b) => SizeHint::with_exact(b.len() as u64),
            // A stream whose whole content is known (answered at once, or a finished replay)
            // goes out with a Content-Length, like any short response: no chunk framing.
            Kind::Sse(sse) if sse.rx.is_closed() => {
                SizeHint::with_exact(sse.prefix.as_ref().map_or(0, |p| p.len() as u64))
            }
            Kind::Sse(_) => SizeHint::default(),
        }
    }
}

impl SseBody {
    /// The body ended normally: a finished stream's stored events are no longer needed.
    fn complete(&mut self) {
        if let Some(c) = self.completion.take()
            && c.done.load(Ordering::Acquire)
        {
            let key = crate::sessions::StreamKey {
                tag: &c.tag,
                stream: c.stream,
            };
            c.log.forget_stream(&c.session, key);
        }
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let first = match self.prefix.take() {
            // With a known length the body may not be polled again after its last bytes.
            Some(prefix) if self.rx.is_closed() => {
                self.complete();
                return Poll::Ready(Some(prefix));
            }
            Some(prefix) => Some(prefix),
            None => match self.rx.poll_recv(cx) {
                Poll::Ready(Some(bytes)) => Some(bytes),
                Poll::Ready(None) => {
                    self.complete();
                    return Poll::Ready(None);
                }
                Poll::Pending => None,
            },
        };
        if let Some(first) = first {
            // Coalesce whatever else is ready: a short stream goes out in one write.
            let mut buf: Option<BytesMut> = None;
            while let Some(more) = self.rx.try_recv() {
                buf.get_or_insert_with(|| BytesMut::from(&first[..]))
                    .extend_from_slice(&more);
            }
            // The next idle period starts now.
            self.keep_alive = None;
            return Poll::Ready(Some(buf.map_or(first, BytesMut::freeze)));
        }
        let Some(period) = self.keep_alive_period else {
            return Poll::Pending;
        };
        let keep_alive = self.keep_alive.get_or_insert_with(|| {
            let mut interval =
                tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            interval
        });
        if keep_alive.poll_tick(cx).is_ready() {
            return Poll::Ready(Some(Bytes::from_static(KEEP_ALIVE)));
        }
        Poll::Pending
    }
}
