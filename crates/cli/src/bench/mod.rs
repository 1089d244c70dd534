//! `mcp-http bench URL`: a load generator for MCP endpoints over Streamable HTTP.
//!
//! Each worker owns one keep-alive HTTP/1.1 connection (hyper's low-level client, `TCP_NODELAY`)
//! and sends prebuilt `tools/call` bodies with a unique id each; an answer counts as a success
//! only when the response with that id arrived (JSON or SSE) and is neither a JSON-RPC error nor
//! an `isError` result. Runs are always bounded (a duration or a count) and every request has a
//! timeout. Two more modes serve `bench/compare.sh`: `--hold-sessions` (memory per session or
//! per GET stream) and `--client-compare` (our client against a raw hyper client);
//! `--idle-connections` measures how long a new client waits while many connections sit idle
//! (`scripts/idle-connections.sh` runs it with 10,000); `--mix` is the mixed workload of a soak
//! (`scripts/soak.sh`), against `mcp-http serve`'s built-in tools.

mod client_compare;
mod conn;
mod hold;
mod idle;
mod load;
mod mix;
mod report;
mod rpc;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// The protocol era the load speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchEra {
    /// Sessions (initialize), or with --stateless no session but the legacy headers.
    Legacy,
    /// 2026-07-28: no session, `_meta` in every request, `Mcp-Method` and `Mcp-Name` headers.
    Modern,
}

/// Which client `--client-compare --only` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompareOnly {
    /// Our `Client` over `StreamableHttpClient`.
    Ours,
    /// The raw hyper client.
    Raw,
}

/// The options of `mcp-http bench`.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// The MCP endpoint, e.g. http://127.0.0.1:8080/mcp.
    pub url: String,
    /// Sessions to initialize (the workers are spread across them); ignored with --stateless.
    #[arg(long, default_value_t = 1)]
    pub sessions: usize,
    /// Concurrent workers, each with its own keep-alive connection.
    #[arg(long, short = 'c', default_value_t = 1)]
    pub concurrency: usize,
    /// Seconds to run (the default when --requests is not given: 10).
    #[arg(long, conflicts_with = "requests")]
    pub duration: Option<f64>,
    /// Calls to make, in total.
    #[arg(long, short = 'n')]
    pub requests: Option<u64>,
    /// Seconds of unmeasured load before measuring.
    #[arg(long, default_value_t = 0.0)]
    pub warmup: f64,
    /// The tool to call.
    #[arg(long, default_value = "echo")]
    pub tool: String,
    /// The tool's arguments, a JSON object.
    #[arg(long, default_value = r#"{"message":"hello"}"#)]
    pub args: String,
    /// No session: no initialize, every POST carries MCP-Protocol-Version.
    #[arg(long)]
    pub stateless: bool,
    /// The protocol era to speak (modern: stateless 2026-07-28 requests). With
    /// --client-compare, the era both clients speak (our client pinned to it).
    #[arg(
        long,
        value_enum,
        default_value = "legacy",
        conflicts_with = "hold_sessions"
    )]
    pub era: BenchEra,
    /// The protocol version to ask for (and to send when stateless).
    #[arg(long, default_value = "2025-11-25")]
    pub protocol_version: String,
    /// Seconds before a request counts as timed out.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Instead of load: initialize this many sessions, print `ready`, and hold them for
    /// --duration seconds (for memory measurements).
    #[arg(long, value_name = "N", conflicts_with_all = ["requests", "stateless"])]
    pub hold_sessions: Option<usize>,
    /// With --hold-sessions: also open one standalone GET stream per session.
    #[arg(long, requires = "hold_sessions")]
    pub get_streams: bool,
    /// Instead of load: --requests sequential calls with our client (Client +
    /// StreamableHttpClient, pinned to --era) and then with a raw hyper client sending the
    /// same requests as the load does in that era, and the ratio of their rates.
    #[arg(long, conflicts_with_all = ["hold_sessions", "stateless", "duration"])]
    pub client_compare: bool,
    /// With --client-compare: run only this client (to count its instructions per call under
    /// a profiler, the server outside it); the report then has no ratio.
    #[arg(long, value_enum, requires = "client_compare")]
    pub only: Option<CompareOnly>,
    /// Instead of one tool: the mixed workload of a soak against `mcp-http serve`'s built-in
    /// tools (quick calls, progress, sampling, streams broken and resumed, GET streams opened and
    /// dropped, sessions deleted and abandoned), each outcome checked, for --duration seconds
    /// with --concurrency workers; reported per --window.
    #[arg(long, conflicts_with_all = ["hold_sessions", "client_compare", "stateless", "requests"])]
    pub mix: bool,
    /// With --mix: seconds per reported window.
    #[arg(long, default_value_t = 60.0, requires = "mix")]
    pub window: f64,
    /// Instead of load: open this many idle connections (half never send a byte, half after
    /// one request), then time --requests new clients (default 20), each from connect to its
    /// initialize answer, one after another. Opens --concurrency connections at a time. Needs
    /// `ulimit -n` above N here and in the server.
    #[arg(
        long,
        value_name = "N",
        conflicts_with_all = ["hold_sessions", "client_compare", "stateless", "duration"]
    )]
    pub idle_connections: Option<usize>,
    /// Sends this header with every request (repeatable), e.g.
    /// `-H 'Authorization: Bearer TOKEN'` against a server behind OAuth.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
}

fn seconds(value: f64, what: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value).map_err(|_| format!("--{what} must be seconds >= 0"))
}

/// Runs `mcp-http bench`; prints the report and says whether every call succeeded.
pub async fn run(args: BenchArgs) -> ExitCode {
    match run_inner(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("mcp-http bench: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run_inner(args: BenchArgs) -> Result<bool, String> {
    if args.concurrency == 0 {
        return Err("--concurrency must be at least 1".to_owned());
    }
    if args.sessions == 0 {
        return Err("--sessions must be at least 1".to_owned());
    }
    let arguments: serde_json::Value =
        serde_json::from_str(&args.args).map_err(|e| format!("--args is not JSON: {e}"))?;
    if !arguments.is_object() {
        return Err("--args must be a JSON object".to_owned());
    }
    let timeout = seconds(args.timeout, "timeout")?;
    let mut target = conn::Target::resolve(&args.url).await?;
    target.extra = args
        .headers
        .iter()
        .map(|line| crate::header_arg::parse(line))
        .collect::<Result<Vec<_>, _>>()?
        .into();
    if let Some(sessions) = args.hold_sessions {
        return hold::run(hold::HoldPlan {
            target,
            sessions,
            get_streams: args.get_streams,
            concurrency: args.concurrency,
            hold: seconds(args.duration.unwrap_or(10.0), "duration")?,
            version: args.protocol_version,
            timeout,
            json: args.json,
        })
        .await;
    }
    if args.mix {
        let report = mix::run(mix::MixPlan {
            target,
            workers: args.concurrency,
            duration: seconds(args.duration.unwrap_or(10.0), "duration")?,
            window: seconds(args.window, "window")?,
            timeout,
            version: args.protocol_version,
        })
        .await?;
        print(args.json, &report, mix::MixReport::text)?;
        return Ok(report.error_count() == 0);
    }
    if let Some(idle) = args.idle_connections {
        let report = idle::run(idle::IdlePlan {
            target,
            idle,
            probes: usize::try_from(args.requests.unwrap_or(20).max(1)).unwrap_or(20),
            concurrency: args.concurrency,
            version: args.protocol_version,
            timeout,
        })
        .await?;
        print(args.json, &report, idle::IdleReport::text)?;
        return Ok(report.ok());
    }
    if args.client_compare {
        let comparison = client_compare::run(client_compare::ComparePlan {
            target,
            calls: args.requests.unwrap_or(2_000).max(1),
            tool: args.tool,
            arguments,
            version: args.protocol_version,
            era: args.era,
            timeout,
            only: args.only,
        })
        .await?;
        print(args.json, &comparison, client_compare::Comparison::text)?;
        return Ok(true);
    }
    let stop = match (args.requests, args.duration) {
        (Some(n), _) => load::Stop::Count(n),
        (None, Some(s)) => load::Stop::After(seconds(s, "duration")?),
        (None, None) => load::Stop::After(Duration::from_secs(10)),
    };
    let modern = args.era == BenchEra::Modern;
    let body = match modern {
        true => rpc::CallBody::modern(&args.tool, &arguments),
        false => rpc::CallBody::new(&args.tool, &arguments),
    };
    let report = load::run(load::Plan {
        target,
        stateless: args.stateless || modern,
        modern,
        sessions: args.sessions,
        concurrency: args.concurrency,
        stop,
        warmup: seconds(args.warmup, "warmup")?,
        timeout,
        version: match modern {
            true => "2026-07-28".to_owned(),
            false => args.protocol_version,
        },
        body,
        tool: args.tool,
        progress: true,
    })
    .await?;
    print(args.json, &report, report::Report::text)?;
    Ok(report.errors.total == 0)
}

fn print<T: serde::Serialize>(json: bool, value: &T, text: fn(&T) -> String) -> Result<(), String> {
    if json {
        let line = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
        println!("{line}");
    } else {
        print!("{}", text(value));
    }
    Ok(())
}
