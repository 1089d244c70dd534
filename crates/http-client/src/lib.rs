//! Streamable HTTP for MCP clients, legacy era (2025-03-26 to 2025-11-25): a `Transport` for the
//! peer engine, so `mcp_http_client::Client` talks to any Streamable HTTP server.
//!
//! Requests go out through an [`HttpClient`]: pooled connections on hyper, with the proxies the
//! environment names and, with the `rustls` feature, https (the webpki roots, plus any added with
//! `HttpClientBuilder::add_root_certificate_pem`).
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = mcp_http_client_http::StreamableHttpClient::new("http://127.0.0.1:8080/mcp")?;
//! let client = mcp_http_client::Client::builder("app", "1.0").connect(transport).await?;
//! println!("{:?}", client.list_all_tools().await?);
//! # Ok(()) }
//! ```

mod client;
mod config;
mod connection;
mod endpoint;
mod exchange;
mod inbound;
mod legacy;
mod pool;
mod session;
pub mod sse;
mod stream;
#[cfg(feature = "rustls")]
mod tls;
mod transport;

pub use client::{ConnectHook, HttpClient, HttpClientBuilder};
pub use config::{HttpClientConfig, HttpClientConfigBuilder, ResumptionCallback, TokenProvider};
#[cfg(feature = "rustls")]
pub use tls::CertificateError;
pub use transport::StreamableHttpClient;
