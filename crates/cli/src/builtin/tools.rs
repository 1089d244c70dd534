//! The built-in server's tools.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mcp_http_proto::{
    CallToolResult, ContentBlock, CreateMessageRequestParams, ElicitRequestParams, ElicitResult,
    LoggingLevel, Tool,
};
use mcp_http_server::{NoArgs, RequestContext, ServerBuilder, ToolDef, ToolError};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::{TEST_AUDIO_BASE64, TEST_IMAGE_BASE64};

fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ToolError> {
    serde_json::from_value(value)
        .map_err(|e| ToolError::failed(format!("internal schema error: {e}")))
}

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    /// The message to echo back.
    message: String,
}

#[derive(Deserialize, JsonSchema)]
struct AddArgs {
    /// The first number.
    a: f64,
    /// The second number.
    b: f64,
}

#[derive(Deserialize, JsonSchema)]
struct LongRunningArgs {
    /// Total duration in seconds (default 2).
    #[serde(default = "default_duration")]
    duration: f64,
    /// Number of progress steps (default 5).
    #[serde(default = "default_steps")]
    steps: u32,
}

fn default_duration() -> f64 {
    2.0
}

fn default_steps() -> u32 {
    5
}

#[derive(Deserialize, JsonSchema)]
struct PromptArgs {
    /// The prompt to send to the client's model.
    prompt: String,
    /// The most tokens to sample (default 100).
    #[serde(default, rename = "maxTokens")]
    max_tokens: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
struct MessageArgs {
    /// The message to show the user.
    message: String,
}

#[derive(Deserialize, JsonSchema)]
struct UriArgs {
    /// The URI of the resource that changed.
    uri: String,
}

async fn sample(ctx: RequestContext, prompt: String, max_tokens: u32) -> Result<String, ToolError> {
    let params: CreateMessageRequestParams = from_json(json!({
        "messages": [{ "role": "user", "content": { "type": "text", "text": prompt } }],
        "maxTokens": max_tokens,
    }))?;
    let result = ctx.sample(params).await?;
    let value = serde_json::to_value(&result)?;
    let text = value["content"]["text"]
        .as_str()
        .unwrap_or("(no text)")
        .to_owned();
    Ok(text)
}

async fn elicit(
    ctx: &RequestContext,
    message: &str,
    schema: serde_json::Value,
) -> Result<ElicitResult, ToolError> {
    let params: ElicitRequestParams =
        from_json(json!({ "mode": "form", "message": message, "requestedSchema": schema }))?;
    Ok(ctx.elicit(params).await?)
}

fn describe(label: &str, result: &ElicitResult) -> String {
    let value = serde_json::to_value(result).unwrap_or_default();
    let content = value.get("content").cloned().unwrap_or_else(|| json!({}));
    format!(
        "{label}: action={}, content={content}",
        value["action"].as_str().unwrap_or("?")
    )
}

fn conformance_tools(b: ServerBuilder) -> ServerBuilder {
    b.tool(ToolDef::sync("test_simple_text", "Tests simple text content response", |_: NoArgs, _: &RequestContext| {
        "This is a simple text response for testing."
    }))
    .tool(ToolDef::sync("test_image_content", "Tests image content response", |_: NoArgs, _: &RequestContext| {
        CallToolResult::new(vec![ContentBlock::image(TEST_IMAGE_BASE64, "image/png")])
    }))
    .tool(ToolDef::sync("test_audio_content", "Tests audio content response", |_: NoArgs, _: &RequestContext| {
        CallToolResult::new(vec![ContentBlock::audio(TEST_AUDIO_BASE64, "audio/wav")])
    }))
    .tool(ToolDef::sync("test_embedded_resource", "Tests embedded resource content response", |_: NoArgs, _: &RequestContext| {
        from_json::<CallToolResult>(json!({ "content": [{ "type": "resource", "resource": {
            "uri": "test://embedded-resource", "mimeType": "text/plain",
            "text": "This is an embedded resource content." } }] }))
    }))
    .tool(ToolDef::sync(
        "test_multiple_content_types",
        "Tests response with multiple content types (text, image, resource)",
        |_: NoArgs, _: &RequestContext| {
            from_json::<CallToolResult>(json!({ "content": [
                { "type": "text", "text": "Multiple content types test:" },
                { "type": "image", "data": TEST_IMAGE_BASE64, "mimeType": "image/png" },
                { "type": "resource", "resource": { "uri": "test://mixed-content-resource",
                  "mimeType": "application/json", "text": "{\"test\":\"data\",\"value\":123}" } }
            ] }))
        },
    ))
    .tool(ToolDef::new(
        "test_tool_with_logging",
        "Tests tool that emits log messages during execution",
        |_: NoArgs, ctx: RequestContext| async move {
            for (i, text) in ["Tool execution started", "Tool processing data", "Tool execution completed"].iter().enumerate() {
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                ctx.log(LoggingLevel::Info, Some("mcp-http"), text).await?;
            }
            Ok::<_, ToolError>("Tool with logging executed successfully")
        },
    ))
    .tool(ToolDef::new(
        "test_tool_with_progress",
        "Tests tool that reports progress notifications",
        |_: NoArgs, ctx: RequestContext| async move {
            for (i, step) in [0.0, 50.0, 100.0].into_iter().enumerate() {
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                ctx.progress(step, Some(100.0), Some(&format!("Completed step {step} of 100"))).await?;
            }
            let token = ctx.progress_token().map(|t| t.to_string()).unwrap_or_else(|| "0".into());
            Ok::<_, ToolError>(token)
        },
    ))
    .tool(ToolDef::sync("test_error_handling", "Tests error response handling", |_: NoArgs, _: &RequestContext| {
        Err::<String, _>("This tool intentionally returns an error for testing")
    }))
    .tool(ToolDef::new(
        "test_reconnection",
        "Tests SSE stream disconnection and client reconnection (SEP-1699): over Streamable HTTP the \
         server closes the stream mid-call and the result arrives after the client reconnects.",
        |_: NoArgs, ctx: RequestContext| async move {
            // Over Streamable HTTP this ends the POST's connection (after a `retry` field); the
            // client resumes with GET + Last-Event-ID and gets the result there. Over stdio there
            // is no stream to close and the call simply completes.
            ctx.close_stream();
            tokio::time::sleep(Duration::from_millis(100)).await;
            "Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure."
        },
    ))
    .tool(ToolDef::new(
        "test_sampling",
        "Tests server-initiated sampling (LLM completion request)",
        |a: PromptArgs, ctx: RequestContext| async move {
            let text = sample(ctx, a.prompt, a.max_tokens.unwrap_or(100)).await?;
            Ok::<_, ToolError>(format!("LLM response: {text}"))
        },
    ))
    .tool(ToolDef::new(
        "test_elicitation",
        "Tests server-initiated elicitation (user input request)",
        |a: MessageArgs, ctx: RequestContext| async move {
            let schema = json!({ "type": "object", "properties": {
                "response": { "type": "string", "description": "User's response" } }, "required": ["response"] });
            let result = elicit(&ctx, &a.message, schema).await?;
            Ok::<_, ToolError>(describe("User response", &result))
        },
    ))
    .tool(ToolDef::new(
        "test_elicitation_sep1034_defaults",
        "Tests elicitation with default values per SEP-1034",
        |_: NoArgs, ctx: RequestContext| async move {
            let schema = json!({ "type": "object", "properties": {
                "name": { "type": "string", "description": "User name", "default": "John Doe" },
                "age": { "type": "integer", "description": "User age", "default": 30 },
                "score": { "type": "number", "description": "User score", "default": 95.5 },
                "status": { "type": "string", "description": "User status",
                            "enum": ["active", "inactive", "pending"], "default": "active" },
                "verified": { "type": "boolean", "description": "Verification status", "default": true }
            }, "required": [] });
            let result = elicit(&ctx, "Please review and update the form fields with defaults", schema).await?;
            Ok::<_, ToolError>(describe("Elicitation completed", &result))
        },
    ))
    .tool(ToolDef::new(
        "test_elicitation_sep1330_enums",
        "Tests elicitation with enum schema improvements per SEP-1330",
        |_: NoArgs, ctx: RequestContext| async move {
            let schema = json!({ "type": "object", "properties": {
                "untitledSingle": { "type": "string", "description": "Select one option",
                                    "enum": ["option1", "option2", "option3"] },
                "titledSingle": { "type": "string", "description": "Select one option with titles", "oneOf": [
                    { "const": "value1", "title": "First Option" },
                    { "const": "value2", "title": "Second Option" },
                    { "const": "value3", "title": "Third Option" } ] },
                "legacyEnum": { "type": "string", "description": "Select one option (legacy)",
                                "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"] },
                "untitledMulti": { "type": "array", "description": "Select multiple options", "minItems": 1, "maxItems": 3,
                                   "items": { "type": "string", "enum": ["option1", "option2", "option3"] } },
                "titledMulti": { "type": "array", "description": "Select multiple options with titles", "minItems": 1,
                                 "maxItems": 3, "items": { "anyOf": [
                    { "const": "value1", "title": "First Choice" },
                    { "const": "value2", "title": "Second Choice" },
                    { "const": "value3", "title": "Third Choice" } ] } }
            }, "required": [] });
            let result = elicit(&ctx, "Please select options from the enum fields", schema).await?;
            Ok::<_, ToolError>(describe("Elicitation completed", &result))
        },
    ))
    .tool(ToolDef::raw(
        Tool::new("json_schema_2020_12_tool", json_schema_2020_12_input())
            .with_description("Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613, SEP-2106)"),
        |args, _| async move { format!("JSON Schema 2020-12 tool called with: {}", serde_json::Value::Object(args)) },
    ))
}

/// The input schema of `json_schema_2020_12_tool`: the one the conformance suite's
/// `json-schema-2020-12` scenario describes. Besides `$schema`, `$defs`, `$ref` and
/// `additionalProperties` (SEP-1613) it uses the rest of the 2020-12 vocabulary that SEP-2106
/// allows in `inputSchema`: an `$anchor` inside `$defs`, composition (`allOf` holding an `anyOf`:
/// a phone number or an email address is required) and a conditional (`if` the contact method is
/// `phone` `then` `phone` is required, `else` `email` is).
fn json_schema_2020_12_input() -> serde_json::Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": { "street": { "type": "string" }, "city": { "type": "string" } }
            }
        },
        "properties": {
            "name": { "type": "string" },
            "address": { "$ref": "#/$defs/address" },
            "contactMethod": { "type": "string", "enum": ["phone", "email"] },
            "phone": { "type": "string" },
            "email": { "type": "string" }
        },
        "allOf": [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
        "if": { "properties": { "contactMethod": { "const": "phone" } }, "required": ["contactMethod"] },
        "then": { "required": ["phone"] },
        "else": { "required": ["email"] },
        "additionalProperties": false
    })
}

/// How the runs of `long_running_operation` ended, read with `test_cancellation_count`: the
/// observable a client needs to check that closing its stream (2026-07-28) or sending
/// `notifications/cancelled` (legacy) really stopped the work on the server.
/// The counts are the process's own: behind a balancer each instance counts its runs, so the
/// snapshot names the process (`process`: its pid and start time) and a client matches the counts
/// of the instance that ran its call (RB-23).
struct Runs {
    process: String,
    started: AtomicU64,
    completed: AtomicU64,
    cancelled: AtomicU64,
}

impl Runs {
    fn new() -> Self {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Self {
            process: format!("{}-{}", std::process::id(), since_epoch.as_nanos()),
            started: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
        }
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({
            "started": self.started.load(Ordering::SeqCst),
            "completed": self.completed.load(Ordering::SeqCst),
            "cancelled": self.cancelled.load(Ordering::SeqCst),
            "process": self.process,
        })
    }
}

/// Counts one run; its drop counts how the run ended. A handler cancelled by a closed stream is
/// dropped where it waits, so the drop is the one place that sees every way a run can end.
struct RunGuard {
    runs: Arc<Runs>,
    completed: bool,
}

impl RunGuard {
    fn start(runs: Arc<Runs>) -> Self {
        runs.started.fetch_add(1, Ordering::SeqCst);
        Self {
            runs,
            completed: false,
        }
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        let counter = if self.completed {
            &self.runs.completed
        } else {
            &self.runs.cancelled
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

fn practical_tools(b: ServerBuilder) -> ServerBuilder {
    let runs = Arc::new(Runs::new());
    let counted = runs.clone();
    // The tools that never wait answer at once (PF-30): no future per call.
    b.tool(ToolDef::sync(
        "echo",
        "Echoes the message back",
        |a: EchoArgs, _: &RequestContext| a.message,
    ))
    .tool(ToolDef::sync(
        "add",
        "Adds two numbers and returns the sum",
        |a: AddArgs, _: &RequestContext| format!("{}", a.a + a.b),
    ))
    .tool(ToolDef::new(
        "long_running_operation",
        "Runs for `duration` seconds in `steps` steps, reporting progress and logging each step",
        move |a: LongRunningArgs, ctx: RequestContext| {
            let runs = runs.clone();
            async move {
                let mut run = RunGuard::start(runs);
                let steps = a.steps.clamp(1, 1000);
                let pause =
                    Duration::from_secs_f64((a.duration.clamp(0.0, 3600.0)) / f64::from(steps));
                for step in 1..=steps {
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = ctx.cancelled() => return Err(ToolError::failed("cancelled")),
                    }
                    let message = format!("step {step} of {steps}");
                    ctx.progress(f64::from(step), Some(f64::from(steps)), Some(&message))
                        .await?;
                    ctx.log(LoggingLevel::Info, Some("long_running_operation"), &message)
                        .await?;
                }
                run.completed = true;
                Ok(format!(
                    "Long running operation completed: {steps} steps in {} s",
                    a.duration
                ))
            }
        },
    ))
    .tool(ToolDef::sync(
        "test_cancellation_count",
        "How many long_running_operation runs started, completed and were cancelled (ended \
         before their last step: the client closed the stream or sent notifications/cancelled), \
         as JSON; `process` names the process that counted them (each instance behind a balancer \
         counts its own)",
        move |_: NoArgs, _ctx: &RequestContext| counted.snapshot().to_string(),
    ))
    .tool(ToolDef::new(
        "sample_llm",
        "Asks the client's model to answer a prompt (sampling/createMessage)",
        |a: PromptArgs, ctx: RequestContext| async move {
            let text = sample(ctx, a.prompt, a.max_tokens.unwrap_or(100)).await?;
            Ok::<_, ToolError>(format!("LLM response: {text}"))
        },
    ))
    .tool(ToolDef::new(
        "ask_user",
        "Asks the user for their name and whether to continue (elicitation/create)",
        |a: MessageArgs, ctx: RequestContext| async move {
            let schema = json!({ "type": "object", "properties": {
                    "name": { "type": "string", "description": "Your name" },
                    "proceed": { "type": "boolean", "description": "Continue?", "default": true }
                }, "required": ["name"] });
            let result = elicit(&ctx, &a.message, schema).await?;
            Ok::<_, ToolError>(describe("User answered", &result))
        },
    ))
}

/// `update_resource` needs the server itself, so it is added once the server exists.
pub(super) fn resource_update_tool(server: mcp_http_server::WeakServer) -> ToolDef {
    ToolDef::new(
        "update_resource",
        "Tells subscribers that a resource changed (notifications/resources/updated)",
        move |a: UriArgs, _ctx: RequestContext| {
            let server = server.upgrade();
            async move {
                let Some(server) = server else {
                    return Err(ToolError::failed("the server is shutting down"));
                };
                server.notify_resource_updated(&a.uri).await;
                Ok(format!("Notified subscribers of {}", a.uri))
            }
        },
    )
}

#[path = "mrtr.rs"]
mod mrtr;

pub(super) fn register(b: ServerBuilder) -> ServerBuilder {
    mrtr::register(practical_tools(conformance_tools(b)))
}
