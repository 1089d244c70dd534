//! The misbehaving servers of `hostile_server.rs`: a raw HTTP/1.1 server on 127.0.0.1 that
//! writes hand-made bytes, answering the handshake like a plain MCP server (a session,
//! JSON answers, 202 for notifications and responses, 405 for GET) and handing the requests a
//! test is about to the test's own script.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_http_client::{Client, Era, RequestError};
use mcp_http_client_http::{HttpClient, HttpClientConfig, StreamableHttpClient};
use mcp_http_core::PeerConfig;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The most a request's head may take, and the most requests one connection serves: every
/// loop of the server is bounded.
const MAX_HEAD: usize = 64 * 1024;
const MAX_REQUESTS_PER_CONNECTION: usize = 10_000;

/// One HTTP request the server read.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    /// `GET`, `POST`, `DELETE`.
    pub(crate) method: String,
    /// Header names in lower case.
    pub(crate) headers: Vec<(String, String)>,
    /// The body, as JSON when it parses.
    pub(crate) json: Option<Value>,
}

impl Req {
    /// The JSON-RPC method of a POSTed request or notification.
    pub(crate) fn rpc_method(&self) -> Option<&str> {
        self.json.as_ref()?.get("method")?.as_str()
    }

    /// The JSON-RPC id of a POSTed request or response.
    pub(crate) fn id(&self) -> Value {
        self.json
            .as_ref()
            .and_then(|j| j.get("id").cloned())
            .unwrap_or(Value::Null)
    }

    /// Whether this is a POSTed response (the client answering a request of the server).
    pub(crate) fn is_response(&self) -> bool {
        self.json
            .as_ref()
            .is_some_and(|j| j.get("method").is_none() && j.get("id").is_some())
    }

    /// Whether this is the `tools/call` the tests are about.
    pub(crate) fn is_call(&self) -> bool {
        self.method == "POST" && self.rpc_method() == Some("tools/call")
    }

    /// A header's value.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A running misbehaving server.
pub(crate) struct Hostile {
    /// The endpoint.
    pub(crate) url: String,
    /// Every request it read, in order.
    pub(crate) seen: Arc<Mutex<Vec<Req>>>,
    accept: JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Hostile {
    /// A server whose every request goes to `script`, which answers on the connection and
    /// gives it back to serve the next request, or keeps (drops) it.
    pub(crate) async fn start<F, Fut>(script: F) -> Hostile
    where
        F: Fn(Req, TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<TcpStream>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Req>>> = Arc::default();
        let script = Arc::new(script);
        let log = seen.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (script, log) = (script.clone(), log.clone());
                tokio::spawn(async move {
                    let mut stream = stream;
                    for _ in 0..MAX_REQUESTS_PER_CONNECTION {
                        let Some(req) = read_request(&mut stream).await else {
                            return;
                        };
                        log.lock().unwrap().push(req.clone());
                        match script(req, stream).await {
                            Some(back) => stream = back,
                            None => return,
                        }
                    }
                });
            }
        });
        Hostile { url, seen, accept }
    }

    /// A server that answers like a plain MCP server, except `tools/call`, which goes to
    /// `script`.
    pub(crate) async fn on_call<F, Fut>(script: F) -> Hostile
    where
        F: Fn(Req, TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<TcpStream>> + Send + 'static,
    {
        let script = Arc::new(script);
        Hostile::start(move |req, stream| {
            let script = script.clone();
            async move {
                if req.is_call() {
                    return script(req, stream).await;
                }
                normal(req, stream).await
            }
        })
        .await
    }

    /// The requests read so far that `keep` picks.
    pub(crate) fn seen(&self, keep: impl Fn(&Req) -> bool) -> Vec<Req> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| keep(r))
            .cloned()
            .collect()
    }
}

/// Reads one request: its head, then a `Content-Length` body. `None` at the end of the
/// connection or on anything else.
async fn read_request(stream: &mut TcpStream) -> Option<Req> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > MAX_HEAD || stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let method = lines.next()?.split(' ').next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(Req {
        method,
        headers,
        json: serde_json::from_slice(&body).ok(),
    })
}

/// What a plain MCP server answers: `initialize` with a session, notifications and responses
/// with 202, `tools/call` with a text result, GET with 405, DELETE with 200.
pub(crate) async fn normal(req: Req, mut stream: TcpStream) -> Option<TcpStream> {
    let answer = match (req.method.as_str(), req.rpc_method()) {
        ("POST", Some("initialize")) => json_answer_with(
            "200 OK",
            "mcp-session-id: hostile-session\r\n",
            &initialize_result(&req.id()),
        ),
        ("POST", Some("tools/call")) => json_answer(&text_result(&req.id(), "ok")),
        ("POST", Some("tools/list")) => json_answer(&result(&req.id(), json!({ "tools": [] }))),
        ("POST", _)
            if req.is_response() || req.json.as_ref().is_some_and(|j| j.get("id").is_none()) =>
        {
            "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n".into()
        }
        ("POST", _) => json_answer(&result(&req.id(), json!({}))),
        ("DELETE", _) => "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".into(),
        _ => "HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n".into(),
    };
    stream.write_all(answer.as_bytes()).await.ok()?;
    Some(stream)
}

/// The result of `initialize`: version 2025-11-25, tools.
pub(crate) fn initialize_result(id: &Value) -> String {
    result(
        id,
        json!({
            "protocolVersion": "2025-11-25",
            "capabilities": { "tools": {} },
            "serverInfo": { "name": "hostile", "version": "0" }
        }),
    )
}

/// A JSON-RPC result.
pub(crate) fn result(id: &Value, result: Value) -> String {
    json!({ "jsonrpc": "2.0", "id": id, "result": result }).to_string()
}

/// A `tools/call` result of one text.
pub(crate) fn text_result(id: &Value, text: &str) -> String {
    result(id, json!({ "content": [{ "type": "text", "text": text }] }))
}

/// A 200 JSON answer.
pub(crate) fn json_answer(body: &str) -> String {
    json_answer_with("200 OK", "", body)
}

/// A JSON answer with a status and extra header lines (each ending in CRLF).
pub(crate) fn json_answer_with(status: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The head of an SSE answer whose body lasts until the connection closes.
pub(crate) const SSE_HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                            cache-control: no-cache\r\nconnection: close\r\n\r\n";

/// One SSE message event.
pub(crate) fn event(data: &str) -> String {
    format!("event: message\ndata: {data}\n\n")
}

/// Writes `bytes`; whether the connection took them.
pub(crate) async fn write(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    stream.write_all(bytes).await.is_ok() && stream.flush().await.is_ok()
}

/// The settings the tests start from: no standalone GET stream (the cases are about
/// requests), fast reconnection.
pub(crate) fn settings() -> mcp_http_client_http::HttpClientConfigBuilder {
    HttpClientConfig::builder()
        .get_stream(false)
        .default_retry(Duration::from_millis(50))
}

/// Our client, connected to `url` in the legacy era (sessions, SSE resumption) with
/// `settings` and a request timeout.
pub(crate) async fn connect(
    url: &str,
    settings: HttpClientConfig,
    request_timeout: Duration,
) -> Result<Client, RequestError> {
    let peer = PeerConfig::default().request_timeout(request_timeout);
    connect_with(url, settings, peer, Client::builder("hostile", "1.0")).await
}

/// [`connect`] with peer settings and a client builder of the test's.
pub(crate) async fn connect_with(
    url: &str,
    settings: HttpClientConfig,
    peer: PeerConfig,
    builder: mcp_http_client::ClientBuilder,
) -> Result<Client, RequestError> {
    let http = HttpClient::builder()
        .proxies_from_env(false)
        .build()
        .unwrap();
    let transport = StreamableHttpClient::with_client(url, http, settings).unwrap();
    builder
        .era(Era::Legacy)
        .peer_config(peer)
        .connect(transport)
        .await
}

/// `future`'s output, which must come within `secs` seconds: the bound every case asserts.
pub(crate) async fn within<T>(secs: u64, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), future)
        .await
        .unwrap_or_else(|_| panic!("no outcome within {secs} s: the client hung"))
}

/// The transport error of a failed call, or a panic naming what came instead.
pub(crate) fn transport_error(
    outcome: Result<impl std::fmt::Debug, RequestError>,
) -> mcp_http_core::TransportError {
    match outcome {
        Err(RequestError::Transport(e)) => e,
        other => panic!("expected a transport error, got {other:?}"),
    }
}
