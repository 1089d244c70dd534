//! Tools: `tools/list`, `tools/call` and `notifications/tools/list_changed` (checklist TL-1..TL-8).
//!
//! Versions: `annotations` from 2025-03-26; `title`, `outputSchema`, `structuredContent` and
//! `_meta` on tools from 2025-06-18; `icons` and `execution` from 2025-11-25 (`execution` and the
//! `task` param only in 2025-11-25). 2026-07-28 relaxes `structuredContent` to any JSON value and
//! adds `resultType`, `ttlMs`, `cacheScope`, `inputResponses` and `requestState`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::content::ContentBlock;
use crate::lifecycle::Icon;
use crate::meta::{JsonObject, Meta, setters};
use crate::modern::{CacheScope, InputResponses, ResultType};
use crate::pagination::Cursor;
use crate::tasks::{TaskMetadata, ToolExecution};

/// Hints describing a tool's behaviour. Clients MUST treat them as untrusted unless the server
/// is trusted (TL-8).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolAnnotations {
    /// A human-readable title for the tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// If true, the tool does not modify its environment (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// If true, the tool may perform destructive updates (default true; meaningful only when
    /// not read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// If true, repeating a call with the same arguments has no additional effect (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// If true, the tool may interact with an open world of external entities (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
}

/// The definition of a tool the client can call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Tool {
    /// Tool metadata (2025-06-18+).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Programmatic name (TL-6: 1-128 characters of `[A-Za-z0-9_.-]`).
    pub name: String,
    /// Human-readable display name (2025-06-18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A human-readable description, a hint to the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema object for the arguments; never null, `"type": "object"` at the root.
    pub input_schema: JsonObject,
    /// A JSON Schema object for `structuredContent` (2025-06-18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<JsonObject>,
    /// Optional hints about the tool's behaviour (2025-03-26+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
    /// Icons the client can display (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// Execution-related properties, such as task support (2025-11-25 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<ToolExecution>,
}

impl Tool {
    /// A tool with a name and an input schema. A schema that is not a JSON object is replaced by
    /// `{"type": "object"}` (TL-6: never null).
    pub fn new(name: impl Into<String>, input_schema: Value) -> Self {
        let input_schema = match input_schema {
            Value::Object(map) => map,
            _ => empty_object_schema(),
        };
        Tool {
            meta: None,
            name: name.into(),
            title: None,
            description: None,
            input_schema,
            output_schema: None,
            annotations: None,
            icons: None,
            execution: None,
        }
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the output schema; ignored unless it is a JSON object.
    pub fn with_output_schema(mut self, output_schema: Value) -> Self {
        if let Value::Object(map) = output_schema {
            self.output_schema = Some(map);
        }
        self
    }

    /// Sets the annotations.
    pub fn with_annotations(mut self, annotations: ToolAnnotations) -> Self {
        self.annotations = Some(annotations);
        self
    }
}

setters!(Tool {
    with_meta => meta: Meta,
    with_title => title: String,
    with_icons => icons: Vec<Icon>,
    with_execution => execution: ToolExecution,
});

/// `{"type": "object"}`: the schema of a tool that takes no arguments.
pub fn empty_object_schema() -> JsonObject {
    let mut map = JsonObject::new();
    map.insert("type".into(), Value::String("object".into()));
    map
}

/// The result of `tools/list`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ListToolsResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The tools.
    pub tools: Vec<Tool>,
    /// The cursor after the last result; present if there may be more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Cursor>,
    /// 2026-07-28 (required there): the kind of result; absent means `"complete"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// 2026-07-28 (required there): how long the client may cache this, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    /// 2026-07-28 (required there): who may share the cached response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_scope: Option<CacheScope>,
}

/// Parameters for a `tools/call` request.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CallToolRequestParams {
    /// Request metadata (required in 2026-07-28).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The name of the tool.
    pub name: String,
    /// The arguments, a JSON object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<JsonObject>,
    /// 2025-11-25 only: asks for task-augmented execution; the answer is a `CreateTaskResult`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// 2026-07-28 (MRTR): the client's answers to the server's input requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<InputResponses>,
    /// 2026-07-28 (MRTR): the opaque state echoed from an `InputRequiredResult`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
}

impl CallToolRequestParams {
    /// Params calling a tool; arguments that are not a JSON object are left out.
    pub fn new(name: impl Into<String>, arguments: Value) -> Self {
        CallToolRequestParams {
            name: name.into(),
            arguments: match arguments {
                Value::Object(map) => Some(map),
                _ => None,
            },
            ..Self::default()
        }
    }
}

/// The result of `tools/call`. Tool failures are results with `isError: true` (TL-4).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CallToolResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The unstructured result.
    pub content: Vec<ContentBlock>,
    /// The structured result (2025-06-18+). A JSON object up to 2025-11-25; any JSON value in
    /// 2026-07-28. Must conform to the tool's `outputSchema` when it has one (TL-5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Whether the call ended in an error; absent means false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// 2026-07-28 (required there): the kind of result; absent means `"complete"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
}

impl CallToolResult {
    /// A successful result with the given content.
    pub fn new(content: Vec<ContentBlock>) -> Self {
        CallToolResult {
            content,
            ..Self::default()
        }
    }

    /// A successful result with one text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new(vec![ContentBlock::text(text)])
    }

    /// A failed result (`isError: true`) with one text block describing the error (TL-4).
    pub fn error(message: impl Into<String>) -> Self {
        CallToolResult {
            is_error: Some(true),
            ..Self::text(message)
        }
    }

    /// A structured result: `structuredContent` plus, for older clients, a text block with the
    /// serialized JSON (TL-5).
    pub fn structured(value: Value) -> Self {
        let text = value.to_string();
        CallToolResult {
            structured_content: Some(value),
            ..Self::text(text)
        }
    }

    /// Whether this result reports a failure.
    pub fn is_error(&self) -> bool {
        self.is_error == Some(true)
    }
}

setters!(ToolAnnotations {
    with_title => title: String,
    with_read_only_hint => read_only_hint = bool,
    with_destructive_hint => destructive_hint = bool,
    with_idempotent_hint => idempotent_hint = bool,
    with_open_world_hint => open_world_hint = bool,
});

impl ListToolsResult {
    /// A result listing these tools.
    pub fn new(tools: Vec<Tool>) -> Self {
        ListToolsResult {
            tools,
            ..Self::default()
        }
    }
}

setters!(ListToolsResult {
    with_meta => meta: Meta,
    with_next_cursor => next_cursor: Cursor,
    with_result_type => result_type: ResultType,
    with_ttl_ms => ttl_ms = u64,
    with_cache_scope => cache_scope: CacheScope,
});

setters!(CallToolRequestParams {
    with_meta => meta: Meta,
    with_task => task: TaskMetadata,
    with_input_responses => input_responses: InputResponses,
    with_request_state => request_state: String,
});

setters!(CallToolResult {
    with_meta => meta: Meta,
    with_structured_content => structured_content: Value,
    with_is_error => is_error = bool,
    with_result_type => result_type: ResultType,
});

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn result_constructors() {
        assert_eq!(
            serde_json::to_value(CallToolResult::error("boom")).unwrap(),
            json!({"content": [{"type": "text", "text": "boom"}], "isError": true})
        );
        let r = CallToolResult::structured(json!({"n": 1}));
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"content": [{"type": "text", "text": "{\"n\":1}"}],
                   "structuredContent": {"n": 1}})
        );
        assert!(!r.is_error());
    }

    #[test]
    fn tool_schema_is_never_null() {
        let t = Tool::new("t", Value::Null);
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            json!({"name": "t", "inputSchema": {"type": "object"}})
        );
        // A missing inputSchema is an error: the schema requires it.
        assert!(serde_json::from_value::<Tool>(json!({"name": "t"})).is_err());
    }
}
