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

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod completion;
pub mod content;
pub mod elicitation;
pub mod error_code;
pub mod jsonrpc;
pub mod lifecycle;
pub mod logging;
pub mod meta;
pub mod method;
pub mod modern;
pub mod pagination;
pub mod progress;
pub mod prompts;
pub mod resources;
pub mod roots;
pub mod sampling;
pub mod tasks;
pub mod tools;
pub mod version;

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
