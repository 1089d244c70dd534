//! A request's answer read where the transport read it (PF-35): a body the requester's reader
//! takes never becomes a message; one it declines goes the general way, with the same outcome
//! as when no reader was offered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use futures::future::BoxFuture;
use mcp_http_core::reply::{Answered, ReplyReader, read_result};
use mcp_http_core::transport::{MessageSink, Outbound, Sending};
use mcp_http_core::{Peer, PeerConfig, RequestError, RequestOptions, TransportError};
use mcp_http_proto::CallToolResult;
use mcp_http_proto::jsonrpc::{Message, Response};
use serde_json::json;

use common::NoHandler;

/// Answers each request with the body `answer` makes for its id, offered to the reader first,
/// as the HTTP client does with a POST's JSON answer.
struct Answers(fn(&str) -> String);

impl MessageSink for Answers {
    fn send(&self, _message: Outbound) -> Sending<'_> {
        Sending::done(Ok(()))
    }

    fn send_request_reading<'a>(
        &'a self,
        message: Outbound,
        read: Option<&'a mut ReplyReader<'_>>,
    ) -> BoxFuture<'a, Result<Option<Answered>, TransportError>> {
        Box::pin(async move {
            let id = message.id.clone().unwrap();
            let body = (self.0)(&serde_json::to_string(&id).unwrap());
            if let Some(read) = read
                && read(&id, body.as_bytes())
            {
                return Ok(Some(Answered::Read));
            }
            match Message::parse(body.as_bytes()) {
                Ok(Message::Response(r)) => Ok(Some(Answered::Response(r))),
                _ => Ok(None),
            }
        })
    }
}

/// A `tools/call` answered with `answer`'s body, read as our client reads it: what the reader
/// took, else the raw result decoded.
async fn call(answer: fn(&str) -> String) -> Result<(bool, CallToolResult), RequestError> {
    let peer = Peer::new(
        Arc::new(Answers(answer)),
        Arc::new(NoHandler),
        PeerConfig::default(),
    );
    let mut typed: Option<CallToolResult> = None;
    let mut read = |id: &_, body: &[u8]| {
        typed = read_result(id, body);
        typed.is_some()
    };
    let params = json!({"name": "echo", "arguments": {}});
    let raw = peer
        .request_about_reading(
            "tools/call",
            Some(&params),
            None,
            RequestOptions::default(),
            &mut read,
        )
        .await?;
    Ok(match (typed, raw) {
        (Some(result), None) => (true, result),
        (None, Some(raw)) => (false, serde_json::from_str(raw.get()).unwrap()),
        _ => panic!("both or neither"),
    })
}

#[tokio::test]
async fn a_result_the_reader_takes_is_the_result() {
    let (read, result) = call(|id| {
        format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"content":[{{"type":"text","text":"hi"}}]}}}}"#)
    })
    .await
    .unwrap();
    assert!(read, "taken by the reader");
    assert_eq!(
        serde_json::to_value(&result).unwrap()["content"][0]["text"],
        "hi"
    );
}

#[tokio::test]
async fn what_the_reader_declines_goes_the_general_way() {
    // A result with a member the one-pass read does not take: the general read keeps it.
    let (read, result) =
        call(|id| format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"content":[]}},"extra":1}}"#))
            .await
            .unwrap();
    assert!(!read);
    assert!(result.content.is_empty());
    // An error answers as an error.
    let e = call(|id| {
        format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":-32602,"message":"bad"}}}}"#)
    })
    .await
    .err()
    .unwrap();
    assert!(
        matches!(e, RequestError::Rpc(ref e) if e.code == -32602),
        "{e:?}"
    );
}

/// A sink that knows nothing of readers: the default hands the response back as before.
struct Plain;

impl MessageSink for Plain {
    fn send(&self, _message: Outbound) -> Sending<'_> {
        Sending::done(Ok(()))
    }

    fn send_request(
        &self,
        message: Outbound,
    ) -> BoxFuture<'_, Result<Option<Response>, TransportError>> {
        Box::pin(async move {
            Ok(Some(Response {
                id: message.id,
                outcome: Ok(serde_json::value::to_raw_value(&json!({"content": []})).unwrap()),
            }))
        })
    }
}

#[tokio::test]
async fn a_transport_without_readers_answers_as_before() {
    let peer = Peer::new(Arc::new(Plain), Arc::new(NoHandler), PeerConfig::default());
    let mut never = |_: &_, _: &[u8]| -> bool { panic!("not offered") };
    let raw = peer
        .request_about_reading(
            "tools/call",
            Some(&json!({"name": "echo"})),
            None,
            RequestOptions::default(),
            &mut never,
        )
        .await
        .unwrap()
        .expect("the raw result");
    assert_eq!(raw.get(), r#"{"content":[]}"#);
}
