//! The 2024-11-05 HTTP+SSE transport, for servers that refuse a Streamable HTTP `initialize`
//! (T-49): a GET opens an SSE stream whose first `endpoint` event names the URL to POST
//! messages to; every message from the server arrives on that one stream.

use std::sync::Mutex;
use std::time::Duration;

use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap};
use http::{Method, StatusCode, Uri};
use http_body_util::BodyExt;
use mcp_http_core::sync::lock;
use mcp_http_core::{Outbound, TransportError, TransportErrorKind};
use mcp_http_proto::jsonrpc::Message;

use crate::config::HttpClientConfig;
use crate::endpoint::{Endpoint, request_uri};
use crate::exchange::{EVENT_STREAM, Exchange, JSON, default_header, is_event_stream};
use crate::inbound::Inbound;
use crate::sse::{SseEvent, SseParser};

/// How long the server may take to name its message endpoint.
const ENDPOINT_WAIT: Duration = Duration::from_secs(10);
/// How many events may come before the endpoint is named (they wait to be delivered): a
/// server that floods events instead cannot grow the client's memory with them (RL-21).
const MAX_EARLY_EVENTS: usize = 1024;

fn legacy_error(message: String) -> TransportError {
    TransportError::new(TransportErrorKind::Protocol, message)
}

/// Whether, and where, the server speaks the 2024-11-05 transport.
#[derive(Default)]
pub(crate) struct Legacy {
    /// Where messages are POSTed, once the server has named it.
    endpoint: Mutex<Option<Uri>>,
}

impl Legacy {
    /// The message endpoint, when the server speaks the 2024-11-05 transport.
    pub(crate) fn endpoint(&self) -> Option<Uri> {
        lock(&self.endpoint).clone()
    }

    /// Opens the 2024-11-05 stream on `endpoint`, learns the message endpoint, then sends
    /// `initialize` there. The Streamable HTTP `refused` status is reported if the server
    /// speaks neither. Requests carry the configured headers only.
    pub(crate) async fn connect(
        &self,
        exchange: &Exchange,
        endpoint: &Endpoint,
        config: &HttpClientConfig,
        inbound: &Inbound,
        initialize: &Outbound,
        refused: StatusCode,
    ) -> Result<(), TransportError> {
        let headers = &config.headers;
        let neither = || {
            legacy_error(format!(
                "the server refused the initialize POST with HTTP {refused}, and does not offer \
                 the 2024-11-05 HTTP+SSE transport either"
            ))
        };
        let response = exchange
            .send(
                Method::GET,
                endpoint.uri(),
                || headers.clone(),
                |request| default_header(request, ACCEPT, EVENT_STREAM),
            )
            .await?;
        if !response.status().is_success() || !is_event_stream(&response) {
            return Err(neither());
        }
        let mut body = response.into_body();
        let mut parser = SseParser::with_max_event_size(config.max_event_size);
        let mut early = Vec::new();
        let named = tokio::time::timeout(ENDPOINT_WAIT, async {
            while let Some(Ok(frame)) = body.frame().await {
                let Ok(chunk) = frame.into_data() else {
                    continue;
                };
                // RL-21: an event over the limit ends the wait (the parser stays failed).
                let mut events = parser.try_feed(&chunk).ok()?.into_iter();
                while let Some(event) = events.next() {
                    if event.event.as_deref() == Some("endpoint") {
                        // What came after it in the same chunk is delivered with the rest.
                        early.extend(events);
                        return Some(event.data);
                    }
                    if early.len() == MAX_EARLY_EVENTS {
                        return None;
                    }
                    early.push(event);
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .ok_or_else(neither)?;
        let base = endpoint.url();
        let messages = base.join(named.trim()).map_err(|e| {
            legacy_error(format!("the server named an invalid message endpoint: {e}"))
        })?;
        // The endpoint must stay on the server the user named: a stream must not redirect
        // the client's messages elsewhere.
        if messages.origin() != base.origin() {
            return Err(legacy_error(format!(
                "the server named a message endpoint on another origin ({})",
                messages.origin().ascii_serialization()
            )));
        }
        tracing::info!(endpoint = %messages, "the server speaks the 2024-11-05 HTTP+SSE transport");
        let messages = request_uri(&messages)?;
        *lock(&self.endpoint) = Some(messages.clone());

        let inbound = inbound.clone();
        tokio::spawn(async move {
            for event in early {
                deliver(&inbound, event).await;
            }
            loop {
                let frame = tokio::select! {
                    _ = inbound.closed() => return,
                    frame = body.frame() => frame,
                };
                let Some(Ok(frame)) = frame else { break };
                let Ok(chunk) = frame.into_data() else {
                    continue;
                };
                let Ok(events) = parser.try_feed(&chunk) else {
                    tracing::warn!("the server sent an SSE event over the size limit");
                    break;
                };
                for event in events {
                    deliver(&inbound, event).await;
                }
            }
            // 2024-11-05 streams cannot be resumed: the connection is over.
            tracing::warn!("the server closed the HTTP+SSE stream; the connection is closed");
            inbound.close();
        });
        post(exchange, &messages, headers, initialize).await
    }
}

/// Passes a message event of the stream on to the peer.
async fn deliver(inbound: &Inbound, event: SseEvent) {
    if event.data.is_empty() || event.event.as_deref().is_some_and(|e| e != "message") {
        return;
    }
    match Message::parse(event.data.as_bytes()) {
        Ok(message) => inbound.deliver(message).await,
        Err(e) => tracing::warn!(error = %e, "unreadable SSE event ignored"),
    }
}

/// POSTs a message to the 2024-11-05 message `endpoint`; its answer comes on the stream.
pub(crate) async fn post(
    exchange: &Exchange,
    endpoint: &Uri,
    headers: &HeaderMap,
    message: &Outbound,
) -> Result<(), TransportError> {
    let with_content_type = || {
        let mut headers = headers.clone();
        headers.entry(CONTENT_TYPE).or_insert(JSON);
        headers
    };
    let response = exchange.post(endpoint, message, with_content_type).await?;
    let status = response.status();
    if status == StatusCode::NOT_FOUND {
        return Err(TransportError::new(
            TransportErrorKind::SessionExpired,
            "the server ended the HTTP+SSE session (404)",
        ));
    }
    if !status.is_success() {
        return Err(TransportError::new(
            TransportErrorKind::HttpStatus(status.as_u16()),
            format!("HTTP {status} from the message endpoint"),
        ));
    }
    Ok(())
}
