//! Build MCP clients: connect over any transport, call every client-to-server method with typed
//! results, and answer the server's sampling, elicitation and roots requests. The client speaks
//! both eras: it probes with `server/discover` and falls back to `initialize` ([`Era`]), and in
//! the 2026-07-28 era answers input-required results through the same handlers and listens
//! with [`Client::listen`].
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_http_client::Client;
//! let transport = mcp_http_transport::stdio::child(tokio::process::Command::new("my-server"))?;
//! let client = Client::builder("my-app", "1.0.0")
//!     .on_log(|log| eprintln!("{:?}: {}", log.level, log.data))
//!     .connect(transport)
//!     .await?;
//! let tools = client.list_all_tools().await?;
//! # Ok(()) }
//! ```

mod capability;
mod client;
mod era;
mod handler;
mod listen;
mod modern;
mod param_headers;

pub use client::{Client, ClientBuilder, ToolReply};
pub use era::Era;
pub use handler::apply_schema_defaults;
pub use listen::ListenEvent;
pub use mcp_http_core::{
    CancellationToken, ProgressUpdate, RequestContext, RequestError, RequestOptions,
};
pub use mcp_http_proto as proto;
