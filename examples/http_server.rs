//! An MCP server over Streamable HTTP in a few lines: one tool, served at
//! http://127.0.0.1:8080/mcp until Ctrl-C.
//!
//! Try it with `mcp-http call http://127.0.0.1:8080/mcp add a=1 b=2`.

use mcp_http_server::{RequestContext, Server, ToolDef, ToolError};
use mcp_http_server_http::{HttpConfig, StreamableHttpService, serve};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// The first number.
    a: f64,
    /// The second number.
    b: f64,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let server = Server::builder("calculator", "1.0.0")
        .tool(ToolDef::new(
            "add",
            "Adds two numbers",
            |args: AddArgs, _ctx: RequestContext| async move {
                Ok::<_, ToolError>(format!("{}", args.a + args.b))
            },
        ))
        .build();
    let service = StreamableHttpService::new(server, HttpConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    eprintln!("serving MCP on http://127.0.0.1:8080/mcp");
    serve(listener, service, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
