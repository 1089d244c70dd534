//! A real Streamable HTTP server on a loopback port for tests that need one, and a small tool
//! set to serve when a test needs no more than echo, add and a long operation.
//!
//! `MCP_HTTP_TEST_INSTANCES=N` (N > 1) serves each endpoint started here from N instances over
//! one memory session store, event log and message bus, each request going to the next instance
//! in turn, as behind a round-robin balancer (scripts/test.sh runs some test files so). With
//! `MCP_HTTP_TEST_REDIS=1` as well (and the `redis` feature), the instances share a Redis
//! backend instead, over a `redis-server` of their own started for the endpoint.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use mcp_http_proto::LoggingLevel;
use mcp_http_server::{RequestContext, Server, ToolDef, ToolError};
use mcp_http_server_http::{
    EventLog, HttpConfig, MemoryBus, MemoryEventLog, MemorySessionStore, MessageBus, SessionStore,
    StreamableHttpService,
};
use serde::Deserialize;

#[derive(Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// The message to echo back.
    message: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// The first number.
    a: f64,
    /// The second number.
    b: f64,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct LongRunningArgs {
    /// Total duration in seconds.
    duration: f64,
    /// Number of progress steps.
    steps: u32,
}

/// A server with three tools, named and behaving as the `mcp-http` built-in server's:
/// `echo` (`{"message"}` back as text), `add` (`{"a", "b"}`, their sum as text) and
/// `long_running_operation` (`{"duration", "steps"}`: sleeps `duration` seconds in `steps`
/// steps, with a progress notification and an info log after each, and stops when cancelled).
pub fn tools() -> Server {
    Server::builder("test-support", "1")
        .tool(ToolDef::new(
            "echo",
            "Echoes the message back",
            |a: EchoArgs, _| async move { a.message },
        ))
        .tool(ToolDef::new(
            "add",
            "Adds two numbers",
            |a: AddArgs, _| async move { format!("{}", a.a + a.b) },
        ))
        .tool(ToolDef::new(
            "long_running_operation",
            "Runs for `duration` seconds in `steps` steps, reporting progress and logging each",
            |a: LongRunningArgs, ctx: RequestContext| async move {
                let steps = a.steps.clamp(1, 1000);
                let pause =
                    Duration::from_secs_f64(a.duration.clamp(0.0, 3600.0) / f64::from(steps));
                for step in 1..=steps {
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = ctx.cancelled() => return Err(ToolError::failed("cancelled")),
                    }
                    let message = format!("step {step} of {steps}");
                    ctx.progress(f64::from(step), Some(f64::from(steps)), Some(&message))
                        .await?;
                    ctx.log(LoggingLevel::Info, Some("long_running_operation"), &message)
                        .await?;
                }
                Ok(format!("{steps} steps in {} s", a.duration))
            },
        ))
        .build()
}

/// A running server; stops when dropped. With `MCP_HTTP_TEST_INSTANCES=N` (or
/// [`TestServer::start_cluster`]), several instances behind one address; `service` is the first,
/// and the methods below speak for all of them.
pub struct TestServer {
    /// The endpoint's URL (`http://127.0.0.1:PORT/mcp` by default).
    pub url: String,
    /// The (first) instance's service.
    pub service: StreamableHttpService,
    cluster: Option<Cluster>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The instances of a clustered test server and what they share.
struct Cluster {
    instances: Vec<StreamableHttpService>,
    store: Shared,
    accepted: Arc<AtomicU64>,
}

/// What the instances of a cluster share.
enum Shared {
    Memory(Arc<MemorySessionStore>),
    /// A redis-server of the endpoint's own (stopped with it); the backend's keys start `mcp:`.
    #[cfg(feature = "redis")]
    Redis(crate::redis::RedisServer),
}

impl Shared {
    /// How many live session records there are.
    fn sessions(&self) -> usize {
        match self {
            Shared::Memory(store) => store.len(),
            #[cfg(feature = "redis")]
            Shared::Redis(redis) => match redis.command(&["KEYS", "mcp:{*}"]) {
                crate::redis::Reply::Array(keys) => keys.len(),
                other => panic!("KEYS: {other:?}"),
            },
        }
    }
}

impl TestServer {
    /// Serves `server` with `config` on a free loopback port.
    pub async fn start(server: Server, config: HttpConfig) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        serve_on(listener, server, config).await
    }

    /// Serves `server` on `addr` (a port a stopped server used), waiting for the port.
    pub async fn start_at(
        addr: std::net::SocketAddr,
        server: Server,
        config: HttpConfig,
    ) -> TestServer {
        for _ in 0..100 {
            if let Ok(listener) = tokio::net::TcpListener::bind(addr).await {
                return serve_on(listener, server, config).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{addr} did not become free");
    }

    /// Serves a service built by the test (with components such as a principal hook); one
    /// instance, whatever `MCP_HTTP_TEST_INSTANCES` says.
    pub async fn start_service(service: StreamableHttpService) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        serve_service(listener, service)
    }

    /// One instance per server (each with its own registry, as separate processes have) over
    /// one memory store, log and bus, behind one round-robin address.
    pub async fn start_cluster(servers: Vec<Server>, config: HttpConfig) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        serve_cluster(listener, servers, config, over_redis()).await
    }

    /// As [`TestServer::start_cluster`], over a redis-server started for it (whatever
    /// `MCP_HTTP_TEST_REDIS` says; needs the `redis` feature).
    pub async fn start_redis_cluster(servers: Vec<Server>, config: HttpConfig) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        serve_cluster(listener, servers, config, true).await
    }

    /// The instances behind the address (one unless clustered).
    pub fn instances(&self) -> Vec<StreamableHttpService> {
        match &self.cluster {
            Some(cluster) => cluster.instances.clone(),
            None => vec![self.service.clone()],
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        let authority = self.url["http://".len()..].split('/').next().unwrap_or("");
        authority.parse().unwrap()
    }

    /// How many sessions are open (in a cluster: the shared store's live records).
    pub fn session_count(&self) -> usize {
        match &self.cluster {
            Some(cluster) => cluster.store.sessions(),
            None => self.service.session_count(),
        }
    }

    /// The redis-server the cluster shares, when it has one.
    #[cfg(feature = "redis")]
    pub fn redis(&self) -> Option<&crate::redis::RedisServer> {
        match &self.cluster.as_ref()?.store {
            Shared::Redis(redis) => Some(redis),
            Shared::Memory(_) => None,
        }
    }

    /// How many 2026-07-28 listen streams are open, on every instance.
    pub fn listener_count(&self) -> usize {
        self.instances().iter().map(|i| i.listener_count()).sum()
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
            Some(cluster) => cluster.accepted.load(Ordering::Relaxed),
            None => self.service.connections_accepted(),
        }
    }
}

impl Drop for TestServer {
    /// The server goes away at once: its streams end now, not after the drain that `serve`
    /// gives running requests (tests of the drain run the real binary).
    fn drop(&mut self) {
        match &self.cluster {
            Some(cluster) => cluster.instances.iter().for_each(|i| i.close_streams()),
            None => self.service.close_streams(),
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve_on(
    listener: tokio::net::TcpListener,
    server: Server,
    config: HttpConfig,
) -> TestServer {
    match instances() {
        n if n > 1 => serve_cluster(listener, vec![server; n], config, over_redis()).await,
        _ => serve_service(listener, StreamableHttpService::new(server, config)),
    }
}

/// `MCP_HTTP_TEST_INSTANCES`, 1 when unset.
fn instances() -> usize {
    std::env::var("MCP_HTTP_TEST_INSTANCES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// Whether clusters share a Redis backend (`MCP_HTTP_TEST_REDIS=1`).
fn over_redis() -> bool {
    std::env::var("MCP_HTTP_TEST_REDIS").is_ok_and(|v| v == "1")
}

async fn serve_cluster(
    listener: tokio::net::TcpListener,
    servers: Vec<Server>,
    config: HttpConfig,
    redis: bool,
) -> TestServer {
    let accepted = Arc::new(AtomicU64::new(0));
    let counted = accepted.clone();
    let url = format!("http://{}{}", listener.local_addr().unwrap(), config.path);
    let (shared, builders) = if redis {
        redis_builders(servers, &config).await
    } else {
        let memory = Arc::new(MemorySessionStore::new(config.idle_timeout));
        let store: Arc<dyn SessionStore> = memory.clone();
        let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::default());
        let bus: Arc<dyn MessageBus> = Arc::new(MemoryBus::new());
        let builders = servers
            .into_iter()
            .map(|server| {
                StreamableHttpService::builder(server)
                    .session_store(store.clone())
                    .event_log(log.clone())
                    .message_bus(bus.clone())
            })
            .collect::<Vec<_>>();
        (Shared::Memory(memory), builders)
    };
    let instances: Arc<Vec<StreamableHttpService>> = Arc::new(
        builders
            .into_iter()
            .enumerate()
            .map(|(i, builder)| {
                builder
                    .config(config.clone())
                    .instance_id(format!("i{i}"))
                    .build()
            })
            .collect(),
    );
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let next = Arc::new(AtomicUsize::new(0));
    let serving = instances.clone();
    tokio::spawn(async move {
        // Every connection ends with the server, as `serve`'s graceful shutdown ends them: a
        // client's pooled connection must not outlive a stopped server.
        let mut connections = tokio::task::JoinSet::new();
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
            connections.spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), handler)
                .await;
            });
        }
        for instance in serving.iter() {
            instance.shutdown();
            instance.close_streams();
        }
        // A moment for the `retry` fields of closing streams, then the connections go.
        tokio::time::sleep(Duration::from_millis(50)).await;
        connections.abort_all();
    });
    TestServer {
        url,
        service: instances[0].clone(),
        cluster: Some(Cluster {
            instances: instances.to_vec(),
            store: shared,
            accepted,
        }),
        stop: Some(stop),
    }
}

/// The instances' builders over one Redis backend each, sharing a redis-server started here.
#[cfg(feature = "redis")]
async fn redis_builders(
    servers: Vec<Server>,
    config: &HttpConfig,
) -> (
    Shared,
    Vec<mcp_http_server_http::StreamableHttpServiceBuilder>,
) {
    use mcp_http_redis::{RedisBackend, RedisConfig, WithRedis};
    let redis = crate::redis::RedisServer::start();
    let mut builders = Vec::new();
    for server in servers {
        let settings = RedisConfig::new(redis.url()).session_ttl(config.idle_timeout);
        let backend = RedisBackend::connect(settings).await.unwrap();
        builders.push(StreamableHttpService::builder(server).redis(&backend));
    }
    (Shared::Redis(redis), builders)
}

#[cfg(not(feature = "redis"))]
async fn redis_builders(
    _: Vec<Server>,
    _: &HttpConfig,
) -> (
    Shared,
    Vec<mcp_http_server_http::StreamableHttpServiceBuilder>,
) {
    panic!("MCP_HTTP_TEST_REDIS=1 needs mcp-http-test-support's `redis` feature");
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
