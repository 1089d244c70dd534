//! The `mcp-http` command.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Serve, call, bridge and load-test Model Context Protocol endpoints.
#[derive(Parser)]
#[command(name = "mcp-http", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the built-in MCP server.
    Serve {
        /// Serve over this process's stdin and stdout (newline-delimited JSON-RPC).
        #[arg(long)]
        stdio: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    // stdout carries the protocol over stdio: logs go to stderr.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MCP_HTTP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    match Cli::parse().command {
        Command::Serve { stdio: true } => {
            let server = mcp_http::builtin::server();
            tokio::select! {
                _ = server.serve(mcp_http_transport::stdio::server()) => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            ExitCode::SUCCESS
        }
        Command::Serve { stdio: false } => {
            eprintln!(
                "mcp-http: serving over Streamable HTTP is not available in this build yet; use `mcp-http serve --stdio`"
            );
            ExitCode::from(2)
        }
    }
}
