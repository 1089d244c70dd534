//! A client: connects to a Streamable HTTP server (the URL is the first argument, by default
//! `mcp-http serve`'s http://127.0.0.1:8080/mcp), lists its tools and calls `echo`.

use mcp_http_client::Client;
use mcp_http_client_http::StreamableHttpClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:8080/mcp".to_owned());
    let client = Client::builder("example-client", "1.0.0")
        .connect(StreamableHttpClient::new(&url)?)
        .await?;
    for tool in client.list_all_tools().await? {
        println!("{}: {}", tool.name, tool.description.unwrap_or_default());
    }
    let result = client
        .call_tool("echo", serde_json::json!({ "message": "hello" }))
        .await?;
    println!("echo answered: {:?}", result.content);
    client.shutdown().await;
    Ok(())
}
