//! A tool that streams progress and asks the user for input, served over Streamable HTTP at
//! 127.0.0.1:8082 until Ctrl-C. The progress notifications and the elicitation request travel
//! on the call's own SSE stream; a client that declared no elicitation gets an `isError` result.
//!
//! Try it with `mcp-http call http://127.0.0.1:8082/mcp countdown from=3`.

use std::time::Duration;

use mcp_http_proto::ElicitRequestParams;
use mcp_http_server::{RequestContext, Server, ToolDef, ToolError};
use mcp_http_server_http::{HttpConfig, StreamableHttpService, serve};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct CountdownArgs {
    /// Where to start counting down.
    from: u32,
}

async fn countdown(args: CountdownArgs, ctx: RequestContext) -> Result<String, ToolError> {
    let total = f64::from(args.from);
    for step in 1..=args.from {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let left = format!("{} left", args.from - step);
        ctx.progress(f64::from(step), Some(total), Some(&left))
            .await?;
    }
    // Ask the user (the client shows a form); `?` passes a refusal or failure on.
    let params: ElicitRequestParams = serde_json::from_value(serde_json::json!({
        "mode": "form",
        "message": "Lift-off?",
        "requestedSchema": {
            "type": "object",
            "properties": { "go": { "type": "boolean", "default": true } },
            "required": ["go"]
        }
    }))?;
    let answer = ctx.elicit(params).await?;
    let answer = serde_json::to_value(&answer)?;
    Ok(match answer["content"]["go"].as_bool() {
        Some(true) => "Lift-off!".to_owned(),
        _ => format!("Held on the pad ({})", answer["action"]),
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let server = Server::builder("countdown", "1.0.0")
        .tool(ToolDef::new(
            "countdown",
            "Counts down with progress, then asks before lift-off",
            countdown,
        ))
        .build();
    let service = StreamableHttpService::new(server, HttpConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8082").await?;
    eprintln!("serving MCP on http://127.0.0.1:8082/mcp");
    serve(listener, service, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
