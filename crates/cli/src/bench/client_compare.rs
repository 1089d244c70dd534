//! Our client against the floor of a client: N sequential `tools/call`s over one pooled
//! connection with `Client` + `StreamableHttpClient`, then the same POSTs with a raw hyper
//! connection, and the ratio of their rates. They take turns, in blocks. Both speak one era: in the legacy era each
//! initializes a session; in the 2026-07-28 era our client is pinned to it and the raw one
//! sends the load's 2026-07-28 body and headers (no session). With `--only` one of them runs
//! alone, so a profiler run under callgrind counts its instructions per call by themselves.

use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use mcp_http_client::{Client, Era, RequestOptions};
use mcp_http_client_http::StreamableHttpClient;
use serde::Serialize;

use super::conn::{Conn, McpHeaders, Target};
use super::load::{init_sessions, stateless_headers};
use super::rpc::{CallBody, Failure, check_answer, within};
use super::{BenchEra, CompareOnly};

/// What to compare.
pub(crate) struct ComparePlan {
    pub(crate) target: Target,
    pub(crate) calls: u64,
    pub(crate) tool: String,
    pub(crate) arguments: serde_json::Value,
    /// The legacy protocol version the sessions ask for.
    pub(crate) version: String,
    pub(crate) era: BenchEra,
    pub(crate) timeout: Duration,
    /// Only this client runs (the other's rate and the ratio are then absent).
    pub(crate) only: Option<CompareOnly>,
}

/// The result: both rates (calls per second) and ours over raw; with `--only`, the one rate.
#[derive(Serialize)]
pub(crate) struct Comparison {
    pub(crate) url: String,
    /// `legacy` or `modern`.
    pub(crate) era: &'static str,
    pub(crate) calls: u64,
    pub(crate) ours_rps: Option<f64>,
    pub(crate) raw_hyper_rps: Option<f64>,
    pub(crate) ratio: Option<f64>,
}

impl Comparison {
    /// The human-readable form.
    pub(crate) fn text(&self) -> String {
        let rate = |r: Option<f64>| r.map_or("not run".to_owned(), |r| format!("{r:.1} calls/s"));
        let ratio = self
            .ratio
            .map_or("not measured".to_owned(), |r| format!("{r:.3}"));
        format!(
            "{} sequential calls to {} ({} era)\nour client (Client + StreamableHttpClient): {}\n\
             raw hyper client: {}\nratio ours/raw: {}\n",
            self.calls,
            self.url,
            self.era,
            rate(self.ours_rps),
            rate(self.raw_hyper_rps),
            ratio
        )
    }
}

/// How many blocks of calls each client makes, taking turns: a machine whose load changes
/// during the run slows both alike, rather than whichever ran when it was busier.
const ROUNDS: u64 = 10;

/// Runs both, each after a short warm-up on its own connection, in alternating blocks (or,
/// with `only`, the one).
pub(crate) async fn run(plan: ComparePlan) -> Result<Comparison, String> {
    let warmup = (plan.calls / 10).clamp(1, 500);
    let (run_raw, run_ours) = match plan.only {
        None => (true, true),
        Some(CompareOnly::Raw) => (true, false),
        Some(CompareOnly::Ours) => (false, true),
    };
    let mut raw = match run_raw {
        true => Some(Raw::start(&plan).await?),
        false => None,
    };
    let ours = match run_ours {
        true => Some(Ours::start(&plan).await?),
        false => None,
    };
    for _ in 0..warmup {
        if let Some(raw) = &mut raw {
            raw.call(&plan).await?;
        }
        if let Some(ours) = &ours {
            ours.call(&plan).await?;
        }
    }
    let rounds = ROUNDS.min(plan.calls);
    let (mut raw_time, mut ours_time) = (Duration::ZERO, Duration::ZERO);
    for round in 0..rounds {
        let n = plan.calls * (round + 1) / rounds - plan.calls * round / rounds;
        // Each goes first in every other round.
        if round % 2 == 0 {
            if let Some(raw) = &mut raw {
                raw_time += raw.block(&plan, n).await?;
            }
            if let Some(ours) = &ours {
                ours_time += ours.block(&plan, n).await?;
            }
        } else {
            if let Some(ours) = &ours {
                ours_time += ours.block(&plan, n).await?;
            }
            if let Some(raw) = &mut raw {
                raw_time += raw.block(&plan, n).await?;
            }
        }
    }
    if let Some(ours) = &ours {
        ours.client.close();
    }
    let rate = |time: Duration| plan.calls as f64 / time.as_secs_f64().max(1e-9);
    let ours_rps = ours.is_some().then(|| rate(ours_time));
    let raw_rps = raw.is_some().then(|| rate(raw_time));
    Ok(Comparison {
        url: plan.target.url.clone(),
        era: match plan.era {
            BenchEra::Legacy => "legacy",
            BenchEra::Modern => "modern",
        },
        calls: plan.calls,
        ours_rps,
        raw_hyper_rps: raw_rps,
        ratio: ours_rps.zip(raw_rps).map(|(ours, raw)| ours / raw),
    })
}

/// Our client, pinned to the plan's era.
struct Ours {
    client: Client,
}

impl Ours {
    async fn start(plan: &ComparePlan) -> Result<Ours, String> {
        let transport = StreamableHttpClient::new(&plan.target.url).map_err(|e| e.to_string())?;
        let client = tokio::time::timeout(
            plan.timeout,
            Client::builder("mcp-http-bench", env!("CARGO_PKG_VERSION"))
                .era(match plan.era {
                    BenchEra::Legacy => Era::Legacy,
                    BenchEra::Modern => Era::Modern,
                })
                .connect(transport),
        )
        .await
        .map_err(|_| "our client: initialize timed out".to_owned())?
        .map_err(|e| format!("our client: initialize failed: {e}"))?;
        Ok(Ours { client })
    }

    async fn call(&self, plan: &ComparePlan) -> Result<(), String> {
        // The call's own timeout, one timer as the raw client's `within` is (a timeout around
        // the call would be a second one no user needs; PF-93).
        let options = RequestOptions::default().timeout(plan.timeout);
        let result = self
            .client
            .call_tool_reply_with(&plan.tool, &plan.arguments, options)
            .await
            .map_err(|e| format!("our client: call failed: {e}"))?;
        if result.is_error() {
            return Err("our client: the tool answered isError".to_owned());
        }
        Ok(())
    }

    /// `n` calls; how long they took.
    async fn block(&self, plan: &ComparePlan, n: u64) -> Result<Duration, String> {
        let start = Instant::now();
        for _ in 0..n {
            self.call(plan).await?;
        }
        Ok(start.elapsed())
    }
}

/// The raw hyper client: one connection, prebuilt bodies, the era's headers.
struct Raw {
    conn: Conn,
    headers: McpHeaders,
    body: CallBody,
    id: u64,
}

impl Raw {
    async fn start(plan: &ComparePlan) -> Result<Raw, String> {
        let (headers, body): (McpHeaders, CallBody) = match plan.era {
            BenchEra::Legacy => {
                let next_id = AtomicU64::new(1);
                let session =
                    init_sessions(&plan.target, 1, 1, &plan.version, plan.timeout, &next_id)
                        .await?
                        .pop()
                        .ok_or("raw client: no session")?;
                (session.headers, CallBody::new(&plan.tool, &plan.arguments))
            }
            BenchEra::Modern => (
                stateless_headers("2026-07-28", true, &plan.tool)?,
                CallBody::modern(&plan.tool, &plan.arguments),
            ),
        };
        let conn = Conn::open(&plan.target, plan.timeout)
            .await
            .map_err(|f| format!("raw client: {}", f.describe()))?;
        Ok(Raw {
            conn,
            headers,
            body,
            id: 1_000,
        })
    }

    async fn call(&mut self, plan: &ComparePlan) -> Result<(), String> {
        self.id += 1;
        let id = self.id;
        let (conn, headers, body) = (&mut self.conn, &self.headers, &self.body);
        within(plan.timeout, async {
            let reply = conn.post(&plan.target, headers, body.with_id(id)).await?;
            if reply.status != http::StatusCode::OK {
                return Err(Failure::Http(reply.status.as_u16()));
            }
            check_answer(&reply.body, reply.is_sse(), id)
        })
        .await
        .map_err(|f| format!("raw client: {}", f.describe()))
    }

    /// `n` calls; how long they took.
    async fn block(&mut self, plan: &ComparePlan, n: u64) -> Result<Duration, String> {
        let start = Instant::now();
        for _ in 0..n {
            self.call(plan).await?;
        }
        Ok(start.elapsed())
    }
}
