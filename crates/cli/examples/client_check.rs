//! Interop checker: OUR client (`mcp-http-client` over `mcp-http-client-http`) against a peer
//! Streamable HTTP server: the official Python SDK server, the TypeScript SDK server, or
//! `@modelcontextprotocol/server-everything`. `scripts/interop-servers.sh` drives it.
//!
//! ```text
//! client_check URL [--flavor standin|everything] [--skip CHECK=REASON]... [--restart]
//!              [--timeout SECONDS]
//! ```
//!
//! Prints one line per check, `PASS name: detail`, `FAIL name: reason` or `SKIP name: reason`,
//! and exits 1 if any check failed. A skip is only what the peer cannot do in its mode (the
//! driver names it with `--skip` and the reason); it is never counted as a pass.
//!
//! Flavors (tool names): `standin` is mcp-http's built-in tool set (echo, long_running_operation,
//! sample_llm, ask_user, test_reconnection), served by interop/python/standin_server.py and
//! interop/node/sdk_server.mjs; `everything` is server-everything's (echo,
//! trigger-long-running-operation, toggle-simulated-logging, trigger-sampling-request,
//! trigger-elicitation-request).
//!
//! `--restart` adds the recovery phase, with the same `Client`: the checker prints `WAITING kill`
//! and reads a line from stdin (the driver kills the server meanwhile); a call must then fail
//! quickly (`restart_down`). It prints `WAITING start` and reads a line (the driver has started
//! the server again on the same port); the next calls must succeed with no user action
//! (`restart_recover`).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_http_client::proto::{
    CallToolResult, CreateMessageResult, ElicitRequestParams, ElicitResult, JsonObject,
    LoggingLevel, LoggingMessageNotificationParams,
};
use mcp_http_client::{Client, RequestError, RequestOptions};
use mcp_http_client_http::{HttpClient, HttpClientConfig, StreamableHttpClient};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

/// What the sampling handler answers; the sampling check looks for it in the tool's result.
const SAMPLED: &str = "hello from mcp-http";
/// The name the elicitation handler enters.
const NAME: &str = "Rusty";
/// The line the peer servers' `test_reconnection` adds once they really closed the stream.
const CLOSED_MARK: &str = "the server closed the stream mid-call";

const CHECKS: &[&str] = &[
    "initialize",
    "list_tools",
    "list_resources",
    "list_prompts",
    "echo",
    "pooling",
    "progress",
    "logs",
    "sampling",
    "elicitation",
    "resume",
    "restart_down",
    "restart_recover",
];

#[derive(Clone, Copy, PartialEq)]
enum Flavor {
    Standin,
    Everything,
}

struct Args {
    url: String,
    flavor: Flavor,
    skips: BTreeMap<String, String>,
    restart: bool,
    timeout: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        flavor: Flavor::Standin,
        skips: BTreeMap::new(),
        restart: false,
        timeout: Duration::from_secs(30),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--flavor" => {
                args.flavor = match it.next().as_deref() {
                    Some("standin") => Flavor::Standin,
                    Some("everything") => Flavor::Everything,
                    other => return Err(format!("unknown flavor {other:?}")),
                }
            }
            "--skip" => {
                let value = it.next().ok_or("--skip needs CHECK=REASON")?;
                let (check, reason) = value.split_once('=').ok_or("--skip needs CHECK=REASON")?;
                if !CHECKS.contains(&check) || reason.trim().is_empty() {
                    return Err(format!("--skip {value:?}: unknown check or empty reason"));
                }
                args.skips.insert(check.to_owned(), reason.to_owned());
            }
            "--restart" => args.restart = true,
            "--timeout" => {
                let secs: u64 = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|s| *s > 0)
                    .ok_or("--timeout needs a positive number of seconds")?;
                args.timeout = Duration::from_secs(secs);
            }
            _ if !arg.starts_with("--") && args.url.is_empty() => args.url = arg,
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    if args.url.is_empty() {
        return Err("missing URL".into());
    }
    Ok(args)
}

/// One line per check, and the tally.
struct Report {
    failed: usize,
    passed: usize,
    skipped: usize,
    skips: BTreeMap<String, String>,
    timeout: Duration,
}

impl Report {
    fn line(&mut self, status: &str, name: &str, detail: &str) {
        match status {
            "PASS" => self.passed += 1,
            "FAIL" => self.failed += 1,
            _ => self.skipped += 1,
        }
        println!("{status} {name}: {detail}");
    }

    /// Runs `check` under the timeout unless the driver skipped it.
    async fn run<F>(&mut self, name: &str, check: F)
    where
        F: Future<Output = Result<String, String>>,
    {
        if let Some(reason) = self.skips.get(name).cloned() {
            self.line("SKIP", name, &reason);
            return;
        }
        match tokio::time::timeout(self.timeout, check).await {
            Ok(Ok(detail)) => self.line("PASS", name, &detail),
            Ok(Err(reason)) => self.line("FAIL", name, &reason),
            Err(_) => self.line(
                "FAIL",
                name,
                &format!("no answer within {:?}", self.timeout),
            ),
        }
    }
}

/// What the client's callbacks saw.
#[derive(Default)]
struct Seen {
    logs: Mutex<Vec<LoggingMessageNotificationParams>>,
    samplings: AtomicUsize,
    elicitations: AtomicUsize,
    resumption_tokens: AtomicUsize,
    connections: Arc<AtomicUsize>,
}

fn text(result: &CallToolResult) -> String {
    let parts: Vec<&str> = result.content.iter().filter_map(|c| c.as_text()).collect();
    parts.join("\n")
}

fn ok_text(result: Result<CallToolResult, RequestError>) -> Result<String, String> {
    let result = result.map_err(|e| format!("the call failed: {e}"))?;
    if result.is_error == Some(true) {
        return Err(format!("isError result: {}", text(&result)));
    }
    Ok(text(&result))
}

/// Fills a form: `name` gets [`NAME`], booleans `true`; the client adds the schema defaults.
fn fill_form(params: &ElicitRequestParams) -> JsonObject {
    let mut content = JsonObject::new();
    if let ElicitRequestParams::Form(form) = params
        && let Some(Value::Object(properties)) = form.requested_schema.get("properties")
    {
        for (key, schema) in properties {
            if key == "name" {
                content.insert(key.clone(), json!(NAME));
            } else if schema["type"] == "boolean" {
                content.insert(key.clone(), json!(true));
            }
        }
    }
    content
}

async fn connect(url: &str, seen: &Arc<Seen>) -> Result<Client, String> {
    let tokens = seen.clone();
    let config = HttpClientConfig::builder()
        .on_resumption_token(move |_, _| {
            tokens.resumption_tokens.fetch_add(1, Ordering::SeqCst);
        })
        .build();
    // Our own HTTP client (as a user may bring one), counting the TCP connections it opens:
    // the hook runs once per new connection.
    let connections = seen.connections.clone();
    let http = HttpClient::builder()
        .on_connect(move |_| {
            connections.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let transport =
        StreamableHttpClient::with_client(url, http, config).map_err(|e| e.to_string())?;
    let (logs, samplings, elicitations) = (seen.clone(), seen.clone(), seen.clone());
    Client::builder("mcp-http-interop-check", env!("CARGO_PKG_VERSION"))
        // These checks are about the legacy transport (sessions, resumption, a restarted
        // server); scripts/interop-modern.sh checks the 2026-07-28 era.
        .era(mcp_http_client::Era::Legacy)
        .on_log(move |log| {
            logs.logs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(log)
        })
        .sampling(move |_, _| {
            samplings.samplings.fetch_add(1, Ordering::SeqCst);
            async {
                serde_json::from_value::<CreateMessageResult>(json!({
                    "role": "assistant", "model": "interop-check-model", "stopReason": "endTurn",
                    "content": {"type": "text", "text": SAMPLED}}))
                .map_err(|e| mcp_http_client::proto::ErrorObject::new(-32603, e.to_string()))
            }
        })
        .elicitation(move |params, _| {
            elicitations.elicitations.fetch_add(1, Ordering::SeqCst);
            let content = fill_form(&params);
            async move { Ok(ElicitResult::accept(content)) }
        })
        .apply_elicitation_defaults(true)
        .connect(transport)
        .await
        .map_err(|e| format!("initialize failed: {e}"))
}

struct Checker {
    client: Client,
    seen: Arc<Seen>,
    flavor: Flavor,
    timeout: Duration,
}

impl Checker {
    fn options(&self) -> RequestOptions {
        RequestOptions::default().timeout(self.timeout)
    }

    async fn call(&self, name: &str, arguments: Value) -> Result<String, String> {
        ok_text(
            self.client
                .call_tool_with(name, arguments, self.options())
                .await,
        )
    }

    async fn list_tools(&self) -> Result<String, String> {
        let tools = self
            .client
            .list_all_tools()
            .await
            .map_err(|e| e.to_string())?;
        let have: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        let want: &[&str] = match self.flavor {
            Flavor::Standin => &[
                "echo",
                "long_running_operation",
                "sample_llm",
                "ask_user",
                "test_reconnection",
            ],
            Flavor::Everything => &[
                "echo",
                "trigger-long-running-operation",
                "toggle-simulated-logging",
                "trigger-sampling-request",
                "trigger-elicitation-request",
            ],
        };
        let missing: Vec<&&str> = want.iter().filter(|n| !have.contains(n)).collect();
        if !missing.is_empty() {
            return Err(format!("missing tools {missing:?} (got {have:?})"));
        }
        Ok(format!(
            "{} tools, including {}",
            tools.len(),
            want.join(", ")
        ))
    }

    async fn echo(&self) -> Result<String, String> {
        let message = "interop: héllo ✓ 123";
        let got = self.call("echo", json!({ "message": message })).await?;
        let want = match self.flavor {
            Flavor::Standin => message.to_owned(),
            Flavor::Everything => format!("Echo: {message}"),
        };
        if got != want {
            return Err(format!("got {got:?}, expected {want:?}"));
        }
        Ok(format!("{got:?}"))
    }

    /// Sequential calls reuse the pooled connection: the client reads each answer to its end,
    /// JSON or SSE, so the connection can go back to the pool (issue 4, item 7).
    async fn pooling(&self) -> Result<String, String> {
        const CALLS: usize = 20;
        let before = self.seen.connections.load(Ordering::SeqCst);
        for i in 0..CALLS {
            let message = format!("pooled {i}");
            let got = self.call("echo", json!({ "message": message })).await?;
            if !got.ends_with(&message) {
                return Err(format!("call {i}: got {got:?}"));
            }
        }
        // One may be needed when a stream's end comes after the next call starts, rarely more;
        // a client that drops answered streams before their end opens one per SSE answer.
        const MAX_NEW: usize = 3;
        let opened = self.seen.connections.load(Ordering::SeqCst) - before;
        if opened > MAX_NEW {
            return Err(format!(
                "{CALLS} sequential calls opened {opened} new connections (at most {MAX_NEW} \
                 expected): the pooled connection was not reused"
            ));
        }
        Ok(format!(
            "{CALLS} sequential calls opened {opened} new connection(s)"
        ))
    }

    /// A call with a progress callback: three increasing notifications, in order, before the
    /// result. Returns the progress detail and the log messages that arrived during the call.
    async fn progress_call(&self) -> Result<(String, Vec<String>), String> {
        self.client
            .set_logging_level(LoggingLevel::Info)
            .await
            .map_err(|e| format!("logging/setLevel failed: {e}"))?;
        self.take_logs();
        let progress = Arc::new(Mutex::new(Vec::new()));
        let sink = progress.clone();
        let options = self.options().on_progress(move |p| {
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((p.progress, p.total))
        });
        let tool = match self.flavor {
            Flavor::Standin => "long_running_operation",
            Flavor::Everything => "trigger-long-running-operation",
        };
        let started = Instant::now();
        let result = self
            .client
            .call_tool_with(tool, json!({"duration": 1, "steps": 3}), options)
            .await;
        let got = ok_text(result)?;
        if !got.contains("Steps: 3") {
            return Err(format!("unexpected result {got:?}"));
        }
        let progress = progress.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let values: Vec<f64> = progress.iter().map(|p| p.0).collect();
        if values != [1.0, 2.0, 3.0] || progress.iter().any(|p| p.1 != Some(3.0)) {
            return Err(format!(
                "expected progress 1, 2, 3 of 3 before the result, got {progress:?}"
            ));
        }
        let logs = self.take_logs();
        Ok((
            format!(
                "progress {values:?} of 3 via the callback, result after {:?}",
                started.elapsed()
            ),
            logs,
        ))
    }

    fn take_logs(&self) -> Vec<String> {
        let mut logs = self.seen.logs.lock().unwrap_or_else(|e| e.into_inner());
        logs.drain(..)
            .map(|l| match l.data {
                Value::String(s) => s,
                other => other.to_string(),
            })
            .collect()
    }

    /// server-everything logs on the GET stream: toggle-simulated-logging sends one message at
    /// once and one every 5 s, at a random level (so the level is set to debug first).
    async fn everything_logs(&self) -> Result<String, String> {
        self.client
            .set_logging_level(LoggingLevel::Debug)
            .await
            .map_err(|e| format!("logging/setLevel failed: {e}"))?;
        self.take_logs();
        let started = self.call("toggle-simulated-logging", json!({})).await?;
        if !started.starts_with("Started") {
            return Err(format!("unexpected result {started:?}"));
        }
        let deadline = Instant::now() + Duration::from_secs(12);
        let mut logs = Vec::new();
        while logs.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            logs = self.take_logs();
        }
        let stopped = self.call("toggle-simulated-logging", json!({})).await?;
        match logs.first() {
            Some(first) if stopped.starts_with("Stopped") => Ok(format!(
                "{} log message(s) on the GET stream, first {first:?}",
                logs.len()
            )),
            Some(_) => Err(format!("could not stop the logging: {stopped:?}")),
            None => Err("no log message within 12 s of toggle-simulated-logging".into()),
        }
    }

    async fn sampling(&self) -> Result<String, String> {
        let before = self.seen.samplings.load(Ordering::SeqCst);
        let got = match self.flavor {
            Flavor::Standin => {
                self.call("sample_llm", json!({"prompt": "Say hello"}))
                    .await?
            }
            Flavor::Everything => {
                self.call("trigger-sampling-request", json!({"prompt": "Say hello"}))
                    .await?
            }
        };
        if self.seen.samplings.load(Ordering::SeqCst) == before {
            return Err("the sampling handler was never called".into());
        }
        if !got.contains(SAMPLED) {
            return Err(format!("the result {got:?} lacks {SAMPLED:?}"));
        }
        let line = got
            .lines()
            .find(|l| l.contains(SAMPLED))
            .unwrap_or_default();
        Ok(format!(
            "the server got our sampled text back: {:?}",
            line.trim()
        ))
    }

    async fn elicitation(&self) -> Result<String, String> {
        let before = self.seen.elicitations.load(Ordering::SeqCst);
        let (got, want): (String, &[&str]) = match self.flavor {
            Flavor::Standin => (
                self.call("ask_user", json!({"message": "Who are you?"}))
                    .await?,
                &["action=accept", NAME],
            ),
            Flavor::Everything => (
                self.call("trigger-elicitation-request", json!({})).await?,
                &["User provided the requested information", NAME],
            ),
        };
        if self.seen.elicitations.load(Ordering::SeqCst) == before {
            return Err("the elicitation handler was never called".into());
        }
        if let Some(missing) = want.iter().find(|w| !got.contains(**w)) {
            return Err(format!("the result {got:?} lacks {missing:?}"));
        }
        Ok(format!("the server got our answer: {:?}", first_line(&got)))
    }

    /// T-33, T-37: the server closes the POST's stream mid-call; the result can then only
    /// arrive through GET + Last-Event-ID.
    async fn resume(&self) -> Result<String, String> {
        let before = self.seen.resumption_tokens.load(Ordering::SeqCst);
        let started = Instant::now();
        let got = self.call("test_reconnection", json!({})).await?;
        if !got.contains("Reconnection test completed successfully") {
            return Err(format!("unexpected result {got:?}"));
        }
        if !got.contains(CLOSED_MARK) {
            return Err(format!(
                "the server did not close the stream, so nothing was resumed: {got:?}"
            ));
        }
        let tokens = self.seen.resumption_tokens.load(Ordering::SeqCst) - before;
        Ok(format!(
            "result after the server closed the stream, in {:?} ({tokens} event ids seen)",
            started.elapsed()
        ))
    }

    async fn restart_down(&self) -> Result<String, String> {
        let started = Instant::now();
        let options = RequestOptions::default().timeout(Duration::from_secs(10));
        match self
            .client
            .call_tool_with("echo", json!({"message": "down?"}), options)
            .await
        {
            Ok(r) => Err(format!(
                "a call succeeded while the server was down: {:?}",
                text(&r)
            )),
            Err(RequestError::Timeout(t)) => Err(format!(
                "no error while the server was down, only a timeout after {t:?}"
            )),
            Err(e) => Ok(format!("failed in {:?}: {e}", started.elapsed())),
        }
    }

    async fn restart_recover(&self) -> Result<String, String> {
        let started = Instant::now();
        let echoed = self.echo().await.map_err(|e| format!("echo: {e}"))?;
        let listed = self
            .list_tools()
            .await
            .map_err(|e| format!("tools/list: {e}"))?;
        Ok(format!(
            "same Client: echo {echoed} in {:?}, then {listed}",
            started.elapsed()
        ))
    }
}

fn first_line(s: &str) -> &str {
    s.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
}

/// Prints `WAITING what` and waits for the driver's line on stdin.
async fn wait_for_driver(
    what: &str,
    stdin: &mut tokio::io::Lines<tokio::io::BufReader<tokio::io::Stdin>>,
) -> Result<(), String> {
    println!("WAITING {what}");
    match tokio::time::timeout(Duration::from_secs(120), stdin.next_line()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => Err(format!("stdin closed while waiting for {what}")),
        Ok(Err(e)) => Err(format!("cannot read stdin: {e}")),
        Err(_) => Err(format!("no {what} line on stdin within 120 s")),
    }
}

async fn run(args: Args) -> Report {
    let mut report = Report {
        failed: 0,
        passed: 0,
        skipped: 0,
        skips: args.skips,
        timeout: args.timeout,
    };
    let seen = Arc::new(Seen::default());
    let mut client = None;
    report
        .run("initialize", async {
            let c = connect(&args.url, &seen).await?;
            let version = c.protocol_version();
            let info = c
                .server_info()
                .map(|i| format!("{} {}", i.name, i.version))
                .unwrap_or_default();
            client = Some(c);
            match version.as_str() {
                "2025-11-25" => Ok(format!("protocol {version}, server {info}")),
                other => Err(format!("negotiated {other}, expected 2025-11-25")),
            }
        })
        .await;
    let Some(client) = client else {
        for name in &CHECKS[1..] {
            report.line("FAIL", name, "not run: initialize failed");
        }
        return report;
    };
    let checker = Checker {
        client,
        seen,
        flavor: args.flavor,
        timeout: args.timeout,
    };
    report.run("list_tools", checker.list_tools()).await;
    report
        .run("list_resources", async {
            let all = checker.client.list_all_resources().await;
            let all = all.map_err(|e| e.to_string())?;
            if all.is_empty() {
                return Err("no resources".into());
            }
            Ok(format!("{} resources", all.len()))
        })
        .await;
    report
        .run("list_prompts", async {
            let all = checker.client.list_all_prompts().await;
            let all = all.map_err(|e| e.to_string())?;
            if all.is_empty() {
                return Err("no prompts".into());
            }
            Ok(format!("{} prompts", all.len()))
        })
        .await;
    report.run("echo", checker.echo()).await;
    report.run("pooling", checker.pooling()).await;
    let mut call_logs = None;
    report
        .run("progress", async {
            let (detail, logs) = checker.progress_call().await?;
            call_logs = Some(logs);
            Ok(detail)
        })
        .await;
    match checker.flavor {
        Flavor::Everything => report.run("logs", checker.everything_logs()).await,
        Flavor::Standin => {
            report
                .run("logs", async {
                    let logs = call_logs.ok_or("not run: the progress call failed")?;
                    let steps = logs
                        .iter()
                        .filter(|l| l.contains("long_running_operation: step"));
                    if steps.count() != 3 {
                        return Err(format!(
                            "expected 3 step logs during the call, got {logs:?}"
                        ));
                    }
                    Ok(format!(
                        "3 logs via on_log during the call, first {:?}",
                        logs[0]
                    ))
                })
                .await
        }
    }
    report.run("sampling", checker.sampling()).await;
    report.run("elicitation", checker.elicitation()).await;
    if checker.flavor == Flavor::Everything && !report.skips.contains_key("resume") {
        report.line(
            "FAIL",
            "resume",
            "server-everything has no tool that closes a stream; pass --skip resume=REASON",
        );
    } else {
        report.run("resume", checker.resume()).await;
    }
    if args.restart {
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        if let Err(e) = wait_for_driver("kill", &mut stdin).await {
            report.line("FAIL", "restart_down", &e);
            report.line("FAIL", "restart_recover", "not run");
            return report;
        }
        report.run("restart_down", checker.restart_down()).await;
        if let Err(e) = wait_for_driver("start", &mut stdin).await {
            report.line("FAIL", "restart_recover", &e);
            return report;
        }
        report
            .run("restart_recover", checker.restart_recover())
            .await;
    }
    // Ends the session with DELETE (T-42), bounded: a peer that never answers must not hang us.
    let _ = tokio::time::timeout(Duration::from_secs(5), checker.client.shutdown()).await;
    report
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MCP_HTTP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("client_check: {e}");
            eprintln!(
                "usage: client_check URL [--flavor standin|everything] [--skip CHECK=REASON]... [--restart] [--timeout SECONDS]"
            );
            std::process::exit(2);
        }
    };
    let report = run(args).await;
    println!(
        "client_check: {} passed, {} failed, {} skipped",
        report.passed, report.failed, report.skipped
    );
    std::process::exit(if report.failed == 0 { 0 } else { 1 });
}
