//! Newline-delimited JSON-RPC over any byte stream (the stdio framing: one message per line, no
//! embedded newlines).

use std::sync::Arc;

use bytes::Bytes;
use futures::stream;
use mcp_http_core::transport::ChannelSink;
use mcp_http_core::{MessageSink, MessageStream, Transport};
use mcp_http_proto::ErrorObject;
use mcp_http_proto::jsonrpc::{InvalidMessage, Message};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// The longest line accepted by default (16 MiB); a longer one is answered with -32600 and skipped.
pub const DEFAULT_MAX_LINE: usize = 16 * 1024 * 1024;

/// A transport over a reader and a writer, one JSON message per line.
pub struct LineTransport<R, W> {
    reader: R,
    writer: W,
    max_line: usize,
    keep_alive: Option<Box<dyn std::any::Any + Send>>,
}

impl<R, W> std::fmt::Debug for LineTransport<R, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineTransport")
            .field("max_line", &self.max_line)
            .finish_non_exhaustive()
    }
}

impl<R, W> LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    /// A transport reading messages from `reader` and writing them to `writer`.
    pub fn new(reader: R, writer: W) -> Self {
        LineTransport {
            reader,
            writer,
            max_line: DEFAULT_MAX_LINE,
            keep_alive: None,
        }
    }

    /// Sets the longest accepted line.
    pub fn max_line(mut self, max_line: usize) -> Self {
        self.max_line = max_line;
        self
    }

    /// Keeps `value` alive as long as the reading half (a child process handle, say).
    pub fn keep_alive(mut self, value: impl std::any::Any + Send) -> Self {
        self.keep_alive = Some(Box::new(value));
        self
    }
}

/// Writes queued messages, flushing whenever the queue runs dry.
async fn write_loop<W: AsyncWrite + Unpin>(mut writer: W, mut rx: mpsc::Receiver<Bytes>) {
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(json) = next {
            if writer.write_all(&json).await.is_err() || writer.write_all(b"\n").await.is_err() {
                return;
            }
            next = rx.try_recv().ok();
        }
        if writer.flush().await.is_err() {
            return;
        }
    }
    let _ = writer.shutdown().await;
}

enum Line {
    Complete(Vec<u8>),
    TooLong,
}

/// Reads one line of at most `max` bytes; `None` at end of input.
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    max: usize,
) -> std::io::Result<Option<Line>> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(match (line.is_empty() && !too_long, too_long) {
                (true, _) => None,
                (_, true) => Some(Line::TooLong),
                _ => Some(Line::Complete(line)),
            });
        }
        let (chunk, used, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        if line.len() + chunk.len() > max {
            too_long = true;
        } else if !too_long {
            line.extend_from_slice(chunk);
        }
        reader.consume(used);
        if done {
            return Ok(Some(if too_long {
                Line::TooLong
            } else {
                Line::Complete(line)
            }));
        }
    }
}

impl<R, W> Transport for LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    fn split(self) -> (Arc<dyn MessageSink>, MessageStream) {
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(write_loop(self.writer, rx));
        let max = self.max_line;
        let state = (BufReader::new(self.reader), self.keep_alive);
        let messages = stream::unfold(state, move |(mut reader, keep)| async move {
            loop {
                let item = match read_line(&mut reader, max).await {
                    Ok(None) | Err(_) => return None,
                    Ok(Some(Line::TooLong)) => Err(InvalidMessage::new(
                        None,
                        ErrorObject::invalid_request(format!(
                            "Invalid Request: message longer than {max} bytes"
                        )),
                    )),
                    // Blank lines between messages are tolerated.
                    Ok(Some(Line::Complete(line))) if line.iter().all(u8::is_ascii_whitespace) => {
                        continue;
                    }
                    Ok(Some(Line::Complete(line))) => Message::parse(&line),
                };
                return Some((item, (reader, keep)));
            }
        });
        (Arc::new(ChannelSink(tx)), Box::pin(messages))
    }
}
