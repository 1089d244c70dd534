//! Serving the endpoint on a TCP listener with hyper: `TCP_NODELAY` on every accepted socket
//! (no 40 ms Nagle/delayed-ACK stall), HTTP/1.1 and HTTP/2, and graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::service::StreamableHttpService;

/// Serves `service` on `listener` until `shutdown` resolves, then stops accepting, ends SSE
/// streams with a `retry` field so clients reconnect, and waits up to 5 s for connections.
pub async fn serve(
    listener: TcpListener,
    service: StreamableHttpService,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let builder = Builder::new(TokioExecutor::new());
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
                let handler = hyper::service::service_fn(move |request| {
                    let service = service.clone();
                    async move { Ok::<_, Infallible>(service.handle(request).await) }
                });
                let connection = builder.serve_connection(TokioIo::new(stream), handler).into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    service.shutdown();
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
    Ok(())
}
