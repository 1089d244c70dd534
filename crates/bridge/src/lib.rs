//! `mcp-http bridge`: stdio MCP servers served over Streamable HTTP, and stdio MCP clients
//! connected to remote Streamable HTTP (or 2024-11-05 HTTP+SSE) servers.
//!
//! Both directions are raw relays (BR-1): a message's params and results pass untouched, so
//! whatever the two ends speak (sampling, elicitation, roots, progress, logs, methods added
//! later) goes through; only ids and progress tokens are rewritten, by the core peer engine
//! that numbers each side's requests.
//!
//! - Serve side: [`Bridge`] is a `HandlerFactory` for the HTTP endpoint of
//!   `mcp-http-server-http`; a child shared by every session or one per session
//!   ([`ChildMode`]), started from a [`ChildSpec`] (or a `mcpServers` file, [`ServersFile`]).
//! - Connect side: [`remote::connect`] relays this process's stdin and stdout to a remote
//!   endpoint through the `mcp-http-client-http` transport.
//!
//! Metrics go through the `metrics` facade (BR-12): `mcp_http_bridge_children` (a gauge, per
//! server), `mcp_http_bridge_restarts_total` and `mcp_http_bridge_relayed_messages_total`
//! (by direction). The program installs the exporter it wants.

mod attached;
mod bridge;
mod child;
pub mod config;
pub(crate) mod modern;
mod parked;
mod relay;
pub mod remote;
mod remote_era;
mod remote_modern;
mod settings;
mod shared;
pub mod tool_filter;
mod tool_headers;
mod upstream;

pub use bridge::Bridge;
pub use child::ChildSpec;
pub use config::{ServerEntry, ServersFile};
pub use settings::{BridgeSettings, ChildMode};
