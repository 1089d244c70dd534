//! 2026-07-28 clients through `mcp-http bridge --era both -- mcp-http serve --stdio` (BR-20): the
//! bridge answers `server/discover` from the child's handshake, relays each request over the
//! child's legacy session with the request's own log level, completes the results as the era
//! sends them, and serves legacy sessions on the same endpoint at the same time. A request of
//! the child during a modern call (elicitation, sampling) becomes an input-required round
//! (BR-21).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_support;

use std::sync::{Arc, Mutex};

use bridge_support::*;
use mcp_http_client::Era;
use mcp_http_client_http::StreamableHttpClient;
use mcp_http_proto::LoggingLevel;
use serde_json::json;

#[tokio::test]
async fn modern_requests_are_relayed_over_the_childs_legacy_session() {
    let bridge = Bridged::start(&["--era", "both", "--", BIN, "serve", "--stdio"]).await;
    let url = bridge.url("/mcp");
    let logs = Arc::new(Mutex::new(Vec::new()));
    let modern = client_builder("modern", logs.clone())
        .era(Era::Modern)
        .connect(StreamableHttpClient::new(&url).unwrap())
        .await
        .unwrap();
    assert_eq!(modern.era(), Era::Modern);
    // server/discover, answered from the child's handshake.
    assert_eq!(modern.server_info().unwrap().name, "mcp-http");
    assert!(modern.server_capabilities().unwrap().tools.is_some());
    let tools = modern.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "echo"), "{tools:?}");
    let echoed = modern
        .call_tool("echo", json!({"message": "modern"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "modern");

    // Logs at the level the request names, and progress, on the call's own stream.
    modern.set_logging_level(LoggingLevel::Info).await.unwrap();
    let (done, steps) = three_steps(&modern).await;
    assert!(done.contains("3 steps"), "{done}");
    assert_eq!(steps, [1.0, 2.0, 3.0]);
    let got = logs.lock().unwrap().clone();
    assert!(got.iter().any(|l| l.contains("step 3 of 3")), "{got:?}");

    // A legacy session on the same endpoint at the same time.
    let legacy = client_builder("legacy", Arc::new(Mutex::new(Vec::new())))
        .era(Era::Legacy)
        .connect(StreamableHttpClient::new(&url).unwrap())
        .await
        .unwrap();
    assert_eq!(legacy.era(), Era::Legacy);
    let echoed = legacy
        .call_tool("echo", json!({"message": "legacy"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "legacy");
    legacy.shutdown().await;

    // The child asks the client during a modern call (BR-21): an input-required result, whose
    // retry (our client answers it with its own handlers) delivers the answer to the child's
    // waiting request; the child's call then completes and its result is the retry's.
    let elicited = modern
        .call_tool("ask_user", json!({"message": "name?"}))
        .await
        .unwrap();
    assert!(text(&elicited).contains("modern"), "{}", text(&elicited));
    let sampled = modern
        .call_tool("sample_llm", json!({"prompt": "hi"}))
        .await
        .unwrap();
    assert_eq!(text(&sampled), "LLM response: modern");
    // The child's session still serves plain calls afterwards.
    let echoed = modern
        .call_tool("echo", json!({"message": "after"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "after");
    modern.shutdown().await;
}
