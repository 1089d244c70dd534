//! Protocol types for the Model Context Protocol (MCP): the JSON-RPC 2.0 envelope and every
//! request, result and notification of each spec version from 2024-11-05 to 2026-07-28.
//!
//! This crate does no I/O and has no async code. Messages are decoded once: the envelope is
//! parsed and `params`/`result` are kept as raw JSON ([`serde_json::value::RawValue`]) until a
//! handler asks for its typed form.
//!
//! ```
//! use mcp_http_proto::jsonrpc::Message;
//! let msg = Message::parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
//! assert!(matches!(msg, Message::Request(r) if r.method == "ping"));
//! ```

pub mod error_code;
pub mod jsonrpc;
pub mod version;

pub use jsonrpc::{ErrorObject, Message, Notification, Request, RequestId, Response};
pub use version::ProtocolVersion;
