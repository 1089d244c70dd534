//! A legacy `tools/call` answered in place, its result written by its members (PF-81), is the
//! general path's answer byte for byte: the same requests through a peer that answers in place
//! and through one whose handler answers only through `handle_request` (serde's writing).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use mcp_http_core::transport::ChannelSink;
use mcp_http_core::{Extensions, Handler, Peer, PeerConfig, Places};
use mcp_http_proto::jsonrpc::{Message, Request};
use mcp_http_proto::{
    Annotations, AudioContent, CallToolResult, ContentBlock, ImageContent, Meta, TextContent,
};
use serde_json::{Value, json};

use crate::test_handlers::{General, Text};
use crate::{NoArgs, Server, ToolDef, ToolError};

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
                let mut result = CallToolResult::text("m\u{7}é");
                result.meta = Some(Meta::from_iter([("k\"".to_owned(), json!([1, null]))]));
                result
            },
        ))
        .tool(ToolDef::new(
            "blocks",
            "every kind of block, structured content",
            |_: NoArgs, _| async {
                let mut annotated = TextContent::new("a\u{1}");
                annotated.annotations = Some(Annotations::default());
                let mut with_meta = TextContent::new("🎉 \u{2028}");
                with_meta.meta = Some(Meta::new());
                let mut result = CallToolResult::new(vec![
                    ContentBlock::Text(TextContent::new("one \\ \"two\"\n\t\r")),
                    ContentBlock::Image(ImageContent::new("AAAA", "image/png")),
                    ContentBlock::Audio(AudioContent::new("BBBB", "audio/wav")),
                    ContentBlock::Text(annotated),
                    ContentBlock::Text(with_meta),
                ]);
                result.structured_content = Some(json!({"k": [1, "v\u{0}"]}));
                result.is_error = Some(false);
                result
            },
        ))
        .tool(ToolDef::new("empty", "no content", |_: NoArgs, _| async {
            CallToolResult::new(Vec::new())
        }))
        .tool(ToolDef::new("fails", "isError", |_: NoArgs, _| async {
            Err::<String, _>(ToolError::failed("no\"pe"))
        }))
        .tool(ToolDef::new("waits", "waits", |_: NoArgs, _| async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            "late \"one\""
        }))
        .build()
}

fn request(body: Value) -> Request {
    let Ok(Message::Request(request)) = Message::parse(body.to_string().as_bytes()) else {
        panic!("not a request");
    };
    request
}

/// The answer `peer` gives `body`: written in place, or sent on the channel.
async fn answer(
    peer: &Peer,
    rx: &mut tokio::sync::mpsc::Receiver<impl AsRef<[u8]>>,
    body: Value,
) -> String {
    let mut out = Vec::new();
    if peer.answer_request_into(
        request(body),
        Extensions::new(),
        Places::default(),
        &mut out,
    ) {
        return String::from_utf8(out).unwrap();
    }
    let sent = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    String::from_utf8(sent.unwrap().unwrap().as_ref().to_vec()).unwrap()
}

/// The answers to `calls` of a legacy session (2025-11-25) whose handler is `handler`.
async fn answers(handler: Arc<dyn Handler>, calls: &[Value]) -> Vec<String> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let peer = Peer::new(Arc::new(ChannelSink(tx)), handler, PeerConfig::default());
    let initialize = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "c", "version": "1"}}});
    answer(&peer, &mut rx, initialize).await;
    let mut all = Vec::new();
    for (i, params) in calls.iter().enumerate() {
        let body = json!({"jsonrpc": "2.0", "id": i + 1, "method": "tools/call", "params": params});
        all.push(answer(&peer, &mut rx, body).await);
    }
    all
}

#[tokio::test]
async fn a_legacy_tool_call_answered_in_place_is_the_general_paths_answer() {
    let calls = [
        json!({"name": "echo", "arguments": {"text": "hello"}}),
        json!({"name": "echo", "arguments": {"text": "hi \"there\"\n\u{1f}\u{7f}é\\ 漢字"}}),
        json!({"name": "echo", "arguments": {"text": ""}}),
        json!({"name": "own_meta"}),
        json!({"name": "blocks"}),
        json!({"name": "empty"}),
        json!({"name": "fails"}),
        json!({"name": "waits"}),
        json!({"name": "echo", "arguments": {"wrong": 1}}),
    ];
    let server = server();
    let quick = answers(server.stateless_handler(), &calls).await;
    let general = answers(Arc::new(General(server.stateless_handler())), &calls).await;
    for ((quick, general), call) in quick.iter().zip(&general).zip(&calls) {
        assert_eq!(quick, general, "{call}");
    }
    assert_eq!(
        quick[0],
        r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}]}}"#
    );
}
