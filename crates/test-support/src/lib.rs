//! Fixtures and helpers that the tests of several `mcp-http` crates share, written once:
//!
//! - [`text`]: the text of a tool result;
//! - [`initialize_request`]: a JSON-RPC `initialize` request as a client sends it;
//! - [`eventually`]: waits (polling) until a condition holds;
//! - [`ports`]: loopback ports for servers a test must name before they listen;
//! - [`redis`]: a real `redis-server` on a loopback port, and a small RESP client for checks;
//! - [`sse`]: Server-Sent Events parsed from text (events, and the JSON-RPC messages they carry);
//! - with the `server` feature, [`server`]: a real Streamable HTTP server on a loopback port
//!   (optionally several instances over one store, log and bus) and a small tool set for it.
//!
//! This crate never depends on the `mcp-http` command-line crate, and without the `server`
//! feature not on `mcp-http-server` either, so that every library crate can dev-depend on it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use mcp_http_proto::CallToolResult;
use serde_json::{Value, json};

#[cfg(feature = "peer")]
pub mod modern;
#[cfg(feature = "oauth")]
pub mod oauth;
#[cfg(feature = "oidc")]
pub mod oidc;
pub mod ports;
pub mod redis;
#[cfg(feature = "server")]
pub mod server;
pub mod sse;

/// The text of a tool result: its text content blocks, joined with nothing between them.
pub fn text(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text()).collect()
}

/// An `initialize` request (id 0) for `version` from a client named `test` that declares
/// sampling and elicitation.
pub fn initialize_request(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": version,
        "capabilities": {"sampling": {}, "elicitation": {}},
        "clientInfo": {"name": "test", "version": "1"}}})
}

/// Waits until `check` holds, looking every 20 ms for up to 10 s (of the tokio clock, so a test
/// on a paused clock does not wait for real); whether it held in the end. The bound is generous:
/// on a loaded machine what is waited for can take far longer than it does alone, and a check
/// that holds returns at once.
pub async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}
