//! Serving the endpoint on a TCP listener with hyper: `TCP_NODELAY` on every accepted socket
//! (no 40 ms Nagle/delayed-ACK stall), HTTP/1.1 and HTTP/2, graceful shutdown, and the limits a
//! peer cannot get around on connections: the time to send headers (RL-1), their size and count
//! (RL-2), the number of connections (RL-5), a write that stalls (RL-8), and a lingering close
//! (RL-4).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::head_timer::HeadTimer;
use crate::rejection::Rejection;
use crate::service::{HttpResponse, StreamableHttpService};
use crate::stall::StallGuard;
use crate::stop_watch::StopWatch;

/// What an HTTP/2 client with prior knowledge sends first.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether the client opens with the HTTP/2 preface. The bytes are peeked, not read: hyper's
/// HTTP/1 read buffer then starts empty and stays at 8 KiB, where detecting by reading and
/// rewinding (hyper-util's `auto`) made it grow to 16 KiB on every connection, which is most of
/// what an open GET stream costs.
async fn opens_with_h2_preface(stream: &TcpStream) -> bool {
    let mut head = [0u8; 24];
    // A preface split across packets is waited for, briefly; then the bytes decide.
    for _ in 0..100 {
        let n = match stream.peek(&mut head).await {
            Ok(n) => n,
            Err(_) => return false,
        };
        if n == 0 || head[..n] != H2_PREFACE[..n] {
            return false;
        }
        if n == H2_PREFACE.len() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

type HandleFuture = Pin<Box<dyn Future<Output = Result<HttpResponse, Infallible>> + Send>>;

/// Connections being refused at once at most: each lingers a moment so that its 503 is read,
/// and beyond this many a refused connection is closed at once.
const MAX_REFUSING: usize = 256;

/// How long a refused connection lingers for its 503 to be read.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// The longest timer handed to hyper, which adds it to the current instant unchecked.
pub(crate) const FOREVER: Duration = Duration::from_secs(86_400 * 365);

/// The settings one connection needs, copied out of the service's.
#[derive(Clone, Copy)]
struct Limits {
    header_read_timeout: Duration,
    max_header_bytes: usize,
    max_headers: usize,
    lingering_time: Duration,
    write_stall_timeout: Duration,
}

/// Serves `service` on `listener` until `shutdown` resolves, then drains: stops accepting, ends
/// GET streams with a `retry` field so clients reconnect elsewhere, lets running requests finish
/// for up to [`crate::HttpConfig::drain_timeout`], then ends what is left with `retry`.
///
/// The connection limits of [`HttpConfig`](crate::HttpConfig) apply here:
/// `header_read_timeout`, `max_header_bytes`, `max_headers`, `max_connections` (kept under the
/// process's open-file limit, so that a connection over it can still be accepted and refused
/// with 503 rather than left waiting in the backlog), `write_stall_timeout` and
/// `lingering_time`.
pub async fn serve(
    listener: TcpListener,
    service: StreamableHttpService,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let config = service.config();
    let limits = Limits {
        header_read_timeout: config.header_read_timeout.min(FOREVER),
        max_header_bytes: config.max_header_bytes,
        max_headers: config.max_headers,
        lingering_time: config.lingering_time,
        write_stall_timeout: config.write_stall_timeout,
    };
    let max_connections = connection_cap(config.max_connections, open_file_limit());
    if max_connections < config.max_connections {
        tracing::warn!(
            max_connections = config.max_connections,
            kept_to = max_connections,
            "the open-file limit is lower than max_connections allows for (raise `ulimit -n`)"
        );
    }
    let refusal = Bytes::from(refusal());
    let refusing = Arc::new(AtomicUsize::new(0));
    // Every connection holds a receiver: `closed()` on the sender is "all connections ended".
    let (stop, stopping) = watch::channel(false);
    drop(stopping);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors or a reset: keep serving the others.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let inner = &service.inner;
                inner.connections.fetch_add(1, Ordering::Relaxed);
                // RL-5: over the limit, a short 503 and the connection closed, never left
                // hanging.
                if inner.open_connections.load(Ordering::Relaxed) >= max_connections {
                    refuse(stream, &refusal, &refusing);
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let open = OpenConnection::new(&service);
                let stop = stop.subscribe();
                tokio::spawn(connection(stream, service.clone(), limits, stop, open));
            }
            _ = &mut shutdown => break,
        }
    }
    // The drain (RL-50): no new connection; idle keep-alive connections close; GET streams end
    // with `retry`; running requests finish on their connections until the deadline, then their
    // streams end with `retry` too, and a moment is left to write that out.
    drop(listener);
    service.shutdown();
    let _ = stop.send(true);
    let closed = stop.closed();
    tokio::pin!(closed);
    if tokio::time::timeout(config.drain_timeout, &mut closed)
        .await
        .is_err()
    {
        service.close_streams();
        let _ = tokio::time::timeout(Duration::from_secs(1), closed).await;
    }
    Ok(())
}

/// Counts a connection among the open ones while it lives.
struct OpenConnection(StreamableHttpService);

impl OpenConnection {
    fn new(service: &StreamableHttpService) -> Self {
        service
            .inner
            .open_connections
            .fetch_add(1, Ordering::Relaxed);
        OpenConnection(service.clone())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0
            .inner
            .open_connections
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves one connection until it ends, the server stops, or a limit ends it.
/// Serves a connection until it ends, or until the server stops and the connection has finished
/// what it had begun. A macro, not a function: hyper's HTTP/2 and upgradeable HTTP/1 connections
/// share no trait for `graceful_shutdown`, and a generic helper over a closure for it is not
/// `Send` in a way rustc can prove at `tokio::spawn`.
macro_rules! serve_until_stopped {
    ($connection:expr, $stop:ident) => {{
        let connection = $connection;
        tokio::pin!(connection);
        // PF-102: the stop is polled only when it may have come.
        let probe = $stop.clone();
        let wait = std::pin::pin!(stopped(&mut $stop));
        tokio::select! {
            biased;
            _ = connection.as_mut() => {}
            _ = StopWatch::new(probe, wait) => {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        }
    }};
}

async fn connection(
    stream: TcpStream,
    service: StreamableHttpService,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    _open: OpenConnection,
) {
    // RL-1: a connection that sends nothing at all is closed after the header timeout too.
    let Ok(h2) =
        tokio::time::timeout(limits.header_read_timeout, opens_with_h2_preface(&stream)).await
    else {
        return;
    };
    let service_upgrades = service.config().websocket.is_some();
    // Boxed: hyper keeps one slot of the handler's future type per connection, and `handle`'s is
    // several KiB that an open SSE stream would hold for nothing.
    let handler = hyper::service::service_fn(move |request| -> HandleFuture {
        let service = service.clone();
        match service.inner.front.clone() {
            Some(front) => {
                Box::pin(async move { Ok::<_, Infallible>(front(request, service).await) })
            }
            None => service.handle_boxed(request, None),
        }
    });
    let io = TokioIo::new(StallGuard::new(stream, limits.write_stall_timeout));
    // HTTP/2 and upgradable connections are served from the heap: inline, their state (hyper's
    // HTTP/2 connection is the largest) would size the task of every HTTP/1 connection, each
    // held GET stream's included (PF-27).
    if h2 {
        return Box::pin(async move {
            let mut builder = http2::Builder::new(TokioExecutor::new());
            builder
                .timer(TokioTimer::new())
                .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
            serve_until_stopped!(builder.serve_connection(io, handler), stop);
        })
        .await;
    }
    let mut builder = http1::Builder::new();
    builder
        .timer(HeadTimer::default())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes);
    if limits.max_headers != DEFAULT_MAX_HEADERS {
        // Set only when changed: hyper then keeps the headers on the heap, for every request.
        builder.max_headers(limits.max_headers);
    }
    if service_upgrades {
        // BR-36: WebSocket needs hyper's upgrades, which give up the lingering close below.
        return Box::pin(async move {
            serve_until_stopped!(builder.serve_connection(io, handler).with_upgrades(), stop);
        })
        .await;
    }
    let mut connection = builder.serve_connection(io, handler);
    // PF-102: the stop is polled only when it may have come; the connection first, with no
    // random pick of which to poll first on every wake.
    let probe = stop.clone();
    let wait = std::pin::pin!(stopped(&mut stop));
    let served = tokio::select! {
        biased;
        served = std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)) => served,
        _ = StopWatch::new(probe, wait) => {
            Pin::new(&mut connection).graceful_shutdown();
            std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)).await
        }
    };
    if served.is_ok() {
        // RL-4: a request whose body was not read (a 413) may still be arriving; closing now
        // would reset the connection under the response.
        let stream = connection.into_parts().io.into_inner().into_inner();
        linger(stream, limits.lingering_time).await;
    }
}

/// Resolves once the server stops.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard the wait returns is dropped here, before any other await.
    let _ = stop.wait_for(|stop| *stop).await;
}

/// hyper's own number of header fields, kept on the stack.
const DEFAULT_MAX_HEADERS: usize = 100;

/// Closes a connection as nginx's lingering close does: the write side first (the client sees
/// the end of the response), then what the client still sends is read and discarded, until it
/// closes too or `time` runs out; then the socket is closed with nothing unread in it, so the
/// kernel sends no reset that could destroy the response before the client read it.
async fn linger(mut stream: TcpStream, time: Duration) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let deadline = tokio::time::Instant::now() + time.min(FOREVER);
    // On the heap and only here: a buffer in the connection's future would cost every
    // connection its size for its whole life.
    let mut discard = vec![0u8; 16 * 1024];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut discard)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(_)) => {}
        }
    }
}

/// Refuses a connection over the limit with a 503 and closes it (RL-5): a short lingering close
/// for the first [`MAX_REFUSING`] at a time, at once beyond them.
fn refuse(stream: TcpStream, refusal: &Bytes, refusing: &Arc<AtomicUsize>) {
    // A new socket's send buffer is empty: the short answer is written whole without waiting.
    let _ = stream.try_write(refusal);
    if refusing.fetch_add(1, Ordering::AcqRel) >= MAX_REFUSING {
        refusing.fetch_sub(1, Ordering::AcqRel);
        return;
    }
    let refusing = refusing.clone();
    tokio::spawn(async move {
        linger(stream, REFUSAL_LINGER).await;
        refusing.fetch_sub(1, Ordering::AcqRel);
    });
}

/// The bytes of the 503 that refuses a connection over the limit: HTTP/1.1, `Retry-After`,
/// `Connection: close` and the JSON-RPC error every other refusal carries.
fn refusal() -> Vec<u8> {
    let response = Rejection::TooManyConnections.into_response();
    let body = response.body().full_bytes().cloned().unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    )
    .into_bytes();
    for (name, value) in response.headers() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    out
}

/// The most connections to hold open: the setting, kept under the open-file limit (when it is
/// known) with room for the process's other files and the connections being refused.
fn connection_cap(max_connections: usize, open_files: Option<u64>) -> usize {
    let Some(files) = open_files.and_then(|n| usize::try_from(n).ok()) else {
        return max_connections;
    };
    let reserve = 64 + MAX_REFUSING;
    let usable = if files > 2 * reserve {
        files - reserve
    } else {
        files / 2
    };
    max_connections.min(usable.max(1))
}

/// The soft limit on open files of this process (Linux: from `/proc/self/limits`).
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_stays_under_the_open_file_limit() {
        assert_eq!(connection_cap(16_384, None), 16_384);
        assert_eq!(connection_cap(16_384, Some(1_000_000)), 16_384);
        assert_eq!(connection_cap(16_384, Some(1024)), 1024 - 64 - MAX_REFUSING);
        assert_eq!(connection_cap(16_384, Some(100)), 50);
        assert_eq!(connection_cap(10, Some(1024)), 10);
    }

    #[test]
    fn the_refusal_is_a_complete_http_response() {
        let text = String::from_utf8(refusal()).unwrap_or_default();
        assert!(text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(text.contains("retry-after: 5\r\n"));
        assert!(text.contains("connection: close\r\n"));
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_default();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(body.contains("too many open connections"));
    }
}
