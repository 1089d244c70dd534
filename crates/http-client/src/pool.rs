//! Connection reuse for [`HttpClient`](crate::HttpClient), on hyper's client connections. Per
//! origin, an HTTP/1 connection carries one exchange at a time and is free again once its
//! answer has been read to the end; an HTTP/2 connection (agreed by ALPN) is shared by every
//! request to its origin. A transport talks to one origin, so the lists are short and scanned.

use std::error::Error as StdError;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::HOST;
use http::uri::{Authority, Scheme};
use http::{HeaderMap, HeaderValue, Request, Response, Uri};
use http_body_util::Full;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1;
#[cfg(feature = "rustls")]
use hyper::client::conn::http2;
use hyper_util::client::legacy::connect::Connection as _;
use mcp_http_core::sync::lock;
use mcp_http_core::{TransportError, TransportErrorKind};
use tokio::task::JoinHandle;
use tower_service::Service as _;

use crate::client::Stack;

type Outgoing = Request<Full<Bytes>>;
type BoxError = Box<dyn StdError + Send + Sync>;

/// The connections of an [`HttpClient`](crate::HttpClient), shared by its clones.
#[derive(Clone)]
pub(crate) struct Pool {
    shared: Arc<Shared>,
}

struct Shared {
    /// Opens connections: TCP, proxies, TLS.
    stack: Stack,
    http1: http1::Builder,
    idle_timeout: Option<Duration>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Free HTTP/1 connections, the most recently freed last.
    idle: Vec<Idle>,
    /// HTTP/2 connections, each shared by any number of requests.
    #[cfg(feature = "rustls")]
    h2: Vec<H2>,
    #[cfg(feature = "rustls")]
    next_id: u64,
    /// The task that closes connections idle for longer than the idle timeout.
    reaper: Option<JoinHandle<()>>,
}

/// Where a connection leads: scheme and authority.
#[derive(Clone)]
struct Origin {
    scheme: Scheme,
    authority: Authority,
}

impl Origin {
    fn of(uri: &Uri) -> Result<Origin, TransportError> {
        match (uri.scheme(), uri.authority()) {
            (Some(scheme), Some(authority))
                if *scheme == Scheme::HTTP || *scheme == Scheme::HTTPS =>
            {
                Ok(Origin {
                    scheme: scheme.clone(),
                    authority: authority.clone(),
                })
            }
            _ => Err(TransportError::new(
                TransportErrorKind::Protocol,
                format!("not an http or https URL: {uri}"),
            )),
        }
    }

    fn matches(&self, uri: &Uri) -> bool {
        uri.scheme() == Some(&self.scheme)
            && uri
                .authority()
                .is_some_and(|a| same_authority(a, &self.authority))
    }

    /// The `Host` of an HTTP/1 request: the host, and the port when it is not the default.
    fn host(&self) -> Result<HeaderValue, TransportError> {
        let host = self.authority.host();
        let default = if self.scheme == Scheme::HTTPS {
            443
        } else {
            80
        };
        let value = match self.authority.port_u16() {
            Some(port) if port != default => format!("{host}:{port}"),
            _ => host.to_owned(),
        };
        HeaderValue::try_from(value).map_err(|_| {
            TransportError::new(
                TransportErrorKind::Protocol,
                format!("the host of {} cannot be sent in a header", self.authority),
            )
        })
    }

    /// What the connector is asked to reach.
    fn uri(&self) -> Result<Uri, TransportError> {
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query("/")
            .build()
            .map_err(|e| TransportError::new(TransportErrorKind::Protocol, e.to_string()))
    }
}

/// `headers` with the `Host` an HTTP/1 request to `endpoint` carries, when `endpoint` is plain
/// `http` (always HTTP/1 here) and `headers` set none (PF-112): the headers a transport's
/// requests start from hold it once, so the pool finds it there rather than insert it into
/// every request's map, whose entries a clone leaves no room for. An `https` endpoint, which
/// may agree on HTTP/2 (no `Host`), is left as it is.
pub(crate) fn with_plain_host(mut headers: HeaderMap, endpoint: &Uri) -> HeaderMap {
    if endpoint.scheme() == Some(&Scheme::HTTP)
        && let Ok(origin) = Origin::of(endpoint)
        && let Ok(host) = origin.host()
    {
        headers.entry(HOST).or_insert(host);
    }
    headers
}

/// Whether two authorities are the same: `Authority`'s own comparison, which ignores ASCII
/// case byte by byte, only when their text differs (PF-111: a transport's requests name its
/// endpoint's authority exactly, so the usual answer is one comparison of the bytes).
fn same_authority(a: &Authority, b: &Authority) -> bool {
    a.as_str() == b.as_str() || a == b
}

/// An HTTP/1 connection, not in use.
struct H1 {
    tx: http1::SendRequest<Full<Bytes>>,
    origin: Origin,
    host: HeaderValue,
    /// Leads to a proxy: requests carry the full URL (absolute-form).
    proxied: bool,
}

struct Idle {
    conn: H1,
    since: Instant,
}

#[cfg(feature = "rustls")]
struct H2 {
    tx: http2::SendRequest<Full<Bytes>>,
    origin: Origin,
    id: u64,
    last_used: Instant,
}

/// A connection to send one request on.
enum Checked {
    H1(H1),
    #[cfg(feature = "rustls")]
    H2(http2::SendRequest<Full<Bytes>>, u64),
}

/// Why a request was not answered.
enum Failed {
    /// It was never sent (the connection had closed): it may go out on another.
    Unsent(Box<Outgoing>),
    Error(TransportError),
}

impl Pool {
    pub(crate) fn new(stack: Stack, idle_timeout: Option<Duration>) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                stack,
                http1: http1::Builder::new(),
                idle_timeout,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Sends `request` (its URI absolute) on a free connection to its origin, or a new one. A
    /// request that a reused connection closed before sending goes out on another (the
    /// server may have closed it while idle).
    pub(crate) async fn send(
        &self,
        mut request: Outgoing,
    ) -> Result<Response<ResponseBody>, TransportError> {
        loop {
            let (conn, reused) = match self.checkout(request.uri()) {
                Some(conn) => (conn, true),
                // Boxed: the handshakes' futures are large, and would make every send's as large.
                None => (Box::pin(self.connect(request.uri())).await?, false),
            };
            let failed = match conn {
                Checked::H1(conn) => self.send_h1(conn, request, reused).await,
                #[cfg(feature = "rustls")]
                Checked::H2(tx, id) => self.send_h2(tx, id, request).await,
            };
            match failed {
                Ok(response) => return Ok(response),
                Err(Failed::Unsent(unsent)) if reused => request = *unsent,
                Err(Failed::Unsent(_)) => {
                    return Err(TransportError::new(
                        TransportErrorKind::Io,
                        "HTTP request failed: the new connection closed before the request was sent",
                    ));
                }
                Err(Failed::Error(e)) => return Err(e),
            }
        }
    }

    async fn send_h1(
        &self,
        mut conn: H1,
        mut request: Outgoing,
        reused: bool,
    ) -> Result<Response<ResponseBody>, Failed> {
        // A connection is free once its last answer was read to the end, which can be a moment
        // before hyper's dispatcher takes the next request: wait for it rather than open another.
        if reused && conn.tx.ready().await.is_err() {
            return Err(Failed::Unsent(Box::new(request)));
        }
        request
            .headers_mut()
            .entry(HOST)
            .or_insert_with(|| conn.host.clone());
        // Direct: origin-form (`/mcp`). To a proxy (plain HTTP): the full URL, as it is.
        let absolute = if conn.proxied {
            None
        } else {
            let path = origin_form(request.uri());
            Some(std::mem::replace(request.uri_mut(), path))
        };
        match conn.tx.try_send_request(request).await {
            Ok(response) => {
                let (parts, inner) = response.into_parts();
                let mut body = ResponseBody { inner, back: None };
                if body.inner.is_end_stream() {
                    self.shared.put(conn);
                } else {
                    body.back = Some(Back {
                        conn,
                        pool: self.shared.clone(),
                    });
                }
                Ok(Response::from_parts(parts, body))
            }
            Err(mut e) => match e.take_message() {
                Some(mut unsent) => {
                    if let Some(uri) = absolute {
                        *unsent.uri_mut() = uri;
                    }
                    Err(Failed::Unsent(Box::new(unsent)))
                }
                None => Err(Failed::Error(http_error(
                    "HTTP request failed",
                    e.into_error(),
                ))),
            },
        }
    }

    #[cfg(feature = "rustls")]
    async fn send_h2(
        &self,
        mut tx: http2::SendRequest<Full<Bytes>>,
        id: u64,
        request: Outgoing,
    ) -> Result<Response<ResponseBody>, Failed> {
        match tx.try_send_request(request).await {
            Ok(response) => Ok(response.map(|inner| ResponseBody { inner, back: None })),
            Err(mut e) => match e.take_message() {
                Some(unsent) => {
                    lock(&self.shared.state).h2.retain(|c| c.id != id);
                    Err(Failed::Unsent(Box::new(unsent)))
                }
                None => Err(Failed::Error(http_error(
                    "HTTP request failed",
                    e.into_error(),
                ))),
            },
        }
    }

    /// A connection to `uri`'s origin that is open and free, if there is one.
    fn checkout(&self, uri: &Uri) -> Option<Checked> {
        let now = self.shared.idle_timeout.map(|_| Instant::now());
        let mut state = lock(&self.shared.state);
        #[cfg(feature = "rustls")]
        if !state.h2.is_empty() {
            state.h2.retain(|c| !c.tx.is_closed());
            if let Some(c) = state.h2.iter_mut().find(|c| c.origin.matches(uri)) {
                if let Some(now) = now {
                    c.last_used = now;
                }
                return Some(Checked::H2(c.tx.clone(), c.id));
            }
        }
        while let Some(at) = state.idle.iter().rposition(|i| i.conn.origin.matches(uri)) {
            let idle = state.idle.remove(at);
            let expired = match (now, self.shared.idle_timeout) {
                (Some(now), Some(limit)) => now.saturating_duration_since(idle.since) >= limit,
                _ => false,
            };
            if !expired && !idle.conn.tx.is_closed() {
                return Some(Checked::H1(idle.conn));
            }
        }
        None
    }

    /// Opens a connection to `uri`'s origin (HTTP/2 when TLS agreed on h2), its driver
    /// spawned.
    async fn connect(&self, uri: &Uri) -> Result<Checked, TransportError> {
        let origin = Origin::of(uri)?;
        let host = origin.host()?;
        let io = self
            .shared
            .stack
            .clone()
            .call(origin.uri()?)
            .await
            .map_err(|e| {
                let context = format!("HTTP request failed: cannot connect to {uri}");
                connect_error(&context, e)
            })?;
        let connected = io.connected();
        self.start_reaper();
        #[cfg(feature = "rustls")]
        if connected.is_negotiated_h2() {
            let (tx, conn) = http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                .handshake(io)
                .await
                .map_err(|e| connect_error("HTTP/2 handshake failed", e))?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "HTTP/2 connection ended");
                }
            });
            let mut state = lock(&self.shared.state);
            state.next_id += 1;
            let id = state.next_id;
            // Two first requests may have raced to connect: the one connection kept is shared,
            // the other closes after its request.
            if !state.h2.iter().any(|c| c.origin.matches(uri)) {
                state.h2.push(H2 {
                    tx: tx.clone(),
                    origin,
                    id,
                    last_used: Instant::now(),
                });
            }
            return Ok(Checked::H2(tx, id));
        }
        let (tx, conn) = self
            .shared
            .http1
            .handshake(io)
            .await
            .map_err(|e| connect_error("HTTP handshake failed", e))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "HTTP/1 connection ended");
            }
        });
        Ok(Checked::H1(H1 {
            tx,
            origin,
            host,
            proxied: connected.is_proxied(),
        }))
    }

    /// Starts the task that closes idle connections, unless it runs.
    fn start_reaper(&self) {
        let Some(limit) = self.shared.idle_timeout else {
            return;
        };
        let mut state = lock(&self.shared.state);
        if state.reaper.as_ref().is_some_and(|r| !r.is_finished()) {
            return;
        }
        let pool = Arc::downgrade(&self.shared);
        state.reaper = Some(tokio::spawn(reap(pool, limit)));
    }
}

impl Shared {
    /// Takes a connection back, free for the next request.
    fn put(&self, conn: H1) {
        if conn.tx.is_closed() {
            return;
        }
        let since = Instant::now();
        lock(&self.state).idle.push(Idle { conn, since });
    }

    /// Closes the connections idle for `limit` or longer; returns when the next one expires.
    fn reap(&self, limit: Duration) -> Instant {
        let now = Instant::now();
        let fresh = |since: Instant| now.saturating_duration_since(since) < limit;
        let mut state = lock(&self.state);
        state
            .idle
            .retain(|i| fresh(i.since) && !i.conn.tx.is_closed());
        #[cfg_attr(not(feature = "rustls"), allow(unused_mut))]
        let mut oldest = state.idle.iter().map(|i| i.since).min();
        #[cfg(feature = "rustls")]
        {
            state.h2.retain(|c| fresh(c.last_used) && !c.tx.is_closed());
            let h2 = state.h2.iter().map(|c| c.last_used).min();
            oldest = match (oldest, h2) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        oldest.unwrap_or(now) + limit
    }
}

/// Wakes when the oldest idle connection expires; ends with the pool.
async fn reap(pool: Weak<Shared>, limit: Duration) {
    let mut next = Instant::now() + limit;
    loop {
        tokio::time::sleep_until(next.into()).await;
        let Some(pool) = pool.upgrade() else {
            return;
        };
        next = pool.reap(limit);
    }
}

/// `uri` as an HTTP/1 request line names it to the server itself: path and query.
fn origin_form(uri: &Uri) -> Uri {
    match uri.path_and_query() {
        Some(path) if path.as_str() != "/" => {
            let mut parts = http::uri::Parts::default();
            parts.path_and_query = Some(path.clone());
            Uri::from_parts(parts).unwrap_or_default()
        }
        _ => Uri::default(),
    }
}

/// A one-line error: `context`, then `e` and its causes (hyper's own message is only the
/// kind); `e` is kept as the error's source.
fn http_error(context: &str, e: impl Into<BoxError>) -> TransportError {
    let e = e.into();
    TransportError::new(TransportErrorKind::Io, describe(context, &*e)).with_source(e)
}

/// The same for a connection that could not be opened ([`TransportError::is_connect`]).
fn connect_error(context: &str, e: impl Into<BoxError>) -> TransportError {
    let e = e.into();
    TransportError::connect(describe(context, &*e)).with_source(e)
}

/// `context`, then `e` and its causes, on one line.
fn describe(context: &str, e: &(dyn StdError + 'static)) -> String {
    let mut message = context.to_owned();
    let mut cause = Some(e);
    #[cfg(feature = "rustls")]
    let mut hinted = false;
    while let Some(c) = cause {
        message.push_str(": ");
        message.push_str(&c.to_string());
        #[cfg(feature = "rustls")]
        if !hinted && crate::tls::is_unknown_issuer(c) {
            hinted = true;
            message.push_str(crate::tls::UNKNOWN_ISSUER_HINT);
        }
        cause = c.source();
    }
    message
}

/// The body of a response. An HTTP/1 connection goes back to the pool when its body has been
/// read to the end; one dropped before its end is closed (hyper cannot tell where the next
/// answer would start).
pub(crate) struct ResponseBody {
    inner: Incoming,
    back: Option<Back>,
}

struct Back {
    conn: H1,
    pool: Arc<Shared>,
}

impl ResponseBody {
    fn release(&mut self) {
        if let Some(back) = self.back.take() {
            back.pool.put(back.conn);
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        // Every byte the length announced has come: the end, without waiting for hyper to
        // close the body's channel (a wake-up less per answer).
        if this.inner.is_end_stream() {
            this.release();
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => this.release(),
            Poll::Ready(Some(Ok(_))) if this.inner.is_end_stream() => this.release(),
            Poll::Ready(Some(Err(_))) => this.back = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        // Read to its last byte, though its end was not polled: the connection is free.
        if self.inner.is_end_stream() {
            self.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PF-111: the comparison by bytes answers as `Authority`'s own, case and all.
    #[test]
    fn authorities_compare_as_authority_does() {
        let pairs = [
            ("127.0.0.1:19701", "127.0.0.1:19701"),
            ("Example.COM:8080", "example.com:8080"),
            ("example.com", "example.com:80"),
            ("example.com:8080", "example.com:8081"),
            ("user@example.com", "example.com"),
            ("[::1]:3000", "[::1]:3000"),
        ];
        for (a, b) in pairs {
            let (a, b): (Authority, Authority) = (a.parse().unwrap(), b.parse().unwrap());
            assert_eq!(same_authority(&a, &b), a == b, "{a} {b}");
            assert_eq!(same_authority(&b, &a), b == a, "{a} {b}");
        }
        let origin = Origin::of(&"http://Example.com:8080/mcp".parse().unwrap()).unwrap();
        assert!(origin.matches(&"http://example.COM:8080/other".parse().unwrap()));
        assert!(!origin.matches(&"https://example.com:8080/mcp".parse().unwrap()));
        assert!(!origin.matches(&"http://example.com/mcp".parse().unwrap()));
    }

    /// PF-112: the `Host` put into a plain-HTTP transport's headers is the one the pool would
    /// add (the host, and the port when not the default); a configured one stays; `https`
    /// gets none.
    #[test]
    fn a_plain_http_endpoint_s_headers_hold_the_pool_s_host() {
        for (url, host) in [
            ("http://127.0.0.1:19701/mcp", Some("127.0.0.1:19701")),
            ("http://example.com/mcp", Some("example.com")),
            ("http://example.com:80/mcp", Some("example.com")),
            ("http://[::1]:3000/", Some("[::1]:3000")),
            ("https://example.com/mcp", None),
        ] {
            let uri: Uri = url.parse().unwrap();
            let headers = with_plain_host(HeaderMap::new(), &uri);
            assert_eq!(
                headers.get(HOST).map(|v| v.to_str().unwrap()),
                host,
                "{url}"
            );
            if let Some(host) = host {
                let pool = Origin::of(&uri).unwrap().host().unwrap();
                assert_eq!(pool, host, "{url}");
            }
        }
        let mut configured = HeaderMap::new();
        configured.insert(HOST, HeaderValue::from_static("virtual.example"));
        let headers = with_plain_host(configured, &"http://127.0.0.1:1/".parse().unwrap());
        assert_eq!(headers.get_all(HOST).iter().count(), 1);
        assert_eq!(headers[HOST], "virtual.example");
    }
}
