//! Streamable HTTP for MCP servers, legacy era (2025-03-26 to 2025-11-25): a tower `Service`
//! that answers POST (JSON, SSE or adaptive), GET (the standalone SSE stream, resumable with
//! `Last-Event-ID`) and DELETE on one endpoint, with sessions or stateless.
//!
//! The endpoint fronts any [`HandlerFactory`]: the `mcp-http-server` crate's `Server`, or a
//! handler of your own (a proxy, a bridged stdio child). Handlers see the HTTP request's
//! extensions, and its [`Principal`], through their `RequestContext`.
//!
//! ```no_run
//! # async fn f(server: impl mcp_http_server_http::HandlerFactory) -> std::io::Result<()> {
//! use mcp_http_server_http::{HttpConfig, StreamableHttpService, serve};
//! // `server`: an `mcp_http_server::Server`, or any other `HandlerFactory`.
//! let service = StreamableHttpService::new(server, HttpConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! serve(listener, service, std::future::pending()).await
//! # }
//! ```

mod body;
mod checks;
mod coarse_timer;
mod config;
mod head_timer;
mod legacy_sse;
mod limits;
pub mod metrics;
mod modern;
mod per_connection;
mod post;
mod queue;
mod random;
mod rejection;
mod router;
mod serve;
mod service;
pub mod sessions;
mod sse;
mod stall;
mod stop_watch;
mod unmade;
#[cfg(feature = "websocket")]
mod websocket;

pub use body::ResponseBody;
pub use config::{Eras, FrontFn, HttpConfig, PrincipalFn, ResponseMode};
pub use legacy_sse::LegacySse;
pub use mcp_http_core::{HandlerFactory, Principal};
pub use serve::serve;
pub use service::{HealthFn, StreamableHttpService, StreamableHttpServiceBuilder};
pub use sessions::{
    EventLog, MemoryBus, MemoryEventLog, MemorySessionStore, MessageBus, SessionRecord,
    SessionStore,
};

/// Mounts the endpoint in an axum router at the configured path.
#[cfg(feature = "axum")]
pub fn axum_router(service: StreamableHttpService) -> axum::Router {
    let path = service.config().path.clone();
    axum::Router::new().route_service(&path, service)
}
