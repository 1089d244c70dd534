//! One keep-alive HTTP/1.1 connection per worker, driven by hyper's low-level client: no pool,
//! no per-request lookups, `TCP_NODELAY` set.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HOST};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::rpc::Failure;

/// Where the endpoint is: one resolved address, the Host header and the path.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    pub(crate) host: HeaderValue,
    pub(crate) path: String,
    /// The URL as given, for reports.
    pub(crate) url: String,
    /// Headers sent with every request (`-H`, e.g. `Authorization`).
    pub(crate) extra: std::sync::Arc<[(http::HeaderName, HeaderValue)]>,
}

impl Target {
    /// Parses and resolves an `http://` URL.
    pub(crate) async fn resolve(url: &str) -> Result<Target, String> {
        let uri: http::Uri = url.parse().map_err(|e| format!("bad URL {url}: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => return Err(format!("{other}:// is not supported (http only): {url}")),
            None => return Err(format!("the URL needs http://: {url}")),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("the URL has no host: {url}"))?;
        let port = authority.port_u16().unwrap_or(80);
        let addr = tokio::net::lookup_host((authority.host(), port))
            .await
            .map_err(|e| format!("cannot resolve {}: {e}", authority.host()))?
            .next()
            .ok_or_else(|| format!("{} has no address", authority.host()))?;
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|e| format!("bad host in {url}: {e}"))?;
        let path = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Ok(Target {
            addr,
            host,
            path,
            url: url.to_owned(),
            extra: std::sync::Arc::new([]),
        })
    }
}

/// The headers of an MCP request: session and protocol version when known.
#[derive(Clone, Debug, Default)]
pub(crate) struct McpHeaders {
    pub(crate) session: Option<HeaderValue>,
    pub(crate) version: Option<HeaderValue>,
    /// `Mcp-Method` and `Mcp-Name` (2026-07-28).
    pub(crate) method: Option<HeaderValue>,
    pub(crate) name: Option<HeaderValue>,
}

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const BOTH: HeaderValue = HeaderValue::from_static("application/json, text/event-stream");
const SSE: HeaderValue = HeaderValue::from_static("text/event-stream");

/// An open connection.
pub(crate) struct Conn {
    send: SendRequest<Full<Bytes>>,
}

impl Conn {
    /// Connects and performs the HTTP/1.1 handshake (bounded by `timeout`).
    pub(crate) async fn open(target: &Target, timeout: Duration) -> Result<Conn, Failure> {
        let connect = async {
            let tcp = TcpStream::connect(target.addr)
                .await
                .map_err(|e| Failure::Transport(format!("connect: {e}")))?;
            let _ = tcp.set_nodelay(true);
            let (send, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
                .await
                .map_err(|e| Failure::Transport(format!("handshake: {e}")))?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok(Conn { send })
        };
        tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| Failure::Timeout)?
    }

    /// Sends a POST of a JSON body and returns the status, the content type and the whole body.
    pub(crate) async fn post(
        &mut self,
        target: &Target,
        headers: &McpHeaders,
        body: Bytes,
    ) -> Result<Reply, Failure> {
        let response = self.post_unread(target, headers, body).await?;
        read(response).await
    }

    /// Sends a POST of a JSON body and returns the response unread.
    pub(crate) async fn post_unread(
        &mut self,
        target: &Target,
        headers: &McpHeaders,
        body: Bytes,
    ) -> Result<Response<Incoming>, Failure> {
        let mut request = Request::post(target.path.as_str())
            .header(HOST, target.host.clone())
            .header(CONTENT_TYPE, JSON)
            .header(ACCEPT, BOTH);
        request = with_mcp(request, target, headers);
        let request = request
            .body(Full::new(body))
            .map_err(|e| Failure::Invalid(format!("request: {e}")))?;
        self.send(request).await
    }

    /// Sends a GET for the session's standalone SSE stream and returns the response unread.
    pub(crate) async fn get_stream(
        &mut self,
        target: &Target,
        headers: &McpHeaders,
    ) -> Result<Response<Incoming>, Failure> {
        let request = Request::get(target.path.as_str())
            .header(HOST, target.host.clone())
            .header(ACCEPT, SSE);
        let request = with_mcp(request, target, headers)
            .body(Full::new(Bytes::new()))
            .map_err(|e| Failure::Invalid(format!("request: {e}")))?;
        self.send(request).await
    }

    /// Resumes a stream with `Last-Event-ID` (a GET) and returns the response unread.
    pub(crate) async fn resume(
        &mut self,
        target: &Target,
        headers: &McpHeaders,
        last_event_id: HeaderValue,
    ) -> Result<Response<Incoming>, Failure> {
        let request = Request::get(target.path.as_str())
            .header(HOST, target.host.clone())
            .header(ACCEPT, SSE)
            .header("last-event-id", last_event_id);
        let request = with_mcp(request, target, headers)
            .body(Full::new(Bytes::new()))
            .map_err(|e| Failure::Invalid(format!("request: {e}")))?;
        self.send(request).await
    }

    /// Ends the session with DELETE; the status it got.
    pub(crate) async fn delete(
        &mut self,
        target: &Target,
        headers: &McpHeaders,
    ) -> Result<StatusCode, Failure> {
        let request = Request::delete(target.path.as_str()).header(HOST, target.host.clone());
        let request = with_mcp(request, target, headers)
            .body(Full::new(Bytes::new()))
            .map_err(|e| Failure::Invalid(format!("request: {e}")))?;
        let response = self.send(request).await?;
        Ok(read(response).await?.status)
    }

    async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<Response<Incoming>, Failure> {
        self.send
            .ready()
            .await
            .map_err(|e| Failure::Transport(format!("connection: {e}")))?;
        self.send
            .send_request(request)
            .await
            .map_err(|e| Failure::Transport(format!("request: {e}")))
    }
}

fn with_mcp(
    mut request: http::request::Builder,
    target: &Target,
    headers: &McpHeaders,
) -> http::request::Builder {
    for (name, value) in target.extra.iter() {
        request = request.header(name, value.clone());
    }
    if let Some(session) = &headers.session {
        request = request.header("mcp-session-id", session.clone());
    }
    if let Some(version) = &headers.version {
        request = request.header("mcp-protocol-version", version.clone());
    }
    if let Some(method) = &headers.method {
        request = request.header("mcp-method", method.clone());
    }
    if let Some(name) = &headers.name {
        request = request.header("mcp-name", name.clone());
    }
    request
}

/// A response read whole.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    /// Whether the body is an SSE stream.
    pub(crate) fn is_sse(&self) -> bool {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"))
    }
}

async fn read(response: Response<Incoming>) -> Result<Reply, Failure> {
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| Failure::Transport(format!("body: {e}")))?
        .to_bytes();
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}
