//! Transports for the MCP peer engine. This crate has the stdio transport: newline-delimited
//! JSON-RPC over a child process's pipes or the process's own stdin and stdout.

pub mod lines;
pub mod stdio;

pub use lines::LineTransport;
