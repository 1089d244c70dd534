//! The `mcp-http` command.

mod bridge_cmd;
mod bridge_connect;
mod client_cmd;
mod password_args;
mod transport_args;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use mcp_http_server::{RequestStateKeys, RequestStates};
use mcp_http_server_http::{Eras, HttpConfig, ResponseMode, StreamableHttpService};

/// mimalloc: a request allocates a few dozen small blocks, and glibc's malloc spent about 15% of
/// the server's instructions on them (BENCHMARKS.md measures every server with the same one).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Serve, call, bridge and load-test Model Context Protocol endpoints.
#[derive(Parser)]
#[command(name = "mcp-http", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Response {
    /// JSON when the handler finishes at once, SSE when it streams or runs long.
    Adaptive,
    /// Always SSE.
    Sse,
    /// Always JSON.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Era {
    /// Legacy sessions (initialize) and 2026-07-28 requests, told apart per request.
    Both,
    /// Only legacy sessions (2025-11-25 and earlier).
    Legacy,
    /// Only 2026-07-28 requests (stateless, _meta on every request).
    Modern,
}

/// Sharing sessions with other instances through Redis.
#[derive(clap::Args)]
struct RedisArgs {
    /// Share sessions, event logs and messages with the other instances that use this Redis
    /// (`redis://[user:password@]host[:port][/db]`), so any of them serves any request of any
    /// session (behind a round-robin balancer). Without it, everything stays in this process.
    #[arg(
        long,
        value_name = "URL",
        env = "MCP_HTTP_REDIS",
        hide_env_values = true
    )]
    redis: Option<String>,
    /// This instance's name among those sharing the Redis (default: random). ASCII letters,
    /// digits, '-' and '_'; unique per instance.
    #[arg(long, value_name = "ID", requires = "redis")]
    instance_id: Option<String>,
    /// Put before every Redis key (deployments sharing one Redis need different ones).
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "mcp:",
        requires = "redis"
    )]
    redis_prefix: String,
    /// How long one Redis command may take, in milliseconds, before the request that needs it
    /// fails (503) instead of waiting.
    #[arg(long, value_name = "MS", default_value_t = 500, requires = "redis")]
    redis_timeout_ms: u64,
    /// How long connecting to Redis may take, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2000, requires = "redis")]
    redis_connect_timeout_ms: u64,
}

impl RedisArgs {
    /// The backend's settings, when `--redis` was given.
    fn config(&self, http: &HttpConfig) -> Option<mcp_http_redis::RedisConfig> {
        let url = self.redis.as_ref()?;
        let mut config = mcp_http_redis::RedisConfig::new(url.as_str())
            .prefix(self.redis_prefix.as_str())
            .response_timeout(Duration::from_millis(self.redis_timeout_ms.max(1)))
            .connect_timeout(Duration::from_millis(self.redis_connect_timeout_ms.max(1)))
            .session_ttl(http.idle_timeout);
        if let Some(id) = &self.instance_id {
            config = config.instance_id(id.as_str());
        }
        Some(config)
    }
}

/// Milliseconds, for a default shown in `--help`.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The limits a peer cannot get around (docs/reliability.md lists them). Each default is
/// `HttpConfig`'s.
#[derive(clap::Args)]
#[command(next_help_heading = "Limits")]
struct LimitArgs {
    /// How long a client may take to send a request's headers, and a connection may stay idle
    /// between requests, in milliseconds; then the connection is closed (slowloris).
    #[arg(long, value_name = "MS", default_value_t = millis(HttpConfig::default().header_read_timeout))]
    header_read_timeout_ms: u64,
    /// The largest request head (request line and headers), in bytes: 431 above it.
    #[arg(long, value_name = "BYTES", default_value_t = HttpConfig::default().max_header_bytes)]
    max_header_bytes: usize,
    /// The most header fields in one request: 431 above it.
    #[arg(long, value_name = "N", default_value_t = HttpConfig::default().max_headers)]
    max_headers: usize,
    /// The largest request body, in bytes: 413 above it.
    #[arg(long, value_name = "BYTES", default_value_t = HttpConfig::default().max_body_bytes)]
    max_body_bytes: usize,
    /// How long reading a whole request body may take, in milliseconds: 408 after it.
    #[arg(long, value_name = "MS", default_value_t = millis(HttpConfig::default().body_read_timeout))]
    body_read_timeout_ms: u64,
    /// After a 413, how long the rest of the body is still read and discarded before the
    /// connection closes, in milliseconds (so the client reads the 413, not a reset).
    #[arg(long, value_name = "MS", default_value_t = millis(HttpConfig::default().lingering_time))]
    lingering_time_ms: u64,
    /// The most open connections: one more gets 503 with Retry-After and is closed. Kept under
    /// the open-file limit (`ulimit -n`).
    #[arg(long, value_name = "N", default_value_t = HttpConfig::default().max_connections)]
    max_connections: usize,
    /// The most requests in progress in all: one more gets 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = HttpConfig::default().max_in_flight)]
    max_in_flight: usize,
    /// The most requests in progress in one session: one more gets 429 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = HttpConfig::default().max_in_flight_per_session)]
    max_in_flight_per_session: usize,
    /// How long a write may make no progress (a client that stopped reading), in milliseconds,
    /// before its connection is dropped; the client can resume its streams with Last-Event-ID.
    #[arg(long, value_name = "MS", default_value_t = millis(HttpConfig::default().write_stall_timeout))]
    write_stall_timeout_ms: u64,
    /// The most events queued for one SSE connection: a reader that falls further behind is cut
    /// off (it can resume with Last-Event-ID).
    #[arg(long, value_name = "N", default_value_t = HttpConfig::default().connection_queue)]
    max_queued_events: usize,
    /// The most sessions at once: one more gets 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = HttpConfig::default().max_sessions)]
    max_sessions: usize,
    /// The most SSE streams one session may hold open: one more gets 429.
    #[arg(long, value_name = "N", default_value_t = HttpConfig::default().max_streams_per_session)]
    max_streams_per_session: usize,
}

impl LimitArgs {
    /// `config` with these limits.
    fn apply(&self, config: HttpConfig) -> HttpConfig {
        let ms = Duration::from_millis;
        config
            .header_read_timeout(ms(self.header_read_timeout_ms))
            .max_header_bytes(self.max_header_bytes)
            .max_headers(self.max_headers)
            .max_body_bytes(self.max_body_bytes)
            .body_read_timeout(ms(self.body_read_timeout_ms))
            .lingering_time(ms(self.lingering_time_ms))
            .max_connections(self.max_connections)
            .max_in_flight(self.max_in_flight)
            .max_in_flight_per_session(self.max_in_flight_per_session)
            .write_stall_timeout(ms(self.write_stall_timeout_ms))
            .connection_queue(self.max_queued_events)
            .max_sessions(self.max_sessions)
            .max_streams_per_session(self.max_streams_per_session)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the built-in MCP server over Streamable HTTP (or stdio with --stdio).
    Serve {
        /// The address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// The port to bind (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The MCP endpoint path.
        #[arg(long, default_value = "/mcp")]
        path: String,
        /// No sessions: every POST stands alone.
        #[arg(long)]
        stateless: bool,
        /// How requests are answered.
        #[arg(long, value_enum, default_value = "adaptive")]
        response: Response,
        /// Which protocol eras to serve on the endpoint.
        #[arg(long, value_enum, default_value = "both")]
        era: Era,
        /// A secret (32 bytes or more) that seals 2026-07-28 `requestState`; repeat it to rotate
        /// keys (the first seals, all open). Instances behind one endpoint need the same keys.
        /// Default: a random key of this process.
        #[arg(
            long = "state-key",
            value_name = "SECRET",
            env = "MCP_HTTP_STATE_KEY",
            hide_env_values = true
        )]
        state_keys: Vec<String>,
        /// A Host header value to accept besides loopback names (behind a reverse proxy).
        #[arg(long = "allowed-host", value_name = "HOST")]
        allowed_hosts: Vec<String>,
        /// An Origin to accept besides loopback origins.
        #[arg(long = "allowed-origin", value_name = "ORIGIN")]
        allowed_origins: Vec<String>,
        /// Answer CORS preflights and expose Mcp-Session-Id to browsers.
        #[arg(long)]
        cors: bool,
        /// Seconds a session may stay idle (no request, no open stream) before it is closed.
        #[arg(long, value_name = "SECONDS", default_value_t = 1800.0)]
        idle_timeout: f64,
        /// On SIGTERM or Ctrl-C, seconds running requests get to finish before their streams
        /// are ended (with `retry`, so clients resume elsewhere) and the server exits.
        #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
        drain_timeout: f64,
        /// Serve Prometheus metrics at http://ADDR/metrics, on a listener of its own (e.g.
        /// 127.0.0.1:9090): requests by method and status, latency, sessions, open streams,
        /// events stored, bytes, Redis round trips. Off by default.
        #[arg(long, value_name = "ADDR")]
        metrics: Option<SocketAddr>,
        /// Export the request and session spans to this OpenTelemetry collector over OTLP/HTTP
        /// (e.g. http://127.0.0.1:4318; `/v1/traces` is added to a URL without a path).
        /// `MCP_HTTP_OTEL` filters the spans (default: info). Needs a build with the `otel`
        /// feature.
        #[arg(long, value_name = "URL", env = "MCP_HTTP_OTLP_ENDPOINT")]
        otlp_endpoint: Option<String>,
        /// Serve over this process's stdin and stdout instead (newline-delimited JSON-RPC).
        #[arg(long)]
        stdio: bool,
        /// A GET path answered 200 `{"status":"ok"}` (with the instance id under `--redis`)
        /// for load balancers' and orchestrators' health checks; the port listens only once
        /// the server can serve.
        #[arg(long, value_name = "PATH", default_value = "/health")]
        health_path: String,
        #[command(flatten)]
        redis: RedisArgs,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        transports: transport_args::TransportArgs,
        #[command(flatten)]
        auth: Box<mcp_http::auth_args::AuthArgs>,
    },
    #[command(flatten)]
    Client(client_cmd::ClientCommand),
    /// Load-test an MCP endpoint: throughput, latency percentiles, errors by kind.
    Bench(mcp_http::bench::BenchArgs),
    /// Serve a stdio MCP server over Streamable HTTP (`bridge --port 8080 -- CMD ARGS`), or
    /// connect a stdio client to a remote endpoint (`bridge URL`).
    Bridge(Box<bridge_cmd::BridgeArgs>),
}

/// The address bound but not yet listened on: the port is ours (a taken one fails now) and its
/// number known, while a connection to it is still refused. `serve` and `bridge` listen only
/// once everything that can fail at start (a setting, the Redis backend) has not: a port that
/// accepts serves what it accepts, and a load balancer's check never finds one that then resets
/// (RB-51).
fn bind_unlistened(addr: SocketAddr) -> std::io::Result<tokio::net::TcpSocket> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    // As `TcpListener::bind` does: a restart binds at once over connections in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    Ok(socket)
}

/// Starts listening on a socket from [`bind_unlistened`], with `TcpListener::bind`'s backlog.
fn listen(socket: tokio::net::TcpSocket) -> std::io::Result<tokio::net::TcpListener> {
    socket.listen(1024)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn main() -> ExitCode {
    let command = Cli::parse().command;
    // stdout carries the protocol over stdio, and results for the client commands: logs go to
    // stderr. The client commands say what went wrong themselves, so their default is silence.
    let default_filter = match command {
        Command::Serve { .. } | Command::Bench(_) | Command::Bridge(_) => "warn",
        Command::Client(_) => "off",
    };
    let otlp = match &command {
        Command::Serve { otlp_endpoint, .. } => otlp_endpoint.clone(),
        _ => None,
    };
    // Dropped last, after the runtime: it flushes the spans not exported yet.
    let _traces = match init_tracing(default_filter, otlp.as_deref()) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("mcp-http: --otlp-endpoint: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("mcp-http: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(command));
    // A terminal prompt still waiting for a line (the request it answered is gone) must not keep
    // the process alive.
    runtime.shutdown_timeout(Duration::from_millis(100));
    code
}

/// Logs to stderr (`MCP_HTTP_LOG`, else `default_filter`), and with `otlp` the spans to an
/// OpenTelemetry collector (MT-5); what must live until exit.
fn init_tracing(
    default_filter: &str,
    otlp: Option<&str>,
) -> Result<Option<Box<dyn std::any::Any>>, String> {
    use tracing_subscriber::EnvFilter;
    let log_filter = || {
        EnvFilter::try_from_env("MCP_HTTP_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter))
    };
    match otlp {
        None => {
            // One global filter, as before the OTLP layer existed: the log layer alone needs
            // no per-layer filtering (MT-4).
            tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_env_filter(log_filter())
                .init();
            Ok(None)
        }
        #[cfg(feature = "otel")]
        Some(endpoint) => {
            use tracing_subscriber::Layer;
            use tracing_subscriber::layer::SubscriberExt;
            use tracing_subscriber::util::SubscriberInitExt;
            let logs = tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(log_filter());
            let (layer, guard) = mcp_http::otel::layer(endpoint).map_err(|e| e.to_string())?;
            let filter = EnvFilter::try_from_env("MCP_HTTP_OTEL")
                .unwrap_or_else(|_| EnvFilter::new(mcp_http::otel::DEFAULT_FILTER));
            tracing_subscriber::registry()
                .with(logs)
                .with(layer.with_filter(filter))
                .init();
            Ok(Some(Box::new(guard)))
        }
        #[cfg(not(feature = "otel"))]
        Some(_) => {
            Err("this build cannot export spans: build mcp-http with `--features otel`".into())
        }
    }
}

async fn run(command: Command) -> ExitCode {
    match command {
        Command::Client(command) => client_cmd::run(command).await,
        Command::Bench(args) => mcp_http::bench::run(args).await,
        Command::Bridge(args) => bridge_cmd::run(*args).await,
        Command::Serve { stdio: true, .. } => {
            let server = mcp_http::builtin::server();
            tokio::select! {
                _ = server.serve(mcp_http_transport::stdio::server()) => {}
                _ = shutdown_signal() => {}
            }
            ExitCode::SUCCESS
        }
        Command::Serve {
            host,
            port,
            path,
            stateless,
            response,
            era,
            state_keys,
            allowed_hosts,
            allowed_origins,
            cors,
            idle_timeout,
            drain_timeout,
            metrics,
            otlp_endpoint: _,
            stdio: false,
            health_path,
            redis,
            limits,
            transports,
            auth,
        } => {
            let Ok(idle_timeout) = Duration::try_from_secs_f64(idle_timeout) else {
                eprintln!("mcp-http: --idle-timeout must be seconds >= 0");
                return ExitCode::FAILURE;
            };
            let Ok(drain_timeout) = Duration::try_from_secs_f64(drain_timeout) else {
                eprintln!("mcp-http: --drain-timeout must be seconds >= 0");
                return ExitCode::FAILURE;
            };
            if !health_path.starts_with('/') || health_path == path {
                eprintln!("mcp-http: --health-path must start with '/' and differ from --path");
                return ExitCode::FAILURE;
            }
            let config = HttpConfig::default()
                .idle_timeout(idle_timeout)
                .drain_timeout(drain_timeout)
                .path(path)
                .stateless(stateless)
                .response_mode(match response {
                    Response::Adaptive => ResponseMode::Adaptive,
                    Response::Sse => ResponseMode::Sse,
                    Response::Json => ResponseMode::Json,
                })
                .eras(match era {
                    Era::Both => Eras::Both,
                    Era::Legacy => Eras::Legacy,
                    Era::Modern => Eras::Modern,
                })
                .allowed_hosts(allowed_hosts)
                .allowed_origins(allowed_origins)
                .cors(cors);
            let config = transports.apply(limits.apply(config).metrics(metrics.is_some()));
            // Before anything records (the service, the Redis backend): their handles come
            // from the recorder in place when they are made (MT-1).
            if let Some(addr) = metrics {
                match mcp_http::metrics::install(addr).await {
                    Ok(endpoint) => eprintln!(
                        "mcp-http: metrics on http://{}/metrics",
                        endpoint.local_addr()
                    ),
                    Err(e) => {
                        eprintln!("mcp-http: --metrics: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            let socket = match bind_unlistened(SocketAddr::new(host, port)) {
                Ok(socket) => socket,
                Err(e) => {
                    eprintln!("mcp-http: cannot listen on {host}:{port}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let url = match socket.local_addr() {
                Ok(addr) => format!("http://{addr}{}", config.path),
                Err(_) => format!("http://{host}:{port}{}", config.path),
            };
            let states = match state_keys.is_empty() {
                true => RequestStates::default(),
                false => {
                    match RequestStateKeys::from_secrets(state_keys.iter().map(String::as_bytes)) {
                        Ok(keys) => RequestStates::new(keys),
                        Err(e) => {
                            eprintln!("mcp-http: --state-key: {e}");
                            return ExitCode::FAILURE;
                        }
                    }
                }
            };
            let redis = match redis.config(&config) {
                Some(redis) => match mcp_http_redis::RedisBackend::connect(redis).await {
                    Ok(backend) => Some(backend),
                    Err(e) => {
                        eprintln!("mcp-http: --redis: {e}");
                        return ExitCode::FAILURE;
                    }
                },
                None => None,
            };
            let tasks = redis.as_ref().map(|backend| {
                let store: std::sync::Arc<dyn mcp_http_server::TaskStore> = backend.task_store();
                store
            });
            // A sealed requestState is used once across the instances, not once per instance
            // (RB-26).
            let states = match &redis {
                Some(backend) => states.with_used_states(backend.used_states()),
                None => states,
            };
            let server = mcp_http::builtin::server_with_tasks(states, tasks);
            let gate = auth.resource_server(&url, Some(&server));
            // RL-54: made once; a check costs a clone of these bytes.
            let health = serde_json::to_vec(&match redis.as_ref().and_then(|r| r.instance_id()) {
                Some(id) => serde_json::json!({"status": "ok", "instance": &**id}),
                None => serde_json::json!({"status": "ok"}),
            })
            .map(bytes::Bytes::from)
            .unwrap_or_default();
            let mut builder = StreamableHttpService::builder(server)
                .config(config)
                .health(health_path, move || health.clone());
            match gate {
                Ok(Some(gate)) => {
                    eprintln!(
                        "mcp-http: OAuth resource server; metadata at {}",
                        gate.metadata_url()
                    );
                    builder = builder.front(gate.front());
                }
                Ok(None) => {}
                Err(e) => {
                    eprintln!("mcp-http: {e}");
                    return ExitCode::FAILURE;
                }
            }
            let service = match &redis {
                Some(backend) => {
                    use mcp_http_redis::WithRedis;
                    builder.redis(backend).build()
                }
                None => builder.build(),
            };
            let listener = match listen(socket) {
                Ok(listener) => listener,
                Err(e) => {
                    eprintln!("mcp-http: cannot listen on {host}:{port}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            eprintln!("mcp-http: serving MCP on {url}");
            match mcp_http_server_http::serve(listener, service, shutdown_signal()).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("mcp-http: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
