//! The HTTP stack the transport sends with: our connection pool (crate::pool) on hyper's client
//! connections, a TCP connector that goes through the proxies the environment names, and (with
//! the `rustls` feature) TLS.

use std::error::Error as StdError;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use mcp_http_core::{TransportError, TransportErrorKind};
use tokio::net::TcpStream;

use crate::pool::{Pool, ResponseBody};

#[cfg(feature = "rustls")]
use crate::tls::CertificateError;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Called with the destination of each new connection the client opens.
pub type ConnectHook = Arc<dyn Fn(&Uri) + Send + Sync>;

/// What opens connections.
#[cfg(feature = "rustls")]
pub(crate) type Stack = hyper_rustls::HttpsConnector<Connector>;
/// What opens connections.
#[cfg(not(feature = "rustls"))]
pub(crate) type Stack = Connector;

/// A pooled HTTP client for the transport: keep-alive connections shared by every clone (per
/// origin, an HTTP/1 connection carries one request at a time and is reused once its answer
/// was read to the end; an HTTP/2 connection carries them all), `TCP_NODELAY`, no overall timeout (streams are long-lived; requests have their own
/// timeouts), proxies from the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`,
/// `NO_PROXY`), and with the `rustls` feature https (HTTP/2 when the server offers it).
///
/// ```
/// use std::time::Duration;
/// let http = mcp_http_client_http::HttpClient::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .build()?;
/// # let _ = http;
/// # Ok::<(), mcp_http_core::TransportError>(())
/// ```
#[derive(Clone)]
pub struct HttpClient {
    pool: Pool,
    proxies: Option<Arc<Matcher>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("proxies_from_env", &self.proxies.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client with the default settings.
    pub fn new() -> Result<Self, TransportError> {
        HttpClient::builder().build()
    }

    /// Settings for a client.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder {
            connect_timeout: None,
            proxies_from_env: true,
            // Under the 30 s after which our server (and many others) closes an idle
            // keep-alive connection, so a request is rarely sent on one being closed.
            pool_idle_timeout: Some(Duration::from_secs(20)),
            on_connect: None,
            #[cfg(feature = "rustls")]
            extra_roots: rustls::RootCertStore::empty(),
        }
    }

    /// Sends one request.
    pub(crate) async fn send(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<ResponseBody>, TransportError> {
        self.pool.send(request).await
    }

    /// Sends one request that is not an MCP message (an OAuth discovery document, a token
    /// request, a client registration) over the same connections, proxies and TLS as the
    /// transport, and reads its whole answer, at most `max_body` bytes of body.
    ///
    /// The request's URI must be absolute (`http` or `https`). The answer comes back whatever
    /// its status; redirects are not followed. An answer over `max_body` fails with a protocol
    /// error ([`TransportError::is_protocol`]).
    ///
    /// ```no_run
    /// # async fn f(http: mcp_http_client_http::HttpClient) -> Result<(), mcp_http_core::TransportError> {
    /// use bytes::Bytes;
    /// use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
    /// let request = http::Request::get("https://auth.example.com/.well-known/oauth-authorization-server")
    ///     .body(Full::new(Bytes::new()))
    ///     .expect("a valid request");
    /// let response = http.fetch(request, 64 * 1024).await?;
    /// println!("{}: {:?}", response.status(), response.body());
    /// # Ok(()) }
    /// ```
    pub async fn fetch(
        &self,
        mut request: Request<Full<Bytes>>,
        max_body: usize,
    ) -> Result<Response<Bytes>, TransportError> {
        if let Some(value) = self.proxy_authorization(request.uri()) {
            request
                .headers_mut()
                .entry(http::header::PROXY_AUTHORIZATION)
                .or_insert(value);
        }
        let (parts, body) = self.send(request).await?.into_parts();
        match Limited::new(body, max_body).collect().await {
            Ok(collected) => Ok(Response::from_parts(parts, collected.to_bytes())),
            Err(e) if e.is::<LengthLimitError>() => Err(TransportError::new(
                TransportErrorKind::Protocol,
                format!("the answer is larger than {max_body} bytes"),
            )),
            Err(e) => Err(TransportError::new(
                TransportErrorKind::Io,
                format!("reading the HTTP response failed: {e}"),
            )
            .with_source(e)),
        }
    }

    /// The `Proxy-Authorization` a plain-HTTP request to `uri` carries: requests to a proxy
    /// (not tunnelled) name their credentials themselves.
    pub(crate) fn proxy_authorization(&self, uri: &Uri) -> Option<HeaderValue> {
        if uri.scheme() != Some(&http::uri::Scheme::HTTP) {
            return None;
        }
        let intercept = self.proxies.as_ref()?.intercept(uri)?;
        intercept.basic_auth().cloned()
    }
}

/// Settings of an [`HttpClient`].
pub struct HttpClientBuilder {
    connect_timeout: Option<Duration>,
    proxies_from_env: bool,
    pool_idle_timeout: Option<Duration>,
    on_connect: Option<ConnectHook>,
    #[cfg(feature = "rustls")]
    extra_roots: rustls::RootCertStore,
}

impl std::fmt::Debug for HttpClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientBuilder")
            .field("connect_timeout", &self.connect_timeout)
            .field("proxies_from_env", &self.proxies_from_env)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .finish_non_exhaustive()
    }
}

impl HttpClientBuilder {
    /// How long opening a TCP connection may take (default: no limit of its own).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Whether to use the proxies the environment names (default: yes).
    pub fn proxies_from_env(mut self, enabled: bool) -> Self {
        self.proxies_from_env = enabled;
        self
    }

    /// How long an idle connection stays in the pool (default: 20 s; `None`: no limit). An
    /// HTTP/2 connection counts as idle from the last request sent on it.
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Calls `hook` with the destination of each new connection (to count them, say).
    pub fn on_connect(mut self, hook: impl Fn(&Uri) + Send + Sync + 'static) -> Self {
        self.on_connect = Some(Arc::new(hook));
        self
    }

    /// Trusts the root certificates of `pem` (every `CERTIFICATE` block) besides the webpki
    /// roots: a private CA, or a server's self-signed certificate. With the `rustls` feature.
    ///
    /// ```no_run
    /// let pem = std::fs::read("ca.pem")?;
    /// let http = mcp_http_client_http::HttpClient::builder()
    ///     .add_root_certificate_pem(&pem)?
    ///     .build()?;
    /// let transport = mcp_http_client_http::StreamableHttpClient::with_client(
    ///     "https://mcp.internal:8443/mcp",
    ///     http,
    ///     Default::default(),
    /// )?;
    /// # let _ = transport;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "rustls")]
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, CertificateError> {
        crate::tls::add_pem(&mut self.extra_roots, pem)?;
        Ok(self)
    }

    /// Trusts one DER-encoded root certificate besides the webpki roots. With the `rustls`
    /// feature.
    #[cfg(feature = "rustls")]
    pub fn add_root_certificate_der(mut self, der: &[u8]) -> Result<Self, CertificateError> {
        crate::tls::add_der(&mut self.extra_roots, der)?;
        Ok(self)
    }

    /// The client. Fails only when TLS cannot be set up.
    pub fn build(self) -> Result<HttpClient, TransportError> {
        let mut tcp = HttpConnector::new();
        tcp.set_nodelay(true);
        tcp.enforce_http(false);
        tcp.set_connect_timeout(self.connect_timeout);
        // Asked once per new connection, not per request.
        let proxies = self.proxies_from_env.then(|| Arc::new(Matcher::from_env()));
        let connector = Connector {
            tcp,
            proxies: proxies.clone(),
            on_connect: self.on_connect,
        };
        #[cfg(feature = "rustls")]
        let stack = stack(connector, self.extra_roots)?;
        #[cfg(not(feature = "rustls"))]
        let stack = stack(connector)?;
        Ok(HttpClient {
            pool: Pool::new(stack, self.pool_idle_timeout),
            proxies,
        })
    }
}

#[cfg(feature = "rustls")]
fn stack(
    connector: Connector,
    extra_roots: rustls::RootCertStore,
) -> Result<Stack, TransportError> {
    // The provider is named rather than taken from the process default, which panics when
    // more than one is compiled in.
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| {
        TransportError::new(TransportErrorKind::Io, format!("cannot set up TLS: {e}"))
            .with_source(e)
    })?
    .with_root_certificates(crate::tls::roots(extra_roots))
    .with_no_client_auth();
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(connector))
}

#[cfg(not(feature = "rustls"))]
fn stack(connector: Connector) -> Result<Stack, TransportError> {
    Ok(connector)
}

/// Opens TCP connections, directly or through the environment's proxy: a tunnel (`CONNECT`)
/// for https, the proxy itself for plain HTTP (the request then names the full URL).
#[derive(Clone)]
pub(crate) struct Connector {
    tcp: HttpConnector,
    proxies: Option<Arc<Matcher>>,
    on_connect: Option<ConnectHook>,
}

impl tower_service::Service<Uri> for Connector {
    type Response = Stream;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Stream, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        if let Some(hook) = &self.on_connect {
            hook(&dst);
        }
        let mut tcp = self.tcp.clone();
        let intercept = self.proxies.as_ref().and_then(|m| m.intercept(&dst));
        Box::pin(async move {
            let Some(proxy) = intercept else {
                let io = tcp.call(dst).await?;
                return Ok(Stream { io, proxied: false });
            };
            if dst.scheme() == Some(&http::uri::Scheme::HTTPS) {
                let mut tunnel = Tunnel::new(proxy.uri().clone(), tcp);
                if let Some(auth) = proxy.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                let io = tunnel.call(dst).await?;
                return Ok(Stream { io, proxied: false });
            }
            let io = tcp.call(proxy.uri().clone()).await?;
            Ok(Stream { io, proxied: true })
        })
    }
}

/// A TCP connection, marked when it leads to a proxy (its requests then carry the full URL).
pub(crate) struct Stream {
    io: TokioIo<TcpStream>,
    proxied: bool,
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl hyper::rt::Read for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}
