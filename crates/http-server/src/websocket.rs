//! MCP over WebSocket, served beside the Streamable HTTP endpoint (BR-36): a `GET` with
//! `Upgrade: websocket` on [`crate::HttpConfig::websocket`]'s path becomes a connection carrying
//! one JSON-RPC message per text frame each way, with a session of its own from the endpoint's
//! [`HandlerFactory`](mcp_http_core::HandlerFactory), ended when the connection closes. The
//! subprotocol `mcp` is accepted when the client offers it. Host and Origin are checked before
//! the upgrade (a page of another site cannot open one), and a frame is bounded by the body limit.
//! Needs [`crate::serve`] (the upgrade is hyper's); HTTP/1.1 only.

use std::sync::Arc;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::header::{CONNECTION, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use http::{Method, Request, StatusCode};
use http_body::Body;
use hyper_util::rt::TokioIo;
use mcp_http_core::transport::ChannelSink;
use mcp_http_core::{Extensions, Peer};
use mcp_http_proto::jsonrpc::Parsed;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message as Frame, handshake::derive_accept_key};

use crate::checks;
use crate::rejection::Rejection;
use crate::service::{HttpResponse, StreamableHttpService, status};

/// The subprotocol MCP clients offer (the TypeScript SDK's `WebSocketClientTransport`).
const SUBPROTOCOL: &str = "mcp";

/// Messages queued for the connection's writer before a sender waits.
const QUEUE: usize = 256;

impl StreamableHttpService {
    /// Answers a request on the WebSocket path: the upgrade (101), or why not.
    pub(crate) fn websocket<B>(&self, mut request: Request<B>) -> HttpResponse
    where
        B: Body<Data = Bytes> + Send + 'static,
    {
        let answered = self.upgrade(&mut request);
        let origin = request.headers().get(http::header::ORIGIN).cloned();
        let mut response = answered.unwrap_or_else(Rejection::into_response);
        self.add_cors(origin.as_ref(), &mut response);
        response
    }

    fn upgrade<B>(&self, request: &mut Request<B>) -> Result<HttpResponse, Rejection> {
        let config = self.config();
        let headers = checks::Headers::read(request.headers());
        if config.validate_host_and_origin {
            if !checks::origin_allowed(&headers, &config.allowed_origins) {
                return Err(Rejection::OriginNotAllowed);
            }
            if !checks::host_allowed(request.uri(), &headers, &config.allowed_hosts) {
                return Err(Rejection::HostNotAllowed);
            }
        }
        let upgrade = request
            .headers()
            .get(UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        let key = request.headers().get(SEC_WEBSOCKET_KEY).cloned();
        let (true, &Method::GET, Some(key)) = (upgrade, request.method(), key) else {
            // Not a WebSocket handshake: say what this path wants.
            let mut response = status(StatusCode::UPGRADE_REQUIRED);
            let h = response.headers_mut();
            h.insert(UPGRADE, HeaderValue::from_static("websocket"));
            h.insert(CONNECTION, HeaderValue::from_static("upgrade"));
            return Ok(response);
        };
        let offers_mcp = request
            .headers()
            .get_all(http::header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim() == SUBPROTOCOL);
        let Some(on_upgrade) = request
            .extensions_mut()
            .remove::<hyper::upgrade::OnUpgrade>()
        else {
            // Served by something other than `serve` (or over HTTP/2): no upgrade to take.
            return Err(Rejection::MethodNotAllowed { stateless: false });
        };
        let (mut parts, ()) = Request::new(()).into_parts();
        parts.extensions = std::mem::take(request.extensions_mut());
        parts.headers = request.headers().clone();
        let (extensions, principal) = self.identity(&mut parts);
        let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
        let (id, connection, guard) =
            self.inner
                .per_connection
                .open(&self.inner, Arc::new(ChannelSink(tx)), principal)?;
        tracing::debug!(session = %id, "WebSocket session opened");
        let max = config.max_body_bytes;
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let ws_config = WebSocketConfig::default()
                        .max_message_size(Some(max))
                        .max_frame_size(Some(max));
                    let socket = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(ws_config),
                    )
                    .await;
                    run(socket, connection.peer.clone(), rx, extensions).await;
                }
                Err(e) => tracing::debug!(error = %e, "a WebSocket upgrade failed"),
            }
            // The connection's end ends its session (handlers cancelled, end hooks run).
            drop(guard);
        });
        let mut response = status(StatusCode::SWITCHING_PROTOCOLS);
        let h = response.headers_mut();
        h.insert(UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(CONNECTION, HeaderValue::from_static("upgrade"));
        if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
            h.insert(SEC_WEBSOCKET_ACCEPT, accept);
        }
        if offers_mcp {
            h.insert(
                http::header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_static(SUBPROTOCOL),
            );
        }
        Ok(response)
    }
}

/// Carries one session over its socket until either side closes: each text frame in is a
/// message (or a batch) for the peer, each message out one text frame.
async fn run<S>(
    socket: WebSocketStream<S>,
    peer: Peer,
    mut outgoing: tokio::sync::mpsc::Receiver<Bytes>,
    extensions: Extensions,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut stream) = socket.split();
    let writer = async move {
        while let Some(json) = outgoing.recv().await {
            let Ok(text) = String::from_utf8(json.to_vec()) else {
                continue;
            };
            if sink.send(Frame::text(text)).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    };
    let reader = async {
        while let Some(frame) = stream.next().await {
            let text = match frame {
                Ok(Frame::Text(text)) => text,
                Ok(Frame::Binary(bytes)) => match String::from_utf8(bytes.to_vec()) {
                    Ok(text) => text.into(),
                    Err(_) => {
                        tracing::debug!("a binary WebSocket frame that is not UTF-8: closed");
                        break;
                    }
                },
                Ok(Frame::Close(_)) => break,
                // Pings are answered by the library; pongs need nothing.
                Ok(_) => continue,
                Err(e) => {
                    tracing::debug!(error = %e, "WebSocket read failed");
                    break;
                }
            };
            deliver(&peer, text.as_bytes(), &extensions).await;
        }
    };
    tokio::select! {
        () = writer => {}
        () = reader => {}
        () = peer.closed() => {}
    }
}

/// One text frame's message, or each message of its batch, to the peer; bytes that are not a
/// message are answered with the matching JSON-RPC error.
async fn deliver(peer: &Peer, text: &[u8], extensions: &Extensions) {
    match Parsed::parse(text) {
        Ok(parsed) => crate::per_connection::deliver(peer, parsed, extensions).await,
        Err(invalid) => peer.reply_invalid(invalid).await,
    }
}
