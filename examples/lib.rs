//! Small runnable programs that show how to use mcp-http; each is an example of this package:
//!
//! - `http_server`: an MCP server over Streamable HTTP in a few lines;
//! - `axum_app`: the same endpoint mounted in an axum application beside other routes;
//! - `client`: a client that lists a server's tools and calls one;
//! - `progress_and_input`: a tool that streams progress and asks the user for input.
//!
//! Run one with `cargo run -p mcp-http-examples --example NAME`.
