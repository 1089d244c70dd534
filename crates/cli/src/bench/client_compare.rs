//! Our client against the floor of a client: N sequential `tools/call`s over one pooled
//! connection with `Client` + `StreamableHttpClient`, then the same POSTs with a raw hyper
//! connection, and the ratio of their rates. Both speak one era: in the legacy era each
//! initializes a session; in the 2026-07-28 era our client is pinned to it and the raw one
//! sends the load's 2026-07-28 body and headers (no session).

use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use mcp_http_client::{Client, Era};
use mcp_http_client_http::StreamableHttpClient;
use serde::Serialize;

use super::BenchEra;
use super::conn::{Conn, McpHeaders, Target};
use super::load::{init_sessions, stateless_headers};
use super::rpc::{CallBody, Failure, check_answer, within};

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
}

/// The result: both rates (calls per second) and ours over raw.
#[derive(Serialize)]
pub(crate) struct Comparison {
    pub(crate) url: String,
    /// `legacy` or `modern`.
    pub(crate) era: &'static str,
    pub(crate) calls: u64,
    pub(crate) ours_rps: f64,
    pub(crate) raw_hyper_rps: f64,
    pub(crate) ratio: f64,
}

impl Comparison {
    /// The human-readable form.
    pub(crate) fn text(&self) -> String {
        format!(
            "{} sequential calls to {} ({} era)\nour client (Client + StreamableHttpClient): {:.1} calls/s\n\
             raw hyper client: {:.1} calls/s\nratio ours/raw: {:.3}\n",
            self.calls, self.url, self.era, self.ours_rps, self.raw_hyper_rps, self.ratio
        )
    }
}

/// Runs both, each after a short warm-up on its own session.
pub(crate) async fn run(plan: ComparePlan) -> Result<Comparison, String> {
    let warmup = (plan.calls / 10).clamp(1, 500);
    let raw_rps = raw(&plan, warmup).await?;
    let ours_rps = ours(&plan, warmup).await?;
    Ok(Comparison {
        url: plan.target.url.clone(),
        era: match plan.era {
            BenchEra::Legacy => "legacy",
            BenchEra::Modern => "modern",
        },
        calls: plan.calls,
        ours_rps,
        raw_hyper_rps: raw_rps,
        ratio: if raw_rps > 0.0 {
            ours_rps / raw_rps
        } else {
            0.0
        },
    })
}

async fn ours(plan: &ComparePlan, warmup: u64) -> Result<f64, String> {
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
    let call = async || {
        let result =
            tokio::time::timeout(plan.timeout, client.call_tool(&plan.tool, &plan.arguments))
                .await
                .map_err(|_| "our client: call timed out".to_owned())?
                .map_err(|e| format!("our client: call failed: {e}"))?;
        if result.is_error() {
            return Err("our client: the tool answered isError".to_owned());
        }
        Ok::<_, String>(())
    };
    for _ in 0..warmup {
        call().await?;
    }
    let start = Instant::now();
    for _ in 0..plan.calls {
        call().await?;
    }
    let rate = plan.calls as f64 / start.elapsed().as_secs_f64();
    client.close();
    Ok(rate)
}

async fn raw(plan: &ComparePlan, warmup: u64) -> Result<f64, String> {
    let (headers, body): (McpHeaders, CallBody) = match plan.era {
        BenchEra::Legacy => {
            let next_id = AtomicU64::new(1);
            let session = init_sessions(&plan.target, 1, 1, &plan.version, plan.timeout, &next_id)
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
    let mut conn = Conn::open(&plan.target, plan.timeout)
        .await
        .map_err(|f| format!("raw client: {}", f.describe()))?;
    let mut id = 1_000u64;
    let mut call = async || {
        id += 1;
        let id = id;
        within(plan.timeout, async {
            let reply = conn.post(&plan.target, &headers, body.with_id(id)).await?;
            if reply.status != http::StatusCode::OK {
                return Err(Failure::Http(reply.status.as_u16()));
            }
            check_answer(&reply.body, reply.is_sse(), id)
        })
        .await
        .map_err(|f| format!("raw client: {}", f.describe()))
    };
    for _ in 0..warmup {
        call().await?;
    }
    let start = Instant::now();
    for _ in 0..plan.calls {
        call().await?;
    }
    Ok(plan.calls as f64 / start.elapsed().as_secs_f64())
}
