//! A connection whose writes make no progress for a bound is dropped (RL-8): a client that stops
//! reading an SSE stream fills its socket buffers, and its connection would otherwise hold its
//! task, its buffers and its place among the session's streams for as long as the client likes.
//! Each connection is its own task and the router never waits for one (a full queue detaches
//! it), so the session's other streams flow on meanwhile.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// A TCP stream whose writes fail with `TimedOut` once they have been pending for `limit`
/// without a byte written.
#[derive(Debug)]
pub(crate) struct StallGuard {
    io: TcpStream,
    limit: Duration,
    /// Made at the first write that has to wait (most connections never do), then reused.
    timer: Option<Pin<Box<Sleep>>>,
    /// Whether a write is waiting now (the timer runs).
    waiting: bool,
}

impl StallGuard {
    pub(crate) fn new(io: TcpStream, limit: Duration) -> Self {
        StallGuard {
            io,
            limit,
            timer: None,
            waiting: false,
        }
    }

    pub(crate) fn into_inner(self) -> TcpStream {
        self.io
    }

    /// After a write that wrote something or failed: no stall.
    fn progressed<T>(&mut self, result: io::Result<T>) -> Poll<io::Result<T>> {
        self.waiting = false;
        Poll::Ready(result)
    }

    /// After a write that has to wait: starts the clock if it is not running, and fails once it
    /// ran out (its wake-up is what brings the connection back to write again).
    fn stalled<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        if !self.waiting {
            self.waiting = true;
            let deadline = Instant::now()
                .checked_add(self.limit)
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365));
            match &mut self.timer {
                Some(timer) => timer.as_mut().reset(deadline),
                None => self.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
        }
        let expired = match &mut self.timer {
            Some(timer) => timer.as_mut().poll(cx).is_ready(),
            None => false,
        };
        match expired {
            true => {
                tracing::debug!("a write made no progress in time; connection dropped");
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client stopped reading",
                )))
            }
            false => Poll::Pending,
        }
    }
}

impl AsyncRead for StallGuard {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for StallGuard {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(result) => this.progressed(result),
            Poll::Pending => this.stalled(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write_vectored(cx, bufs) {
            Poll::Ready(result) => this.progressed(result),
            Poll::Pending => this.stalled(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
