//! `mcp-http bridge`: a stdio server served over Streamable HTTP (`-- CMD ARGS`, or named
//! servers from `--config`), or this process's stdin and stdout relayed to a remote server
//! (`URL`). docs/bridge.md describes both.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use mcp_http_bridge::{Bridge, BridgeSettings, ChildMode, ChildSpec, ServersFile};
use mcp_http_server_http::{HttpConfig, ResponseMode, StreamableHttpService};

use crate::{LimitArgs, Response};

/// Bridge stdio and Streamable HTTP, either way.
#[derive(clap::Args)]
pub(crate) struct BridgeArgs {
    /// Connect this process's stdin and stdout (newline-delimited JSON-RPC, as a stdio server
    /// speaks it) to the remote MCP endpoint at URL.
    #[arg(value_name = "URL", conflicts_with_all = ["command", "config"])]
    url: Option<String>,
    /// The stdio server to serve over HTTP, after `--`: `mcp-http bridge --port 8080 -- CMD ARGS`.
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,

    /// Named servers from an `mcpServers` file, each at /servers/NAME/mcp.
    #[arg(long, value_name = "FILE", help_heading = "Serving")]
    config: Option<PathBuf>,
    /// The address to bind.
    #[arg(long, default_value = "127.0.0.1", help_heading = "Serving")]
    host: std::net::IpAddr,
    /// The port to bind (0 picks a free one).
    #[arg(long, default_value_t = 8080, help_heading = "Serving")]
    port: u16,
    /// The endpoint path of the server given after `--`.
    #[arg(long, default_value = "/mcp", help_heading = "Serving")]
    path: String,
    /// The health check path (GET answers 200 with each server's state).
    #[arg(long, default_value = "/health", help_heading = "Serving")]
    health_path: String,
    /// A child per session (isolation) instead of one child shared by every session.
    #[arg(long, help_heading = "Serving")]
    child_per_session: bool,
    /// No sessions: every POST stands alone (relayed to the shared child).
    #[arg(long, help_heading = "Serving")]
    stateless: bool,
    /// Which protocol eras to serve. `both` adds 2026-07-28 requests, relayed over the shared
    /// child's legacy session; a child's sampling, elicitation or roots request during one is
    /// refused, so auto-mode clients (which find the modern era first) lose those: hence
    /// `legacy` by default (BR-20). With URL: which era to speak to the remote, `auto` (the
    /// default: `server/discover`, falling back to `initialize`), `legacy` or `modern` (BR-50).
    #[arg(long, value_enum, help_heading = "Serving")]
    era: Option<crate::bridge_connect::BridgeEra>,
    /// How requests are answered.
    #[arg(long, value_enum, default_value = "adaptive", help_heading = "Serving")]
    response: Response,
    /// An environment variable for the child, KEY=VALUE (repeatable).
    #[arg(
        long = "env",
        short = 'e',
        value_name = "KEY=VALUE",
        help_heading = "Serving"
    )]
    env: Vec<String>,
    /// The child's working directory.
    #[arg(long, value_name = "DIR", help_heading = "Serving")]
    cwd: Option<PathBuf>,
    /// Seconds a child may take to answer initialize.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 30.0,
        help_heading = "Serving"
    )]
    init_timeout: f64,
    /// Seconds a request may wait on the child (or a child's request on the client) without
    /// progress.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 600.0,
        help_heading = "Serving"
    )]
    request_timeout: f64,
    /// Seconds a session may stay idle (no request, no live stream) before it ends, and its
    /// child with it.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 1800.0,
        help_heading = "Serving"
    )]
    idle_timeout: f64,
    /// Seconds between SSE keep-alive comments (a write to a vanished client fails, so its GET
    /// stops counting as activity).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 15.0,
        help_heading = "Serving"
    )]
    keep_alive: f64,
    /// A Host header value to accept besides loopback names (behind a reverse proxy).
    #[arg(long = "allowed-host", value_name = "HOST", help_heading = "Serving")]
    allowed_hosts: Vec<String>,
    /// An Origin to accept besides loopback origins.
    #[arg(
        long = "allowed-origin",
        value_name = "ORIGIN",
        help_heading = "Serving"
    )]
    allowed_origins: Vec<String>,
    /// Answer CORS preflights and expose Mcp-Session-Id to browsers.
    #[arg(long, help_heading = "Serving")]
    cors: bool,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    transports: crate::transport_args::TransportArgs,
    /// Serve Prometheus metrics at http://ADDR/metrics, on a listener of its own (children,
    /// restarts, relayed messages, and the endpoint's own; BR-12).
    #[arg(long, value_name = "ADDR", help_heading = "Serving")]
    metrics: Option<SocketAddr>,
    /// `serve`'s authorization flags (BR-19): the endpoints become an OAuth resource server.
    #[command(flatten)]
    auth: mcp_http::auth_args::AuthArgs,

    #[command(flatten)]
    connect: crate::bridge_connect::ConnectArgs,
}

fn seconds(name: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value).map_err(|_| format!("--{name} must be seconds >= 0"))
}

pub(crate) async fn run(args: BridgeArgs) -> ExitCode {
    if let Some(url) = &args.url {
        return crate::bridge_connect::run(url, &args.connect, args.era).await;
    }
    match serve(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mcp-http: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: BridgeArgs) -> Result<(), String> {
    if args.command.is_empty() && args.config.is_none() {
        return Err(
            "bridge needs a URL to connect to, a command after `--` to serve, or --config FILE"
                .into(),
        );
    }
    // Before any child or endpoint records: handles come from the recorder in place (MT-1).
    if let Some(addr) = args.metrics {
        let endpoint = mcp_http::metrics::install(addr)
            .await
            .map_err(|e| format!("--metrics: {e}"))?;
        eprintln!(
            "mcp-http: metrics on http://{}/metrics",
            endpoint.local_addr()
        );
    }
    let settings = BridgeSettings::default()
        .mode(match args.child_per_session {
            true => ChildMode::PerSession,
            false => ChildMode::Shared,
        })
        .init_timeout(seconds("init-timeout", args.init_timeout)?)
        .request_timeout(seconds("request-timeout", args.request_timeout)?);
    let base = args.limits.apply(
        HttpConfig::default()
            .idle_timeout(seconds("idle-timeout", args.idle_timeout)?)
            .keep_alive(Some(seconds("keep-alive", args.keep_alive)?))
            .stateless(args.stateless)
            .metrics(args.metrics.is_some())
            // BR-79: a child's answer (and a call's own child's start) takes longer than an
            // in-process handler's; an adaptive answer stays JSON (with its status) that long,
            // and still streams as soon as the child sends progress or a log.
            .adaptive_delay(std::time::Duration::from_secs(1))
            // BR-20: 2026-07-28 requests are relayed over the shared child's legacy session.
            .eras(crate::bridge_connect::BridgeEra::served(args.era)?)
            .response_mode(match args.response {
                Response::Adaptive => ResponseMode::Adaptive,
                Response::Sse => ResponseMode::Sse,
                Response::Json => ResponseMode::Json,
            })
            .allowed_hosts(args.allowed_hosts.clone())
            .allowed_origins(args.allowed_origins.clone())
            .cors(args.cors),
    );
    let mut servers: Vec<(String, Bridge)> = Vec::new();
    if let Some((command, rest)) = args.command.split_first() {
        let mut spec = ChildSpec::new(command.clone(), rest.iter().cloned());
        for pair in &args.env {
            let Some((k, v)) = pair.split_once('=') else {
                return Err(format!("--env {pair:?}: expected KEY=VALUE"));
            };
            spec = spec.env(k, v);
        }
        if let Some(cwd) = &args.cwd {
            spec = spec.cwd(cwd.clone());
        }
        let name = std::path::Path::new(command)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(command)
            .to_owned();
        servers.push((args.path.clone(), Bridge::new(name, spec, settings.clone())));
    }
    if let Some(file) = &args.config {
        let file = ServersFile::load(file).map_err(|e| e.to_string())?;
        for (name, entry) in &file.servers {
            let path = format!("/servers/{name}/mcp");
            servers.push((
                path,
                Bridge::new(name.as_str(), entry.spec(), settings.clone()),
            ));
        }
    }
    let bridges: Vec<Bridge> = servers.iter().map(|(_, b)| b.clone()).collect();
    let mut services = servers.iter().map(|(path, bridge)| {
        StreamableHttpService::new(bridge.clone(), base.clone().path(path.clone()))
    });
    let (Some((first_path, first)), Some(_)) = (servers.first(), services.next()) else {
        return Err("no server to bridge".into());
    };
    let health = {
        let bridges = bridges.clone();
        let paths: Vec<String> = servers.iter().map(|(p, _)| p.clone()).collect();
        move || {
            let servers: serde_json::Map<String, serde_json::Value> = bridges
                .iter()
                .zip(&paths)
                .map(|(b, p)| {
                    (
                        p.clone(),
                        serde_json::json!({ "name": b.name(), "state": b.status() }),
                    )
                })
                .collect();
            bytes::Bytes::from(
                serde_json::json!({ "status": "ok", "servers": servers }).to_string(),
            )
        }
    };
    let cannot_listen = |e| format!("cannot listen on {}:{}: {e}", args.host, args.port);
    let socket =
        crate::bind_unlistened(SocketAddr::new(args.host, args.port)).map_err(cannot_listen)?;
    let addr = socket
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    // BR-33: the other transports serve the first server (the one after `--`).
    let first_config = args.transports.apply(base.clone().path(first_path.clone()));
    let mut builder = StreamableHttpService::builder(first.clone())
        .config(first_config)
        .health(args.health_path.clone(), health);
    for service in services {
        builder = builder.mount(service);
    }
    // BR-19: the resource server in front of every endpoint; its default audience is the first
    // endpoint's URL (--auth-audience names another, e.g. with --config).
    if let Some(gate) = args
        .auth
        .resource_server(&format!("http://{addr}{first_path}"), None)?
    {
        eprintln!(
            "mcp-http: OAuth resource server; metadata at {}",
            gate.metadata_url()
        );
        builder = builder.front(gate.front());
    }
    let service = builder.build();
    let listener = crate::listen(socket).map_err(cannot_listen)?;
    for (path, bridge) in &servers {
        eprintln!(
            "mcp-http: bridging `{}` on http://{addr}{path}",
            bridge.name()
        );
    }
    let served = mcp_http_server_http::serve(listener, service, crate::shutdown_signal()).await;
    // BR-5: every child's process group goes with the bridge.
    let stopping: Vec<Arc<Bridge>> = bridges.into_iter().map(Arc::new).collect();
    for bridge in stopping {
        bridge.shutdown().await;
    }
    served.map_err(|e| e.to_string())
}
