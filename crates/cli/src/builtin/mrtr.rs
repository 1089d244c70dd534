//! The fixtures of the conformance suite's input-required scenarios (MR-1): eight tools and a
//! prompt, exactly as the scenario descriptions specify their keys, messages and answers. They
//! are written once with the era-agnostic input API, so a legacy session gets the same inputs
//! as real server-to-client requests.

use mcp_http_proto::{
    CreateMessageRequestParams, ElicitRequestFormParams, ElicitRequestParams, GetPromptResult,
    InputRequest, InputRequests, InputResponse, InputResponses, Prompt, PromptMessage,
    RequestParams, SamplingMessage,
};
use mcp_http_server::{NoArgs, PromptDef, RequestContext, ServerBuilder, ToolDef, ToolError};
use serde_json::{Value, json};

fn form(message: &str, field: &str, kind: &str) -> InputRequest {
    InputRequest::Elicit(ElicitRequestParams::Form(ElicitRequestFormParams::new(
        message,
        json!({"type": "object", "properties": {field: {"type": kind}}, "required": [field]}),
    )))
}

fn sampling(text: &str, max_tokens: u64) -> InputRequest {
    InputRequest::CreateMessage(CreateMessageRequestParams::new(
        vec![SamplingMessage::user_text(text)],
        max_tokens,
    ))
}

fn roots() -> InputRequest {
    InputRequest::ListRoots(Some(RequestParams::default()))
}

fn one(key: &str, request: InputRequest) -> InputRequests {
    InputRequests::from([(key.to_owned(), request)])
}

/// A field of an accepted form, or what the user did instead.
fn field(answers: &InputResponses, key: &str, name: &str) -> String {
    match answers.get(key) {
        Some(InputResponse::Elicit(result)) => {
            match result.content.as_ref().and_then(|c| c.get(name)) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => format!("({:?})", result.action).to_lowercase(),
            }
        }
        _ => "(no answer)".to_owned(),
    }
}

/// The text a model sampled.
fn sampled(answers: &InputResponses, key: &str) -> String {
    let Some(InputResponse::CreateMessage(result)) = answers.get(key) else {
        return "(no answer)".to_owned();
    };
    let content = serde_json::to_value(&result.content).unwrap_or_default();
    match content.get("text").and_then(Value::as_str) {
        Some(text) => text.to_owned(),
        None => content.to_string(),
    }
}

/// The URIs of the client's roots.
fn root_uris(answers: &InputResponses, key: &str) -> String {
    let Some(InputResponse::ListRoots(result)) = answers.get(key) else {
        return "(no answer)".to_owned();
    };
    let uris: Vec<&str> = result.roots.iter().map(|r| r.uri.as_str()).collect();
    uris.join(", ")
}

fn tool<F, Fut>(name: &str, description: &str, f: F) -> ToolDef
where
    F: Fn(RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String, ToolError>> + Send + 'static,
{
    ToolDef::new(name, description, move |_: NoArgs, ctx: RequestContext| {
        f(ctx)
    })
}

fn tools(b: ServerBuilder) -> ServerBuilder {
    b.tool(tool(
        "test_input_required_result_elicitation",
        "Asks for the user's name (input key `user_name`), then greets them",
        |ctx| async move {
            let asks = one("user_name", form("What is your name?", "name", "string"));
            let answers = ctx.ask_all(asks).await?;
            Ok(format!("Hello, {}!", field(&answers, "user_name", "name")))
        },
    ))
    .tool(tool(
        "test_input_required_result_sampling",
        "Asks the client's model for the capital of France (input key `capital_question`)",
        |ctx| async move {
            let asks = one(
                "capital_question",
                sampling("What is the capital of France?", 100),
            );
            let answers = ctx.ask_all(asks).await?;
            Ok(sampled(&answers, "capital_question"))
        },
    ))
    .tool(tool(
        "test_input_required_result_list_roots",
        "Asks for the client's roots (input key `client_roots`) and names them",
        |ctx| async move {
            let answers = ctx.ask_all(one("client_roots", roots())).await?;
            Ok(format!(
                "Client roots: {}",
                root_uris(&answers, "client_roots")
            ))
        },
    ))
    .tool(tool(
        "test_input_required_result_request_state",
        "Asks for a confirmation with a requestState of its own, and checks it on the retry",
        |ctx| async move {
            const STATE: &str = "awaiting-confirmation";
            if let (Some(InputResponse::Elicit(answer)), Some(STATE)) = (
                ctx.input_response("confirm"),
                ctx.request_state().as_deref(),
            ) {
                let ok = answer.content.and_then(|c| c.get("ok").cloned());
                return Ok(format!("state-ok: confirmed={}", ok.unwrap_or(Value::Null)));
            }
            let asks = one("confirm", form("Please confirm", "ok", "boolean"));
            Err(ctx.input_required(asks, Some(STATE.into())).into())
        },
    ))
    .tool(tool(
        "test_input_required_result_multiple_inputs",
        "Asks for a name, a sampled greeting and the roots in one round",
        |ctx| async move {
            ctx.set_request_state("multiple-inputs");
            let mut asks = one("user_name", form("What is your name?", "name", "string"));
            asks.insert("greeting".into(), sampling("Generate a greeting", 50));
            asks.insert("client_roots".into(), roots());
            let answers = ctx.ask_all(asks).await?;
            Ok(format!(
                "{} {}! Roots: {}",
                sampled(&answers, "greeting"),
                field(&answers, "user_name", "name"),
                root_uris(&answers, "client_roots")
            ))
        },
    ))
    .tool(tool(
        "test_input_required_result_multi_round",
        "Asks for a name, then a favorite color: two rounds, a new requestState each",
        |ctx| async move {
            ctx.set_request_state("multi-round");
            let step = one(
                "step1",
                form("Step 1: What is your name?", "name", "string"),
            );
            let name = field(&ctx.ask_all(step).await?, "step1", "name");
            let step = one(
                "step2",
                form("Step 2: What is your favorite color?", "color", "string"),
            );
            let color = field(&ctx.ask_all(step).await?, "step2", "color");
            Ok(format!("Hello, {name}! Your favorite color is {color}."))
        },
    ))
    .tool(tool(
        "test_input_required_result_tampered_state",
        "Answers with an integrity-protected requestState; a tampered one gets -32602",
        |ctx| async move {
            if let (Some(_), Some(_)) = (ctx.input_response("confirm"), ctx.request_state()) {
                return Ok("state verified".to_owned());
            }
            let asks = one("confirm", form("Please confirm", "ok", "boolean"));
            Err(ctx
                .input_required(asks, Some("integrity-protected".into()))
                .into())
        },
    ))
    .tool(tool(
        "test_input_required_result_capabilities",
        "Asks only for inputs whose capability the request declares (none declared: sampling, \
         answered -32021)",
        |ctx| async move {
            let state = ctx.peer().state();
            let mut asks = InputRequests::new();
            if state.client_declares(&["sampling"]) {
                asks.insert("sample".into(), sampling("Say hello", 20));
            }
            if state.client_declares(&["elicitation"]) {
                asks.insert("ask".into(), form("What is your name?", "name", "string"));
            }
            if state.client_declares(&["roots"]) {
                asks.insert("roots".into(), roots());
            }
            if asks.is_empty() {
                asks.insert("sample".into(), sampling("Say hello", 20));
            }
            let answers = ctx.ask_all(asks).await?;
            let kinds: Vec<&str> = answers.keys().map(String::as_str).collect();
            Ok(format!("Inputs received: {}", kinds.join(", ")))
        },
    ))
}

/// Adds the input-required fixtures: the eight tools and the prompt.
pub(super) fn register(b: ServerBuilder) -> ServerBuilder {
    let prompt = Prompt::new("test_input_required_result_prompt")
        .with_description("Asks for the context to use (input key `user_context`)");
    tools(b).prompt(PromptDef::new(
        prompt,
        |_, ctx: RequestContext| async move {
            let asks = one(
                "user_context",
                form("What context should the prompt use?", "context", "string"),
            );
            let answers = ctx.ask_all(asks).await?;
            let context = field(&answers, "user_context", "context");
            Ok(GetPromptResult::new(vec![PromptMessage::user_text(
                format!("Use this context: {context}"),
            )]))
        },
    ))
}
