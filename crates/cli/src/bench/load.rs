//! The load run: C workers, each with its own keep-alive connection, spread across the sessions,
//! calling one tool until the duration or the count runs out.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use futures::StreamExt;
use http::{HeaderValue, StatusCode};
use indicatif::{ProgressBar, ProgressStyle};

use super::conn::{Conn, McpHeaders, Target};
use super::report::{Errors, Latency, Report, Tally};
use super::rpc::{CallBody, Failure, Session, check_answer, initialize, within};

/// When the run stops.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stop {
    /// After this long (calls in flight finish).
    After(Duration),
    /// After this many calls.
    Count(u64),
}

/// Everything a load run needs.
pub(crate) struct Plan {
    pub(crate) target: Target,
    pub(crate) stateless: bool,
    /// 2026-07-28 requests (stateless too).
    pub(crate) modern: bool,
    pub(crate) sessions: usize,
    pub(crate) concurrency: usize,
    pub(crate) stop: Stop,
    pub(crate) warmup: Duration,
    pub(crate) timeout: Duration,
    pub(crate) version: String,
    pub(crate) tool: String,
    pub(crate) body: CallBody,
    pub(crate) progress: bool,
}

/// State the workers share: counters only.
struct Shared {
    target: Target,
    body: CallBody,
    timeout: Duration,
    next_id: AtomicU64,
    claimed: AtomicU64,
    done: AtomicU64,
    finished: AtomicBool,
    warmup_end: Instant,
    stop: Stop,
    deadline: Instant,
}

impl Shared {
    /// Takes the right to make one more measured call.
    fn claim(&self) -> bool {
        match self.stop {
            Stop::Count(n) => self.claimed.fetch_add(1, Relaxed) < n,
            Stop::After(_) => Instant::now() < self.deadline,
        }
    }
}

/// Initializes `count` sessions over up to `parallel` connections (closed afterwards).
pub(crate) async fn init_sessions(
    target: &Target,
    count: usize,
    parallel: usize,
    version: &str,
    timeout: Duration,
    next_id: &AtomicU64,
) -> Result<Vec<Session>, String> {
    let parallel = parallel.clamp(1, count.max(1));
    let per = count.div_ceil(parallel);
    let batches = (0..parallel).map(|i| {
        let n = per.min(count.saturating_sub(i * per));
        async move {
            let mut out = Vec::with_capacity(n);
            let mut conn = None;
            for _ in 0..n {
                let c = match &mut conn {
                    Some(c) => c,
                    None => conn.insert(Conn::open(target, timeout).await?),
                };
                let id = next_id.fetch_add(1, Relaxed);
                match initialize(c, target, version, id, timeout).await {
                    Ok(session) => out.push(session),
                    Err(failure) => return Err(failure),
                }
            }
            Ok::<_, Failure>(out)
        }
    });
    let mut sessions = Vec::with_capacity(count);
    let mut batches = futures::stream::iter(batches).buffer_unordered(parallel);
    while let Some(batch) = batches.next().await {
        sessions.extend(batch.map_err(|f| format!("initialize failed: {}", f.describe()))?);
    }
    Ok(sessions)
}

/// The headers of a request outside any session: `MCP-Protocol-Version`, and for a 2026-07-28
/// `tools/call` of `tool` its `Mcp-Method` and `Mcp-Name`.
pub(crate) fn stateless_headers(
    version: &str,
    modern: bool,
    tool: &str,
) -> Result<McpHeaders, String> {
    let header = |value: &str| {
        HeaderValue::from_str(value).map_err(|_| format!("{value:?} cannot be a header"))
    };
    let (method, name) = match modern {
        true => (
            Some(header("tools/call")?),
            Some(header(&mcp_http_proto::header_value::encode(tool))?),
        ),
        false => (None, None),
    };
    Ok(McpHeaders {
        session: None,
        version: Some(header(version)?),
        method,
        name,
    })
}

/// Runs the load and returns the report.
pub(crate) async fn run(plan: Plan) -> Result<Report, String> {
    let next_id = AtomicU64::new(1);
    let sessions: Vec<McpHeaders> = if plan.stateless {
        vec![stateless_headers(&plan.version, plan.modern, &plan.tool)?]
    } else {
        init_sessions(
            &plan.target,
            plan.sessions,
            plan.concurrency,
            &plan.version,
            plan.timeout,
            &next_id,
        )
        .await?
        .into_iter()
        .map(|s| s.headers)
        .collect()
    };
    // Connections are opened before the clock starts; a worker whose connect failed retries
    // in its loop (and counts the failure).
    let conns = futures::future::join_all(
        (0..plan.concurrency).map(|_| Conn::open(&plan.target, plan.timeout)),
    )
    .await;
    let start = Instant::now();
    let warmup_end = start + plan.warmup;
    let shared = Arc::new(Shared {
        target: plan.target.clone(),
        body: plan.body.clone(),
        timeout: plan.timeout,
        next_id,
        claimed: AtomicU64::new(0),
        done: AtomicU64::new(0),
        finished: AtomicBool::new(false),
        warmup_end,
        stop: plan.stop,
        deadline: match plan.stop {
            Stop::After(d) => warmup_end + d,
            Stop::Count(_) => warmup_end,
        },
    });
    let mut workers = Vec::with_capacity(plan.concurrency);
    for (i, conn) in conns.into_iter().enumerate() {
        let headers = sessions[i % sessions.len()].clone();
        let tally = Tally::new()?;
        workers.push(tokio::spawn(worker(
            shared.clone(),
            headers,
            conn.ok(),
            tally,
        )));
    }
    let progress = plan
        .progress
        .then(|| tokio::spawn(show_progress(shared.clone())));
    let mut total = Tally::new()?;
    for worker in workers {
        total.merge(worker.await.map_err(|e| format!("worker failed: {e}"))?);
    }
    let end = Instant::now();
    shared.finished.store(true, Relaxed);
    if let Some(progress) = progress {
        let _ = progress.await;
    }
    let elapsed = end.saturating_duration_since(warmup_end).as_secs_f64();
    let errors = total.error_count();
    Ok(Report {
        url: plan.target.url.clone(),
        mode: match (plan.modern, plan.stateless) {
            (true, _) => "modern",
            (false, true) => "stateless",
            (false, false) => "stateful",
        },
        sessions: if plan.stateless { 0 } else { sessions.len() },
        concurrency: plan.concurrency,
        tool: plan.tool,
        elapsed_s: elapsed,
        requests: total.ok + errors,
        ok: total.ok,
        throughput_rps: if elapsed > 0.0 {
            total.ok as f64 / elapsed
        } else {
            0.0
        },
        latency_us: Latency::of(&total.latency),
        errors: Errors {
            total: errors,
            by_kind: total.errors,
            examples: total.examples,
        },
    })
}

async fn worker(
    shared: Arc<Shared>,
    headers: McpHeaders,
    mut conn: Option<Conn>,
    mut tally: Tally,
) -> Tally {
    while Instant::now() < shared.warmup_end {
        let _ = call(&shared, &headers, &mut conn).await;
    }
    while shared.claim() {
        let start = Instant::now();
        match call(&shared, &headers, &mut conn).await {
            Ok(()) => tally.success(start.elapsed()),
            Err(failure) => tally.failure(&failure),
        }
        shared.done.fetch_add(1, Relaxed);
    }
    tally
}

/// One `tools/call`, checked; drops the connection when its state is unknown.
async fn call(
    shared: &Shared,
    headers: &McpHeaders,
    conn: &mut Option<Conn>,
) -> Result<(), Failure> {
    let c = match conn {
        Some(c) => c,
        None => match Conn::open(&shared.target, shared.timeout).await {
            Ok(c) => conn.insert(c),
            Err(failure) => {
                // Do not spin on a server that is gone.
                tokio::time::sleep(Duration::from_millis(10)).await;
                return Err(failure);
            }
        },
    };
    let id = shared.next_id.fetch_add(1, Relaxed);
    let body = shared.body.with_id(id);
    let result = within(shared.timeout, async {
        let reply = c.post(&shared.target, headers, body).await?;
        if reply.status != StatusCode::OK {
            return Err(Failure::Http(reply.status.as_u16()));
        }
        check_answer(&reply.body, reply.is_sse(), id)
    })
    .await;
    if let Err(failure) = &result
        && failure.breaks_connection()
    {
        *conn = None;
    }
    result
}

/// A progress bar on a terminal; nothing otherwise.
async fn show_progress(shared: Arc<Shared>) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    let bar = match shared.stop {
        Stop::Count(n) => ProgressBar::new(n),
        Stop::After(d) => ProgressBar::new(d.as_millis().try_into().unwrap_or(u64::MAX)),
    };
    let template = "{spinner} [{elapsed_precise}] {wide_bar} {msg}";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut last = (Instant::now(), 0u64);
    loop {
        tick.tick().await;
        if shared.finished.load(Relaxed) {
            bar.finish_and_clear();
            return;
        }
        let now = Instant::now();
        let done = shared.done.load(Relaxed);
        if now < shared.warmup_end {
            bar.set_message("warming up");
            continue;
        }
        let rate = (done - last.1) as f64 / now.duration_since(last.0).as_secs_f64().max(1e-3);
        last = (now, done);
        bar.set_position(match shared.stop {
            Stop::Count(_) => done,
            Stop::After(_) => now
                .saturating_duration_since(shared.warmup_end)
                .as_millis()
                .try_into()
                .unwrap_or(u64::MAX),
        });
        bar.set_message(format!("{done} calls, {rate:.0}/s"));
    }
}
