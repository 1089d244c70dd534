//! Helpers for the cli crate's tests: the built-in server on a loopback port (through
//! `mcp-http-test-support`), raw HTTP requests with reqwest, an SSE reader over a reqwest
//! response, and runs of the `mcp-http` binary.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]
// Each test file uses some of the re-exports below.
#![allow(unused_imports)]

pub mod dpop;

use std::time::Duration;

use futures::StreamExt;
use mcp_http_server_http::{HttpConfig, StreamableHttpService};
use serde_json::{Value, json};

pub use mcp_http_test_support::server::TestServer;
pub use mcp_http_test_support::sse::{Event, messages};
pub use mcp_http_test_support::{initialize_request as init_body, text};

/// The built-in server on a free loopback port (N instances with `MCP_HTTP_TEST_INSTANCES=N`).
pub async fn start(config: HttpConfig) -> TestServer {
    TestServer::start(mcp_http::builtin::server(), config).await
}

/// A server of the test's own on a free loopback port.
pub async fn start_with(server: mcp_http_server::Server, config: HttpConfig) -> TestServer {
    TestServer::start(server, config).await
}

/// Starts the built-in server on `addr` (a port a stopped server used), waiting for the port.
pub async fn start_at(addr: std::net::SocketAddr, config: HttpConfig) -> TestServer {
    TestServer::start_at(addr, mcp_http::builtin::server(), config).await
}

/// One instance per server over one memory store, log and bus, behind one address.
pub async fn start_cluster(
    servers: Vec<mcp_http_server::Server>,
    config: HttpConfig,
) -> TestServer {
    TestServer::start_cluster(servers, config).await
}

/// Serves a service built by the test (with components such as a principal hook).
pub async fn start_service(service: StreamableHttpService) -> TestServer {
    TestServer::start_service(service).await
}

/// The tests' HTTP client. A request fails after 20 s with nothing read, not 20 s in all: a
/// GET stream a test holds while it sets up more (30 sessions on a loaded machine) lives longer
/// than that, and a total timeout cut it mid-test.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(20))
        .read_timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

pub const ACCEPT: &str = "application/json, text/event-stream";

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
    match request.send().await {
        Ok(response) => response,
        Err(error) => panic!("POST {url} {body}: {error:?}"),
    }
}

/// GETs `url` with [`client`]: the status and the body's text.
pub async fn get_text(url: &str) -> (u16, String) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Initializes a session and sends `notifications/initialized`; returns the session id.
pub async fn session(http: &reqwest::Client, url: &str, version: &str) -> String {
    session_with(http, url, &init_body(version)).await
}

/// [`session`], initialized with the `initialize` request `init`.
pub async fn session_with(http: &reqwest::Client, url: &str, init: &Value) -> String {
    let response = post(http, url, None, init).await;
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

/// Ends a session with DELETE.
pub async fn delete_session(http: &reqwest::Client, url: &str, session: &str) -> reqwest::Response {
    http.delete(url)
        .header("mcp-session-id", session)
        .send()
        .await
        .unwrap()
}

pub fn call(id: i64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
}

pub fn call_with_progress(id: i64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": arguments, "_meta": {"progressToken": id}}})
}

/// The headers a 2026-07-28 client sends for the JSON-RPC request `body` (H-7): the version,
/// `Mcp-Method`, and `Mcp-Name` from `params.name`, `params.uri` or `params.taskId`.
pub fn modern_headers(body: &Value) -> Vec<(&'static str, String)> {
    let method = body["method"].as_str().unwrap_or_default().to_owned();
    let mut headers = vec![
        ("mcp-protocol-version", "2026-07-28".to_owned()),
        ("mcp-method", method),
    ];
    let params = &body["params"];
    let target = params["name"]
        .as_str()
        .or(params["uri"].as_str())
        .or(params["taskId"].as_str());
    if let Some(target) = target {
        headers.push(("mcp-name", target.to_owned()));
    }
    headers
}

/// The status and the JSON-RPC answer of a response, read from its JSON body or, on an SSE
/// stream, the message with an id (`Null` when there is none).
pub async fn read_answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let sse = response.headers()["content-type"] == "text/event-stream";
    let text = response.text().await.unwrap();
    let value = if sse {
        mcp_http_test_support::sse::body_messages(&text)
            .into_iter()
            .find(|m| m.get("id").is_some())
            .unwrap_or(Value::Null)
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    (status, value)
}

/// The built-in server behind one service whose principal is the request's `Authorization`
/// header.
pub async fn start_with_authorization_principal() -> TestServer {
    let principal = |parts: &http::request::Parts| {
        parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(mcp_http_server_http::Principal::new)
    };
    let service = StreamableHttpService::builder(mcp_http::builtin::server())
        .principal(principal)
        .build();
    start_service(service).await
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
            if let Some(block) = mcp_http_test_support::sse::take_block(&mut self.buffer) {
                match Event::parse(&block) {
                    Some(event) => return Some(event),
                    None => continue,
                }
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

/// `mcp-http ARGS...` to spawn: stdin empty (no terminal), stdout to nowhere, stderr piped,
/// killed when its child is dropped.
pub fn cli_command(args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Runs `mcp-http ARGS...` with stdin empty (no terminal), within 30 s. `env` sets variables
/// (`Some`) or removes them (`None`) for this run.
pub async fn run_cli(args: &[&str], env: &[(&str, Option<&str>)]) -> Run {
    let mut command = cli_command(args);
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let child = command
        .stdout(std::process::Stdio::piped())
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

/// Starts `mcp-http ARGS` with `env` and waits until it printed a stderr line starting with each
/// of `prefixes`; returns the child (killed when dropped) and the rest of each such line, in the
/// order of `prefixes`. The rest of stderr is drained, so the child never blocks on it.
pub async fn spawn_until(
    args: &[&str],
    env: &[(&str, &str)],
    prefixes: &[&str],
) -> (tokio::process::Child, Vec<String>) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = cli_command(args).envs(env.iter().copied()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut found: Vec<Option<String>> = vec![None; prefixes.len()];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while found.iter().any(Option::is_none) {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .expect("mcp-http did not print what was expected in time")
            .unwrap()
            .expect("mcp-http exited early");
        for (prefix, slot) in prefixes.iter().zip(found.iter_mut()) {
            if let Some(rest) = line.strip_prefix(prefix) {
                *slot = Some(rest.to_owned());
            }
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, found.into_iter().map(Option::unwrap).collect())
}

/// A running `mcp-http serve`; killed when dropped.
pub struct Serve {
    pub child: tokio::process::Child,
    pub url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts `mcp-http serve --port 0 ARGS` and waits for its URL.
pub async fn serve(args: &[&str]) -> Serve {
    let mut child = cli_command(&["serve", "--port", "0"])
        .args(args)
        .spawn()
        .unwrap();
    let mut lines =
        tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(child.stderr.take().unwrap()));
    let url = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("mcp-http: serving MCP on ") {
                return url.to_owned();
            }
        }
        panic!("mcp-http serve exited before serving");
    })
    .await
    .expect("mcp-http serve did not start in 20 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Serve { child, url }
}

/// The `WWW-Authenticate` values of a response, joined.
pub fn challenge(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// POSTs `body` with an optional `Authorization` value, DPoP proof and session.
pub async fn post_auth(
    url: &str,
    auth: Option<&str>,
    proof: Option<&str>,
    session: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = client()
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in [
        ("authorization", auth),
        ("dpop", proof),
        ("mcp-session-id", session),
    ] {
        if let Some(value) = value {
            request = request.header(name, value);
        }
    }
    request.send().await.unwrap()
}

/// A server's builder with a tool of every kind a quick-path test runs: `quick` (answers at
/// once), `panics`, `waits` (20 ms), `logs` (a log first), `progress` (two progress
/// notifications 10 ms apart) and `asks` (the client's roots).
pub fn tools_of_every_kind() -> mcp_http_server::ServerBuilder {
    use mcp_http_proto::LoggingLevel;
    use mcp_http_server::{NoArgs, RequestContext, Server, ToolDef};
    Server::builder("t", "1")
        .tool(ToolDef::sync(
            "quick",
            "At once",
            |_: NoArgs, _: &RequestContext| "quick",
        ))
        .tool(ToolDef::sync(
            "panics",
            "Panics",
            |_: NoArgs, _: &RequestContext| {
                panic!("tool bug");
                #[allow(unreachable_code)]
                "never"
            },
        ))
        .tool(ToolDef::new(
            "waits",
            "Waits",
            |_: NoArgs, _: RequestContext| async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                "waited"
            },
        ))
        .tool(ToolDef::new(
            "logs",
            "Logs first",
            |_: NoArgs, ctx: RequestContext| async move {
                ctx.log(LoggingLevel::Info, None, &"note").await.ok();
                "logged"
            },
        ))
        .tool(ToolDef::new(
            "progress",
            "Reports progress",
            |_: NoArgs, ctx: RequestContext| async move {
                ctx.progress(1.0, Some(2.0), None).await.ok();
                tokio::time::sleep(Duration::from_millis(10)).await;
                ctx.progress(2.0, Some(2.0), None).await.ok();
                "progressed"
            },
        ))
        .tool(ToolDef::new(
            "asks",
            "Asks for the roots",
            |_: NoArgs, ctx: RequestContext| async move {
                ctx.roots()
                    .await
                    .map(|r| format!("{} roots", r.roots.len()))
            },
        ))
}

/// Sets its flag when dropped: kept by a tool's future, it tells that the future was dropped
/// where it waited (cancelled) unless the tool forgets it at its end.
pub struct Dropped(pub std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}
