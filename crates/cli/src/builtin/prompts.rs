//! The built-in server's prompts and completion.

use mcp_http_proto::{CompleteResult, GetPromptResult, Prompt, PromptArgument, PromptMessage};
use mcp_http_server::{HandlerError, PromptDef, ServerBuilder};
use serde_json::json;

use super::TEST_IMAGE_BASE64;

fn messages(value: serde_json::Value) -> Result<GetPromptResult, HandlerError> {
    serde_json::from_value::<Vec<PromptMessage>>(value)
        .map(GetPromptResult::new)
        .map_err(|_| mcp_http_proto::ErrorObject::internal().into())
}

fn prompt(name: &str, description: &str, arguments: &[(&str, &str)]) -> Prompt {
    let mut p = Prompt::new(name);
    p.description = Some(description.into());
    if !arguments.is_empty() {
        let arguments = arguments.iter().map(|(n, d)| {
            let mut a = PromptArgument::new(*n, true);
            a.description = Some((*d).into());
            a
        });
        p.arguments = Some(arguments.collect());
    }
    p
}

/// Values offered for `completion/complete` of a prompt argument, filtered by prefix.
const COMPLETIONS: &[&str] = &["alpha", "beta", "gamma", "delta", "paris", "park", "party"];

pub(super) fn register(b: ServerBuilder) -> ServerBuilder {
    b.prompt(PromptDef::new(prompt("test_simple_prompt", "A simple prompt without arguments", &[]), |_, _| async {
        messages(json!([{ "role": "user", "content": { "type": "text", "text": "This is a simple prompt for testing." } }]))
    }))
    .prompt(PromptDef::new(
        prompt(
            "test_prompt_with_arguments",
            "A prompt with required arguments",
            &[("arg1", "First test argument"), ("arg2", "Second test argument")],
        ),
        |args, _| async move {
            let (a1, a2) = (args.get("arg1").cloned().unwrap_or_default(), args.get("arg2").cloned().unwrap_or_default());
            messages(json!([{ "role": "user", "content": { "type": "text",
                "text": format!("Prompt with arguments: arg1='{a1}', arg2='{a2}'") } }]))
        },
    ))
    .prompt(PromptDef::new(
        prompt(
            "test_prompt_with_embedded_resource",
            "A prompt that includes an embedded resource",
            &[("resourceUri", "URI of the resource to embed")],
        ),
        |args, _| async move {
            let uri = args.get("resourceUri").cloned().unwrap_or_default();
            messages(json!([
                { "role": "user", "content": { "type": "resource", "resource": {
                    "uri": uri, "mimeType": "text/plain", "text": "Embedded resource content for testing." } } },
                { "role": "user", "content": { "type": "text", "text": "Please process the embedded resource above." } }
            ]))
        },
    ))
    .prompt(PromptDef::new(prompt("test_prompt_with_image", "A prompt that includes image content", &[]), |_, _| async {
        messages(json!([
            { "role": "user", "content": { "type": "image", "data": TEST_IMAGE_BASE64, "mimeType": "image/png" } },
            { "role": "user", "content": { "type": "text", "text": "Please analyze the image above." } }
        ]))
    }))
    .completion(|params, _| async move {
        let value = serde_json::to_value(&params).unwrap_or_default();
        let prefix = value["argument"]["value"].as_str().unwrap_or_default().to_lowercase();
        let values: Vec<&str> = COMPLETIONS.iter().copied().filter(|v| v.starts_with(&prefix)).collect();
        serde_json::from_value::<CompleteResult>(json!({
            "completion": { "values": values, "total": values.len(), "hasMore": false }
        }))
        .map_err(|_| mcp_http_proto::ErrorObject::internal())
    })
}
