//! Protocol types for the Model Context Protocol (MCP): the JSON-RPC 2.0 envelope and every
//! request, result and notification of each spec version from 2024-11-05 to 2026-07-28.
//!
//! This crate does no I/O and has no async code. Messages are decoded once: the envelope is
//! parsed and `params`/`result` are kept as raw JSON ([`serde_json::value::RawValue`]) until a
//! handler asks for its typed form.
//!
//! ```
//! use mcp_http_proto::jsonrpc::Message;
//! let msg = Message::parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
//! assert!(matches!(msg, Message::Request(r) if r.method == "ping"));
//! ```
//!
//! # Types that can grow
//!
//! The rule: a type is `#[non_exhaustive]` when a later MCP revision may add a member or a
//! variant to it — every type that mirrors an MCP schema definition (params, results, content,
//! capabilities, tools, resources, prompts, sampling, elicitation and its form schema, tasks, the
//! 2026-07-28 types, and closed-looking enums such as [`Role`] or [`ElicitAction`]), the version
//! ([`ProtocolVersion`]) and this crate's error types. Left exhaustive are the types whose shape
//! is fixed outside MCP: the JSON-RPC 2.0 envelope ([`Message`], [`Request`], [`Notification`],
//! [`Response`], [`ErrorObject`], [`RequestId`], [`jsonrpc::Parsed`]), [`LoggingLevel`] (the RFC
//! 5424 severities), the two JSON shapes of [`SamplingContent`] (one block or an array),
//! [`elicitation::NumberType`] (JSON Schema's `number` and `integer`), and the single-valued tags
//! such as [`elicitation::FormModeTag`].
//!
//! Build the non-exhaustive structs with `new` (the required members) and chainable `with_*`
//! setters for optional members, or from `Default` with field assignment; fields stay public for
//! reading and assignment. A `match` on a non-exhaustive enum needs a wildcard arm.
//!
//! ```
//! use mcp_http_proto::lifecycle::ToolsCapability;
//! use mcp_http_proto::{Implementation, InitializeResult, ServerCapabilities, Tool, ToolAnnotations};
//!
//! let caps = ServerCapabilities::default()
//!     .with_tools(ToolsCapability::default().with_list_changed(true));
//! let info = Implementation::new("calc", "1.0.0").with_title("Calculator");
//! let result = InitializeResult::new("2025-11-25", caps, info).with_instructions("Adds numbers.");
//! let tool = Tool::new("add", serde_json::json!({"type": "object"}))
//!     .with_description("Adds two numbers")
//!     .with_annotations(ToolAnnotations::default().with_read_only_hint(true));
//! assert_eq!(result.server_info.title.as_deref(), Some("Calculator"));
//! assert_eq!(tool.annotations.and_then(|a| a.read_only_hint), Some(true));
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod completion;
pub mod content;
pub mod elicitation;
pub mod error_code;
pub mod header_value;
mod json_skip;
pub mod jsonrpc;
pub mod legacy_read;
pub mod lifecycle;
pub mod logging;
pub mod meta;
pub mod method;
pub mod modern;
pub mod modern_params;
pub mod modern_read;
pub mod modern_result;
mod modern_scan;
pub mod object_read;
pub mod pagination;
pub mod params;
pub mod progress;
pub mod prompts;
pub mod resources;
mod result_write;
pub mod roots;
pub mod sampling;
pub mod task_extension;
pub mod tasks;
pub mod tools;
pub mod version;
pub mod x_mcp_header;

pub use completion::{
    CompleteRequestParams, CompleteResult, Completion, CompletionArgument, CompletionContext,
    PromptReference, Reference, ResourceTemplateReference,
};
pub use content::{
    Annotations, AudioContent, ContentBlock, EmbeddedResource, ImageContent, Role, TextContent,
};
pub use elicitation::{
    ElicitAction, ElicitRequestFormParams, ElicitRequestParams, ElicitRequestURLParams,
    ElicitResult, ElicitationCompleteNotificationParams, PrimitiveSchemaDefinition,
};
pub use jsonrpc::{ErrorObject, Message, Notification, Request, RequestId, Response};
pub use lifecycle::{
    ClientCapabilities, EmptyResult, Icon, Implementation, InitializeRequestParams,
    InitializeResult, NotificationParams, RequestParams, ServerCapabilities,
};
pub use logging::{LoggingLevel, LoggingMessageNotificationParams, SetLevelRequestParams};
pub use meta::{JsonObject, Meta};
pub use modern::{
    CacheScope, DiscoverResult, InputRequest, InputRequests, InputRequiredResult, InputResponse,
    InputResponses, RequestMetaObject, ResultType, SubscriptionFilter,
    SubscriptionsAcknowledgedNotificationParams, SubscriptionsListenRequestParams,
    SubscriptionsListenResult,
};
pub use pagination::{Cursor, PaginatedRequestParams};
pub use progress::{CancelledNotificationParams, ProgressNotificationParams, ProgressToken};
pub use prompts::{
    GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument,
    PromptMessage,
};
pub use resources::{
    BlobResourceContents, ListResourceTemplatesResult, ListResourcesResult,
    ReadResourceRequestParams, ReadResourceResult, Resource, ResourceContents, ResourceLink,
    ResourceTemplate, ResourceUpdatedNotificationParams, SubscribeRequestParams,
    TextResourceContents, UnsubscribeRequestParams,
};
pub use roots::{ListRootsResult, Root};
pub use sampling::{
    CreateMessageRequestParams, CreateMessageResult, SamplingContent, SamplingMessage,
    SamplingMessageContentBlock,
};
pub use tasks::{Task, TaskMetadata, TaskStatus};
pub use tools::{CallToolRequestParams, CallToolResult, ListToolsResult, Tool, ToolAnnotations};
pub use version::ProtocolVersion;
