//! The mixed workload of a soak (`bench --mix`): every worker runs cycles of what real clients
//! do to a server, checks each outcome, and tallies per time window, so a long run shows whether
//! latency and errors drift from the first minute to the last.
//!
//! One cycle of a worker:
//! - a session of our own client (`Client` over `StreamableHttpClient`, with its GET stream):
//!   quick calls, a call that streams progress (every notification must arrive), a sampling round
//!   trip (the server asks, the worker's model answers), a call whose stream the server closes
//!   (the client resumes it), then the session is deleted;
//! - a raw session on hyper connections: a GET stream opened and dropped, a call whose POST
//!   connection the worker breaks after the first event and resumes with `Last-Event-ID` on a
//!   new connection (nothing missed, nothing twice), then the session is deleted (and a request
//!   on it must get 404) or abandoned for the server's idle reaper.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderValue, StatusCode};
use http_body_util::BodyExt;
use mcp_http_client::Client;
use mcp_http_client_http::StreamableHttpClient;
use mcp_http_core::RequestOptions;
use mcp_http_proto::{CreateMessageResult, ErrorObject};
use serde::Serialize;

use super::conn::{Conn, McpHeaders, Target};
use super::report::{Latency, Tally};
use super::rpc::{Failure, check_answer, for_each_event, initialize, within};

/// Everything a mixed run needs.
pub(crate) struct MixPlan {
    pub(crate) target: Target,
    pub(crate) workers: usize,
    pub(crate) duration: Duration,
    pub(crate) window: Duration,
    pub(crate) timeout: Duration,
    pub(crate) version: String,
}

/// The kinds of operation a cycle makes, in the order of the report.
const OPS: [&str; 9] = [
    "quick call",
    "progress call",
    "sampling round trip",
    "stream closed by the server, resumed",
    "stream broken by the client, resumed",
    "GET stream opened and dropped",
    "session deleted",
    "session abandoned",
    "session started",
];
const QUICK: usize = 0;
const PROGRESS: usize = 1;
const SAMPLING: usize = 2;
const SERVER_BREAK: usize = 3;
const CLIENT_BREAK: usize = 4;
const GET_DROPPED: usize = 5;
const DELETED: usize = 6;
const ABANDONED: usize = 7;
const STARTED: usize = 8;

/// Quick calls per cycle (most of what a real client sends).
const QUICK_PER_CYCLE: usize = 16;
/// Progress steps of the streamed calls.
const STEPS: u32 = 4;

/// One time window of one worker.
struct Window {
    /// Latencies of quick calls.
    quick: Tally,
    /// Completed operations by kind.
    ops: [u64; OPS.len()],
}

impl Window {
    fn new() -> Result<Window, String> {
        Ok(Window {
            quick: Tally::new()?,
            ops: [0; OPS.len()],
        })
    }
}

/// A worker's windows, created as time reaches them.
struct Windows {
    start: Instant,
    width: Duration,
    all: Vec<Window>,
}

impl Windows {
    fn current(&mut self) -> Result<&mut Window, String> {
        let index = (self.start.elapsed().as_secs_f64() / self.width.as_secs_f64()) as usize;
        while self.all.len() <= index {
            self.all.push(Window::new()?);
        }
        Ok(&mut self.all[index])
    }

    fn done(&mut self, op: usize) -> Result<(), String> {
        self.current()?.ops[op] += 1;
        Ok(())
    }

    fn failed(&mut self, op: usize, failure: &Failure) -> Result<(), String> {
        let failure = Failure::Invalid(format!("{}: {}", OPS[op], failure.describe()));
        self.current()?.quick.failure(&failure);
        Ok(())
    }
}

/// What one window of the whole run measured.
#[derive(Serialize)]
pub(crate) struct WindowReport {
    /// Seconds from the start to the window's start.
    pub(crate) from_s: f64,
    pub(crate) quick_latency_us: Latency,
    pub(crate) ops: BTreeMap<&'static str, u64>,
    pub(crate) errors: BTreeMap<String, u64>,
}

/// The report of a mixed run.
#[derive(Serialize)]
pub(crate) struct MixReport {
    pub(crate) url: String,
    pub(crate) workers: usize,
    pub(crate) elapsed_s: f64,
    pub(crate) ops: BTreeMap<&'static str, u64>,
    pub(crate) errors: BTreeMap<String, u64>,
    pub(crate) examples: BTreeMap<String, String>,
    pub(crate) quick_latency_us: Latency,
    pub(crate) windows: Vec<WindowReport>,
}

impl MixReport {
    /// Total errors.
    pub(crate) fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The human-readable form.
    pub(crate) fn text(&self) -> String {
        let mut out = format!(
            "{} (mixed workload, {} workers, {:.1} s): {} errors\n",
            self.url,
            self.workers,
            self.elapsed_s,
            self.error_count()
        );
        for (op, n) in &self.ops {
            out.push_str(&format!("  {n:>8} x {op}\n"));
        }
        for (kind, n) in &self.errors {
            let example = self.examples.get(kind).map_or("", String::as_str);
            out.push_str(&format!("  {n} x {kind} (e.g. {example})\n"));
        }
        out.push_str("window   quick calls   p50 (us)   p99 (us)   max (us)   errors\n");
        for w in &self.windows {
            out.push_str(&format!(
                "{:>6.0} s {:>13} {:>10.0} {:>10.0} {:>10.0} {:>8}\n",
                w.from_s,
                w.ops.get(OPS[QUICK]).copied().unwrap_or(0),
                w.quick_latency_us.p50,
                w.quick_latency_us.p99,
                w.quick_latency_us.max,
                w.errors.values().sum::<u64>()
            ));
        }
        out
    }
}

/// Runs the mixed workload.
pub(crate) async fn run(plan: MixPlan) -> Result<MixReport, String> {
    if plan.window.is_zero() {
        return Err("--window must be more than 0 seconds".to_owned());
    }
    let start = Instant::now();
    let shared = Arc::new(Shared {
        target: plan.target,
        timeout: plan.timeout,
        version: plan.version,
        deadline: start + plan.duration,
        next_id: AtomicU64::new(1),
        cycles: AtomicU64::new(0),
    });
    let workers = (0..plan.workers.max(1)).map(|_| {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut windows = Windows {
                start,
                width: plan.window,
                all: Vec::new(),
            };
            while Instant::now() < shared.deadline {
                let cycle = shared.cycles.fetch_add(1, Relaxed);
                shared.cycle(cycle, &mut windows).await?;
            }
            Ok::<_, String>(windows.all)
        })
    });
    let mut merged: Vec<Window> = Vec::new();
    for worker in futures::future::join_all(workers).await {
        let windows = worker.map_err(|e| format!("a worker failed: {e}"))??;
        for (i, window) in windows.into_iter().enumerate() {
            while merged.len() <= i {
                merged.push(Window::new()?);
            }
            merged[i].quick.merge(window.quick);
            for (total, n) in merged[i].ops.iter_mut().zip(window.ops) {
                *total += n;
            }
        }
    }
    let mut total = Window::new()?;
    let mut windows = Vec::new();
    for (i, window) in merged.into_iter().enumerate() {
        windows.push(WindowReport {
            from_s: (plan.window * i as u32).as_secs_f64(),
            quick_latency_us: Latency::of(&window.quick.latency),
            ops: named(&window.ops),
            errors: window.quick.errors.clone(),
        });
        for (t, n) in total.ops.iter_mut().zip(window.ops) {
            *t += n;
        }
        total.quick.merge(window.quick);
    }
    Ok(MixReport {
        url: shared.target.url.clone(),
        workers: plan.workers.max(1),
        elapsed_s: start.elapsed().as_secs_f64(),
        ops: named(&total.ops),
        errors: total.quick.errors.clone(),
        examples: total.quick.examples.clone(),
        quick_latency_us: Latency::of(&total.quick.latency),
        windows,
    })
}

fn named(ops: &[u64; OPS.len()]) -> BTreeMap<&'static str, u64> {
    OPS.iter().copied().zip(ops.iter().copied()).collect()
}

struct Shared {
    target: Target,
    timeout: Duration,
    version: String,
    deadline: Instant,
    next_id: AtomicU64,
    cycles: AtomicU64,
}

impl Shared {
    fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Relaxed)
    }

    /// One cycle; a failed operation is tallied and the cycle goes on where it can.
    async fn cycle(&self, cycle: u64, windows: &mut Windows) -> Result<(), String> {
        match self.client_session(windows).await {
            Ok(()) => {}
            Err((op, failure)) => windows.failed(op, &failure)?,
        }
        if let Err((op, failure)) = self.raw_session(cycle, windows).await {
            windows.failed(op, &failure)?;
        }
        Ok(())
    }

    /// The session of our own client.
    async fn client_session(&self, windows: &mut Windows) -> Result<(), (usize, Failure)> {
        let transport = StreamableHttpClient::new(&self.target.url)
            .map_err(|e| (STARTED, Failure::Transport(e.to_string())))?;
        let client = within(self.timeout, async {
            Client::builder("mcp-http-soak", env!("CARGO_PKG_VERSION"))
                .sampling(|params, _| async move {
                    let asked = params.messages.len();
                    serde_json::from_value::<CreateMessageResult>(serde_json::json!({
                        "role": "assistant", "model": "soak",
                        "content": {"type": "text", "text": format!("soak answer to {asked}")}
                    }))
                    .map_err(|_| ErrorObject::internal())
                })
                .connect(transport)
                .await
                .map_err(|e| Failure::Transport(e.to_string()))
        })
        .await
        .map_err(|f| (STARTED, f))?;
        tally(windows, STARTED)?;
        let outcome = self.client_ops(&client, windows).await;
        let deleted = within(self.timeout, async {
            client.shutdown().await;
            Ok(())
        })
        .await;
        outcome?;
        deleted.map_err(|f| (DELETED, f))?;
        tally(windows, DELETED)
    }

    async fn client_ops(
        &self,
        client: &Client,
        windows: &mut Windows,
    ) -> Result<(), (usize, Failure)> {
        for _ in 0..QUICK_PER_CYCLE {
            let started = Instant::now();
            let quick = serde_json::json!({"message": "soak"});
            self.call(client, "echo", quick, RequestOptions::default(), QUICK)
                .await?;
            let elapsed = started.elapsed();
            let window = windows
                .current()
                .map_err(|e| (QUICK, Failure::Invalid(e)))?;
            window.quick.success(elapsed);
            window.ops[QUICK] += 1;
        }
        let seen = Arc::new(AtomicU64::new(0));
        let counter = seen.clone();
        let options = RequestOptions::default().on_progress(move |_| {
            counter.fetch_add(1, Relaxed);
        });
        self.tool(client, "long_running_operation", steps(), options, PROGRESS)
            .await?;
        let got = seen.load(Relaxed);
        if got != u64::from(STEPS) {
            return Err((
                PROGRESS,
                Failure::Invalid(format!("{got} progress notifications of {STEPS}")),
            ));
        }
        tally(windows, PROGRESS)?;
        let text = self
            .tool(
                client,
                "sample_llm",
                serde_json::json!({"prompt": "soak"}),
                RequestOptions::default(),
                SAMPLING,
            )
            .await?;
        if !text.contains("soak answer to 1") {
            return Err((SAMPLING, Failure::Invalid(format!("answered {text:?}"))));
        }
        tally(windows, SAMPLING)?;
        self.tool(
            client,
            "test_reconnection",
            serde_json::json!({}),
            RequestOptions::default(),
            SERVER_BREAK,
        )
        .await?;
        tally(windows, SERVER_BREAK)
    }

    /// Calls a tool; its result, or the failure (an error, a timeout, `isError`) tallied as `op`.
    async fn call(
        &self,
        client: &Client,
        name: &str,
        arguments: serde_json::Value,
        options: RequestOptions,
        op: usize,
    ) -> Result<mcp_http_proto::CallToolResult, (usize, Failure)> {
        let result = within(self.timeout, async {
            client
                .call_tool_with(name, arguments, options)
                .await
                .map_err(request_failure)
        })
        .await
        .map_err(|f| (op, f))?;
        if result.is_error == Some(true) {
            return Err((op, Failure::ToolError));
        }
        Ok(result)
    }

    /// Calls a tool; its first text content, or the failure tallied as `op`.
    async fn tool(
        &self,
        client: &Client,
        name: &str,
        arguments: serde_json::Value,
        options: RequestOptions,
        op: usize,
    ) -> Result<String, (usize, Failure)> {
        let result = self.call(client, name, arguments, options, op).await?;
        let value = serde_json::to_value(&result.content).unwrap_or_default();
        Ok(value
            .pointer("/0/text")
            .and_then(|t| t.as_str())
            .unwrap_or_default()
            .to_owned())
    }

    /// The raw session: a GET dropped, a POST broken and resumed, then deleted or abandoned.
    async fn raw_session(&self, cycle: u64, windows: &mut Windows) -> Result<(), (usize, Failure)> {
        let mut conn = Conn::open(&self.target, self.timeout)
            .await
            .map_err(|f| (STARTED, f))?;
        let session = initialize(
            &mut conn,
            &self.target,
            &self.version,
            self.id(),
            self.timeout,
        )
        .await
        .map_err(|f| (STARTED, f))?;
        tally(windows, STARTED)?;
        let headers = session.headers;
        // A GET stream opened, then its connection dropped.
        let mut get = Conn::open(&self.target, self.timeout)
            .await
            .map_err(|f| (GET_DROPPED, f))?;
        let response = within(self.timeout, get.get_stream(&self.target, &headers))
            .await
            .map_err(|f| (GET_DROPPED, f))?;
        if response.status() != StatusCode::OK {
            return Err((GET_DROPPED, Failure::Http(response.status().as_u16())));
        }
        drop(response);
        drop(get);
        tally(windows, GET_DROPPED)?;
        self.break_and_resume(&headers)
            .await
            .map_err(|f| (CLIENT_BREAK, f))?;
        tally(windows, CLIENT_BREAK)?;
        if cycle % 2 == 1 {
            // Abandoned: the server's idle reaper ends it.
            return tally(windows, ABANDONED);
        }
        let reply = within(self.timeout, conn.delete(&self.target, &headers))
            .await
            .map_err(|f| (DELETED, f))?;
        if reply != StatusCode::OK && reply != StatusCode::NO_CONTENT {
            return Err((DELETED, Failure::Http(reply.as_u16())));
        }
        let body = super::rpc::CallBody::new("echo", &serde_json::json!({"message": "gone"}));
        let reply = within(
            self.timeout,
            conn.post(&self.target, &headers, body.with_id(self.id())),
        )
        .await
        .map_err(|f| (DELETED, f))?;
        if reply.status != StatusCode::NOT_FOUND {
            return Err((
                DELETED,
                Failure::Invalid(format!("a deleted session answered {}", reply.status)),
            ));
        }
        tally(windows, DELETED)
    }

    /// A progress call whose POST connection is dropped after its first event; the rest of its
    /// stream is read with `Last-Event-ID` on a new connection. Every step must arrive once.
    async fn break_and_resume(&self, headers: &McpHeaders) -> Result<(), Failure> {
        let id = self.id();
        let body = serde_json::json!({
            "jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "long_running_operation", "arguments": steps(),
                       "_meta": {"progressToken": id}}
        });
        let mut conn = Conn::open(&self.target, self.timeout).await?;
        let response = within(
            self.timeout,
            conn.post_unread(&self.target, headers, Bytes::from(body.to_string())),
        )
        .await?;
        if response.status() != StatusCode::OK {
            return Err(Failure::Http(response.status().as_u16()));
        }
        let mut events = Events::default();
        let mut body = response.into_body().into_data_stream();
        // Read until the first progress notification (one with an event id), then break.
        while events.progress == 0 {
            let chunk = within(self.timeout, async {
                body.next()
                    .await
                    .ok_or_else(|| Failure::Invalid("the stream ended before any progress".into()))?
                    .map_err(|e| Failure::Transport(e.to_string()))
            })
            .await?;
            events.feed(&chunk, id)?;
        }
        if events.answered {
            return Err(Failure::Invalid("answered before the break".to_owned()));
        }
        if events.last_id.is_none() {
            return Err(Failure::Invalid(
                "events carry no id (resumability off?)".to_owned(),
            ));
        }
        drop(body);
        drop(conn);
        // A server may end a resumed stream before the answer (another instance replayed what
        // it had, or it is shutting down): resume again from the last event, as a client must.
        let deadline = tokio::time::Instant::now() + self.timeout;
        while !events.answered {
            if tokio::time::Instant::now() >= deadline {
                return Err(Failure::Timeout);
            }
            let last = events.last_id.clone().unwrap_or_default();
            let last = HeaderValue::from_str(&last)
                .map_err(|_| Failure::Invalid(format!("event id {last:?}")))?;
            let mut resumed = Conn::open(&self.target, self.timeout).await?;
            let response =
                within(self.timeout, resumed.resume(&self.target, headers, last)).await?;
            if response.status() != StatusCode::OK {
                return Err(Failure::Http(response.status().as_u16()));
            }
            let mut body = response.into_body().into_data_stream();
            while !events.answered {
                let chunk = match tokio::time::timeout_at(deadline, body.next()).await {
                    Err(_) => return Err(Failure::Timeout),
                    // Ended early: a pause (bounded by the deadline), then resume again.
                    Ok(None) => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        break;
                    }
                    Ok(Some(chunk)) => chunk.map_err(|e| Failure::Transport(e.to_string()))?,
                };
                events.feed(&chunk, id)?;
            }
        }
        if events.progress != u64::from(STEPS) {
            return Err(Failure::Invalid(format!(
                "{} progress notifications of {STEPS} across the break",
                events.progress
            )));
        }
        Ok(())
    }
}

fn steps() -> serde_json::Value {
    serde_json::json!({"duration": 0.2, "steps": STEPS})
}

/// A failed request, counted by its JSON-RPC code when the server answered with one.
fn request_failure(e: mcp_http_core::RequestError) -> Failure {
    match e {
        mcp_http_core::RequestError::Rpc(error) => {
            Failure::Rpc(i64::from(error.code), error.message)
        }
        other => Failure::Transport(other.to_string()),
    }
}

fn tally(windows: &mut Windows, op: usize) -> Result<(), (usize, Failure)> {
    windows.done(op).map_err(|e| (op, Failure::Invalid(e)))
}

/// What an SSE stream of one call delivered so far; chunks may split events anywhere.
#[derive(Default)]
struct Events {
    pending: Vec<u8>,
    last_id: Option<String>,
    progress: u64,
    answered: bool,
}

impl Events {
    fn feed(&mut self, chunk: &[u8], id: u64) -> Result<(), Failure> {
        self.pending.extend_from_slice(chunk);
        // Complete events end with a blank line.
        let Some(end) = find_last(&self.pending, b"\n\n") else {
            return Ok(());
        };
        let complete: Vec<u8> = self.pending.drain(..end + 2).collect();
        for event in complete
            .split(|&b| b == b'\n')
            .collect::<Vec<_>>()
            .split(|l| l.is_empty())
        {
            for line in event {
                if let Some(value) = line.strip_prefix(b"id:") {
                    let value = value.strip_prefix(b" ").unwrap_or(value);
                    self.last_id = Some(String::from_utf8_lossy(value).into_owned());
                }
            }
        }
        let mut result = Ok(());
        for_each_event(&complete, &mut |data| {
            if find_last(data, b"\"notifications/progress\"").is_some() {
                self.progress += 1;
            } else if !data.is_empty() && result.is_ok() {
                match check_answer(data, false, id) {
                    Ok(()) => self.answered = true,
                    // Logs and other messages are not the answer.
                    Err(Failure::Invalid(_)) => {}
                    Err(failure) => result = Err(failure),
                }
            }
        });
        result
    }
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}
