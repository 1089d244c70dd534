//! The MCP endpoint mounted in an axum application, beside routes of its own: `/mcp` is MCP,
//! `/health` is plain axum. Served at 127.0.0.1:8081 until Ctrl-C.

use mcp_http_server::{NoArgs, Server, ToolDef};
use mcp_http_server_http::{HttpConfig, StreamableHttpService};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let server = Server::builder("axum-demo", "1.0.0")
        .tool(ToolDef::new("hello", "Says hello", |_: NoArgs, _| async {
            "hello"
        }))
        .build();
    // Stateless: every POST stands alone, which suits an app that scales out.
    let service = StreamableHttpService::new(server, HttpConfig::default().stateless(true));
    let app = axum::Router::new()
        .route_service("/mcp", service)
        .route("/health", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
    eprintln!("serving MCP on http://127.0.0.1:8081/mcp and /health");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
