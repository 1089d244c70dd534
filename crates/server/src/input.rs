//! `tools/call`, `prompts/get` and `resources/read`: the methods whose handlers may need input
//! from the client (MR-1). Each runs its handler through the core engine
//! ([`mcp_http_core::run_with_input`]), so a handler written once serves both eras: in a legacy
//! session `ctx.elicit(..)` and its kin are real requests and an explicit input-required answer
//! becomes real requests (MR-3); in 2026-07-28 they become `InputRequiredResult`s with a sealed
//! `requestState` (the server's [`RequestStates`]).

use std::collections::{BTreeMap, HashMap};

use mcp_http_core::{InputScope, RequestContext, RequestError, RequestStates, run_with_input};
use mcp_http_proto::jsonrpc::{Request, to_raw};
use mcp_http_proto::{CallToolRequestParams, CallToolResult, ErrorObject, ProtocolVersion, method};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::registry::HandlerError;
use crate::server::{Server, read};
use crate::tasks::Work;
use crate::tool::ToolError;
use mcp_http_proto::tasks::TaskSupport;
use serde_json::Map;

fn encode<T: Serialize>(value: &T) -> Result<Box<RawValue>, ErrorObject> {
    to_raw(value).map_err(|_| ErrorObject::internal())
}

/// `tools/call` params with the arguments left raw, so they are parsed once, straight into the
/// tool's own type. The other fields are checked as [`CallToolRequestParams`] checks them,
/// except the MRTR members: a malformed answer is asked for again, not refused (MR-1).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallParams<'a> {
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

fn call_params(request: &Request) -> Result<CallParams<'_>, ErrorObject> {
    let text = request.params.as_deref().map_or("{}", RawValue::get);
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

/// `tools/call`.
pub(crate) async fn call_tool(
    server: &Server,
    request: &Request,
    ctx: RequestContext,
) -> Result<Box<RawValue>, ErrorObject> {
    let inner = &server.inner;
    // The transport may have read the params already (2026-07-28 over HTTP): one parse.
    let params = match ctx.extensions().get::<mcp_http_core::ToolCallView>() {
        Some(view) => CallParams {
            name: std::borrow::Cow::Borrowed(&view.name),
            arguments: view.arguments.as_deref(),
            meta: None,
            _task: None,
        },
        None => call_params(request)?,
    };
    // H-10: in 2026-07-28 the transport hands over the Mcp-Param-* headers.
    // None are handed over when the request had no such header at all.
    let none = mcp_http_core::ParamHeaders::default();
    let sent = ctx.extensions().get::<mcp_http_core::ParamHeaders>();
    let sent = sent.or(ctx.is_modern().then_some(&none));
    // Looked up once, and only the function is cloned out of the entry: the headers are checked
    // where they are (PF-8).
    let found = match read(&inner.tools).get(params.name.as_ref()) {
        Some(t) => {
            if let Some(sent) = sent {
                crate::param_headers::check(&t.headers, sent, params.arguments)?;
            }
            Some((t.call.clone(), t.task_support, t.input_before_task))
        }
        None => None,
    };
    let Some((call, support, input_before_task)) = found else {
        // TL-4a: an unknown tool is a protocol error.
        return Err(ErrorObject::invalid_params(format!(
            "Invalid params: unknown tool `{}`",
            params.name
        )));
    };
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
    let scope = InputScope::new(method::TOOLS_CALL, &params.name, request.params.as_deref());
    let modern = ctx.is_modern().then_some(&inner.modern);
    let run = || {
        let result = call(params.arguments, ctx.clone());
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
        Ok(result) => Ok(result),
        Err(ToolError::ContinueAsTask(gathered)) if as_task => {
            inner.tasks.create(&ctx, work(), gathered.0).await
        }
        Err(ToolError::ContinueAsTask(_)) => Err(ErrorObject::internal()),
        Err(ToolError::Rpc(error)) => Err(error),
        // Asked for input outside the engine's reach (a context of another request): the
        // server's fault, never an isError result (MR-1).
        Err(ToolError::Request(RequestError::InputRequired)) => Err(ErrorObject::internal()),
        // A request to the client that failed is the tool's failure, told to the model (TL-4).
        Err(ToolError::Request(error)) => encode(&CallToolResult::error(error.to_string())),
        Err(other) => encode(&CallToolResult::error(other.to_string())),
    }
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
    let scope = InputScope::new(method::PROMPTS_GET, &params.name, request.params.as_deref());
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
    let scope = InputScope::new(method::RESOURCES_READ, uri, request.params.as_deref());
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
