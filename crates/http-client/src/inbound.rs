//! Messages from the server on their way to the peer: the channel the transport's message
//! stream reads, and the token that ends that stream when the client closes or the connection
//! is lost for good.

use futures::StreamExt;
use mcp_http_core::{CancellationToken, MessageStream};
use mcp_http_proto::RequestId;
use mcp_http_proto::jsonrpc::{InvalidMessage, Message, Parsed};
use tokio::sync::mpsc;

/// How many received messages wait for the peer before the transport waits.
const QUEUE: usize = 1024;

/// The sending end of the transport's message stream.
#[derive(Clone)]
pub(crate) struct Inbound {
    tx: mpsc::Sender<Result<Message, InvalidMessage>>,
    /// Cancelled when the client closes or the connection is lost for good; ends the message
    /// stream, which closes the peer.
    closed: CancellationToken,
}

impl Inbound {
    /// A channel, and the message stream it feeds.
    pub(crate) fn channel() -> (Inbound, MessageStream) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let closed = CancellationToken::new();
        let stream = futures::stream::unfold((rx, closed.clone()), |(mut rx, closed)| async move {
            tokio::select! {
                message = rx.recv() => message.map(|m| (m, (rx, closed))),
                _ = closed.cancelled() => None,
            }
        });
        (Inbound { tx, closed }, stream.boxed())
    }

    /// Ends the message stream.
    pub(crate) fn close(&self) {
        self.closed.cancel();
    }

    /// Whether the message stream has ended.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Resolves when the message stream ends.
    pub(crate) async fn closed(&self) {
        self.closed.cancelled().await;
    }

    /// Passes a message on to the peer.
    pub(crate) async fn deliver(&self, message: Message) {
        let _ = self.tx.send(Ok(message)).await;
    }

    /// Delivers a parsed JSON body; returns whether it held the response to `request`.
    pub(crate) async fn deliver_body(
        &self,
        parsed: Result<Parsed, InvalidMessage>,
        request: Option<&RequestId>,
    ) -> bool {
        let mut answered = false;
        let mut one = |message: &Message| {
            if let (Message::Response(r), Some(request)) = (message, request) {
                answered |= r.id.as_ref() == Some(request);
            }
        };
        match parsed {
            Ok(Parsed::Single(message)) => {
                one(&message);
                self.deliver(message).await;
            }
            Ok(Parsed::Batch(items)) => {
                for item in items {
                    if let Ok(message) = Message::parse(item.get().as_bytes()) {
                        one(&message);
                        self.deliver(message).await;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "the server sent a message that is not JSON-RPC"),
        }
        answered
    }
}
