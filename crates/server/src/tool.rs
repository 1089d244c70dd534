//! Tools: typed arguments with a generated `inputSchema`, optional structured output, and errors
//! reported as `isError` results (TL-1..TL-8).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use mcp_http_core::{RequestContext, RequestError};
use mcp_http_proto::{CallToolResult, ErrorObject, JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::schema::{output_schema_of, schema_of};

/// Arguments of a tool that takes none.
#[derive(Debug, Default, Clone, serde::Deserialize, JsonSchema)]
pub struct NoArgs {}

/// The failure of a tool call.
///
/// A [`ToolError::Failed`] becomes a result with `isError: true` that the model can read (TL-4);
/// a [`ToolError::Rpc`] becomes a JSON-RPC error (for protocol-level failures such as -32042).
#[derive(Debug, Clone)]
pub enum ToolError {
    /// The tool ran and failed: reported to the model as an `isError` result.
    Failed(String),
    /// A protocol error: reported as a JSON-RPC error response.
    Rpc(ErrorObject),
}

impl ToolError {
    /// A failure with a message for the model.
    pub fn failed(message: impl Into<String>) -> Self {
        ToolError::Failed(message.into())
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolError::Failed(m) => f.write_str(m),
            ToolError::Rpc(e) => e.fmt(f),
        }
    }
}

impl From<String> for ToolError {
    fn from(m: String) -> Self {
        ToolError::Failed(m)
    }
}

impl From<&str> for ToolError {
    fn from(m: &str) -> Self {
        ToolError::Failed(m.to_owned())
    }
}

impl From<ErrorObject> for ToolError {
    fn from(e: ErrorObject) -> Self {
        ToolError::Rpc(e)
    }
}

impl From<RequestError> for ToolError {
    fn from(e: RequestError) -> Self {
        ToolError::Failed(e.to_string())
    }
}

impl From<mcp_http_core::TransportError> for ToolError {
    fn from(e: mcp_http_core::TransportError) -> Self {
        ToolError::Failed(format!("the connection failed: {e}"))
    }
}

impl From<serde_json::Error> for ToolError {
    fn from(e: serde_json::Error) -> Self {
        ToolError::Failed(e.to_string())
    }
}

impl From<std::io::Error> for ToolError {
    fn from(e: std::io::Error) -> Self {
        ToolError::Failed(e.to_string())
    }
}

/// What a tool function may return.
pub trait IntoToolResult {
    /// Converts into a `tools/call` result or a JSON-RPC error.
    fn into_tool_result(self) -> Result<CallToolResult, ErrorObject>;
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> Result<CallToolResult, ErrorObject> {
        Ok(self)
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> Result<CallToolResult, ErrorObject> {
        Ok(CallToolResult::text(self))
    }
}

impl IntoToolResult for &'static str {
    fn into_tool_result(self) -> Result<CallToolResult, ErrorObject> {
        Ok(CallToolResult::text(self))
    }
}

impl<T: IntoToolResult, E: Into<ToolError>> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> Result<CallToolResult, ErrorObject> {
        match self {
            Ok(v) => v.into_tool_result(),
            Err(e) => match e.into() {
                ToolError::Failed(message) => Ok(CallToolResult::error(message)),
                ToolError::Rpc(e) => Err(e),
            },
        }
    }
}

/// Structured output: becomes `structuredContent` plus the same JSON as a text block (TL-5).
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoToolResult for Json<T> {
    fn into_tool_result(self) -> Result<CallToolResult, ErrorObject> {
        let value = serde_json::to_value(&self.0).map_err(|_| ErrorObject::internal())?;
        Ok(CallToolResult::structured(value))
    }
}

type CallFn = dyn Fn(Option<&RawValue>, RequestContext) -> BoxFuture<'static, Result<CallToolResult, ErrorObject>>
    + Send
    + Sync;

/// A tool: its description for `tools/list` and the function that runs it.
#[derive(Clone)]
pub struct ToolDef {
    pub(crate) tool: Tool,
    pub(crate) call: Arc<CallFn>,
}

impl fmt::Debug for ToolDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolDef")
            .field("name", &self.tool.name)
            .finish_non_exhaustive()
    }
}

/// Decodes tool arguments, naming the offending field on failure.
fn decode_args<A: DeserializeOwned>(args: Option<&RawValue>) -> Result<A, String> {
    let text = args.map_or("{}", RawValue::get);
    if let Ok(args) = serde_json::from_str(text) {
        return Ok(args);
    }
    // Decoded again only to name the offending field.
    mcp_http_proto::jsonrpc::decode_naming_field(text)
        .map_err(|e| format!("Invalid arguments: {e}"))
}

/// TL-6: tool names SHOULD be 1 to 128 characters of `[A-Za-z0-9_.-]`.
pub fn is_valid_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl ToolDef {
    /// A tool with typed arguments; the `inputSchema` is generated from `A` by [`schema_of`]
    /// (an `Option` or `#[serde(default)]` field is optional, not nullable).
    ///
    /// ```
    /// use mcp_http_server::{ToolDef, RequestContext};
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct AddArgs { a: f64, b: f64 }
    /// let add = ToolDef::new("add", "Adds two numbers", |args: AddArgs, _ctx: RequestContext| async move {
    ///     format!("{}", args.a + args.b)
    /// });
    /// assert_eq!(add.tool().name, "add");
    /// ```
    pub fn new<A, F, Fut, R>(name: impl Into<String>, description: impl Into<String>, f: F) -> Self
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoToolResult + 'static,
    {
        let f = Arc::new(f);
        let mut tool = Tool::new(name, serde_json::Value::Object(schema_of::<A>()));
        tool.description = Some(description.into());
        ToolDef {
            tool,
            call: Arc::new(move |args, ctx| {
                // Decoded here, from the request's own text: the future owns only the result.
                let args = decode_args::<A>(args);
                let f = f.clone();
                Box::pin(async move {
                    match args {
                        // TL-4: argument validation failures are tool errors the model can see.
                        Err(message) => Ok(CallToolResult::error(message)),
                        Ok(args) => f(args, ctx).await.into_tool_result(),
                    }
                })
            }),
        }
    }

    /// A tool with typed arguments and typed structured output: `outputSchema` is generated from
    /// `O` by [`output_schema_of`] and every result carries `structuredContent` (TL-5).
    pub fn structured<A, O, E, F, Fut>(
        name: impl Into<String>,
        description: impl Into<String>,
        f: F,
    ) -> Self
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        O: Serialize + JsonSchema + Send + 'static,
        E: Into<ToolError> + Send + 'static,
        F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
    {
        let f = Arc::new(f);
        let mut def = Self::new(name, description, move |args: A, ctx: RequestContext| {
            let f = f.clone();
            async move { f(args, ctx).await.map(Json) }
        });
        def.tool.output_schema = Some(output_schema_of::<O>());
        def
    }

    /// A tool whose arguments arrive as raw JSON, with a schema written by hand.
    pub fn raw<F, Fut, R>(tool: Tool, f: F) -> Self
    where
        F: Fn(JsonObject, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoToolResult + 'static,
    {
        let f = Arc::new(f);
        ToolDef {
            tool,
            call: Arc::new(move |args, ctx| {
                let args: Result<JsonObject, _> =
                    args.map_or(Ok(JsonObject::new()), |raw| serde_json::from_str(raw.get()));
                let f = f.clone();
                Box::pin(async move {
                    match args {
                        Err(e) => Ok(CallToolResult::error(format!("Invalid arguments: {e}"))),
                        Ok(args) => f(args, ctx).await.into_tool_result(),
                    }
                })
            }),
        }
    }

    /// Sets a display title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.tool.title = Some(title.into());
        self
    }

    /// Sets behaviour hints (untrusted by clients, TL-8).
    pub fn annotations(mut self, annotations: ToolAnnotations) -> Self {
        self.tool.annotations = Some(annotations);
        self
    }

    /// The tool as listed by `tools/list`.
    pub fn tool(&self) -> &Tool {
        &self.tool
    }
}
