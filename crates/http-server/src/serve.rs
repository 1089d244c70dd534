//! Serving the endpoint on a TCP listener with hyper: `TCP_NODELAY` on every accepted socket
//! (no 40 ms Nagle/delayed-ACK stall), HTTP/1.1 and HTTP/2, and graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};

use crate::service::{HttpResponse, StreamableHttpService};

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

/// Serves `service` on `listener` until `shutdown` resolves, then drains: stops accepting, ends
/// GET streams with a `retry` field so clients reconnect elsewhere, lets running requests finish
/// for up to [`crate::HttpConfig::drain_timeout`], then ends what is left with `retry`.
pub async fn serve(
    listener: TcpListener,
    service: StreamableHttpService,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
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
                let _ = stream.set_nodelay(true);
                service.inner.connections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let service = service.clone();
                // Boxed: hyper keeps one slot of the handler's future type per connection, and
                // `handle`'s is several KiB that an open SSE stream would hold for nothing.
                let handler = hyper::service::service_fn(move |request| -> HandleFuture {
                    let service = service.clone();
                    Box::pin(async move { Ok::<_, Infallible>(service.handle(request).await) })
                });
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    if opens_with_h2_preface(&stream).await {
                        let connection = http2::Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(stream), handler);
                        let _ = watcher.watch(connection).await;
                    } else {
                        let connection = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), handler);
                        let _ = watcher.watch(connection).await;
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    // The drain (RL-50): no new connection; idle keep-alive connections close; GET streams end
    // with `retry`; running requests finish on their connections until the deadline, then their
    // streams end with `retry` too, and a moment is left to write that out.
    drop(listener);
    service.shutdown();
    let closed = graceful.shutdown();
    tokio::pin!(closed);
    let deadline = service.inner.config().drain_timeout;
    if tokio::time::timeout(deadline, &mut closed).await.is_err() {
        service.close_streams();
        let _ = tokio::time::timeout(Duration::from_secs(1), closed).await;
    }
    Ok(())
}
