//! The 2024-11-05 HTTP+SSE transport, for servers that refuse a Streamable HTTP `initialize`
//! (T-49): a GET opens an SSE stream whose first `endpoint` event names the URL to POST
//! messages to; every message from the server arrives on that one stream.

use std::sync::Arc;
use std::time::Duration;

use http::header::{ACCEPT, CONTENT_TYPE};
use http::{Method, StatusCode, Uri};
use http_body_util::BodyExt;
use mcp_http_core::{Outbound, TransportError, TransportErrorKind};
use mcp_http_proto::jsonrpc::Message;

use crate::connection::{Base, EVENT_STREAM, JSON, Shared, default_header, is_event_stream, lock};
use crate::sse::{SseEvent, SseParser};

/// How long the server may take to name its message endpoint.
const ENDPOINT_WAIT: Duration = Duration::from_secs(10);

fn legacy_error(message: String) -> TransportError {
    TransportError::new(TransportErrorKind::Protocol, message)
}

impl Shared {
    /// Opens the 2024-11-05 stream, learns the endpoint, then sends `initialize` there. The
    /// Streamable HTTP `refused` status is reported if the server speaks neither.
    pub(crate) async fn legacy_connect(
        self: &Arc<Self>,
        initialize: &Outbound,
        refused: StatusCode,
    ) -> Result<(), TransportError> {
        let neither = || {
            legacy_error(format!(
                "the server refused the initialize POST with HTTP {refused}, and does not offer \
                 the 2024-11-05 HTTP+SSE transport either"
            ))
        };
        let response = self
            .send(Method::GET, &self.uri, Base::Configured, |request| {
                default_header(request, ACCEPT, EVENT_STREAM);
            })
            .await?;
        if !response.status().is_success() || !is_event_stream(&response) {
            return Err(neither());
        }
        let mut body = response.into_body();
        let mut parser = SseParser::default();
        let mut early = Vec::new();
        let endpoint = tokio::time::timeout(ENDPOINT_WAIT, async {
            while let Some(Ok(frame)) = body.frame().await {
                let Ok(chunk) = frame.into_data() else {
                    continue;
                };
                for event in parser.feed(&chunk) {
                    if event.event.as_deref() == Some("endpoint") {
                        return Some(event.data);
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
        let endpoint = self.url.join(endpoint.trim()).map_err(|e| {
            legacy_error(format!("the server named an invalid message endpoint: {e}"))
        })?;
        // The endpoint must stay on the server the user named: a stream must not redirect
        // the client's messages elsewhere.
        if endpoint.origin() != self.url.origin() {
            return Err(legacy_error(format!(
                "the server named a message endpoint on another origin ({})",
                endpoint.origin().ascii_serialization()
            )));
        }
        tracing::info!(%endpoint, "the server speaks the 2024-11-05 HTTP+SSE transport");
        let endpoint = crate::transport::endpoint_uri(&endpoint)?;
        *lock(&self.legacy_endpoint) = Some(endpoint.clone());

        let shared = self.clone();
        tokio::spawn(async move {
            for event in early {
                shared.legacy_event(event).await;
            }
            loop {
                let frame = tokio::select! {
                    _ = shared.closed.cancelled() => return,
                    frame = body.frame() => frame,
                };
                let Some(Ok(frame)) = frame else { break };
                let Ok(chunk) = frame.into_data() else {
                    continue;
                };
                for event in parser.feed(&chunk) {
                    shared.legacy_event(event).await;
                }
            }
            // 2024-11-05 streams cannot be resumed: the connection is over.
            tracing::warn!("the server closed the HTTP+SSE stream; the connection is closed");
            shared.closed.cancel();
        });
        self.legacy_post(endpoint, initialize).await
    }

    async fn legacy_event(&self, event: SseEvent) {
        if event.data.is_empty() || event.event.as_deref().is_some_and(|e| e != "message") {
            return;
        }
        match Message::parse(event.data.as_bytes()) {
            Ok(message) => self.deliver(message).await,
            Err(e) => tracing::warn!(error = %e, "unreadable SSE event ignored"),
        }
    }

    /// POSTs a message to the 2024-11-05 endpoint; its answer comes on the stream.
    pub(crate) async fn legacy_post(
        &self,
        endpoint: Uri,
        message: &Outbound,
    ) -> Result<(), TransportError> {
        let response = self
            .send(Method::POST, &endpoint, Base::Configured, |request| {
                default_header(request, CONTENT_TYPE, JSON);
                *request.body_mut() = message.json.clone().into();
            })
            .await?;
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
}
