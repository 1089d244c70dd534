//! Streamable HTTP for MCP clients, both eras: sessions of 2025-03-26 to 2025-11-25, and the
//! stand-alone requests of 2026-07-28 (a request whose `Outbound::modern` is set): a `Transport`
//! for the peer engine, so `mcp_http_client::Client` talks to any Streamable HTTP server.
//!
//! Requests go out through an [`HttpClient`]: pooled connections on hyper, with the proxies the
//! environment names and, with the `rustls` feature, https (the webpki roots, plus any added with
//! `HttpClientBuilder::add_root_certificate_pem`). The same client sends requests that are not
//! MCP messages (OAuth discovery, token requests) with [`HttpClient::fetch`]. The transport's
//! settings are an [`HttpClientConfig`], built with [`HttpClientConfig::builder`].
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = mcp_http_client_http::StreamableHttpClient::new("http://127.0.0.1:8080/mcp")?;
//! let client = mcp_http_client::Client::builder("app", "1.0").connect(transport).await?;
//! println!("{:?}", client.list_all_tools().await?);
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - `transport`: [`StreamableHttpClient`], split into the sink the peer sends through and the
//!   stream of what the server sends.
//! - `connection`: what the sink and the background tasks share, and the path of one message:
//!   POST, answer, new session on 404, GET stream once initialized, DELETE on close.
//! - `session`: the session as the transport sees it: id, negotiated version, the
//!   `initialize` kept to replay, and the renewal rules and generation counter (T-41).
//! - `exchange`: one HTTP exchange: headers, the auth hook and its refresh after a 401,
//!   same-origin redirects, failures turned into typed errors.
//! - `stream`: SSE answers and the GET stream, resumed with GET + `Last-Event-ID` after
//!   `retry`, with backoff.
//! - `inbound`: the channel of received messages to the peer.
//! - `legacy`: the 2024-11-05 HTTP+SSE fallback (T-49).
//! - `modern`: a request of the 2026-07-28 era: its own POST outside any session, with the
//!   per-request headers (H-7, H-9, H-10), and JSON-RPC errors of 4xx answers handed back.
//! - `endpoint`: the endpoint URL, parsed once, and URLs resolved against it.
//! - `config`: the settings and the hooks ([`TokenProvider`], [`ResumptionCallback`]).
//! - `client` and `pool`: the HTTP stack and its connection reuse; `tls`: the trusted roots;
//!   [`sse`]: the incremental SSE parser.

mod client;
mod config;
mod connection;
mod cookies;
mod endpoint;
mod exchange;
mod inbound;
mod legacy;
mod modern;
mod password;
mod pool;
mod session;
pub mod sse;
mod stream;
#[cfg(feature = "rustls")]
mod tls;
mod transport;

pub use client::{ConnectHook, HttpClient, HttpClientBuilder};
pub use config::{
    AuthRefusal, Authorizer, HttpClientConfig, HttpClientConfigBuilder, ResumptionCallback,
    TokenProvider,
};
pub use modern::encode_header_value;
pub use password::{PasswordAuth, PasswordScheme};
#[cfg(feature = "rustls")]
pub use tls::CertificateError;
pub use transport::StreamableHttpClient;
