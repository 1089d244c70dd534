//! 2026-07-28 clients through `mcp-http bridge --era both -- mcp-http serve --stdio` (BR-20): the
//! bridge answers `server/discover` from the child's handshake, relays each request over the
//! child's legacy session with the request's own log level, completes the results as the era
//! sends them, and serves legacy sessions on the same endpoint at the same time. A request of
//! the child during a modern call (elicitation, sampling) becomes an input-required round
//! (BR-24).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_support;
mod support;

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

    // The child asks the client during a modern call (BR-24): an input-required result, whose
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

/// A `tools/call` of the built-in `ask_user` in the 2026-07-28 wire, with `extra` params.
fn ask_user(id: i64, extra: serde_json::Value) -> serde_json::Value {
    let mut params = json!({
        "name": "ask_user",
        "arguments": {"message": "name?"},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
            "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
        },
    });
    if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
        params.extend(extra.clone());
    }
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})
}

#[tokio::test]
async fn a_childs_request_is_an_input_required_round_whose_state_is_single_use() {
    let bridge = Bridged::start(&["--era", "both", "--", BIN, "serve", "--stdio"]).await;
    let url = bridge.url("/mcp");
    let http = support::client();
    let post = |body: serde_json::Value| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let mut request = http
                .post(&url)
                .header("accept", support::ACCEPT)
                .header("content-type", "application/json");
            for (name, value) in support::modern_headers(&body) {
                request = request.header(name, value);
            }
            support::read_answer(request.body(body.to_string()).send().await.unwrap()).await
        }
    };

    // The child's elicitation comes back as the one input request, with a sealed state.
    let (status, first) = post(ask_user(1, json!({}))).await;
    assert_eq!(status, 200, "{first}");
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first}");
    let state = result["requestState"].as_str().unwrap().to_owned();
    let requests = result["inputRequests"].as_object().unwrap();
    assert_eq!(requests.len(), 1, "{first}");
    let (key, asked) = requests.iter().next().unwrap();
    assert_eq!(asked["method"], "elicitation/create");
    assert_eq!(asked["params"]["message"], "name?");

    // A retry without the answer is asked again, the call still parked.
    let (_, again) = post(ask_user(2, json!({"requestState": state}))).await;
    let again = &again["result"];
    assert_eq!(again["resultType"], "input_required", "{again}");
    let state = again["requestState"].as_str().unwrap().to_owned();
    let key = again["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .cloned()
        .unwrap_or(key.clone());

    // The answer reaches the child's waiting request; its result is the retry's.
    let answer = json!({"action": "accept", "content": {"name": "Raw", "proceed": true}});
    let retry = json!({"requestState": state, "inputResponses": {key.clone(): answer.clone()}});
    let (_, done) = post(ask_user(3, retry.clone())).await;
    assert_eq!(done["result"]["resultType"], "complete", "{done}");
    let text = done["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("Raw"), "{text}");

    // The same state again: refused (single use), -32602.
    let (_, replayed) = post(ask_user(4, retry)).await;
    assert_eq!(replayed["error"]["code"], -32602, "{replayed}");
}

#[tokio::test]
async fn with_a_child_per_session_concurrent_modern_calls_each_get_their_own_answers() {
    let bridge = Bridged::start(&[
        "--era",
        "both",
        "--child-per-session",
        "--",
        BIN,
        "serve",
        "--stdio",
    ])
    .await;
    let url = bridge.url("/mcp");
    let connect = |name: &'static str| {
        let url = url.clone();
        async move {
            client_builder(name, Arc::new(Mutex::new(Vec::new())))
                .era(Era::Modern)
                .connect(StreamableHttpClient::new(&url).unwrap())
                .await
                .unwrap()
        }
    };
    let (alice, bob) = (connect("alice").await, connect("bob").await);
    // Both calls wait on a child at the same time: each child's request is its own call's.
    let (a, b) = tokio::join!(
        alice.call_tool("sample_llm", json!({"prompt": "a"})),
        bob.call_tool("ask_user", json!({"message": "name?"})),
    );
    assert_eq!(text(&a.unwrap()), "LLM response: alice");
    let b = text(&b.unwrap());
    assert!(b.contains("bob"), "{b}");
    alice.shutdown().await;
    bob.shutdown().await;
}
