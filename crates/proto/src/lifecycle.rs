//! Lifecycle: implementation info, icons, capabilities, `initialize`, `notifications/initialized`,
//! `ping` and the empty result (checklist L-1..L-8, C-1..C-3).
//!
//! `initialize`, `notifications/initialized` and `ping` exist only in the legacy versions
//! (2024-11-05 .. 2025-11-25). In 2026-07-28 the client sends its version, capabilities and
//! implementation info in every request's `_meta` (see [`crate::modern`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::meta::{JsonObject, Meta, setters};
use crate::modern::ResultType;
use crate::tasks::{ClientTasksCapability, ServerTasksCapability};

/// The theme an icon is designed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum IconTheme {
    /// For a light background.
    Light,
    /// For a dark background.
    Dark,
}

/// An optionally-sized icon that can be displayed in a user interface (2025-11-25+).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Icon {
    /// A URI pointing to the icon: an HTTP(S) URL or a `data:` URI with Base64 image data.
    pub src: String,
    /// MIME type override if the source MIME type is missing or generic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Sizes at which the icon can be used, each `WxH` (such as `"48x48"`) or `"any"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sizes: Option<Vec<String>>,
    /// The theme the icon is designed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<IconTheme>,
}

impl Icon {
    /// An icon with only a source URI.
    pub fn new(src: impl Into<String>) -> Self {
        Icon {
            src: src.into(),
            ..Icon::default()
        }
    }
}

/// Describes an MCP implementation (a client's `clientInfo` or a server's `serverInfo`).
///
/// `title` from 2025-06-18; `description`, `icons` and `websiteUrl` from 2025-11-25.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Implementation {
    /// Programmatic name, also the display fallback when `title` is absent.
    pub name: String,
    /// Human-readable display name (2025-06-18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The version of this implementation.
    pub version: String,
    /// A human-readable description of what this implementation does (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Icons the other side can display (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// The URL of the implementation's website (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_url: Option<String>,
}

impl Implementation {
    /// An implementation with a name and a version.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Implementation {
            name: name.into(),
            version: version.into(),
            ..Implementation::default()
        }
    }

    /// Sets the display title.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
}

/// The client's `roots` capability.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RootsCapability {
    /// Whether the client sends `notifications/roots/list_changed` (legacy versions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

/// The client's `sampling` capability.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SamplingCapability {
    /// Present if the client supports `includeContext` other than `"none"` (2025-11-25+,
    /// soft-deprecated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<JsonObject>,
    /// Present if the client supports `tools` and `toolChoice` in sampling (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<JsonObject>,
}

/// The client's `elicitation` capability; an empty object means form mode only (EL-1).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ElicitationCapability {
    /// Present if the client supports form-mode elicitation (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<JsonObject>,
    /// Present if the client supports URL-mode elicitation (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<JsonObject>,
}

impl ElicitationCapability {
    /// Whether form mode is supported: declared, or implied by an empty object.
    pub fn supports_form(&self) -> bool {
        self.form.is_some() || self.url.is_none()
    }

    /// Whether URL mode is supported.
    pub fn supports_url(&self) -> bool {
        self.url.is_some()
    }
}

/// Capabilities a client may support. Not a closed set; unknown members are ignored.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClientCapabilities {
    /// Experimental, non-standard capabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<BTreeMap<String, JsonObject>>,
    /// MCP extensions the client supports, keyed by prefixed identifier (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<BTreeMap<String, JsonObject>>,
    /// Present if the client supports listing roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roots: Option<RootsCapability>,
    /// Present if the client supports sampling from an LLM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<SamplingCapability>,
    /// Present if the client supports elicitation (2025-06-18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elicitation: Option<ElicitationCapability>,
    /// Present if the client supports task-augmented requests (2025-11-25 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<ClientTasksCapability>,
}

/// The server's `prompts` capability.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PromptsCapability {
    /// Whether the server sends `notifications/prompts/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

/// The server's `resources` capability.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourcesCapability {
    /// Whether the server supports subscribing to resource updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<bool>,
    /// Whether the server sends `notifications/resources/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

/// The server's `tools` capability.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolsCapability {
    /// Whether the server sends `notifications/tools/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

/// Capabilities a server may support. Not a closed set; unknown members are ignored.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServerCapabilities {
    /// Experimental, non-standard capabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<BTreeMap<String, JsonObject>>,
    /// MCP extensions the server supports, keyed by prefixed identifier (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<BTreeMap<String, JsonObject>>,
    /// Present if the server sends log messages to the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<JsonObject>,
    /// Present if the server supports argument completion (2025-03-26+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completions: Option<JsonObject>,
    /// Present if the server offers prompt templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts: Option<PromptsCapability>,
    /// Present if the server offers resources to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourcesCapability>,
    /// Present if the server offers tools to call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<ToolsCapability>,
    /// Present if the server supports task-augmented requests (2025-11-25 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<ServerTasksCapability>,
}

/// Parameters for an `initialize` request (legacy versions only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InitializeRequestParams {
    /// Request metadata (such as `progressToken`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The latest protocol version the client supports. Kept as a string: an unknown version
    /// must still be negotiated (V-2); see [`crate::ProtocolVersion::negotiate`].
    pub protocol_version: String,
    /// The client's capabilities.
    pub capabilities: ClientCapabilities,
    /// The client's implementation info.
    pub client_info: Implementation,
}

/// The server's answer to `initialize` (legacy versions only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InitializeResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The protocol version the server wants to use.
    pub protocol_version: String,
    /// The server's capabilities.
    pub capabilities: ServerCapabilities,
    /// The server's implementation info.
    pub server_info: Implementation,
    /// Instructions describing how to use the server and its features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

impl InitializeResult {
    /// A result with a version, capabilities and server info.
    pub fn new(
        protocol_version: impl Into<String>,
        capabilities: ServerCapabilities,
        server_info: Implementation,
    ) -> Self {
        InitializeResult {
            meta: None,
            protocol_version: protocol_version.into(),
            capabilities,
            server_info,
            instructions: None,
        }
    }
}

/// Params of a request that has no parameters of its own (`ping`, `roots/list`,
/// `server/discover`): only `_meta`, which 2026-07-28 requires on every client request.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestParams {
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Params of a notification that has no parameters of its own (`notifications/initialized`,
/// the `list_changed` notifications): only `_meta`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NotificationParams {
    /// Notification metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// A result that carries no data: the answer to `ping`, `logging/setLevel`,
/// `resources/subscribe` and `resources/unsubscribe` (the schema's `EmptyResult`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EmptyResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// 2026-07-28: the kind of result; absent means `"complete"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
}

setters!(Icon {
    with_mime_type => mime_type: String,
    with_sizes => sizes: Vec<String>,
    with_theme => theme: IconTheme,
});

setters!(Implementation {
    with_description => description: String,
    with_icons => icons: Vec<Icon>,
    with_website_url => website_url: String,
});

setters!(RootsCapability {
    with_list_changed => list_changed = bool,
});

setters!(SamplingCapability {
    with_context => context: JsonObject,
    with_tools => tools: JsonObject,
});

setters!(ElicitationCapability {
    with_form => form: JsonObject,
    with_url => url: JsonObject,
});

setters!(ClientCapabilities {
    with_experimental => experimental: BTreeMap<String, JsonObject>,
    with_extensions => extensions: BTreeMap<String, JsonObject>,
    with_roots => roots: RootsCapability,
    with_sampling => sampling: SamplingCapability,
    with_elicitation => elicitation: ElicitationCapability,
    with_tasks => tasks: ClientTasksCapability,
});

setters!(PromptsCapability {
    with_list_changed => list_changed = bool,
});

setters!(ResourcesCapability {
    with_subscribe => subscribe = bool,
    with_list_changed => list_changed = bool,
});

setters!(ToolsCapability {
    with_list_changed => list_changed = bool,
});

setters!(ServerCapabilities {
    with_experimental => experimental: BTreeMap<String, JsonObject>,
    with_extensions => extensions: BTreeMap<String, JsonObject>,
    with_logging => logging: JsonObject,
    with_completions => completions: JsonObject,
    with_prompts => prompts: PromptsCapability,
    with_resources => resources: ResourcesCapability,
    with_tools => tools: ToolsCapability,
    with_tasks => tasks: ServerTasksCapability,
});

impl InitializeRequestParams {
    /// Params with the client's version, capabilities and implementation info.
    pub fn new(
        protocol_version: impl Into<String>,
        capabilities: ClientCapabilities,
        client_info: Implementation,
    ) -> Self {
        InitializeRequestParams {
            meta: None,
            protocol_version: protocol_version.into(),
            capabilities,
            client_info,
        }
    }
}

setters!(InitializeRequestParams {
    with_meta => meta: Meta,
});

setters!(InitializeResult {
    with_meta => meta: Meta,
    with_instructions => instructions: String,
});

setters!(RequestParams {
    with_meta => meta: Meta,
});

setters!(NotificationParams {
    with_meta => meta: Meta,
});

setters!(EmptyResult {
    with_meta => meta: Meta,
    with_result_type => result_type: ResultType,
});

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn capabilities_round_trip() {
        let caps: ClientCapabilities = serde_json::from_value(json!({
            "roots": {"listChanged": true},
            "elicitation": {},
            "somethingNew": {"x": 1}
        }))
        .unwrap();
        let elicitation = caps.elicitation.as_ref().unwrap();
        assert!(elicitation.supports_form() && !elicitation.supports_url());
        assert_eq!(
            serde_json::to_value(&caps).unwrap(),
            json!({"roots": {"listChanged": true}, "elicitation": {}})
        );
    }

    #[test]
    fn implementation_is_camel_case() {
        let mut i = Implementation::new("srv", "1.0").with_title("Server");
        i.website_url = Some("https://example.com".into());
        assert_eq!(
            serde_json::to_value(&i).unwrap(),
            json!({"name": "srv", "title": "Server", "version": "1.0",
                   "websiteUrl": "https://example.com"})
        );
    }
}
