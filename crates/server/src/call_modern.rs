//! A 2026-07-28 `tools/call` on the quick-call path (PF-44): the tool is polled once where the
//! request arrived, with the name and arguments the transport's ladder read already
//! ([`ToolCallView`]), and a result that is there at once is written straight into the
//! transport's buffer as the era sends it ([`crate::modern::Modern::write_call`]): no boxed
//! future of the session around the tool, no `Box<RawValue>`, no completion after the fact.
//!
//! Only a first call that needs nothing more is answered so. A retry (`inputResponses`,
//! `requestState`), a call that continues as a task, and a call whose params the transport did
//! not read take the general path, untouched; a tool that asks for input in its first poll
//! (an input-required result, MR-1) or has to wait goes on through the input engine with the
//! outcome or the future it has, exactly as [`crate::input::call_tool`] would run it (PF-45).

use std::sync::Arc;

use mcp_http_core::peer::{AtOnce, ResultWriter};
use mcp_http_core::{
    FirstCall, InputScope, ParamHeaders, RequestContext, ToolCallView, may_be_retry, run_with_input,
};
use mcp_http_proto::jsonrpc::Request;
use mcp_http_proto::tasks::TaskSupport;
use mcp_http_proto::{ErrorObject, method};

use crate::input::{CallParams, encode, find_tool, settle};
use crate::server::Server;
use crate::tool::{CallFn, Running, ToolError};

/// A 2026-07-28 `tools/call` answered in place when it can be (see the module docs). Gives the
/// request and its context back when the call is for the general path.
pub(crate) fn call_tool_at_once(
    server: &Server,
    request: Request,
    ctx: RequestContext,
    out: ResultWriter<'_>,
) -> Result<AtOnce, (Request, RequestContext)> {
    let Some(view) = ctx.extension::<ToolCallView>() else {
        return Err((request, ctx));
    };
    // A retry (MR-1) runs through the engine's opening of its state, on the general path. The
    // transport's read of the params tells a first call (PF-59); else the engine's own scan
    // (a params text that only mentions the names goes there too, which changes nothing but
    // the path).
    let first_call = ctx.extension::<FirstCall>().is_some();
    if !first_call && request.params.as_ref().is_some_and(may_be_retry) {
        return Err((request, ctx));
    }
    let params = CallParams::of_view(view);
    // H-10: the Mcp-Param-* headers the transport handed over (none when the request had
    // none at all).
    let none = ParamHeaders::default();
    let sent = ctx.extension::<ParamHeaders>().unwrap_or(&none);
    let (call, support) = match find_tool(server, &params, Some(sent)) {
        Ok((call, support, _)) => (call, support),
        Err(error) => return Ok(AtOnce::Failed(error)),
    };
    if support != TaskSupport::Forbidden && crate::tasks::declared(&ctx) {
        // TK-1, TK-2: the call may continue as a task.
        return Err((request, ctx));
    }
    if support == TaskSupport::Required {
        return Ok(AtOnce::Failed(crate::tasks::extension_required()));
    }
    // A synchronous tool is done already (PF-30); another is polled once here.
    let first = call.start(view.arguments.as_deref(), &ctx).polled_once();
    let first = match first {
        Running::Done(Some(outcome)) if !ctx.has_input_round() => {
            let modern = &server.inner.modern;
            return Ok(match settle(outcome) {
                Ok(Ok(mut result)) => modern.write_call(&mut result, out),
                Ok(Err(mut failed)) => modern.write_call(&mut failed, out),
                Err(error) => AtOnce::Failed(error),
            });
        }
        // It asked for input (MR-1): the engine takes it from here, with this outcome.
        waits => waits,
    };
    Ok(waits(server, call, request, ctx, first))
}

/// A call that did not answer in its first poll, boxed to go on (see [`go_on`]): out of line,
/// so a call answered at once runs none of the code that makes the box (PF-99).
#[inline(never)]
fn waits(
    server: &Server,
    call: Arc<CallFn>,
    request: Request,
    ctx: RequestContext,
    first: Running,
) -> AtOnce {
    let server = server.clone();
    AtOnce::Waits(Box::pin(go_on(server, call, request, ctx, first)))
}

/// The rest of a call that did not answer in its first poll: the input engine's run of it
/// (MR-1), its first run being the future already polled, then the era's completion, as
/// [`crate::input::call_tool`] and the session's modern dispatch answer it.
async fn go_on(
    server: Server,
    call: Arc<CallFn>,
    request: Request,
    ctx: RequestContext,
    first: Running,
) -> Result<Box<serde_json::value::RawValue>, ErrorObject> {
    let inner = &server.inner;
    let modern = &inner.modern;
    let view = ctx.extension::<ToolCallView>();
    let name = view.map_or("", |v| &*v.name);
    let arguments = view.and_then(|v| v.arguments.as_deref());
    let mut first = Some(first);
    let scope = InputScope::new(method::TOOLS_CALL, name, request.params.as_ref());
    let run = || {
        let running = first.take().unwrap_or_else(|| call.start(arguments, &ctx));
        async move {
            running.await.and_then(|mut r| {
                modern
                    .encode_call(&mut r)
                    .map_err(|_| ToolError::Rpc(ErrorObject::internal()))
            })
        }
    };
    let outcome = run_with_input(&ctx, &scope, &inner.request_states, run).await?;
    let result = settle(outcome)?.or_else(|failed| encode(&failed))?;
    Ok(modern.complete("", result))
}

#[cfg(test)]
mod tests;
