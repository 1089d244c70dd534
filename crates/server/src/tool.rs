//! Tools: typed arguments with a generated `inputSchema`, optional structured output, and errors
//! reported as `isError` results (TL-1..TL-8).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use mcp_http_core::{RequestContext, RequestError};
use mcp_http_proto::tasks::{TaskSupport, ToolExecution};
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
/// a [`ToolError::Rpc`] becomes a JSON-RPC error (for protocol-level failures such as -32042); a
/// [`ToolError::Request`] is a request to the client (`ctx.sample(..)?`, `ctx.elicit(..)?`,
/// `ctx.roots()?`) that did not produce an answer, kept intact so the session can tell what
/// happened: in the legacy era it becomes an `isError` result naming the failure.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ToolError {
    /// The tool ran and failed: reported to the model as an `isError` result.
    Failed(String),
    /// A protocol error: reported as a JSON-RPC error response.
    Rpc(ErrorObject),
    /// A request to the client failed (declined capability, timeout, cancellation, an error
    /// answer).
    Request(RequestError),
    /// The call continues as a task: returned by [`crate::continue_as_task`], to propagate.
    ContinueAsTask(crate::tasks::TaskEscalation),
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
            ToolError::Request(e) => e.fmt(f),
            ToolError::ContinueAsTask(_) => f.write_str("the call continues as a task"),
        }
    }
}

impl std::error::Error for ToolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ToolError::Request(e) => Some(e),
            _ => None,
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
        ToolError::Request(e)
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
    /// Converts into a `tools/call` result, or the error the session answers for (a
    /// [`ToolError::Failed`] is already an `isError` result here).
    fn into_tool_result(self) -> Result<CallToolResult, ToolError>;
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(self)
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::text(self))
    }
}

impl IntoToolResult for &'static str {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::text(self))
    }
}

impl<T: IntoToolResult, E: Into<ToolError>> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        match self {
            Ok(v) => v.into_tool_result(),
            Err(e) => match e.into() {
                ToolError::Failed(message) => Ok(CallToolResult::error(message)),
                other => Err(other),
            },
        }
    }
}

/// Structured output: becomes `structuredContent` plus the same JSON as a text block (TL-5).
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoToolResult for Json<T> {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        let value = serde_json::to_value(&self.0).map_err(|_| ErrorObject::internal())?;
        Ok(CallToolResult::structured(value))
    }
}

/// What a tool call ends with: its result, or the error the session answers for.
pub(crate) type Outcome = Result<CallToolResult, ToolError>;

/// A tool call once started: done already (a tool registered with [`ToolDef::sync`]: no future,
/// no box, PF-30), or the future that finishes it.
pub(crate) enum Running {
    /// The outcome of a synchronous tool (taken by the first poll).
    Done(Option<Outcome>),
    /// The future of a tool that may wait.
    Going(BoxFuture<'static, Outcome>),
}

impl Running {
    /// A synchronous tool's outcome as it is; another tool's future polled once, here, with a
    /// waker that does nothing (a call that has to wait is polled again on its own task). The
    /// caller's peer catches a panic of this poll as it catches the handler's (PF-30, PF-42).
    pub(crate) fn polled_once(self) -> Running {
        match self {
            Running::Going(mut running) => match running
                .as_mut()
                .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
            {
                std::task::Poll::Ready(outcome) => Running::Done(Some(outcome)),
                std::task::Poll::Pending => Running::Going(running),
            },
            done => done,
        }
    }
}

impl Future for Running {
    type Output = Outcome;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Outcome> {
        match self.get_mut() {
            Running::Done(outcome) => std::task::Poll::Ready(
                // Polled again after its outcome: the session's fault, never the tool's.
                outcome
                    .take()
                    .unwrap_or_else(|| Err(ToolError::Rpc(ErrorObject::internal()))),
            ),
            Running::Going(future) => future.as_mut().poll(cx),
        }
    }
}

/// How a call of a tool starts.
pub(crate) trait StartCall: Send + Sync {
    /// Starts a call with the params' raw `arguments` (absent: `{}`).
    fn start(&self, arguments: Option<&RawValue>, ctx: &RequestContext) -> Running;

    /// Starts a call from the whole `tools/call` params, read in one serde pass with the
    /// arguments decoded as the tool's own type (PF-32); `None` when that pass does not read
    /// them (bad or unusual params, a tool without typed arguments): [`StartCall::start`]
    /// after the params' general read answers then, with its messages.
    fn start_from_params(
        &self,
        _params: &crate::tool_params::Named<'_>,
        _ctx: &RequestContext,
    ) -> Option<Running> {
        None
    }

    /// Starts a call from its arguments' text, an object the request's read found as the last
    /// member of params that hold only the name and them, and checked (PF-64): decoded as the
    /// tool's own type; `None` as for [`StartCall::start_from_params`].
    fn start_from_arguments(&self, _arguments: &str, _ctx: &RequestContext) -> Option<Running> {
        None
    }
}

impl<F> StartCall for F
where
    F: Fn(Option<&RawValue>, &RequestContext) -> Running + Send + Sync,
{
    fn start(&self, arguments: Option<&RawValue>, ctx: &RequestContext) -> Running {
        self(arguments, ctx)
    }
}

/// A tool with arguments of type `A`: decoded (their failure answered as an `isError` result,
/// TL-4), then given to `start`.
struct Typed<A, S> {
    start: S,
    arguments: std::marker::PhantomData<fn() -> A>,
}

impl<A, S> StartCall for Typed<A, S>
where
    A: DeserializeOwned,
    S: Fn(A, &RequestContext) -> Running + Send + Sync,
{
    fn start(&self, arguments: Option<&RawValue>, ctx: &RequestContext) -> Running {
        match decode_args::<A>(arguments) {
            Err(message) => Running::Done(Some(Ok(CallToolResult::error(message)))),
            Ok(arguments) => (self.start)(arguments, ctx),
        }
    }

    fn start_from_params(
        &self,
        params: &crate::tool_params::Named<'_>,
        ctx: &RequestContext,
    ) -> Option<Running> {
        let arguments = match crate::tool_params::read::<A>(params)? {
            Some(arguments) => arguments,
            // No arguments: what the general read does with them.
            None => return Some(self.start(None, ctx)),
        };
        Some((self.start)(arguments, ctx))
    }

    fn start_from_arguments(&self, arguments: &str, ctx: &RequestContext) -> Option<Running> {
        let arguments = crate::tool_params::decode::<A>(arguments)?;
        Some((self.start)(arguments, ctx))
    }
}

/// What starts the calls of a tool.
pub(crate) type CallFn = dyn StartCall;

/// A tool: its description for `tools/list` and the function that runs it.
#[derive(Clone)]
pub struct ToolDef {
    pub(crate) tool: Tool,
    pub(crate) call: Arc<CallFn>,
    /// The `x-mcp-header` arguments, read from the schema when the tool is registered (H-10).
    pub(crate) headers: Arc<[crate::param_headers::ParamHeader]>,
    /// Whether a call may become a task of the tasks extension (TK-1).
    pub(crate) task_support: TaskSupport,
    /// Whether the call gathers its input before it becomes a task (TK-6).
    pub(crate) input_before_task: bool,
    /// The OAuth scopes a call needs, for a resource server in front (AR-11).
    pub(crate) scopes: Arc<[String]>,
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
    // By its bytes, else by serde_json, which gives the same value and names what it refuses
    // (PF-63).
    if let Some(args) = mcp_http_proto::object_read::decode(text) {
        return Ok(args);
    }
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
        Self::typed::<A>(name, description, move |args, ctx| {
            // Called at once: the future owns only what the function put in it.
            let future = f(args, ctx.clone());
            Running::Going(Box::pin(async move { future.await.into_tool_result() }))
        })
    }

    /// A tool with typed arguments whose function answers at once, without waiting (PF-30): a
    /// call makes no future and no box, and on the quick-call path its result is written as
    /// soon as the function returns. Register with it only what never waits: a function that
    /// needs `ctx.sample(..)`, progress with a pause, or a timer is a [`ToolDef::new`] tool.
    /// Its `inputSchema`, argument checks and errors are [`ToolDef::new`]'s.
    ///
    /// ```
    /// use mcp_http_server::{ToolDef, RequestContext};
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct AddArgs { a: f64, b: f64 }
    /// let add = ToolDef::sync("add", "Adds two numbers", |args: AddArgs, _ctx: &RequestContext| {
    ///     format!("{}", args.a + args.b)
    /// });
    /// assert_eq!(add.tool().name, "add");
    /// ```
    pub fn sync<A, F, R>(name: impl Into<String>, description: impl Into<String>, f: F) -> Self
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        F: Fn(A, &RequestContext) -> R + Send + Sync + 'static,
        R: IntoToolResult + 'static,
    {
        Self::typed::<A>(name, description, move |args, ctx| {
            Running::Done(Some(f(args, ctx).into_tool_result()))
        })
    }

    /// A tool whose arguments `A` are decoded (and their failure answered, TL-4) before `start`
    /// starts the call.
    fn typed<A>(
        name: impl Into<String>,
        description: impl Into<String>,
        start: impl Fn(A, &RequestContext) -> Running + Send + Sync + 'static,
    ) -> Self
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
    {
        let mut tool = Tool::new(name, serde_json::Value::Object(schema_of::<A>()));
        tool.description = Some(description.into());
        let typed = Typed {
            start,
            arguments: std::marker::PhantomData,
        };
        Self::with_call(tool, Arc::new(typed))
    }

    /// `tool`, called by `call`, with the defaults of every registration.
    fn with_call(tool: Tool, call: Arc<CallFn>) -> Self {
        ToolDef {
            tool,
            call,
            headers: Arc::new([]),
            task_support: TaskSupport::Forbidden,
            input_before_task: false,
            scopes: Arc::new([]),
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
        let mut def = Self::new(name, description, move |args: A, ctx: RequestContext| {
            let future = f(args, ctx);
            async move { future.await.map(Json) }
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
        Self::with_call(
            tool,
            Arc::new(move |args: Option<&RawValue>, ctx: &RequestContext| {
                let args: Result<JsonObject, _> =
                    args.map_or(Ok(JsonObject::new()), |raw| serde_json::from_str(raw.get()));
                match args {
                    Err(e) => Running::Done(Some(Ok(CallToolResult::error(format!(
                        "Invalid arguments: {e}"
                    ))))),
                    Ok(args) => {
                        let future = f(args, ctx.clone());
                        Running::Going(Box::pin(async move { future.await.into_tool_result() }))
                    }
                }
            }),
        )
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

    /// Mirrors argument `property` into the `Mcp-Param-{header}` HTTP header of 2026-07-28
    /// calls (`x-mcp-header`, H-10), so gateways can route on it. Only string, integer and
    /// boolean arguments qualify and header names must be unique tokens: registering a tool
    /// checks that ([`crate::ServerBuilder::try_tool`]).
    pub fn mcp_header(mut self, property: &str, header: impl Into<String>) -> Self {
        if let Some(serde_json::Value::Object(spec)) = self
            .tool
            .input_schema
            .get_mut("properties")
            .and_then(|p| p.get_mut(property))
        {
            spec.insert(
                "x-mcp-header".into(),
                serde_json::Value::String(header.into()),
            );
        } else {
            // Registration refuses it: an annotation on a property the schema does not have.
            let properties = self
                .tool
                .input_schema
                .entry("properties")
                .or_insert_with(|| serde_json::json!({}));
            if let serde_json::Value::Object(p) = properties {
                p.insert(
                    property.to_owned(),
                    serde_json::json!({ "x-mcp-header": header.into() }),
                );
            }
        }
        self
    }

    /// Reads and checks the tool's `x-mcp-header` annotations (H-10).
    pub(crate) fn checked(mut self) -> Result<Self, crate::HeaderAnnotationError> {
        let headers = crate::param_headers::annotations(&self.tool.name, &self.tool.input_schema)?;
        self.headers = headers.into();
        Ok(self)
    }

    /// Declares whether a call may run as a task of the tasks extension (TK-1), listed as the
    /// tool's `execution.taskSupport` to 2026-07-28 clients. `Optional`: a task when the request
    /// declares the extension, else a synchronous call; `Required`: a request without the
    /// extension is refused with -32021. Legacy sessions always call it synchronously.
    pub fn task_support(mut self, support: TaskSupport) -> Self {
        self.task_support = support;
        self.tool.execution = match support {
            TaskSupport::Forbidden => None,
            support => Some(ToolExecution::default().with_task_support(support)),
        };
        self
    }

    /// The call gathers its input on the request (input-required results) and becomes a task
    /// only where it calls [`crate::continue_as_task`] (TK-6); without this, a task-supporting
    /// call becomes a task at once and asks for its input through `tasks/get`.
    pub fn input_before_task(mut self) -> Self {
        self.input_before_task = true;
        self
    }

    /// Declares the OAuth scopes a call of this tool needs (AR-11). The server does not check
    /// them itself: an OAuth resource server in front reads them with
    /// [`crate::Server::tool_scopes`] and answers 403 `insufficient_scope` to a token without
    /// them (`mcp_http_oauth_server::ResourceServerBuilder::tool_scopes_from`).
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The OAuth scopes declared with [`ToolDef::scopes`].
    pub fn declared_scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The tool as listed by `tools/list`.
    pub fn tool(&self) -> &Tool {
        &self.tool
    }
}

#[cfg(test)]
mod request_error_tests {
    use std::error::Error as _;
    use std::time::Duration;

    use super::*;

    fn sample_failed() -> Result<String, ToolError> {
        // What `ctx.sample(..)?` does when the client never answers.
        Err(RequestError::Timeout(Duration::from_secs(1)))?
    }

    /// Regression: a failed request to the client was turned into a string, so the session
    /// could not tell a declined capability or a timeout from any other failure.
    #[test]
    fn a_failed_request_to_the_client_reaches_the_session_intact() {
        match sample_failed().into_tool_result() {
            Err(ToolError::Request(RequestError::Timeout(d))) => {
                assert_eq!(d, Duration::from_secs(1))
            }
            other => panic!("expected the request error, got {other:?}"),
        }
        let error = ToolError::from(RequestError::CapabilityNotSupported("roots"));
        assert!(error.source().is_some(), "the cause is kept");
        // A plain failure is still an isError result for the model (TL-4).
        let failed: Result<String, ToolError> = Err(ToolError::failed("no"));
        let result = failed.into_tool_result();
        assert!(matches!(result, Ok(r) if r.is_error == Some(true)));
    }
}
