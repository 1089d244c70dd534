//! What the peer hands its transport: each `Outbound` carries the method, and for `tools/call`,
//! `resources/read` and `prompts/get` the name, so a transport that sends them as headers
//! (`Mcp-Method`, `Mcp-Name`) never parses the JSON.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use mcp_http_core::transport::{MessageSink, Outbound, OutboundKind, Sending};
use mcp_http_core::{Peer, PeerConfig, RequestOptions, TransportError};
use mcp_http_proto::ErrorObject;
use mcp_http_proto::jsonrpc::Response;
use serde_json::json;
use serde_json::value::RawValue;

use common::NoHandler;

/// Keeps every message sent, and answers each request at once with `{}`.
#[derive(Default)]
struct Recorder(Mutex<Vec<Outbound>>);

impl MessageSink for Recorder {
    fn send(&self, message: Outbound) -> Sending<'_> {
        self.0.lock().unwrap().push(message);
        Sending::done(Ok(()))
    }

    fn send_request(
        &self,
        message: Outbound,
    ) -> BoxFuture<'_, Result<Option<Response>, TransportError>> {
        let id = message.id.clone();
        self.0.lock().unwrap().push(message);
        Box::pin(async move {
            Ok(Some(Response {
                id,
                outcome: Ok(serde_json::value::to_raw_value(&json!({})).unwrap()),
            }))
        })
    }
}

fn peer() -> (Peer, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let peer = Peer::new(recorder.clone(), Arc::new(NoHandler), PeerConfig::default());
    (peer, recorder)
}

fn last(recorder: &Recorder) -> Outbound {
    recorder
        .0
        .lock()
        .unwrap()
        .pop()
        .expect("a message was sent")
}

#[tokio::test]
async fn a_tools_call_carries_its_method_and_the_tool_name() {
    let (peer, recorder) = peer();
    let _: serde_json::Value = peer
        .request(
            "tools/call",
            &json!({"name": "add", "arguments": {"name": "not this"}}),
            RequestOptions::default(),
        )
        .await
        .unwrap();
    let sent = last(&recorder);
    assert_eq!(sent.kind, OutboundKind::Request);
    assert_eq!(sent.method.as_deref(), Some("tools/call"));
    assert_eq!(sent.name.as_deref(), Some("add"));
    assert!(sent.id.is_some());
}

#[tokio::test]
async fn raw_reads_and_prompts_carry_their_names() {
    let (peer, recorder) = peer();
    let params = serde_json::value::to_raw_value(&json!({"uri": "file:///notes.txt"})).unwrap();
    peer.request_raw("resources/read", Some(params), RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(last(&recorder).name.as_deref(), Some("file:///notes.txt"));
    let _: serde_json::Value = peer
        .request(
            "prompts/get",
            &json!({"name": "greet"}),
            RequestOptions::default(),
        )
        .await
        .unwrap();
    let sent = last(&recorder);
    assert_eq!(sent.method.as_deref(), Some("prompts/get"));
    assert_eq!(sent.name.as_deref(), Some("greet"));
}

#[tokio::test]
async fn other_requests_carry_no_name() {
    let (peer, recorder) = peer();
    let _: serde_json::Value = peer
        .request(
            "tools/list",
            &json!({"name": "x"}),
            RequestOptions::default(),
        )
        .await
        .unwrap();
    let sent = last(&recorder);
    assert_eq!(sent.method.as_deref(), Some("tools/list"));
    assert_eq!(sent.name, None);
}

#[tokio::test]
async fn a_notification_carries_its_method_and_no_name() {
    let (peer, recorder) = peer();
    peer.notify("notifications/initialized", &json!({}), None)
        .await
        .unwrap();
    let sent = last(&recorder);
    assert_eq!(sent.kind, OutboundKind::Notification);
    assert_eq!(sent.method.as_deref(), Some("notifications/initialized"));
    assert_eq!(sent.name, None);
    assert_eq!(sent.id, None);
}

#[test]
fn a_connect_error_keeps_its_cause() {
    use std::error::Error;
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    let e = TransportError::connect("cannot connect").with_source(refused);
    assert!(e.is_connect() && !e.is_timeout() && !e.is_status());
    let cause = e.source().expect("a source");
    assert!(cause.downcast_ref::<std::io::Error>().is_some());
    let timed_out = TransportError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
    assert!(timed_out.is_timeout() && !timed_out.is_connect());
    let status = TransportError::new(mcp_http_core::TransportErrorKind::HttpStatus(503), "503");
    assert_eq!(status.status(), Some(503));
    assert!(status.is_status() && !status.is_protocol());
}

/// PF-19: an answer the transport hands back with the send is the request's result (or its
/// error), taken straight from the send, and a second copy of it arriving later through the
/// message stream is ignored (X-4): the request is finished.
#[tokio::test]
async fn an_answer_handed_back_by_the_send_is_the_result_and_finishes_the_request() {
    let (peer, recorder) = peer();
    let result = peer
        .request_raw("tools/list", None, RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(result.get(), "{}");
    let id = last(&recorder).id.unwrap();
    peer.receive(mcp_http_proto::jsonrpc::Message::Response(Response {
        id: Some(id),
        outcome: Err(ErrorObject::internal()),
    }))
    .await;
    // The next request gets its own answer, not the late one.
    let again: serde_json::Value = peer
        .request("tools/list", &json!({}), RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(again, json!({}));
}

/// PF-21: a raw request about a name the caller knows carries that name (the params are not
/// read for it) and its params as they were, written once into the message.
#[tokio::test]
async fn a_raw_request_about_a_known_name_carries_it_and_its_params_as_they_are() {
    let (peer, recorder) = peer();
    let params =
        RawValue::from_string(r#"{"name":"add","arguments":{"a":1},"_meta":{}}"#.into()).unwrap();
    peer.request_raw_about(
        "tools/call",
        Some(&params),
        Some("add".into()),
        RequestOptions::default(),
    )
    .await
    .unwrap();
    let sent = last(&recorder);
    assert_eq!(sent.name.as_deref(), Some("add"));
    let id = sent.id.clone().unwrap();
    let expected = format!(
        r#"{{"jsonrpc":"2.0","id":{},"method":"tools/call","params":{}}}"#,
        serde_json::to_string(&id).unwrap(),
        params.get()
    );
    assert_eq!(std::str::from_utf8(&sent.json).unwrap(), expected);
}
