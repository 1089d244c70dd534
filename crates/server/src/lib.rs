//! Build MCP servers: tools with typed arguments, resources and templates with subscriptions,
//! prompts, completion and logging, served over any transport.
//!
//! ```
//! use mcp_http_server::{RequestContext, Server, ToolDef};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct AddArgs {
//!     /// The first number.
//!     a: f64,
//!     /// The second number.
//!     b: f64,
//! }
//!
//! let server = Server::builder("calculator", "1.0.0")
//!     .tool(ToolDef::new("add", "Adds two numbers", |args: AddArgs, _ctx: RequestContext| async move {
//!         format!("{}", args.a + args.b)
//!     }))
//!     .build();
//! // Serve it: `server.serve(mcp_http_transport::stdio::server()).await`.
//! # let _ = server;
//! ```

mod call_modern;
mod input;
mod modern;
mod pagination;
mod param_headers;
mod registry;
mod schema;
mod server;
mod session;
mod tasks;
#[cfg(test)]
mod test_handlers;
mod tool;
mod tool_params;
mod uri_template;

pub use mcp_http_core::request_state::{RequestStateKeys, RequestStates, StateNonce, UsedStates};
pub use mcp_http_core::{RequestContext, RequestError};
pub use mcp_http_proto as proto;
pub use mcp_http_proto::tasks::TaskSupport;
pub use modern::CacheHint;
pub use param_headers::HeaderAnnotationError;
pub use registry::{HandlerError, PromptDef, ResourceDef, TemplateDef};
pub use schema::{output_schema_of, schema_of};
pub use server::{Server, ServerBuilder, WeakServer};
pub use tasks::{
    MemoryTaskStore, StoreFuture, TaskChange, TaskEscalation, TaskRecord, TaskSettings, TaskStore,
    TaskStoreError, continue_as_task,
};
pub use tool::{IntoToolResult, Json, NoArgs, ToolDef, ToolError, is_valid_tool_name};
pub use uri_template::UriTemplate;
