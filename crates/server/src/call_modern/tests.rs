//! The quick path of a 2026-07-28 `tools/call` (PF-44, PF-45) answers exactly what the general
//! path answers: the same handler's requests run through a peer once as they are (in place
//! where they can be) and once through `handle_request` alone, and the answers are compared.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use mcp_http_core::peer::{Answered, MakePeer, Unmade};
use mcp_http_core::transport::ChannelSink;
use mcp_http_core::{
    Extensions, FirstCall, Handler, ParamHeaders, Peer, PeerConfig, Places, RequestContext,
    SessionState, SharedClient, ToolCallView,
};
use mcp_http_proto::RequestId;
use mcp_http_proto::jsonrpc::{Message, Request};
use mcp_http_proto::{
    Annotations, CallToolResult, ContentBlock, ElicitRequestFormParams, ElicitRequestParams,
    ErrorObject, ImageContent, Implementation, Meta, ProtocolVersion, TextContent,
};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::test_handlers::{General, Text};
use crate::{NoArgs, RequestError, Server, TaskSupport, ToolDef, ToolError};

fn server() -> Server {
    Server::builder("quick", "1")
        .tool(ToolDef::new(
            "echo",
            "echo",
            |a: Text, _| async move { a.text },
        ))
        .tool(ToolDef::new(
            "own_meta",
            "own _meta",
            |_: NoArgs, _| async {
                let mut result = CallToolResult::text("m");
                result.meta = Some(Meta::from_iter([("k".to_owned(), json!(1))]));
                result
            },
        ))
        .tool(ToolDef::new(
            "blocks",
            "several blocks, structured content",
            |_: NoArgs, _| async {
                let mut annotated = TextContent::new("a\u{1}");
                annotated.annotations = Some(Annotations::default());
                let mut result = CallToolResult::new(vec![
                    ContentBlock::Text(TextContent::new("one \\ \"two\"\n")),
                    ContentBlock::Image(ImageContent::new("AAAA", "image/png")),
                    ContentBlock::Text(annotated),
                ]);
                result.structured_content = Some(json!({"k": [1, "v"]}));
                result.is_error = Some(false);
                result
            },
        ))
        .tool(ToolDef::new("fails", "isError", |_: NoArgs, _| async {
            Err::<String, _>(ToolError::failed("nope"))
        }))
        .tool(ToolDef::new(
            "request_failed",
            "a request that failed",
            |_: NoArgs, _| async { Err::<String, _>(ToolError::Request(RequestError::Cancelled)) },
        ))
        .tool(ToolDef::new(
            "rpc",
            "a JSON-RPC error",
            |_: NoArgs, _| async {
                Err::<String, _>(ToolError::Rpc(ErrorObject::invalid_params("bad")))
            },
        ))
        .tool(ToolDef::new(
            "asks",
            "input in its first poll",
            |_: NoArgs, ctx: RequestContext| async move {
                let form = ElicitRequestFormParams::new("Who?", json!({"type": "object"}));
                let who = ctx.elicit(ElicitRequestParams::Form(form)).await?;
                Ok::<_, ToolError>(format!("{:?}", who.action))
            },
        ))
        .tool(ToolDef::new("waits", "waits", |_: NoArgs, _| async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            "late"
        }))
        .tool(
            ToolDef::new("task_only", "a task", |_: NoArgs, _| async { "t" })
                .task_support(TaskSupport::Required),
        )
        .build()
}

/// The request of a 2026-07-28 `tools/call` with `params` and what the transport's read of
/// them hands over: the ladder's `ToolCallView` and whether the call is a first call (PF-59).
fn handed(params: &Value) -> (Request, Option<ToolCallView>, bool) {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params});
    let Ok(Message::Request(request)) = Message::parse(body.to_string().as_bytes()) else {
        panic!("not a request");
    };
    let view = params["name"].as_str().map(|name| ToolCallView {
        name: name.into(),
        arguments: params
            .get("arguments")
            .map(|a| RawValue::from_string(a.to_string()).unwrap()),
    });
    let first = params.get("inputResponses").is_none() && params.get("requestState").is_none();
    (request, view, first)
}

/// A 2026-07-28 state, its client able to elicit.
fn set_modern(state: &SessionState) {
    let capabilities = serde_json::value::to_raw_value(&json!({"elicitation": {}})).unwrap();
    let client = SharedClient::from_raw(Implementation::new("c", "1"), Some(capabilities.into()));
    state.set_shared_client(ProtocolVersion::V2026_07_28, &client);
    state.set_initialized();
}

/// The answer of a 2026-07-28 `tools/call` with `params`, as the HTTP transport hands it over
/// (the ladder's `ToolCallView`, the `Mcp-Param-*` headers) in the request's extensions.
async fn answer(handler: Arc<dyn Handler>, params: Value) -> String {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let peer = Peer::new(Arc::new(ChannelSink(tx)), handler, PeerConfig::default());
    set_modern(peer.state());
    let (request, view, first) = handed(&params);
    let mut extensions = Extensions::new();
    if let Some(view) = view {
        extensions.insert(view);
    }
    // PF-59: a first call is marked so, as the transport's read of the params marks it.
    if first {
        extensions.insert(FirstCall::default());
    }
    extensions.insert(ParamHeaders::default());
    let mut out = Vec::new();
    if peer.answer_request_into(request, extensions, Places::default(), &mut out) {
        return String::from_utf8(out).unwrap();
    }
    let sent = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    String::from_utf8(sent.unwrap().unwrap().to_vec()).unwrap()
}

/// Makes the peer of a request answered before it has one, sending through a channel.
struct Maker(Arc<ChannelSink>);

impl MakePeer for Maker {
    fn make_peer(
        &self,
        _: &RequestId,
        handler: Arc<dyn Handler>,
        _: &SessionState,
        _: bool,
    ) -> Peer {
        Peer::new(self.0.clone(), handler, PeerConfig::default())
    }
}

/// [`answer`], as the HTTP transport hands a 2026-07-28 request over: to a peer not made yet,
/// the ladder's read of the call as a field of the [`Unmade`] (PF-70), not in the map.
async fn answer_unmade(handler: Arc<dyn Handler>, params: Value) -> String {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let mut unmade = Unmade::new(
        Arc::new(Maker(Arc::new(ChannelSink(tx)))),
        handler,
        &PeerConfig::default(),
    );
    set_modern(unmade.state());
    let (request, view, first) = handed(&params);
    if let Some(view) = view {
        unmade = unmade.with_tool_call(view, first);
    }
    let mut extensions = Extensions::new();
    extensions.insert(ParamHeaders::default());
    let mut out = Vec::new();
    match Peer::answer_unmade(request, extensions, Places::default(), unmade, &mut out) {
        Answered::AtOnce | Answered::Made { answered: true, .. } => {
            return String::from_utf8(out).unwrap();
        }
        _ => {}
    }
    let sent = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    String::from_utf8(sent.unwrap().unwrap().to_vec()).unwrap()
}

/// The answers of both paths; a sealed `requestState` (fresh each time) is left out.
async fn both(params: Value) -> (String, String) {
    let server = server();
    both_with(&server, server.stateless_handler(), params).await
}

/// [`both`], the quick path's answer from `quick`, the general path's from a handler of its
/// own.
async fn both_with(server: &Server, quick: Arc<dyn Handler>, params: Value) -> (String, String) {
    let quick = answer(quick, params.clone()).await;
    let general = answer(Arc::new(General(server.stateless_handler())), params).await;
    let unsealed = |text: String| {
        let mut value: Value = serde_json::from_str(&text).unwrap();
        match value["result"].get_mut("requestState") {
            Some(state) => {
                assert!(state.as_str().is_some_and(|s| !s.is_empty()));
                *state = json!("sealed");
                value.to_string()
            }
            None => text,
        }
    };
    (unsealed(quick), unsealed(general))
}

fn cases() -> Vec<Value> {
    vec![
        json!({"name": "echo", "arguments": {"text": "hi \"there\""}}),
        json!({"name": "own_meta"}),
        json!({"name": "blocks"}),
        json!({"name": "echo", "arguments": {"text": ""}}),
        json!({"name": "fails", "arguments": {}}),
        json!({"name": "request_failed"}),
        json!({"name": "rpc"}),
        json!({"name": "asks"}),
        json!({"name": "waits"}),
        json!({"name": "task_only"}),
        json!({"name": "nobody"}),
        json!({"name": "echo", "arguments": {"wrong": 1}}),
        // A retry: the general path opens (and here refuses) its state.
        json!({"name": "asks", "requestState": "forged", "inputResponses": {}}),
        json!({"name": "asks", "requestState": "forged"}),
        // A first call that only mentions the retry's members (in place, PF-59).
        json!({"name": "echo", "arguments": {"text": "requestState inputResponses"}}),
    ]
}

#[tokio::test]
async fn a_modern_tool_call_answered_in_place_is_the_general_paths_answer() {
    for params in cases() {
        let (quick, general) = both(params.clone()).await;
        assert_eq!(quick, general, "{params}");
        let value: Value = serde_json::from_str(&quick).unwrap();
        assert_eq!(value["id"], 7, "{params}");
    }
    let (echo, _) = both(json!({"name": "echo", "arguments": {"text": "x"}})).await;
    let echo: Value = serde_json::from_str(&echo).unwrap();
    assert_eq!(echo["result"]["resultType"], "complete");
    assert_eq!(
        echo["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "quick"
    );
    assert_eq!(echo["result"]["content"][0]["text"], "x");
    let (asks, _) = both(json!({"name": "asks"})).await;
    let asks: Value = serde_json::from_str(&asks).unwrap();
    assert_eq!(asks["result"]["resultType"], "input_required");
}

/// PF-57: the one handler every 2026-07-28 request shares answers each request, one after the
/// other and side by side, as a handler of its own does.
#[tokio::test]
async fn the_handler_every_modern_request_shares_answers_as_its_own_would() {
    let server = server();
    let shared = mcp_http_core::HandlerFactory::modern_handler(&server).unwrap();
    for params in cases() {
        let (quick, general) = both_with(&server, shared.clone(), params.clone()).await;
        assert_eq!(quick, general, "{params}");
    }
    let side_by_side = cases()
        .into_iter()
        .map(|params| answer(shared.clone(), params));
    let mut answers = futures::future::join_all(side_by_side).await;
    for (params, quick) in cases().into_iter().zip(answers.drain(..)) {
        let (_, general) = both_with(&server, shared.clone(), params.clone()).await;
        let sealed = |text: &str| text.contains("requestState");
        if !sealed(&quick) {
            assert_eq!(quick, general, "{params}");
        }
    }
}

/// PF-70: a call handed to the unmade path as a field is answered byte for byte as one put in
/// the request's extensions, whatever the tool does (answers at once, fails, asks for input,
/// waits), and as the general path answers it.
#[tokio::test]
async fn a_call_handed_as_a_field_is_answered_as_one_in_the_map() {
    let server = server();
    for params in cases() {
        let handed = answer_unmade(server.stateless_handler(), params.clone()).await;
        let in_the_map = answer(server.stateless_handler(), params.clone()).await;
        let sealed = |text: &str| text.contains("requestState");
        if sealed(&handed) {
            assert!(sealed(&in_the_map), "{params}");
            continue;
        }
        assert_eq!(handed, in_the_map, "{params}");
        let (_, general) = both(params.clone()).await;
        assert_eq!(handed, general, "{params}");
    }
}
