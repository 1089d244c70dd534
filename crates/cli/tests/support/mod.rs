//! Helpers for HTTP tests: a real server on a loopback port, and a small SSE reader.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::StreamExt;
use mcp_http_server_http::{HttpConfig, StreamableHttpService};
use serde_json::{Value, json};

/// A running server; stops when dropped. With `MCP_HTTP_TEST_INSTANCES=N` (or
/// [`start_cluster`]), several instances behind one address; `service` is the first, and the
/// methods below speak for all of them.
pub struct TestServer {
    pub url: String,
    pub service: StreamableHttpService,
    cluster: Option<Cluster>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The instances of a clustered test server and what they share.
struct Cluster {
    instances: Vec<StreamableHttpService>,
    store: std::sync::Arc<mcp_http_server_http::MemorySessionStore>,
    accepted: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl TestServer {
    /// The instances behind the address (one unless clustered).
    pub fn instances(&self) -> Vec<StreamableHttpService> {
        match &self.cluster {
            Some(cluster) => cluster.instances.clone(),
            None => vec![self.service.clone()],
        }
    }

    /// How many sessions are open (in a cluster: the shared store's live records).
    pub fn session_count(&self) -> usize {
        match &self.cluster {
            Some(cluster) => cluster.store.len(),
            None => self.service.session_count(),
        }
    }

    /// Ends every session.
    pub async fn end_all_sessions(&self) {
        match &self.cluster {
            Some(cluster) => {
                for instance in &cluster.instances {
                    instance.end_all_sessions().await;
                }
            }
            None => self.service.end_all_sessions().await,
        }
    }

    /// Starts a graceful shutdown of every instance.
    pub fn shutdown(&self) {
        match &self.cluster {
            Some(cluster) => cluster.instances.iter().for_each(|i| i.shutdown()),
            None => self.service.shutdown(),
        }
    }

    /// How many TCP connections were accepted.
    pub fn connections_accepted(&self) -> u64 {
        match &self.cluster {
            Some(cluster) => cluster.accepted.load(std::sync::atomic::Ordering::Relaxed),
            None => self.service.connections_accepted(),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn start(config: HttpConfig) -> TestServer {
    start_with(mcp_http::builtin::server(), config).await
}

pub async fn start_with(server: mcp_http_server::Server, config: HttpConfig) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_on(listener, server, config)
}

/// Starts the built-in server on `addr` (a port a stopped server used), waiting for the port.
pub async fn start_at(addr: std::net::SocketAddr, config: HttpConfig) -> TestServer {
    for _ in 0..100 {
        if let Ok(listener) = tokio::net::TcpListener::bind(addr).await {
            return serve_on(listener, mcp_http::builtin::server(), config);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{addr} did not become free");
}

/// Serves a service built by the test (with components such as a principal hook).
#[allow(dead_code)]
pub async fn start_service(service: StreamableHttpService) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_service(listener, service)
}

fn serve_on(
    listener: tokio::net::TcpListener,
    server: mcp_http_server::Server,
    config: HttpConfig,
) -> TestServer {
    match instances() {
        n if n > 1 => serve_cluster(listener, vec![server; n], config),
        _ => serve_service(listener, StreamableHttpService::new(server, config)),
    }
}

/// `MCP_HTTP_TEST_INSTANCES=N` (N > 1) serves each test's endpoint from N instances sharing one
/// memory session store, event log and message bus, each request going to the next instance
/// in turn, as behind a round-robin balancer.
fn instances() -> usize {
    std::env::var("MCP_HTTP_TEST_INSTANCES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// Serves one endpoint from one instance per server (each with its own registry, as separate
/// processes have), over one memory store, log and bus, round-robin per request.
pub async fn start_cluster(
    servers: Vec<mcp_http_server::Server>,
    config: HttpConfig,
) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_cluster(listener, servers, config)
}

fn serve_cluster(
    listener: tokio::net::TcpListener,
    servers: Vec<mcp_http_server::Server>,
    config: HttpConfig,
) -> TestServer {
    use mcp_http_server_http::{
        EventLog, MemoryBus, MemoryEventLog, MemorySessionStore, MessageBus, SessionStore,
    };
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let memory = Arc::new(MemorySessionStore::new(config.idle_timeout));
    let store: Arc<dyn SessionStore> = memory.clone();
    let accepted = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = accepted.clone();
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::default());
    let bus: Arc<dyn MessageBus> = Arc::new(MemoryBus::new());
    let url = format!("http://{}{}", listener.local_addr().unwrap(), config.path);
    let instances: Arc<Vec<StreamableHttpService>> = Arc::new(
        servers
            .into_iter()
            .enumerate()
            .map(|(i, server)| {
                StreamableHttpService::builder(server)
                    .config(config.clone())
                    .session_store(store.clone())
                    .event_log(log.clone())
                    .message_bus(bus.clone())
                    .instance_id(format!("i{i}"))
                    .build()
            })
            .collect(),
    );
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let next = Arc::new(AtomicUsize::new(0));
    let serving = instances.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(_) => continue,
                },
                _ = &mut stopped => break,
            };
            let _ = tcp.set_nodelay(true);
            counted.fetch_add(1, Ordering::Relaxed);
            let (instances, next) = (serving.clone(), next.clone());
            let handler = hyper::service::service_fn(move |request| {
                let instance =
                    instances[next.fetch_add(1, Ordering::Relaxed) % instances.len()].clone();
                async move { Ok::<_, std::convert::Infallible>(instance.handle(request).await) }
            });
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), handler)
                .await;
            });
        }
        for instance in serving.iter() {
            instance.shutdown();
        }
    });
    TestServer {
        url,
        service: instances[0].clone(),
        cluster: Some(Cluster {
            instances: instances.to_vec(),
            store: memory,
            accepted,
        }),
        stop: Some(stop),
    }
}

fn serve_service(listener: tokio::net::TcpListener, service: StreamableHttpService) -> TestServer {
    let url = format!(
        "http://{}{}",
        listener.local_addr().unwrap(),
        service.config().path
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = service.clone();
    tokio::spawn(async move {
        let _ = mcp_http_server_http::serve(listener, serving, async {
            let _ = stopped.await;
        })
        .await;
    });
    TestServer {
        url,
        service,
        cluster: None,
        stop: Some(stop),
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

pub const ACCEPT: &str = "application/json, text/event-stream";

pub fn init_body(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": version,
        "capabilities": {"sampling": {}, "elicitation": {}},
        "clientInfo": {"name": "test", "version": "1"}}})
}

/// POSTs a JSON body with the usual headers (and a session when given).
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = http
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    request.send().await.unwrap()
}

/// Initializes a session and sends `notifications/initialized`; returns the session id.
pub async fn session(http: &reqwest::Client, url: &str, version: &str) -> String {
    let response = post(http, url, None, &init_body(version)).await;
    assert_eq!(response.status(), 200);
    let id = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let _ = response.bytes().await.unwrap();
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(http, url, Some(&id), &note).await.status(), 202);
    id
}

/// Opens a GET stream of a session, resuming after `last_event_id` when given.
pub async fn get_stream(
    http: &reqwest::Client,
    url: &str,
    session: &str,
    last_event_id: Option<&str>,
) -> reqwest::Response {
    let mut request = http
        .get(url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", session);
    if let Some(last) = last_event_id {
        request = request.header("last-event-id", last);
    }
    request.send().await.unwrap()
}

pub fn call(id: i64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
}

pub fn call_with_progress(id: i64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": arguments, "_meta": {"progressToken": id}}})
}

/// One SSE event.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub id: Option<String>,
    pub retry: Option<u64>,
    pub data: String,
}

impl Event {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.data).ok()
    }
}

/// Reads SSE events from a streaming response.
pub struct SseReader {
    stream: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> Self {
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream"),
            "not SSE: {:?}",
            response.headers()
        );
        SseReader {
            stream: response.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next event (comments skipped), or `None` when the stream ends.
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Event::default();
                let mut any = false;
                for line in block.lines() {
                    if line.starts_with(':') || line.is_empty() {
                        continue;
                    }
                    any = true;
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "id" => event.id = Some(value.to_owned()),
                        "retry" => event.retry = value.parse().ok(),
                        "data" => event.data.push_str(value),
                        _ => {}
                    }
                }
                if any {
                    return Some(event);
                }
                continue;
            }
            match tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .ok()?
            {
                Some(Ok(chunk)) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// Every remaining event until the stream ends.
    pub async fn rest(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some(e) = self.next().await {
            events.push(e);
        }
        events
    }
}

/// The JSON-RPC messages among events.
pub fn messages(events: &[Event]) -> Vec<Value> {
    events.iter().filter_map(Event::json).collect()
}

/// The `mcp-http` binary these tests run.
pub const BIN: &str = env!("CARGO_BIN_EXE_mcp-http");

/// What a run of the binary left.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// Asserts a failure with exactly one line on stderr, `mcp-http: error: ...`, and returns it.
    pub fn one_line_error(&self, code: i32) -> &str {
        assert_eq!(self.code, code, "{self:?}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line expected: {self:?}");
        assert!(lines[0].starts_with("mcp-http: error: "), "{self:?}");
        assert!(!self.stderr.contains("panicked"), "{self:?}");
        lines[0]
    }
}

/// Runs `mcp-http ARGS...` with stdin empty (no terminal), within 30 s. `env` sets variables
/// (`Some`) or removes them (`None`) for this run.
pub async fn run_cli(args: &[&str], env: &[(&str, Option<&str>)]) -> Run {
    let mut command = tokio::process::Command::new(BIN);
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let child = command
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("mcp-http did not finish within 30 s")
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
