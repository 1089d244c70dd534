//! N sequential `echo` calls with `Client` + `StreamableHttpClient`, for profiling the client's
//! cost per call: `cargo run --release --example calls -- http://127.0.0.1:18600/mcp 1000 legacy`
//! (run it twice under `valgrind --tool=callgrind` with different N; the difference over the
//! difference in N is the instructions per call). The era is `auto` (the default), `legacy` or
//! `modern`.

use mcp_http_client::{Client, Era};
use mcp_http_client_http::StreamableHttpClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: calls URL [N] [auto|legacy|modern]")?;
    let n: u64 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(1000);
    let era = match args.next().as_deref() {
        None | Some("auto") => Era::Auto,
        Some("legacy") => Era::Legacy,
        Some("modern") => Era::Modern,
        Some(other) => return Err(format!("unknown era {other:?}").into()),
    };
    let transport = StreamableHttpClient::new(&url)?;
    let client = Client::builder("calls", "1.0")
        .era(era)
        .connect(transport)
        .await?;
    let arguments = serde_json::json!({"message": "hello"});
    for _ in 0..n {
        let result = client.call_tool("echo", &arguments).await?;
        if result.is_error() {
            return Err("the tool answered isError".into());
        }
    }
    client.shutdown().await;
    Ok(())
}
