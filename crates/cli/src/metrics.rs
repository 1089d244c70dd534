//! The Prometheus endpoint of `mcp-http serve --metrics ADDR` (MT-1), for any subcommand that
//! records through the `metrics` facade: [`install`] puts a Prometheus recorder in place for the
//! whole process and serves its text format at `GET /metrics` on a listener of its own.
//!
//! ```no_run
//! # async fn f() -> Result<(), mcp_http::metrics::MetricsError> {
//! let endpoint = mcp_http::metrics::install("127.0.0.1:9090".parse().unwrap()).await?;
//! eprintln!("metrics on http://{}/metrics", endpoint.local_addr());
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

/// The bucket bounds of the latency histograms, in seconds: from a quick call on loopback
/// (~100 µs) to a long-running tool (a minute).
const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
    15.0, 60.0,
];

/// How often the recorder's histograms are drained into their buckets.
const UPKEEP: Duration = Duration::from_secs(5);

/// Why the metrics endpoint could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// The recorder could not be installed (one is already in place in this process).
    #[error("cannot install the metrics recorder: {0}")]
    Recorder(#[from] BuildError),
}

/// The running endpoint: the recorder stays installed for the life of the process, and the
/// listener serves until the runtime stops.
#[derive(Debug, Clone)]
pub struct MetricsEndpoint {
    addr: SocketAddr,
    handle: PrometheusHandle,
}

impl MetricsEndpoint {
    /// Where the endpoint listens (with the port picked when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The metrics in Prometheus' text format, as a scrape gets them.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

/// Installs the Prometheus recorder for this process and serves `GET /metrics` on `addr`
/// (a separate listener; keep it on loopback or behind your scraper's network). Call it before
/// building anything that records metrics: handles are made from the recorder in place then.
/// Inside a tokio runtime.
pub async fn install(addr: SocketAddr) -> Result<MetricsEndpoint, MetricsError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| MetricsError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| MetricsError::Bind { addr, source })?;
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_duration_seconds".into()),
            &LATENCY_BUCKETS,
        )?
        .install_recorder()?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(UPKEEP);
        loop {
            interval.tick().await;
            upkeep.run_upkeep();
        }
    });
    tokio::spawn(accept(listener, handle.clone()));
    Ok(MetricsEndpoint {
        addr: bound,
        handle,
    })
}

/// Serves scrapes, one task per connection.
async fn accept(listener: TcpListener, handle: PrometheusHandle) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "metrics: accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                std::future::ready(Ok::<_, Infallible>(scrape(&handle, &request)))
            });
            let served = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "metrics: connection ended");
            }
        });
    }
}

/// Answers one request: the metrics for `GET /metrics`, 404 or 405 otherwise.
fn scrape(handle: &PrometheusHandle, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let (status, body) = if request.uri().path() != "/metrics" {
        (
            StatusCode::NOT_FOUND,
            "not found: the metrics are at /metrics\n".to_owned(),
        )
    } else if request.method() != Method::GET && request.method() != Method::HEAD {
        (StatusCode::METHOD_NOT_ALLOWED, "use GET\n".to_owned())
    } else {
        (StatusCode::OK, handle.render())
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let content_type = match status {
        StatusCode::OK => "text/plain; version=0.0.4; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}
