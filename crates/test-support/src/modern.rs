//! A 2026-07-28 request as a role sees it, without HTTP: a peer over a memory transport whose
//! state is what the HTTP layer fills in from a request's `_meta` (the era, the client's
//! capabilities), and a way to send it requests and read their answers.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use mcp_http_core::transport::{Outbound, OutboundKind};
use mcp_http_core::{
    Handler, MessageSink, MessageStream, Peer, PeerConfig, SharedClient, Transport, memory,
};
use mcp_http_proto::jsonrpc::{Message, Response};
use mcp_http_proto::{ErrorObject, Implementation, ProtocolVersion};
use serde_json::{Value, json};

/// One modern "request stream" to a handler: every call is a 2026-07-28 request with the
/// given client capabilities.
pub struct ModernPeer {
    _peer: Peer,
    sink: Arc<dyn MessageSink>,
    stream: MessageStream,
    next: i64,
}

impl ModernPeer {
    /// A peer for `handler` (a server's stateless handler) whose requests declare
    /// `capabilities` in their `_meta`.
    pub fn connect(handler: Arc<dyn Handler>, config: PeerConfig, capabilities: Value) -> Self {
        let (a, b) = memory::pair();
        let peer = Peer::connect(b, handler, config);
        let raw = serde_json::value::to_raw_value(&capabilities)
            .ok()
            .map(Arc::from);
        let client = SharedClient::from_raw(Implementation::new("c", "1"), raw);
        peer.state()
            .set_shared_client(ProtocolVersion::V2026_07_28, &client);
        peer.state().set_initialized();
        let (sink, stream) = a.split();
        ModernPeer {
            _peer: peer,
            sink,
            stream,
            next: 0,
        }
    }

    /// Sends `method` with `params` (a fresh id each time) and returns the result or error.
    /// Panics on anything else: a modern request gets its response and nothing before it here
    /// (no server-to-client requests, M-9).
    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value, ErrorObject> {
        self.next += 1;
        let request =
            json!({"jsonrpc": "2.0", "id": self.next, "method": method, "params": params});
        let outbound = Outbound::new(request.to_string().into(), OutboundKind::Request);
        if self.sink.send(outbound).await.is_err() {
            panic!("the peer is closed");
        }
        let next = tokio::time::timeout(Duration::from_secs(5), self.stream.next()).await;
        match next {
            Ok(Some(Ok(Message::Response(Response { outcome, .. })))) => {
                outcome.map(|raw| serde_json::from_str(raw.get()).unwrap_or(Value::Null))
            }
            other => panic!("a modern request sends only its response: {other:?}"),
        }
    }
}
