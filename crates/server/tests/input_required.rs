//! Input from the client with one handler for both eras (MR-1, MR-2, MR-3, M-3): the same tools,
//! prompt and resource answered with real server-to-client requests in a legacy session, and
//! with input-required results round by round in 2026-07-28 requests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use mcp_http_client::Client;
use mcp_http_core::memory;
use mcp_http_proto::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestFormParams, ElicitRequestParams,
    ElicitResult, GetPromptResult, InputRequest, InputRequests, InputResponse, Prompt,
    PromptMessage, ReadResourceResult, Resource, Root, SamplingMessage,
};
use mcp_http_server::{NoArgs, PromptDef, RequestContext, ResourceDef, Server, ToolDef, ToolError};
use mcp_http_test_support::modern::ModernPeer;
use mcp_http_test_support::text;
use serde_json::{Value, json};

fn form(message: &str) -> ElicitRequestParams {
    ElicitRequestParams::Form(ElicitRequestFormParams::new(
        message,
        json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
    ))
}

fn name_of(result: &ElicitResult) -> String {
    let content = result.content.clone().unwrap_or_default();
    content
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned()
}

/// The tool written once: asks the user, then the model, then for the roots.
async fn trip(_: NoArgs, ctx: RequestContext) -> Result<String, ToolError> {
    let who = ctx.elicit(form("Who are you?")).await?;
    let greeting = ctx
        .sample(CreateMessageRequestParams::new(
            vec![SamplingMessage::user_text(format!(
                "Greet {}",
                name_of(&who)
            ))],
            20,
        ))
        .await?;
    let roots = ctx.roots().await?;
    Ok(format!(
        "{} / {} / {} roots",
        name_of(&who),
        greeting.model,
        roots.roots.len()
    ))
}

/// A tool in the explicit style: its own key and its own state.
async fn confirm(_: NoArgs, ctx: RequestContext) -> Result<String, ToolError> {
    if let (Some(InputResponse::Elicit(answer)), Some(state)) =
        (ctx.input_response("confirm"), ctx.request_state())
    {
        return Ok(format!("{state}: {:?}", answer.action));
    }
    let mut asks = InputRequests::new();
    asks.insert("confirm".into(), InputRequest::Elicit(form("Sure?")));
    Err(ctx.input_required(asks, Some("state-ok".into())).into())
}

fn server() -> Server {
    let prompt = Prompt::new("context_prompt");
    let resource = Resource::new("test://who", "who");
    Server::builder("mrtr", "1")
        .tool(ToolDef::new("trip", "elicit, sample, roots", trip))
        .tool(ToolDef::new("confirm", "explicit input", confirm))
        .prompt(PromptDef::new(
            prompt,
            |_, ctx: RequestContext| async move {
                let who = ctx.elicit(form("Context?")).await?;
                Ok(GetPromptResult::new(vec![PromptMessage::user_text(
                    name_of(&who),
                )]))
            },
        ))
        .resource(ResourceDef::new(
            resource,
            |uri, ctx: RequestContext| async move {
                let who = ctx.elicit(form("Reader?")).await?;
                Ok(ReadResourceResult::text(uri, "text/plain", name_of(&who)))
            },
        ))
        .build()
}

/// A client that answers every kind of input.
async fn legacy_client(server: &Server) -> Client {
    let (a, b) = memory::pair();
    server.connect(b);
    Client::builder("c", "1")
        .elicitation(|_, _| async {
            Ok(serde_json::from_value::<ElicitResult>(
                json!({"action": "accept", "content": {"name": "Ada"}}),
            )
            .unwrap())
        })
        .sampling(|_, _| async {
            Ok(serde_json::from_value::<CreateMessageResult>(json!({
                "role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m1"
            }))
            .unwrap())
        })
        .roots(vec![
            Root::new("file:///a", "a"),
            Root::new("file:///b", "b"),
        ])
        .connect(a)
        .await
        .unwrap()
}

#[tokio::test]
async fn in_a_legacy_session_the_handler_asks_with_real_requests() {
    let server = server();
    let client = legacy_client(&server).await;
    let result = client.call_tool("trip", json!({})).await.unwrap();
    assert_eq!(text(&result), "Ada / m1 / 2 roots");
    // The explicit style too: the engine turns the input-required answer into requests (MR-3).
    let result = client.call_tool("confirm", json!({})).await.unwrap();
    assert_eq!(text(&result), "state-ok: Accept");
    let prompt = client
        .get_prompt("context_prompt", Vec::<(String, String)>::new())
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&prompt).unwrap()["messages"][0]["content"]["text"],
        "Ada"
    );
    let read = client.read_resource("test://who").await.unwrap();
    assert_eq!(
        serde_json::to_value(&read).unwrap()["contents"][0]["text"],
        "Ada"
    );
}

const ALL: &str = r#"{"elicitation": {}, "sampling": {}, "roots": {}}"#;

fn with(mut params: Value, previous: &Value, responses: Value) -> Value {
    params["inputResponses"] = responses;
    if let Some(state) = previous.get("requestState") {
        params["requestState"] = state.clone();
    }
    params
}

fn accepted() -> Value {
    json!({"action": "accept", "content": {"name": "Ada"}})
}

#[tokio::test]
async fn in_a_modern_request_the_same_tool_yields_input_required_results_round_by_round() {
    let server = server();
    let mut modern = modern_peer(&server, serde_json::from_str(ALL).unwrap());
    let call = json!({"name": "trip", "arguments": {}});
    let r1 = modern.call("tools/call", call.clone()).await.unwrap();
    assert_eq!(r1["resultType"], "input_required");
    assert_eq!(
        r1["inputRequests"]["elicitation-0"]["params"]["message"],
        "Who are you?"
    );

    let r2 = with(call.clone(), &r1, json!({"elicitation-0": accepted()}));
    let r2 = modern.call("tools/call", r2).await.unwrap();
    let asked = &r2["inputRequests"]["sampling-1"]["params"]["messages"][0]["content"]["text"];
    assert_eq!(asked, "Greet Ada", "the second call sees the first answer");

    let sampled =
        json!({"role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m2"});
    let r3 = with(call.clone(), &r2, json!({"sampling-1": sampled}));
    let r3 = modern.call("tools/call", r3).await.unwrap();
    assert_eq!(r3["inputRequests"]["roots-2"]["method"], "roots/list");

    let roots = json!({"roots-2": {"roots": [{"uri": "file:///x"}]}});
    let done = modern
        .call("tools/call", with(call.clone(), &r3, roots.clone()))
        .await;
    let done = done.unwrap();
    assert_eq!(done["content"][0]["text"], "Ada / m2 / 1 roots");
    assert!(done.get("isError").is_none());

    // MR-2: the state of round 3 was used; sending it again is refused.
    let replay = modern
        .call("tools/call", with(call.clone(), &r3, roots.clone()))
        .await;
    assert_eq!(replay.unwrap_err().code, -32602);
    // A tampered state is refused with the same undetailed error.
    let mut tampered = r3.clone();
    tampered["requestState"] = json!(format!("{}-TAMPERED", r3["requestState"].as_str().unwrap()));
    let error = modern
        .call("tools/call", with(call, &tampered, roots))
        .await
        .unwrap_err();
    assert_eq!(
        (error.code, error.message.as_str()),
        (-32602, "Invalid or expired requestState")
    );
    assert_eq!(error.data, None);
}

#[tokio::test]
async fn an_explicit_input_required_tool_a_prompt_and_a_resource_in_a_modern_request() {
    let server = server();
    let mut modern = modern_peer(&server, serde_json::from_str(ALL).unwrap());
    let call = json!({"name": "confirm", "arguments": {}});
    let r1 = modern.call("tools/call", call.clone()).await.unwrap();
    assert_eq!(
        r1["inputRequests"]["confirm"]["method"],
        "elicitation/create"
    );
    let state = r1["requestState"].as_str().unwrap();
    assert!(!state.contains("state-ok"), "the handler's state is sealed");
    let done = modern
        .call(
            "tools/call",
            with(call, &r1, json!({"confirm": {"action": "decline"}})),
        )
        .await
        .unwrap();
    assert_eq!(done["content"][0]["text"], "state-ok: Decline");

    let get = json!({"name": "context_prompt"});
    let r1 = modern.call("prompts/get", get.clone()).await.unwrap();
    assert_eq!(r1["resultType"], "input_required");
    let done = modern
        .call(
            "prompts/get",
            with(get, &r1, json!({"elicitation-0": accepted()})),
        )
        .await
        .unwrap();
    assert_eq!(done["messages"][0]["content"]["text"], "Ada");

    let read = json!({"uri": "test://who"});
    let r1 = modern.call("resources/read", read.clone()).await.unwrap();
    assert_eq!(
        r1["inputRequests"]["elicitation-0"]["params"]["message"],
        "Reader?"
    );
    let done = modern
        .call(
            "resources/read",
            with(read, &r1, json!({"elicitation-0": accepted()})),
        )
        .await
        .unwrap();
    assert_eq!(done["contents"][0]["text"], "Ada");
}

#[tokio::test]
async fn a_missing_capability_is_minus_32021_in_modern_and_an_is_error_result_in_legacy() {
    let server = server();
    let mut modern = modern_peer(&server, json!({"elicitation": {}}));
    let call = json!({"name": "trip", "arguments": {}});
    let r1 = modern.call("tools/call", call.clone()).await.unwrap();
    let error = modern
        .call(
            "tools/call",
            with(call, &r1, json!({"elicitation-0": accepted()})),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code, -32021);
    assert_eq!(
        error.data,
        Some(json!({"requiredCapabilities": {"sampling": {}}}))
    );
    // Explicit input requests are checked too.
    let error = modern
        .call("tools/call", json!({"name": "confirm"}))
        .await
        .map(|_| ());
    assert!(error.is_ok(), "elicitation is declared");
    let mut none = modern_peer(&server, json!({}));
    let error = none
        .call("tools/call", json!({"name": "confirm"}))
        .await
        .unwrap_err();
    assert_eq!(
        error.data,
        Some(json!({"requiredCapabilities": {"elicitation": {}}}))
    );

    // Legacy: unchanged, the tool's failure told to the model (TL-4).
    let (a, b) = memory::pair();
    server.connect(b);
    let bare = Client::builder("c", "1").connect(a).await.unwrap();
    let result = bare.call_tool("trip", json!({})).await.unwrap();
    assert_eq!(result.is_error, Some(true));
}

#[tokio::test]
async fn wrong_or_malformed_answers_are_asked_for_again() {
    let server = server();
    let mut modern = modern_peer(&server, serde_json::from_str(ALL).unwrap());
    for responses in [
        json!({"wrong_key": accepted()}),
        json!({"elicitation-0": 12345}),
        Value::Null,
    ] {
        let params = json!({"name": "trip", "arguments": {}, "inputResponses": responses});
        let answer = modern.call("tools/call", params).await.unwrap();
        assert_eq!(answer["resultType"], "input_required", "{responses}");
    }
    let extra = json!({"elicitation-0": accepted(), "unknown": {"action": "accept"}});
    let params = json!({"name": "trip", "arguments": {}, "inputResponses": extra});
    let answer = modern.call("tools/call", params).await.unwrap();
    assert!(answer["inputRequests"]["sampling-1"].is_object());
}

/// A 2026-07-28 request stream to `server` whose requests declare `capabilities`.
fn modern_peer(server: &Server, capabilities: Value) -> ModernPeer {
    ModernPeer::connect(
        server.stateless_handler(),
        server.peer_config().clone(),
        capabilities,
    )
}
