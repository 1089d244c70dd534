//! `mcp-http`: the command-line program and its built-in MCP server.
//!
//! The binary serves the built-in server (`mcp-http serve --stdio`); later subcommands call,
//! bridge and load-test MCP endpoints.

pub mod auth_args;
pub mod bench;
pub mod builtin;
pub mod metrics;
#[cfg(feature = "otel")]
pub mod otel;

/// The README's examples, compiled as doc-tests so they cannot drift from the API.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
