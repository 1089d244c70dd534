//! Sampling: `sampling/createMessage` (checklist SM-1..SM-5).
//!
//! A server-to-client request in the legacy versions; in 2026-07-28 only an input request of an
//! `InputRequiredResult` (MRTR), and deprecated. Versions: audio content from 2025-03-26;
//! `tools`, `toolChoice`, `tool_use`/`tool_result` blocks and arrays of content from 2025-11-25;
//! the `task` param in 2025-11-25 only.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::content::{AudioContent, ContentBlock, ImageContent, Role, TextContent};
use crate::meta::{JsonObject, Meta, setters};
use crate::tasks::TaskMetadata;
use crate::tools::Tool;

/// A request from the assistant to call a tool (`"type": "tool_use"`, 2025-11-25+).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolUseContent {
    /// Metadata about the tool use; clients SHOULD preserve it in later messages.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// A unique id matching tool results to this use.
    pub id: String,
    /// The name of the tool to call.
    pub name: String,
    /// The arguments, conforming to the tool's input schema.
    pub input: JsonObject,
}

/// The result of a tool use, from the user back to the assistant (`"type": "tool_result"`,
/// 2025-11-25+).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolResultContent {
    /// Metadata about the tool result; clients SHOULD preserve it in later messages.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The id of the tool use this answers.
    pub tool_use_id: String,
    /// The unstructured result, as in `CallToolResult.content`.
    pub content: Vec<ContentBlock>,
    /// The structured result: an object in 2025-11-25, any JSON value in 2026-07-28.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Whether the tool use resulted in an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
}

/// A content block of a sampling message, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum SamplingMessageContentBlock {
    /// `"text"`.
    #[serde(rename = "text")]
    Text(TextContent),
    /// `"image"`.
    #[serde(rename = "image")]
    Image(ImageContent),
    /// `"audio"` (2025-03-26+).
    #[serde(rename = "audio")]
    Audio(AudioContent),
    /// `"tool_use"` (2025-11-25+).
    #[serde(rename = "tool_use")]
    ToolUse(ToolUseContent),
    /// `"tool_result"` (2025-11-25+).
    #[serde(rename = "tool_result")]
    ToolResult(ToolResultContent),
}

impl SamplingMessageContentBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        SamplingMessageContentBlock::Text(TextContent::new(text))
    }
}

/// The content of a sampling message: one block, or (2025-11-25+) a list of blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SamplingContent {
    /// A single block.
    Single(SamplingMessageContentBlock),
    /// Several blocks (2025-11-25+).
    Multiple(Vec<SamplingMessageContentBlock>),
}

impl SamplingContent {
    /// The blocks, whichever the shape.
    pub fn blocks(&self) -> &[SamplingMessageContentBlock] {
        match self {
            SamplingContent::Single(b) => std::slice::from_ref(b),
            SamplingContent::Multiple(v) => v,
        }
    }
}

impl From<SamplingMessageContentBlock> for SamplingContent {
    fn from(b: SamplingMessageContentBlock) -> Self {
        SamplingContent::Single(b)
    }
}

/// A message sent to or received from an LLM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SamplingMessage {
    /// Message metadata (2025-11-25+).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Who the message is from.
    pub role: Role,
    /// The message content.
    pub content: SamplingContent,
}

impl SamplingMessage {
    /// A message with a role and content.
    pub fn new(role: Role, content: impl Into<SamplingContent>) -> Self {
        SamplingMessage {
            meta: None,
            role,
            content: content.into(),
        }
    }

    /// A user message with text content.
    pub fn user_text(text: impl Into<String>) -> Self {
        SamplingMessage {
            meta: None,
            role: Role::User,
            content: SamplingMessageContentBlock::text(text).into(),
        }
    }
}

/// A hint for model selection.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelHint {
    /// A model name or a substring of one, such as `"claude-3-5-sonnet"` or `"sonnet"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The server's preferences for model selection; the client MAY ignore them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ModelPreferences {
    /// Model hints, evaluated in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hints: Option<Vec<ModelHint>>,
    /// How much to prioritize cost, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_priority: Option<f64>,
    /// How much to prioritize speed, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_priority: Option<f64>,
    /// How much to prioritize intelligence, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intelligence_priority: Option<f64>,
}

/// Which MCP servers' context to include in the prompt (`thisServer` and `allServers` are
/// soft-deprecated, SM-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum IncludeContext {
    /// No context.
    None,
    /// Context from the requesting server.
    ThisServer,
    /// Context from every connected server.
    AllServers,
}

/// How the model may use tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ToolChoiceMode {
    /// The model decides (the default).
    Auto,
    /// The model MUST use at least one tool.
    Required,
    /// The model MUST NOT use tools.
    None,
}

/// Controls tool selection in sampling (2025-11-25+).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolChoice {
    /// How the model may use tools; absent means `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ToolChoiceMode>,
}

/// Parameters for a `sampling/createMessage` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateMessageRequestParams {
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The conversation to sample from.
    pub messages: Vec<SamplingMessage>,
    /// The server's model preferences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_preferences: Option<ModelPreferences>,
    /// A system prompt the client MAY modify or omit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// Which servers' context to include.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_context: Option<IncludeContext>,
    /// The sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// The maximum number of tokens to sample.
    pub max_tokens: u64,
    /// Sequences that stop sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    /// Provider-specific metadata to pass through to the LLM provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<JsonObject>,
    /// Tools the model may use (2025-11-25+; requires the client's `sampling.tools`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// How the model may use the tools (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// 2025-11-25 only: asks for task-augmented execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
}

impl CreateMessageRequestParams {
    /// Params sampling from messages with a token limit.
    pub fn new(messages: Vec<SamplingMessage>, max_tokens: u64) -> Self {
        CreateMessageRequestParams {
            meta: None,
            messages,
            model_preferences: None,
            system_prompt: None,
            include_context: None,
            temperature: None,
            max_tokens,
            stop_sequences: None,
            metadata: None,
            tools: None,
            tool_choice: None,
            task: None,
        }
    }
}

/// The client's answer to `sampling/createMessage`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateMessageResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Who the sampled message is from (normally the assistant).
    pub role: Role,
    /// The sampled content.
    pub content: SamplingContent,
    /// The name of the model that generated the message.
    pub model: String,
    /// Why sampling stopped: `endTurn`, `stopSequence`, `maxTokens`, `toolUse` (2025-11-25+),
    /// or another string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
}

impl ToolUseContent {
    /// A tool use with its id, the tool's name and the arguments.
    pub fn new(id: impl Into<String>, name: impl Into<String>, input: JsonObject) -> Self {
        ToolUseContent {
            meta: None,
            id: id.into(),
            name: name.into(),
            input,
        }
    }
}

setters!(ToolUseContent {
    with_meta => meta: Meta,
});

impl ToolResultContent {
    /// The result of the tool use with this id.
    pub fn new(tool_use_id: impl Into<String>, content: Vec<ContentBlock>) -> Self {
        ToolResultContent {
            tool_use_id: tool_use_id.into(),
            content,
            ..Self::default()
        }
    }
}

setters!(ToolResultContent {
    with_meta => meta: Meta,
    with_structured_content => structured_content: Value,
    with_is_error => is_error = bool,
});

impl From<Vec<SamplingMessageContentBlock>> for SamplingContent {
    fn from(blocks: Vec<SamplingMessageContentBlock>) -> Self {
        SamplingContent::Multiple(blocks)
    }
}

setters!(SamplingMessage {
    with_meta => meta: Meta,
});

impl ModelHint {
    /// A hint naming a model (or a substring of its name).
    pub fn new(name: impl Into<String>) -> Self {
        ModelHint {
            name: Some(name.into()),
        }
    }
}

setters!(ModelPreferences {
    with_hints => hints: Vec<ModelHint>,
    with_cost_priority => cost_priority = f64,
    with_speed_priority => speed_priority = f64,
    with_intelligence_priority => intelligence_priority = f64,
});

setters!(ToolChoice {
    with_mode => mode: ToolChoiceMode,
});

setters!(CreateMessageRequestParams {
    with_meta => meta: Meta,
    with_model_preferences => model_preferences: ModelPreferences,
    with_system_prompt => system_prompt: String,
    with_include_context => include_context: IncludeContext,
    with_temperature => temperature = f64,
    with_stop_sequences => stop_sequences: Vec<String>,
    with_metadata => metadata: JsonObject,
    with_tools => tools: Vec<Tool>,
    with_tool_choice => tool_choice: ToolChoice,
    with_task => task: TaskMetadata,
});

impl CreateMessageResult {
    /// A sampled message with its role, content and the model that generated it.
    pub fn new(role: Role, content: impl Into<SamplingContent>, model: impl Into<String>) -> Self {
        CreateMessageResult {
            meta: None,
            role,
            content: content.into(),
            model: model.into(),
            stop_reason: None,
        }
    }
}

setters!(CreateMessageResult {
    with_meta => meta: Meta,
    with_stop_reason => stop_reason: String,
});

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_single_or_array() {
        let m: SamplingMessage = serde_json::from_value(
            json!({"role": "user", "content": {"type": "text", "text": "hi"}}),
        )
        .unwrap();
        assert!(matches!(m.content, SamplingContent::Single(_)));
        let m: SamplingMessage = serde_json::from_value(json!({"role": "assistant", "content": [
            {"type": "tool_use", "id": "u1", "name": "t", "input": {}},
            {"type": "text", "text": "x"}
        ]}))
        .unwrap();
        assert_eq!(m.content.blocks().len(), 2);
        assert!(matches!(
            m.content.blocks()[0],
            SamplingMessageContentBlock::ToolUse(_)
        ));
    }
}
