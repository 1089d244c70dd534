//! The fixtures of the conformance suite's `tasks-*` scenarios (the tasks extension, TK-1..TK-6),
//! named and shaped as the scenario descriptions ask: a sync-only `greet`, and task-supporting
//! tools that sleep, fail, fail at the protocol level, wait for input, and gather input before
//! they become a task.

use std::time::Duration;

use mcp_http_proto::{
    ElicitAction, ElicitRequestFormParams, ElicitRequestParams, ErrorObject, InputRequest,
    InputRequests, InputResponse, InputResponses,
};
use mcp_http_server::{
    NoArgs, RequestContext, ServerBuilder, TaskSupport, ToolDef, ToolError, continue_as_task,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize, JsonSchema)]
struct GreetArgs {
    /// Who to greet.
    name: String,
}

#[derive(Deserialize, JsonSchema)]
struct ComputeArgs {
    /// How long to work, in seconds (0 for at once).
    #[serde(default)]
    seconds: f64,
    /// A label echoed in the result.
    #[serde(default)]
    label: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
struct DeleteArgs {
    /// The file to delete (nothing is deleted).
    filename: String,
}

fn form(message: &str, properties: Value) -> InputRequest {
    InputRequest::Elicit(ElicitRequestParams::Form(ElicitRequestFormParams::new(
        message,
        json!({"type": "object", "properties": properties}),
    )))
}

/// A field of an accepted form, or what the user did instead.
fn field(answers: &InputResponses, key: &str, name: &str) -> String {
    match answers.get(key) {
        Some(InputResponse::Elicit(result)) if result.action == ElicitAction::Accept => {
            match result.content.as_ref().and_then(|c| c.get(name)) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => "(none)".to_owned(),
            }
        }
        Some(InputResponse::Elicit(result)) => format!("({:?})", result.action).to_lowercase(),
        _ => "(no answer)".to_owned(),
    }
}

/// Adds the tasks fixtures.
pub(super) fn register(b: ServerBuilder) -> ServerBuilder {
    b.tool(ToolDef::new(
        "greet",
        "Greets someone synchronously (never a task)",
        |args: GreetArgs, _: RequestContext| async move { format!("Hello, {}!", args.name) },
    ))
    .tool(
        ToolDef::new(
            "slow_compute",
            "Works for `seconds` seconds, then answers; a task when the client declares the tasks \
             extension",
            |args: ComputeArgs, _: RequestContext| async move {
                let seconds = args.seconds.clamp(0.0, 3600.0);
                tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
                let label = args.label.unwrap_or_default();
                format!("Computed after {seconds}s: {label}")
            },
        )
        .task_support(TaskSupport::Optional),
    )
    .tool(
        ToolDef::new(
            "failing_job",
            "Fails with a tool error after about a second; needs the tasks extension",
            |_: NoArgs, _: RequestContext| async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Err::<String, _>(ToolError::failed("failing_job failed, as it always does"))
            },
        )
        .task_support(TaskSupport::Required),
    )
    .tool(
        ToolDef::new(
            "protocol_error_job",
            "Ends with a protocol error (JSON-RPC -32603), not a tool error",
            |_: NoArgs, _: RequestContext| async move {
                Err::<String, _>(ToolError::Rpc(ErrorObject::new(
                    mcp_http_proto::error_code::INTERNAL_ERROR,
                    "protocol_error_job hit an internal failure",
                )))
            },
        )
        .task_support(TaskSupport::Optional),
    )
    .tool(
        ToolDef::new(
            "confirm_delete",
            "Asks for a confirmation (one elicitation), then reports the (pretend) deletion",
            |args: DeleteArgs, ctx: RequestContext| async move {
                let message = format!("Delete {}?", args.filename);
                let asks = InputRequests::from([(
                    "confirm".to_owned(),
                    form(&message, json!({"confirm": {"type": "boolean"}})),
                )]);
                let answers = ctx.ask_all(asks).await?;
                let confirmed = field(&answers, "confirm", "confirm");
                Ok::<_, ToolError>(format!("{}: confirm={confirmed}", args.filename))
            },
        )
        .task_support(TaskSupport::Optional),
    )
    .tool(
        ToolDef::new(
            "multi_input",
            "Asks two questions at once (two pending inputs), then answers with both",
            |_: NoArgs, ctx: RequestContext| async move {
                let properties =
                    json!({"name": {"type": "string"}, "confirm": {"type": "boolean"}});
                let asks = InputRequests::from([
                    (
                        "first".to_owned(),
                        form("First answer?", properties.clone()),
                    ),
                    ("second".to_owned(), form("Second answer?", properties)),
                ]);
                let answers = ctx.ask_all(asks).await?;
                Ok::<_, ToolError>(format!(
                    "first={}, second={}",
                    field(&answers, "first", "name"),
                    field(&answers, "second", "name")
                ))
            },
        )
        .task_support(TaskSupport::Optional),
    )
    .tool(
        ToolDef::new(
            "test_tool_with_task",
            "Asks for the user's name (input key `user_name`) on the request, then continues as a \
             task that greets them",
            |_: NoArgs, ctx: RequestContext| async move {
                let asks = InputRequests::from([(
                    "user_name".to_owned(),
                    form("What is your name?", json!({"name": {"type": "string"}})),
                )]);
                let answers = ctx.ask_all(asks).await?;
                continue_as_task(&ctx)?;
                tokio::time::sleep(Duration::from_millis(200)).await;
                Ok::<_, ToolError>(format!(
                    "Hello, {}! (from a task)",
                    field(&answers, "user_name", "name")
                ))
            },
        )
        .task_support(TaskSupport::Required)
        .input_before_task(),
    )
}
