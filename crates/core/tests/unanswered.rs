//! The peer tells its sink when an inbound request ends with no response because it was
//! cancelled (RL-53), and only then: not for a request that was answered, nor when it closes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use mcp_http_core::transport::{MessageSink, Outbound, OutboundKind, Sending};
use mcp_http_core::{Extensions, Handler, Peer, PeerConfig, Places, RequestContext};
use mcp_http_proto::jsonrpc::{Message, Request};
use mcp_http_proto::{ErrorObject, RequestId};
use serde_json::value::RawValue;

/// Answers `waits` after 20 ms; `slow` only after a minute.
struct Waits;

impl Handler for Waits {
    fn handle_request(
        &self,
        request: Request,
        _ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        Box::pin(async move {
            let wait = match request.method.as_str() {
                "waits" => Duration::from_millis(20),
                _ => Duration::from_secs(60),
            };
            tokio::time::sleep(wait).await;
            Ok(serde_json::value::to_raw_value(&serde_json::json!({})).unwrap())
        })
    }
}

/// Keeps the ids of the responses sent and of the requests that ended unanswered.
#[derive(Default)]
struct Sink {
    answered: Mutex<Vec<RequestId>>,
    unanswered: Mutex<Vec<RequestId>>,
}

impl MessageSink for Sink {
    fn send(&self, message: Outbound) -> Sending<'_> {
        if message.kind == OutboundKind::Response {
            self.answered.lock().unwrap().extend(message.id);
        }
        Sending::done(Ok(()))
    }

    fn end_unanswered(&self, id: &RequestId) {
        self.unanswered.lock().unwrap().push(id.clone());
    }
}

fn request(n: i64, method: &str) -> Request {
    Request {
        id: RequestId::Number(n),
        method: method.to_owned(),
        params: None,
    }
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn only_a_cancelled_request_ends_unanswered() {
    let sink = Arc::new(Sink::default());
    let peer = Peer::new(sink.clone(), Arc::new(Waits), PeerConfig::default());
    let start = |n, method| {
        let answered =
            peer.answer_request(request(n, method), Extensions::default(), Places::default());
        assert!(answered.is_none(), "the handler waits");
    };
    start(1, "slow");
    start(2, "waits");
    let cancel = r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#;
    peer.receive(Message::parse(cancel.as_bytes()).unwrap())
        .await;
    settle().await;
    assert_eq!(*sink.unanswered.lock().unwrap(), [RequestId::Number(1)]);
    assert_eq!(*sink.answered.lock().unwrap(), [RequestId::Number(2)]);
    // Closing cancels what runs, but the transport ends that itself.
    start(3, "slow");
    peer.close();
    settle().await;
    assert_eq!(*sink.unanswered.lock().unwrap(), [RequestId::Number(1)]);
}
