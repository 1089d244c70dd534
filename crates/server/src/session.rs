//! One server session: the [`Handler`] that answers a client's requests from the server's
//! registry, enforcing the lifecycle (L-1..L-6) and what was negotiated (C-3).

use futures::future::BoxFuture;
use mcp_http_core::peer::{AtOnce, ResultWriter};
use mcp_http_core::{Handler, Peer, RequestContext};
use mcp_http_proto::jsonrpc::{Notification, Request, to_raw};
use mcp_http_proto::{
    CompleteRequestParams, CompleteResult, ErrorObject, InitializeRequestParams, InitializeResult,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ProtocolVersion, SetLevelRequestParams, SubscribeRequestParams,
    UnsubscribeRequestParams, error_code, method,
};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::pagination::page;
use std::sync::atomic::Ordering;

use crate::server::{STATELESS_KEY, Server, SessionEntry, lock, read};

pub(crate) struct SessionHandler {
    pub(crate) server: Server,
    pub(crate) key: u64,
    pub(crate) require_initialize: bool,
}

impl Drop for SessionHandler {
    fn drop(&mut self) {
        let inner = &self.server.inner;
        let stateless = self.key & STATELESS_KEY != 0;
        // PF-48: this handler's entry, if it made one, is counted (it was made before this
        // handler's peer, which owns it, went).
        if stateless && inner.stateless_entries.load(Ordering::Acquire) == 0 {
            return;
        }
        let removed = lock(&inner.sessions).remove(&self.key);
        if stateless && removed.is_some() {
            inner.stateless_entries.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Box<RawValue>, ErrorObject> {
    to_raw(value).map_err(|_| ErrorObject::internal())
}

fn empty() -> Result<Box<RawValue>, ErrorObject> {
    RawValue::from_string("{}".to_owned()).map_err(|_| ErrorObject::internal())
}

impl Handler for SessionHandler {
    fn handle_request(
        &self,
        request: Request,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        let server = self.server.clone();
        let key = self.key;
        let require_initialize = self.require_initialize;
        let state = ctx.state();
        if state.is_modern() {
            return Box::pin(dispatch_modern(server, key, request, ctx));
        }
        // The common request of a negotiated session, `tools/call` (present in every version,
        // C-3), goes straight to the tool, in a future of its own size: not the one of every
        // method's arm, moved into its box per request (PF-8). Anything else, and a session
        // still to be initialized, takes the general dispatch (its checks, its errors).
        if request.method == method::TOOLS_CALL
            && state.is_negotiated()
            && server.inner.capabilities.tools.is_some()
        {
            return Box::pin(async move { crate::input::call_tool(&server, &request, ctx).await });
        }
        Box::pin(async move { dispatch(server, key, require_initialize, request, ctx).await })
    }

    /// A `tools/call` takes the quick-call path: the tool polled in place, its result written
    /// straight into the transport's buffer; a legacy session's (PF-40) with the params it
    /// reads, a 2026-07-28 request's (PF-44) with the params the transport read already.
    /// Everything else runs as `handle_request`.
    fn handle_request_at_once(
        &self,
        request: Request,
        ctx: RequestContext,
        out: ResultWriter<'_>,
    ) -> AtOnce {
        let state = ctx.state();
        if request.method != method::TOOLS_CALL
            || !state.is_negotiated()
            || self.server.inner.capabilities.tools.is_none()
        {
            return AtOnce::Waits(self.handle_request(request, ctx));
        }
        if state.is_modern() {
            return match crate::call_modern::call_tool_at_once(&self.server, request, ctx, out) {
                Ok(answered) => answered,
                Err((request, ctx)) => AtOnce::Waits(self.handle_request(request, ctx)),
            };
        }
        if ctx.tool_call().is_none() {
            return crate::input::call_tool_at_once(&self.server, request, ctx, out);
        }
        AtOnce::Waits(self.handle_request(request, ctx))
    }

    fn handle_notification(
        &self,
        notification: Notification,
        peer: Peer,
    ) -> BoxFuture<'static, ()> {
        if notification.method == method::NOTIFICATION_INITIALIZED {
            peer.state().set_initialized();
        }
        Box::pin(async {})
    }
}

/// A 2026-07-28 request: `server/discover`, else the legacy answer completed for the era
/// (`resultType`, `serverInfo`, caching fields).
async fn dispatch_modern(
    server: Server,
    key: u64,
    request: Request,
    ctx: RequestContext,
) -> Result<Box<RawValue>, ErrorObject> {
    let modern = &server.inner.modern;
    if request.method == method::SERVER_DISCOVER {
        return modern.discover(&server.inner);
    }
    if crate::tasks::is_task_method(&request.method) {
        // TK-4: the tasks extension's methods (and the removed ones, -32601).
        let result = crate::tasks::handle(&server.inner.tasks, &request, &ctx).await?;
        return Ok(modern.complete("", result));
    }
    // CA-1: the answer to a retried input-required request is never cacheable.
    static RETRY: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 2]> =
        std::sync::LazyLock::new(|| {
            [b"\"inputResponses\"".as_slice(), b"\"requestState\""].map(memchr::memmem::Finder::new)
        });
    let cacheable_method = crate::modern::CACHEABLE.contains(&request.method.as_str());
    let retry = cacheable_method
        && request
            .params
            .as_ref()
            .is_some_and(|p| RETRY.iter().any(|m| m.find(p.as_bytes()).is_some()));
    let cacheable = crate::modern::CACHEABLE
        .iter()
        .find(|m| **m == request.method && !retry)
        .copied()
        .unwrap_or("");
    let result = dispatch(server.clone(), key, false, request, ctx).await?;
    Ok(server.inner.modern.complete(cacheable, result))
}

fn register(server: &Server, key: u64, peer: &Peer) {
    let mut sessions = lock(&server.inner.sessions);
    if let std::collections::hash_map::Entry::Vacant(slot) = sessions.entry(key) {
        slot.insert(SessionEntry {
            peer: peer.downgrade(),
        });
        if key & STATELESS_KEY != 0 {
            // Counted under the lock, before the entry can be removed (PF-48).
            server
                .inner
                .stateless_entries
                .fetch_add(1, Ordering::AcqRel);
        }
    }
}

async fn dispatch(
    server: Server,
    key: u64,
    require_initialize: bool,
    request: Request,
    ctx: RequestContext,
) -> Result<Box<RawValue>, ErrorObject> {
    let state = ctx.peer().state();
    if request.method == method::INITIALIZE {
        return initialize(&server, key, &request, &ctx);
    }
    if !state.is_negotiated() {
        if require_initialize {
            return Err(ErrorObject::invalid_request(
                "Invalid Request: the session is not initialized; send initialize first",
            ));
        }
        register(&server, key, ctx.peer());
    }
    let version = state
        .protocol_version()
        .unwrap_or(ProtocolVersion::LATEST_LEGACY);
    if !method::available_in(&request.method, version) {
        // C-3: a method of another protocol version does not exist in this session.
        return Err(ErrorObject::method_not_found(&request.method));
    }
    let inner = &server.inner;
    let caps = &inner.capabilities;
    match request.method.as_str() {
        method::TOOLS_LIST if caps.tools.is_some() => {
            let params: PaginatedRequestParams = request.params_as()?;
            let modern = state.is_modern();
            let tools: Vec<_> = read(&inner.tools)
                .values()
                .map(|t| {
                    let mut tool = t.tool.clone();
                    // TK-1: task support is the 2026-07-28 extension's; legacy sessions call
                    // every tool synchronously.
                    if !modern && t.task_support != mcp_http_proto::tasks::TaskSupport::Forbidden {
                        tool.execution = None;
                    }
                    tool
                })
                .collect();
            let (tools, next_cursor) = page(&tools, params.cursor.as_deref(), inner.page_size)?;
            let mut result = ListToolsResult::new(tools);
            result.next_cursor = next_cursor;
            encode(&result)
        }
        // MR-1: the three methods whose handlers may need input from the client.
        method::TOOLS_CALL if caps.tools.is_some() => {
            crate::input::call_tool(&server, &request, ctx).await
        }
        method::RESOURCES_LIST if caps.resources.is_some() => {
            let params: PaginatedRequestParams = request.params_as()?;
            let all: Vec<_> = read(&inner.resources)
                .values()
                .map(|r| r.resource.clone())
                .collect();
            let (resources, next_cursor) = page(&all, params.cursor.as_deref(), inner.page_size)?;
            let mut result = ListResourcesResult::new(resources);
            result.next_cursor = next_cursor;
            encode(&result)
        }
        method::RESOURCES_TEMPLATES_LIST if caps.resources.is_some() => {
            let params: PaginatedRequestParams = request.params_as()?;
            let all: Vec<_> = read(&inner.templates)
                .iter()
                .map(|t| t.template.clone())
                .collect();
            let (resource_templates, next_cursor) =
                page(&all, params.cursor.as_deref(), inner.page_size)?;
            let mut result = ListResourceTemplatesResult::new(resource_templates);
            result.next_cursor = next_cursor;
            encode(&result)
        }
        method::RESOURCES_READ if caps.resources.is_some() => {
            crate::input::read_resource(&server, &request, ctx, version).await
        }
        method::RESOURCES_SUBSCRIBE
            if caps.resources.as_ref().and_then(|r| r.subscribe) == Some(true) =>
        {
            let params: SubscribeRequestParams = request.params_as()?;
            register(&server, key, ctx.peer());
            ctx.peer().state().subscribe(&params.uri);
            empty()
        }
        method::RESOURCES_UNSUBSCRIBE
            if caps.resources.as_ref().and_then(|r| r.subscribe) == Some(true) =>
        {
            let params: UnsubscribeRequestParams = request.params_as()?;
            ctx.peer().state().unsubscribe(&params.uri);
            empty()
        }
        method::PROMPTS_LIST if caps.prompts.is_some() => {
            let params: PaginatedRequestParams = request.params_as()?;
            let all: Vec<_> = read(&inner.prompts)
                .values()
                .map(|p| p.prompt.clone())
                .collect();
            let (prompts, next_cursor) = page(&all, params.cursor.as_deref(), inner.page_size)?;
            let mut result = ListPromptsResult::new(prompts);
            result.next_cursor = next_cursor;
            encode(&result)
        }
        method::PROMPTS_GET if caps.prompts.is_some() => {
            crate::input::get_prompt(&server, &request, ctx).await
        }
        method::COMPLETION_COMPLETE if caps.completions.is_some() => {
            let params: CompleteRequestParams = request.params_as()?;
            match &inner.completion {
                Some(complete) => encode(&complete(params, ctx).await?),
                None => encode(&CompleteResult::default()),
            }
        }
        method::LOGGING_SET_LEVEL if caps.logging.is_some() => {
            // LG-3: an unknown level fails to decode and gets -32602.
            let params: SetLevelRequestParams = request.params_as()?;
            state.set_log_level(params.level);
            empty()
        }
        _ => Err(ErrorObject::method_not_found(&request.method)),
    }
}

/// An unknown resource: -32002 up to 2025-11-25, -32602 from 2026-07-28 (checklist 3.2).
pub(crate) fn resource_not_found(uri: &str, version: ProtocolVersion) -> ErrorObject {
    let code = if version.is_legacy() {
        error_code::RESOURCE_NOT_FOUND
    } else {
        error_code::INVALID_PARAMS
    };
    ErrorObject::new(code, format!("Resource not found: {uri}"))
        .with_data(serde_json::json!({ "uri": uri }))
}

fn initialize(
    server: &Server,
    key: u64,
    request: &Request,
    ctx: &RequestContext,
) -> Result<Box<RawValue>, ErrorObject> {
    let state = ctx.peer().state();
    if state.is_negotiated() {
        return Err(ErrorObject::invalid_request(
            "Invalid Request: the session is already initialized",
        ));
    }
    let params: InitializeRequestParams = request.params_as()?;
    // V-2: the requested version if supported, else our latest.
    let version = ProtocolVersion::negotiate(&params.protocol_version);
    state.set_client(version, params.client_info, params.capabilities);
    register(server, key, ctx.peer());
    let mut result = InitializeResult::new(
        version.as_str(),
        server.inner.capabilities.clone(),
        server.inner.info.clone(),
    );
    result.instructions = server.inner.instructions.clone();
    tracing::debug!(%version, "session initialized");
    encode(&result)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use mcp_http_core::transport::ChannelSink;
    use mcp_http_core::{Extensions, PeerConfig, Places};
    use mcp_http_proto::jsonrpc::Message;

    use super::*;

    /// A stateless peer (one request's) that answered `initialize`, which registers it.
    fn initialized(server: &Server) -> Peer {
        let (tx, _rx) = tokio::sync::mpsc::channel(1);
        let peer = Peer::new(
            Arc::new(ChannelSink(tx)),
            server.stateless_handler(),
            PeerConfig::default(),
        );
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
        let Ok(Message::Request(request)) = Message::parse(body.as_bytes()) else {
            panic!("not a request");
        };
        let mut out = Vec::new();
        assert!(peer.answer_request_into(request, Extensions::new(), Places::default(), &mut out));
        peer
    }

    /// PF-48: a stateless handler's entry goes with it, counted, and one that made none goes
    /// without touching the others'.
    #[test]
    fn stateless_entries_are_counted_and_removed_with_their_handler() {
        let server = Server::builder("s", "1").build();
        let count = || server.inner.stateless_entries.load(Ordering::Acquire);
        let first = initialized(&server);
        let second = initialized(&server);
        assert_eq!((server.session_count(), count()), (2, 2));
        drop(first);
        assert_eq!((server.session_count(), count()), (1, 1));
        // One that registered nothing goes: the other's entry stays.
        drop(server.stateless_handler());
        assert_eq!((server.session_count(), count()), (1, 1));
        drop(second);
        assert_eq!((server.session_count(), count()), (0, 0));
        drop(server.stateless_handler());
        assert_eq!(count(), 0);
    }
}
