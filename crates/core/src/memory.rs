//! An in-memory transport pair, for tests and for running a client and a server in one process.
//! Messages cross as JSON text and are parsed on arrival, as on a real wire.

use std::sync::Arc;

use futures::StreamExt;
use mcp_http_proto::jsonrpc::Message;
use tokio::sync::mpsc;

use crate::transport::{ChannelSink, MessageSink, MessageStream, Transport};

/// One end of an in-memory connection.
#[derive(Debug)]
pub struct MemoryTransport {
    tx: mpsc::Sender<bytes::Bytes>,
    rx: mpsc::Receiver<bytes::Bytes>,
}

/// Two connected ends.
///
/// ```
/// let (a, b) = mcp_http_core::memory::pair();
/// # drop((a, b));
/// ```
pub fn pair() -> (MemoryTransport, MemoryTransport) {
    let (a_tx, b_rx) = mpsc::channel(256);
    let (b_tx, a_rx) = mpsc::channel(256);
    (
        MemoryTransport { tx: a_tx, rx: a_rx },
        MemoryTransport { tx: b_tx, rx: b_rx },
    )
}

impl Transport for MemoryTransport {
    fn split(self) -> (Arc<dyn MessageSink>, MessageStream) {
        let stream = tokio_stream_from(self.rx).map(|bytes| Message::parse(&bytes));
        (Arc::new(ChannelSink(self.tx)), stream.boxed())
    }
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<bytes::Bytes>,
) -> impl futures::Stream<Item = bytes::Bytes> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
