//! SSE streams from the server: reading the stream that answers a POST or the standalone GET
//! stream (T-8, T-9), and resuming a broken one with GET + `Last-Event-ID` (T-14, T-33) after
//! the server's `retry`, doubled per failure in a row up to a cap.

use std::time::Duration;

use futures::FutureExt;
use http::header::{ACCEPT, HeaderName, HeaderValue};
use http::{Method, StatusCode, Uri};
use http_body_util::BodyExt;
use mcp_http_core::{TransportError, TransportErrorKind};
use mcp_http_proto::RequestId;
use mcp_http_proto::jsonrpc::{Message, Response};
use tokio::sync::oneshot;

use crate::config::HttpClientConfig;
use crate::exchange::{Answer, EVENT_STREAM, Exchange, default_header};
use crate::inbound::Inbound;
use crate::pool::ResponseBody;
use crate::session::{Session, session_gone};
use crate::sse::SseParser;

/// `Last-Event-ID` (T-14).
const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// How long the rest of an answered stream is read before its connection is given up.
const FINISH_LIMIT: Duration = Duration::from_secs(5);

/// Where a response stream stands: the last event id, the server's `retry`, and how many
/// events came (a reconnection that brings none is a failed one).
#[derive(Debug, Default)]
pub(crate) struct Cursor {
    pub(crate) last_id: Option<String>,
    pub(crate) retry: Option<Duration>,
    pub(crate) events: u64,
}

/// What [`Streams::read`] does with the response it waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Returns it.
    Always,
    /// Returns it when nothing else came on the stream before it (nothing it could overtake on
    /// the message stream); delivers it otherwise.
    IfFirst,
    /// Delivers it.
    Never,
}

/// How reading a stream ended.
pub(crate) enum Ended {
    /// The response arrived; it is here when the caller asked to keep it.
    Answered(Option<Box<Response>>),
    /// The stream ended or broke first.
    Broken,
    /// The server broke the SSE framing (an event over the size limit): the stream is closed
    /// and not resumed, since a resumed one would bring the same event again.
    Failed(TransportError),
}

/// Reads and resumes the SSE streams of one transport: a view of what they need from it.
pub(crate) struct Streams<'a> {
    pub(crate) exchange: &'a Exchange,
    pub(crate) session: &'a Session,
    pub(crate) inbound: &'a Inbound,
    pub(crate) config: &'a HttpClientConfig,
    /// Where the GETs go: the endpoint.
    pub(crate) uri: &'a Uri,
}

impl Streams<'_> {
    /// Reads an SSE response until the response to `request` (kept, not delivered, when
    /// `keep` says so), delivering every other message and tracking the cursor.
    pub(crate) async fn read(
        &self,
        response: Answer,
        request: Option<&RequestId>,
        keep: Keep,
        cursor: &mut Cursor,
    ) -> Ended {
        let mut parser = SseParser::with_max_event_size(self.config.max_event_size);
        let mut first = true;
        let mut body = response.into_body();
        loop {
            let frame = tokio::select! {
                _ = self.inbound.closed() => return Ended::Broken,
                frame = body.frame() => frame,
            };
            let Some(Ok(frame)) = frame else {
                return Ended::Broken;
            };
            let Ok(chunk) = frame.into_data() else {
                continue; // trailers
            };
            let events = match parser.try_feed(&chunk) {
                Ok(events) => events,
                // RL-21: dropping the body closes the connection.
                Err(e) => {
                    return Ended::Failed(
                        TransportError::new(TransportErrorKind::Protocol, e.to_string())
                            .with_source(e),
                    );
                }
            };
            for event in events {
                cursor.events += 1;
                if let Some(ms) = event.retry {
                    cursor.retry = Some(Duration::from_millis(ms));
                }
                if let Some(id) = &event.id {
                    cursor.last_id = Some(id.clone());
                    if let (Some(request), Some(callback)) =
                        (request, &self.config.on_resumption_token)
                    {
                        callback(request, id);
                    }
                }
                // T-21: a priming event has empty data: only its id matters.
                if event.data.is_empty() || event.event.as_deref().is_some_and(|e| e != "message") {
                    continue;
                }
                match Message::parse(event.data.as_bytes()) {
                    Ok(Message::Response(r)) if request.is_some() && r.id.as_ref() == request => {
                        finish_in_background(body);
                        if keep == Keep::Always || (keep == Keep::IfFirst && first) {
                            return Ended::Answered(Some(Box::new(r)));
                        }
                        self.inbound.deliver(Message::Response(r)).await;
                        return Ended::Answered(None);
                    }
                    Ok(message) => {
                        first = false;
                        self.inbound.deliver(message).await;
                    }
                    Err(e) => tracing::warn!(error = %e, "unreadable SSE event ignored"),
                }
            }
        }
    }

    /// The wait before reconnection attempt `failures + 1`: the server's `retry` (or the
    /// default), doubled for each failure in a row, capped.
    fn backoff(&self, retry: Option<Duration>, failures: u32) -> Duration {
        backoff(self.config, retry, failures)
    }

    /// GET with `Last-Event-ID` until the stream delivers the response to `request` (for the
    /// standalone stream, until the client closes), waiting `retry` between attempts (T-14).
    /// Gives up after `max_reconnect_attempts` failures in a row, or at once when the session
    /// is gone. `connected` hears when the first GET has been answered.
    pub(crate) async fn resume(
        &self,
        request: Option<RequestId>,
        mut cursor: Cursor,
        mut connected: Option<oneshot::Sender<()>>,
    ) -> Result<(), TransportError> {
        let generation = self.session.generation();
        let mut failures = 0;
        let mut first = true;
        loop {
            if failures > 0 && failures >= self.config.max_reconnect_attempts {
                return Err(TransportError::new(
                    TransportErrorKind::Io,
                    format!("the stream broke and {failures} attempts to resume it failed"),
                ));
            }
            let delay = if first && request.is_none() {
                Duration::ZERO
            } else {
                self.backoff(cursor.retry, failures)
            };
            first = false;
            tokio::select! {
                _ = self.inbound.closed() => return Err(TransportError::closed()),
                _ = tokio::time::sleep(delay) => {}
            }
            if self.session.generation() != generation {
                return Err(TransportError::new(
                    TransportErrorKind::SessionExpired,
                    "the session this stream belonged to has ended",
                ));
            }
            let last_id = match cursor.last_id.as_deref().map(HeaderValue::from_str) {
                None => None,
                Some(Ok(id)) => Some(id),
                Some(Err(_)) => {
                    return Err(TransportError::new(
                        TransportErrorKind::Protocol,
                        "the server's event id cannot be sent back in Last-Event-ID",
                    ));
                }
            };
            let sent = self
                .exchange
                .send(
                    Method::GET,
                    self.uri,
                    || self.session.headers(),
                    |request| {
                        default_header(request, ACCEPT, EVENT_STREAM);
                        if let Some(id) = &last_id {
                            request.headers_mut().insert(LAST_EVENT_ID, id.clone());
                        }
                    },
                )
                .await;
            if let Some(connected) = connected.take() {
                let _ = connected.send(());
            }
            let response = match sent {
                Ok(r) if r.status().is_success() => r,
                Ok(r) if r.status() == StatusCode::METHOD_NOT_ALLOWED && request.is_none() => {
                    // T-10: the server offers no standalone stream.
                    return Ok(());
                }
                Ok(r)
                    if matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST)
                        && self.session.has_id() =>
                {
                    match session_gone(r).await {
                        Ok(()) => {
                            return Err(TransportError::new(
                                TransportErrorKind::SessionExpired,
                                "the server ended the session",
                            ));
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "GET stream refused");
                            failures += 1;
                            continue;
                        }
                    }
                }
                Ok(r) => {
                    tracing::debug!(status = %r.status(), "GET stream refused");
                    failures += 1;
                    continue;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "GET stream failed");
                    failures += 1;
                    continue;
                }
            };
            let before = cursor.events;
            match self
                .read(response, request.as_ref(), Keep::Never, &mut cursor)
                .await
            {
                Ended::Answered(_) => return Ok(()),
                Ended::Failed(e) => return Err(e),
                // A stream that brought events is a success, however it ended (a server closes
                // streams to make the client poll); one that brought none is a failed attempt,
                // so a server that answers each GET with an empty stream is given up on.
                Ended::Broken if cursor.events > before => failures = 0,
                Ended::Broken => failures += 1,
            }
        }
    }
}

/// The wait before reconnection attempt `failures + 1` under `config`: the server's `retry`
/// (or the default), doubled for each failure in a row, capped at `max_retry`. RL-22: the
/// server's `retry` is first clamped to `min_retry..=max_retry`, so 0 does not spin and years
/// do not stall the stream.
fn backoff(config: &HttpClientConfig, retry: Option<Duration>, failures: u32) -> Duration {
    let cap = config.max_retry;
    let base = match retry {
        // `min` first: `clamp` needs its bounds in order.
        Some(asked) => asked.clamp(config.min_retry.min(cap), cap),
        None => config.default_retry,
    };
    base.saturating_mul(1 << failures.min(16))
        .min(cap.max(base))
}

/// Reads what is left of an answered SSE stream, in the background. A body dropped before its
/// end closes its connection; one read to its end lets the connection go back to the pool.
/// Servers end the stream right after the response: without this, calls to the Python SDK's
/// server (SSE answers) opened a new connection almost every time.
fn finish_in_background(mut body: ResponseBody) {
    // Usually the end is already here: read it before the response is delivered, so the
    // connection is back in the pool before the caller's next request looks for one.
    if let Some(None) = body.frame().now_or_never() {
        return;
    }
    tokio::spawn(async move {
        let _ = tokio::time::timeout(FINISH_LIMIT, async {
            while let Some(Ok(_)) = body.frame().await {}
        })
        .await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_retry_is_clamped() {
        let config = HttpClientConfig::builder()
            .min_retry(Duration::from_millis(100))
            .max_retry(Duration::from_secs(30))
            .default_retry(Duration::from_millis(10))
            .build();
        let year = Duration::from_secs(365 * 24 * 3600);
        assert_eq!(
            backoff(&config, Some(Duration::ZERO), 0),
            Duration::from_millis(100)
        );
        assert_eq!(backoff(&config, Some(year), 0), Duration::from_secs(30));
        assert_eq!(
            backoff(&config, Some(Duration::from_millis(u64::MAX)), 40),
            Duration::from_secs(30)
        );
        // The caller's own default is not raised to the floor.
        assert_eq!(backoff(&config, None, 0), Duration::from_millis(10));
        assert_eq!(backoff(&config, None, 2), Duration::from_millis(40));
        // Bounds out of order do not panic.
        let odd = HttpClientConfig::builder()
            .min_retry(Duration::from_secs(60))
            .max_retry(Duration::from_secs(1))
            .build();
        assert_eq!(
            backoff(&odd, Some(Duration::ZERO), 0),
            Duration::from_secs(1)
        );
    }
}
