//! The built-in server's diagnostic tools for the 2026-07-28 scenarios of the conformance suite
//! (`server-stateless`, `http-custom-header-server-validation`).

use mcp_http_proto::{CreateMessageRequestParams, LoggingLevel, Prompt};
use mcp_http_server::{
    HandlerError, NoArgs, PromptDef, RequestContext, ServerBuilder, ToolDef, ToolError, WeakServer,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
struct RegionArgs {
    /// The region to run in: mirrored into the `Mcp-Param-Region` header.
    region: String,
    /// Anything else.
    #[serde(default)]
    note: Option<String>,
}

/// Tools that need nothing but a request.
pub(super) fn register(b: ServerBuilder) -> ServerBuilder {
    b.tool(ToolDef::new(
        "test_missing_capability",
        "Asks the client's model for a message: a client that did not declare sampling gets -32021",
        |_: NoArgs, ctx: RequestContext| async move {
            let params: CreateMessageRequestParams = serde_json::from_value(json!({
                "messages": [{ "role": "user", "content": { "type": "text", "text": "Say hello" } }],
                "maxTokens": 20,
            }))?;
            let result = ctx.sample(params).await?;
            Ok::<_, ToolError>(format!(
                "sampled: {}",
                serde_json::to_value(&result)?["content"]["text"]
            ))
        },
    ))
    .tool(ToolDef::new(
        "test_streaming_elicitation",
        "Streams progress, then answers: its stream carries notifications and the result only",
        |_: NoArgs, ctx: RequestContext| async move {
            ctx.progress(1.0, Some(2.0), Some("half way")).await?;
            ctx.progress(2.0, Some(2.0), Some("done")).await?;
            Ok::<_, ToolError>("streamed")
        },
    ))
    .tool(ToolDef::new(
        "test_logging_tool",
        "Logs three messages: sent only when the request's _meta names a log level",
        |_: NoArgs, ctx: RequestContext| async move {
            for (level, text) in [
                (LoggingLevel::Debug, "debug detail"),
                (LoggingLevel::Info, "working"),
                (LoggingLevel::Warning, "almost done"),
            ] {
                ctx.log(level, Some("test_logging_tool"), &text).await?;
            }
            Ok::<_, ToolError>("logged")
        },
    ))
    .tool(
        ToolDef::new(
            "test_x_mcp_header",
            "Runs in a region taken from the Mcp-Param-Region header (x-mcp-header)",
            |a: RegionArgs, _| async move {
                format!("ran in {} ({})", a.region, a.note.unwrap_or_default())
            },
        )
        .mcp_header("region", "Region"),
    )
}

/// A tool added and removed in turn, so the tool list changes.
const DYNAMIC_TOOL: &str = "test_dynamic_tool";
/// A prompt added and removed in turn.
const DYNAMIC_PROMPT: &str = "test_dynamic_prompt";

/// The tools that change the server's lists: added once the server exists.
pub(super) fn list_changers(server: &WeakServer) -> [ToolDef; 2] {
    let tools = server.clone();
    let prompts = server.clone();
    [
        ToolDef::new(
            "test_trigger_tool_change",
            "Adds or removes a tool: listeners get notifications/tools/list_changed",
            move |_: NoArgs, _ctx: RequestContext| {
                let server = tools.upgrade();
                async move {
                    let server = server.ok_or_else(|| ToolError::failed("shutting down"))?;
                    if !server.remove_tool(DYNAMIC_TOOL) {
                        server.add_tool(ToolDef::new(
                            DYNAMIC_TOOL,
                            "Comes and goes",
                            |_: NoArgs, _| async { "here" },
                        ));
                    }
                    Ok::<_, ToolError>("tool list changed")
                }
            },
        ),
        ToolDef::new(
            "test_trigger_prompt_change",
            "Adds or removes a prompt: listeners get notifications/prompts/list_changed",
            move |_: NoArgs, _ctx: RequestContext| {
                let server = prompts.upgrade();
                async move {
                    let server = server.ok_or_else(|| ToolError::failed("shutting down"))?;
                    if !server.remove_prompt(DYNAMIC_PROMPT) {
                        let mut prompt = Prompt::new(DYNAMIC_PROMPT);
                        prompt.description = Some("Comes and goes".into());
                        server.add_prompt(PromptDef::new(prompt, |_, _| async {
                            Err::<mcp_http_proto::GetPromptResult, _>(HandlerError::from(
                                mcp_http_proto::ErrorObject::invalid_params("nothing to say"),
                            ))
                        }));
                    }
                    Ok::<_, ToolError>("prompt list changed")
                }
            },
        ),
    ]
}
