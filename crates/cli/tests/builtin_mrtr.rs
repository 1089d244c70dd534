//! The built-in server's input-required fixtures (MR-1, MR-2, M-3) played the way the
//! conformance suite's `input-required-result-*` scenarios play them, on a 2026-07-28 request
//! path set up as the HTTP layer sets it up (a stateless peer whose state holds the request's
//! client capabilities).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use mcp_http_test_support::modern::ModernPeer;

use mcp_http_core::memory;
use mcp_http_proto::ErrorObject;
use serde_json::{Value, json};

/// `tools/call` of `name` with no arguments and `extra` params (inputResponses, requestState).
trait CallTool {
    async fn tool(&mut self, name: &str, extra: Value) -> Result<Value, ErrorObject>;
}

impl CallTool for ModernPeer {
    async fn tool(&mut self, name: &str, extra: Value) -> Result<Value, ErrorObject> {
        let mut params = json!({"name": name, "arguments": {}});
        for (k, v) in extra.as_object().unwrap() {
            params[k] = v.clone();
        }
        self.call("tools/call", params).await
    }
}

fn all() -> Value {
    json!({"elicitation": {}, "sampling": {}, "roots": {}})
}

fn accept(content: Value) -> Value {
    json!({"action": "accept", "content": content})
}

fn sampled(text: &str) -> Value {
    json!({"role": "assistant", "content": {"type": "text", "text": text}, "model": "test-model", "stopReason": "endTurn"})
}

fn roots() -> Value {
    json!({"roots": [{"uri": "file:///test/root", "name": "Test Root"}]})
}

/// The retry members: the answers and the state, if the result had one.
fn retry(result: &Value, responses: Value) -> Value {
    let mut extra = json!({"inputResponses": responses});
    if let Some(state) = result.get("requestState") {
        extra["requestState"] = state.clone();
    }
    extra
}

fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or("")
}

#[tokio::test]
async fn basic_elicitation_sampling_and_roots() {
    let mut m = modern_peer(all());
    let r1 = m
        .tool("test_input_required_result_elicitation", json!({}))
        .await
        .unwrap();
    assert_eq!(r1["resultType"], "input_required");
    assert_eq!(
        r1["inputRequests"]["user_name"]["method"],
        "elicitation/create"
    );
    assert_eq!(
        r1["inputRequests"]["user_name"]["params"]["message"],
        "What is your name?"
    );
    let extra = retry(&r1, json!({"user_name": accept(json!({"name": "Alice"}))}));
    let done = m
        .tool("test_input_required_result_elicitation", extra)
        .await
        .unwrap();
    assert_eq!(text(&done), "Hello, Alice!");

    let r1 = m
        .tool("test_input_required_result_sampling", json!({}))
        .await
        .unwrap();
    let asked = &r1["inputRequests"]["capital_question"];
    assert_eq!(asked["params"]["maxTokens"], 100);
    let extra = retry(&r1, json!({"capital_question": sampled("Paris.")}));
    let done = m
        .tool("test_input_required_result_sampling", extra)
        .await
        .unwrap();
    assert_eq!(text(&done), "Paris.");

    let r1 = m
        .tool("test_input_required_result_list_roots", json!({}))
        .await
        .unwrap();
    assert_eq!(
        r1["inputRequests"]["client_roots"],
        json!({"method": "roots/list", "params": {}})
    );
    let extra = retry(&r1, json!({"client_roots": roots()}));
    let done = m
        .tool("test_input_required_result_list_roots", extra)
        .await
        .unwrap();
    assert!(text(&done).contains("file:///test/root"));
}

#[tokio::test]
async fn request_state_multiple_inputs_and_multi_round() {
    let mut m = modern_peer(all());
    let name = "test_input_required_result_request_state";
    let r1 = m.tool(name, json!({})).await.unwrap();
    assert!(r1["requestState"].is_string() && r1["inputRequests"]["confirm"].is_object());
    let done = m.tool(
        name,
        retry(&r1, json!({"confirm": accept(json!({"ok": true}))})),
    );
    assert!(text(&done.await.unwrap()).contains("state-ok"));

    let name = "test_input_required_result_multiple_inputs";
    let r1 = m.tool(name, json!({})).await.unwrap();
    assert!(r1["requestState"].is_string());
    let methods: Vec<&str> = r1["inputRequests"]
        .as_object()
        .unwrap()
        .values()
        .map(|r| r["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods.len(), 3);
    for method in ["elicitation/create", "sampling/createMessage", "roots/list"] {
        assert!(methods.contains(&method), "{methods:?}");
    }
    let answers = json!({
        "user_name": accept(json!({"name": "Alice"})),
        "greeting": sampled("Hello there!"),
        "client_roots": roots(),
    });
    let done = m.tool(name, retry(&r1, answers)).await.unwrap();
    assert_ne!(done["resultType"], "input_required");
    assert_eq!(text(&done), "Hello there! Alice! Roots: file:///test/root");

    let name = "test_input_required_result_multi_round";
    let r1 = m.tool(name, json!({})).await.unwrap();
    assert!(r1["requestState"].is_string() && r1["inputRequests"]["step1"].is_object());
    let r2 = m.tool(
        name,
        retry(&r1, json!({"step1": accept(json!({"name": "Alice"}))})),
    );
    let r2 = r2.await.unwrap();
    assert_eq!(r2["resultType"], "input_required");
    assert!(r2["inputRequests"]["step2"].is_object());
    assert_ne!(r2["requestState"], r1["requestState"]);
    let done = m.tool(
        name,
        retry(&r2, json!({"step2": accept(json!({"color": "blue"}))})),
    );
    assert_eq!(
        text(&done.await.unwrap()),
        "Hello, Alice! Your favorite color is blue."
    );
}

#[tokio::test]
async fn missing_extra_invalid_and_tampered_inputs() {
    let mut m = modern_peer(all());
    let name = "test_input_required_result_elicitation";
    let wrong = json!({"inputResponses": {"wrong_key": accept(json!({"data": "wrong"}))}});
    assert_eq!(
        m.tool(name, wrong).await.unwrap()["resultType"],
        "input_required"
    );
    let extra = json!({"inputResponses": {
        "user_name": accept(json!({"name": "Alice"})),
        "unknown_extra_key": accept(json!({"foo": "bar"})),
        "another_unexpected": accept(json!({"baz": 123})),
    }});
    assert_eq!(text(&m.tool(name, extra).await.unwrap()), "Hello, Alice!");
    for invalid in [json!({"user_name": 12345}), Value::Null] {
        let answer = m.tool(name, json!({"inputResponses": invalid})).await;
        assert!(
            answer.is_err() || answer.as_ref().unwrap()["resultType"] == "input_required",
            "{answer:?}"
        );
    }

    let name = "test_input_required_result_tampered_state";
    let r1 = m.tool(name, json!({})).await.unwrap();
    let state = r1["requestState"].as_str().unwrap();
    let tampered = json!({
        "inputResponses": {"confirm": accept(json!({"ok": true}))},
        "requestState": format!("{state}-TAMPERED"),
    });
    assert_eq!(m.tool(name, tampered).await.unwrap_err().code, -32602);
    let good = retry(&r1, json!({"confirm": accept(json!({"ok": true}))}));
    assert_eq!(text(&m.tool(name, good).await.unwrap()), "state verified");
}

#[tokio::test]
async fn capabilities_and_the_prompt() {
    let mut m = modern_peer(json!({"sampling": {}}));
    let r1 = m
        .tool("test_input_required_result_capabilities", json!({}))
        .await
        .unwrap();
    let requests = r1["inputRequests"].as_object().unwrap();
    assert_eq!(requests.len(), 1);
    assert!(
        requests
            .values()
            .all(|r| r["method"] == "sampling/createMessage")
    );
    let mut none = modern_peer(json!({}));
    let error = none
        .tool("test_input_required_result_capabilities", json!({}))
        .await;
    let error = error.unwrap_err();
    assert_eq!(error.code, -32021);
    assert_eq!(
        error.data,
        Some(json!({"requiredCapabilities": {"sampling": {}}}))
    );

    let mut m = modern_peer(all());
    let get = json!({"name": "test_input_required_result_prompt"});
    let r1 = m.call("prompts/get", get.clone()).await.unwrap();
    assert_eq!(
        r1["inputRequests"]["user_context"]["method"],
        "elicitation/create"
    );
    let mut retry_params = get;
    retry_params["inputResponses"] =
        json!({"user_context": accept(json!({"context": "test context"}))});
    let done = m.call("prompts/get", retry_params).await.unwrap();
    assert_eq!(
        done["messages"][0]["content"]["text"],
        "Use this context: test context"
    );
}

#[tokio::test]
async fn in_a_legacy_session_the_fixtures_ask_with_real_requests() {
    use mcp_http_proto::{CreateMessageResult, ElicitResult, Root};
    let server = mcp_http::builtin::server();
    let (a, b) = memory::pair();
    server.connect(b);
    let client = mcp_http_client::Client::builder("c", "1")
        .elicitation(|_, _| async {
            Ok(serde_json::from_value::<ElicitResult>(accept(
                json!({"name": "Ada", "color": "red", "ok": true}),
            ))
            .unwrap())
        })
        .sampling(|_, _| async {
            Ok(serde_json::from_value::<CreateMessageResult>(sampled("Hi")).unwrap())
        })
        .roots(vec![Root::new("file:///r", "r")])
        .connect(a)
        .await
        .unwrap();
    for (tool, expected) in [
        ("test_input_required_result_elicitation", "Hello, Ada!"),
        (
            "test_input_required_result_request_state",
            "state-ok: confirmed=true",
        ),
        (
            "test_input_required_result_multiple_inputs",
            "Hi Ada! Roots: file:///r",
        ),
        (
            "test_input_required_result_multi_round",
            "Hello, Ada! Your favorite color is red.",
        ),
        (
            "test_input_required_result_tampered_state",
            "state verified",
        ),
    ] {
        let result = client.call_tool(tool, json!({})).await.unwrap();
        assert_eq!(mcp_http_test_support::text(&result), expected, "{tool}");
    }
}

/// A 2026-07-28 request stream to the built-in server whose requests declare `capabilities`.
fn modern_peer(capabilities: Value) -> ModernPeer {
    let server = mcp_http::builtin::server();
    ModernPeer::connect(
        server.stateless_handler(),
        server.peer_config().clone(),
        capabilities,
    )
}
