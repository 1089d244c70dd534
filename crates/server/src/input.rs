//! `tools/call`, `prompts/get` and `resources/read`: the methods whose handlers may need input
//! from the client (MR-1). Each runs its handler through the core engine
//! ([`mcp_http_core::run_with_input`]), so a handler written once serves both eras: in a legacy
//! session `ctx.elicit(..)` and its kin are real requests and an explicit input-required answer
//! becomes real requests (MR-3); in 2026-07-28 they become `InputRequiredResult`s with a sealed
//! `requestState` (the server's [`RequestStates`]).

use std::collections::{BTreeMap, HashMap};

use mcp_http_core::peer::{AtOnce, ResultWriter};
use mcp_http_core::{InputScope, RequestContext, RequestError, RequestStates, run_with_input};
use mcp_http_proto::jsonrpc::{Request, to_raw};
use mcp_http_proto::{CallToolRequestParams, CallToolResult, ErrorObject, ProtocolVersion, method};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::registry::HandlerError;
use crate::server::{Server, read};
use crate::tasks::Work;
use crate::tool::{Running, ToolError};
use mcp_http_proto::tasks::TaskSupport;
use serde_json::Map;

pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Box<RawValue>, ErrorObject> {
    to_raw(value).map_err(|_| ErrorObject::internal())
}

/// `tools/call` params with the arguments left raw, so they are parsed once, straight into the
/// tool's own type. The other fields are checked as [`CallToolRequestParams`] checks them,
/// except the MRTR members: a malformed answer is asked for again, not refused (MR-1).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CallParams<'a> {
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    /// Kept raw: only its shape is checked here (an object), the engine reads what it needs.
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<&'a RawValue>,
    #[serde(rename = "task", default)]
    _task: Option<mcp_http_proto::TaskMetadata>,
}

impl<'a> CallParams<'a> {
    /// The params the transport read already (2026-07-28 over HTTP): one parse.
    pub(crate) fn of_view(view: &'a mcp_http_core::ToolCallView) -> Self {
        CallParams {
            name: std::borrow::Cow::Borrowed(&view.name),
            arguments: view.arguments.as_deref(),
            meta: None,
            _task: None,
        }
    }
}

/// The text of a request's params (`{}` when it has none).
fn params_text(request: &Request) -> &str {
    request.params.as_deref().unwrap_or("{}")
}

fn call_params(request: &Request) -> Result<CallParams<'_>, ErrorObject> {
    let text = params_text(request);
    match serde_json::from_str::<CallParams<'_>>(text) {
        Ok(params)
            if params.arguments.is_none_or(|a| a.get().starts_with('{'))
                && params.meta.is_none_or(|m| m.get().starts_with('{')) =>
        {
            Ok(params)
        }
        // The slow path only names the offending field, exactly as every other method does.
        _ => match request.params_as::<CallToolRequestParams>() {
            Err(error) => Err(error),
            Ok(_) => Err(ErrorObject::invalid_params(
                "Invalid params: arguments must be a JSON object",
            )),
        },
    }
}

/// The tool `params` name, looked up once, its `Mcp-Param-*` headers checked in place (H-10),
/// and only its function cloned out of the entry (PF-8); -32602 for an unknown tool (TL-4a).
pub(crate) fn find_tool(
    server: &Server,
    params: &CallParams<'_>,
    sent: Option<&mcp_http_core::ParamHeaders>,
) -> Result<(std::sync::Arc<crate::tool::CallFn>, TaskSupport, bool), ErrorObject> {
    match read(&server.inner.tools).get(params.name.as_ref()) {
        Some(t) => {
            if let Some(sent) = sent {
                crate::param_headers::check(&t.headers, sent, params.arguments)?;
            }
            Ok((t.call.clone(), t.task_support, t.input_before_task))
        }
        // TL-4a: an unknown tool is a protocol error.
        None => Err(ErrorObject::invalid_params(format!(
            "Invalid params: unknown tool `{}`",
            params.name
        ))),
    }
}

/// The call started from the params read in one pass with the tool's arguments (PF-32): the
/// tool named first in them, if it is there and its arguments are typed; `None` leaves the call
/// to the general read.
fn one_pass(
    server: &Server,
    request: &Request,
    ctx: &RequestContext,
) -> Option<(std::sync::Arc<crate::tool::CallFn>, Running)> {
    // Params the request's read marked as a call as clients write it: the name and the
    // arguments where it found them, not read again (PF-64).
    if let Some((name, arguments)) = request.params.as_ref().and_then(|p| p.call_parts()) {
        let call = read(&server.inner.tools).get(name)?.call.clone();
        let first = call.start_from_arguments(arguments, ctx)?;
        return Some((call, first));
    }
    let params = params_text(request);
    let named = crate::tool_params::leading_name(params)?;
    let call = read(&server.inner.tools).get(named.name)?.call.clone();
    let first = call.start_from_params(&named, ctx)?;
    Some((call, first))
}

/// What a finished call (not one continuing as a task) answers: its result, an `isError`
/// result for a failure the model reads (TL-4), or a JSON-RPC error.
pub(crate) fn settle<T>(
    outcome: Result<T, ToolError>,
) -> Result<Result<T, CallToolResult>, ErrorObject> {
    match outcome {
        Ok(result) => Ok(Ok(result)),
        Err(ToolError::ContinueAsTask(_)) => Err(ErrorObject::internal()),
        Err(ToolError::Rpc(error)) => Err(error),
        // Asked for input outside the engine's reach (a context of another request): the
        // server's fault, never an isError result (MR-1).
        Err(ToolError::Request(RequestError::InputRequired)) => Err(ErrorObject::internal()),
        // A request to the client that failed is the tool's failure, told to the model (TL-4).
        Err(ToolError::Request(error)) => Ok(Err(CallToolResult::error(error.to_string()))),
        Err(other) => Ok(Err(CallToolResult::error(other.to_string()))),
    }
}

/// `tools/call`.
pub(crate) async fn call_tool(
    server: &Server,
    request: &Request,
    ctx: RequestContext,
) -> Result<Box<RawValue>, ErrorObject> {
    let inner = &server.inner;
    // The transport may have read the params already (2026-07-28 over HTTP): one parse.
    let params = match ctx.extension::<mcp_http_core::ToolCallView>() {
        Some(view) => CallParams::of_view(view),
        None => call_params(request)?,
    };
    // H-10: in 2026-07-28 the transport hands over the Mcp-Param-* headers.
    // None are handed over when the request had no such header at all.
    let none = mcp_http_core::ParamHeaders::default();
    let sent = ctx.extension::<mcp_http_core::ParamHeaders>();
    let sent = sent.or(ctx.is_modern().then_some(&none));
    let (call, support, input_before_task) = find_tool(server, &params, sent)?;
    // TK-1, TK-2: a task-supporting tool on a request that declared the tasks extension.
    let as_task = match support {
        TaskSupport::Forbidden => false,
        _ if !ctx.is_modern() => false,
        TaskSupport::Required if !crate::tasks::declared(&ctx) => {
            return Err(crate::tasks::extension_required());
        }
        _ => crate::tasks::declared(&ctx),
    };
    let work = || Work {
        call: call.clone(),
        arguments: params.arguments.map(ToOwned::to_owned),
    };
    if as_task && !input_before_task {
        return inner.tasks.create(&ctx, work(), Map::new()).await;
    }
    let scope = InputScope::new(method::TOOLS_CALL, &params.name, request.params.as_ref());
    let modern = ctx.is_modern().then_some(&inner.modern);
    let run = || {
        let result = call.start(params.arguments, &ctx);
        async move {
            result.await.and_then(|mut r| match modern {
                Some(modern) => modern
                    .encode_call(&mut r)
                    .map_err(|_| ToolError::Rpc(ErrorObject::internal())),
                None => encode(&r).map_err(ToolError::Rpc),
            })
        }
    };
    let outcome = run_with_input(&ctx, &scope, &inner.request_states, run);
    let outcome = match as_task {
        // TK-6: the call gathers its input here and continues as a task.
        true => crate::tasks::escalatable(outcome).await?,
        false => outcome.await?,
    };
    match outcome {
        Err(ToolError::ContinueAsTask(gathered)) if as_task => {
            inner.tasks.create(&ctx, work(), gathered.0).await
        }
        outcome => settle(outcome)?.or_else(|failed| encode(&failed)),
    }
}

/// `tools/call` of a legacy session on the quick-call path (PF-40, PF-42): the tool's future is
/// polled once here, where the request arrived, with no future of the session's around it; a
/// result that is there at once, and asked for no input, is serialized straight into the
/// transport's buffer (PF-41). Otherwise the same run goes on as [`call_tool`]'s would: through
/// the input engine (MR-3), in a future boxed only now.
pub(crate) fn call_tool_at_once(
    server: &Server,
    request: Request,
    ctx: RequestContext,
    out: ResultWriter<'_>,
) -> AtOnce {
    // PF-32: the params and the tool's arguments in one serde pass, else the general read.
    let sent = ctx.extension::<mcp_http_core::ParamHeaders>();
    let mut general = None;
    let (call, first) = match sent.is_none().then(|| one_pass(server, &request, &ctx)) {
        Some(Some(started)) => started,
        _ => {
            let params = match call_params(&request) {
                Ok(params) => params,
                Err(error) => return AtOnce::Failed(error),
            };
            let call = match find_tool(server, &params, sent) {
                Ok((call, _, _)) => call,
                Err(error) => return AtOnce::Failed(error),
            };
            let first = call.start(params.arguments, &ctx);
            general = Some(params);
            (call, first)
        }
    };
    // A synchronous tool is done already (PF-30); another is polled once here.
    let first = first.polled_once();
    let first = match first {
        Running::Done(Some(outcome)) if !ctx.has_input_round() => {
            // Written by its members, as serde would write it (PF-81).
            return match settle(outcome) {
                Ok(Ok(result)) | Ok(Err(result)) => out.write_with(|out| result.write_json(out)),
                Err(error) => AtOnce::Failed(error),
            };
        }
        // It asked for input (MR-3): the engine takes it from here, with this outcome.
        waits => waits,
    };
    // A call that waits (rare): its params as the general read has them, for its reruns.
    let params = match general {
        Some(params) => params,
        None => match call_params(&request) {
            Ok(params) => params,
            Err(error) => return AtOnce::Failed(error),
        },
    };
    let arguments = params.arguments.map(ToOwned::to_owned);
    let name = params.name.into_owned();
    let server = server.clone();
    AtOnce::Waits(Box::pin(async move {
        let mut first = Some(first);
        let scope = InputScope::new(method::TOOLS_CALL, &name, request.params.as_ref());
        let run = || {
            let running = first
                .take()
                .unwrap_or_else(|| call.start(arguments.as_deref(), &ctx));
            async move {
                running
                    .await
                    .and_then(|r| encode(&r).map_err(ToolError::Rpc))
            }
        };
        let outcome = run_with_input(&ctx, &scope, &server.inner.request_states, run).await?;
        settle(outcome)?.or_else(|failed| encode(&failed))
    }))
}

/// The failure of a prompt or resource handler as answered: its JSON-RPC error, or for a
/// request to the client that failed, [`RequestError::to_error_object`].
fn answer(outcome: Result<Box<RawValue>, HandlerError>) -> Result<Box<RawValue>, ErrorObject> {
    outcome.map_err(ErrorObject::from)
}

/// `prompts/get` params, without the MRTR members (read by the engine, leniently).
#[derive(serde::Deserialize)]
struct PromptParams {
    name: String,
    #[serde(default)]
    arguments: Option<BTreeMap<String, String>>,
}

/// `prompts/get`.
pub(crate) async fn get_prompt(
    server: &Server,
    request: &Request,
    ctx: RequestContext,
) -> Result<Box<RawValue>, ErrorObject> {
    let params: PromptParams = request.params_as()?;
    let prompt = read(&server.inner.prompts).get(&params.name).cloned();
    let Some(prompt) = prompt else {
        return Err(ErrorObject::invalid_params(format!(
            "Invalid params: unknown prompt `{}`",
            params.name
        )));
    };
    let args: HashMap<String, String> = params.arguments.unwrap_or_default().into_iter().collect();
    prompt.check_arguments(&args)?;
    let scope = InputScope::new(method::PROMPTS_GET, &params.name, request.params.as_ref());
    let run = || {
        let result = (prompt.get)(args.clone(), ctx.clone());
        async move { result.await.and_then(|r| Ok(encode(&r)?)) }
    };
    answer(run_with_input(&ctx, &scope, &server.inner.request_states, run).await?)
}

/// `resources/read` params, without the MRTR members (read by the engine, leniently).
#[derive(serde::Deserialize)]
struct ReadParams {
    uri: String,
}

/// `resources/read`: a fixed resource, else the first template that matches the URI.
pub(crate) async fn read_resource(
    server: &Server,
    request: &Request,
    ctx: RequestContext,
    version: ProtocolVersion,
) -> Result<Box<RawValue>, ErrorObject> {
    let inner = &server.inner;
    let params: ReadParams = request.params_as()?;
    let uri = params.uri.as_str();
    let scope = InputScope::new(method::RESOURCES_READ, uri, request.params.as_ref());
    let states: &RequestStates = &inner.request_states;
    let fixed = read(&inner.resources).get(uri).map(|r| r.read.clone());
    if let Some(read_fn) = fixed {
        let run = || {
            let result = read_fn(params.uri.clone(), ctx.clone());
            async move { result.await.and_then(|r| Ok(encode(&r)?)) }
        };
        return answer(run_with_input(&ctx, &scope, states, run).await?);
    }
    let matched = read(&inner.templates)
        .iter()
        .find_map(|t| t.matcher.matches(uri).map(|vars| (t.read.clone(), vars)));
    let Some((read_fn, vars)) = matched else {
        return Err(crate::session::resource_not_found(uri, version));
    };
    let run = || {
        let result = read_fn(params.uri.clone(), vars.clone(), ctx.clone());
        async move { result.await.and_then(|r| Ok(encode(&r)?)) }
    };
    answer(run_with_input(&ctx, &scope, states, run).await?)
}

#[cfg(test)]
mod tests;
