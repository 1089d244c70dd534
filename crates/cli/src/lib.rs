//! `mcp-http`: the command-line program and its built-in MCP server.
//!
//! The binary serves the built-in server (`mcp-http serve --stdio`); later subcommands call,
//! bridge and load-test MCP endpoints.

pub mod builtin;
