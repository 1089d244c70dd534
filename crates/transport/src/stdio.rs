//! stdio: a server on its own stdin/stdout, or a client that spawns a server as a child process.

use std::process::Stdio;

use tokio::io::{Stdin, Stdout};
use tokio::process::{ChildStdin, ChildStdout, Command};

use crate::lines::LineTransport;

/// The server side: messages on this process's stdin and stdout. Logs must go to stderr.
///
/// ```no_run
/// # async fn f(server: mcp_http_server::Server) {
/// server.serve(mcp_http_transport::stdio::server()).await;
/// # }
/// ```
pub fn server() -> LineTransport<Stdin, Stdout> {
    LineTransport::new(tokio::io::stdin(), tokio::io::stdout())
}

/// The client side: spawns `command` with piped stdin and stdout (stderr is inherited) and talks
/// to it. The child is killed when the transport's reading half is dropped.
///
/// ```no_run
/// let transport = mcp_http_transport::stdio::child(tokio::process::Command::new("my-mcp-server")).unwrap();
/// ```
pub fn child(mut command: Command) -> std::io::Result<LineTransport<ChildStdout, ChildStdin>> {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn()?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(std::io::Error::other(
            "the child's stdin or stdout is not piped",
        ));
    };
    Ok(LineTransport::new(stdout, stdin).keep_alive(child))
}
