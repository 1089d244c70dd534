//! The session as the transport sees it: the session id the server issued (T-38) and the
//! negotiated protocol version (T-44), sent on every later request (T-39); the `initialize`
//! the client sent, kept to replay; and the rules for starting a new session when the server
//! says the old one is gone (T-41): what counts as gone, what may be sent again, one renewal
//! at a time, and the generation counter that stops streams of an old session.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use http::StatusCode;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use mcp_http_core::sync::lock;
use mcp_http_core::{Outbound, OutboundKind, TransportError, TransportErrorKind};
use mcp_http_proto::jsonrpc::Response;
use mcp_http_proto::method;

use crate::exchange::{Answer, error_detail, status_error, with_post_headers, with_room};

/// `Mcp-Session-Id` (T-38).
const MCP_SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
/// `MCP-Protocol-Version` (T-44).
const MCP_PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");

/// The session id the server issued with this response (T-38): visible ASCII, as the spec
/// requires, or none.
pub(crate) fn issued_session_id(response: &Answer) -> Option<&HeaderValue> {
    response
        .headers()
        .get(MCP_SESSION_ID)
        .filter(|v| v.to_str().is_ok())
}

/// Whether an error answer to a request that carried a session id says the session is gone:
/// 404 (T-41), or the 400 "No valid session ID provided" that servers built on the TypeScript
/// SDK's examples send for a session they do not know (after a restart, say).
pub(crate) async fn session_gone(response: Answer) -> Result<(), TransportError> {
    let status = response.status();
    if status == StatusCode::NOT_FOUND {
        return Ok(());
    }
    let detail = error_detail(response).await;
    if status == StatusCode::BAD_REQUEST && detail.to_ascii_lowercase().contains("session") {
        return Ok(());
    }
    Err(status_error(status, &detail))
}

/// The error of a request refused because its session is gone.
pub(crate) fn session_expired() -> TransportError {
    TransportError::new(
        TransportErrorKind::SessionExpired,
        "the server ended the session (404)",
    )
}

/// Whether a message refused with 404 may be sent again in a new session: requests and
/// notifications may; a cancellation or a response belongs to the old session.
pub(crate) fn retryable(message: &Outbound) -> bool {
    match message.kind {
        OutboundKind::Request => true,
        OutboundKind::Response => false,
        OutboundKind::Notification => {
            message.method.as_deref() != Some(method::NOTIFICATION_CANCELLED)
        }
    }
}

/// The protocol version an `initialize` result agreed to.
pub(crate) fn negotiated_version(reply: &Response) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct InitVersion {
        protocol_version: String,
    }
    let result = reply.outcome.as_ref().ok()?;
    serde_json::from_str::<InitVersion>(result.get())
        .ok()
        .map(|i| i.protocol_version)
}

/// What the handshake bookkeeping learned about an outgoing message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handshake {
    /// The `initialize` request: remembered, to replay in a new session.
    Initialize,
    /// `notifications/initialized`: the session is ready for the GET stream.
    Initialized,
    /// Anything else, or anything once the handshake is over.
    Other,
}

/// The session of one transport, and the headers its requests carry.
pub(crate) struct Session {
    /// The configured headers, without a session's: for `initialize` in a new session.
    configured: HeaderMap,
    state: Mutex<State>,
    /// Counts sessions: a stream of an older session stops instead of competing with the new one.
    generation: AtomicU64,
    /// One renewal at a time.
    renewing: tokio::sync::Mutex<()>,
}

/// What the server gave and the client sent.
struct State {
    id: Option<HeaderValue>,
    protocol_version: Option<String>,
    /// The headers of every request in the session: the configured ones, the session id and
    /// the negotiated version. Built when the session changes rather than per request.
    headers: HeaderMap,
    /// `headers` with the Accept and Content-Type of a POST.
    post_headers: HeaderMap,
    /// The `initialize` request as the client sent it, replayed to start a new session.
    initialize: Option<Outbound>,
    /// Whether `notifications/initialized` has gone out.
    initialized: bool,
}

impl State {
    /// Rebuilds the POST headers after `headers` changed.
    fn headers_changed(&mut self) {
        // PF-73: with room for what a request adds, so its clones' index need not grow.
        self.post_headers = with_room(with_post_headers(self.headers.clone()));
    }
}

impl Session {
    /// No session yet; requests carry the configured `headers`.
    pub(crate) fn new(headers: HeaderMap) -> Self {
        Session {
            state: Mutex::new(State {
                id: None,
                protocol_version: None,
                post_headers: with_room(with_post_headers(headers.clone())),
                headers: headers.clone(),
                initialize: None,
                initialized: false,
            }),
            configured: headers,
            generation: AtomicU64::new(0),
            renewing: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether the server has issued a session id.
    pub(crate) fn has_id(&self) -> bool {
        lock(&self.state).id.is_some()
    }

    /// Which session this is: it changes when a new session replaces an expired one.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The headers a request of the session starts from (T-39, T-44).
    pub(crate) fn headers(&self) -> HeaderMap {
        lock(&self.state).headers.clone()
    }

    /// The headers a POST of a message in the session starts from.
    pub(crate) fn post_headers(&self) -> HeaderMap {
        lock(&self.state).post_headers.clone()
    }

    /// The headers of a POST outside any session: `initialize` starting a new one.
    fn sessionless_post_headers(&self) -> HeaderMap {
        with_post_headers(self.configured.clone())
    }

    /// Remembers `initialize` (to replay it) and sees `notifications/initialized` go out.
    pub(crate) fn note_handshake(&self, message: &Outbound) -> Handshake {
        let mut state = lock(&self.state);
        if state.initialized || message.kind == OutboundKind::Response {
            return Handshake::Other;
        }
        match message.method.as_deref() {
            Some(method::INITIALIZE) if message.kind == OutboundKind::Request => {
                state.initialize = Some(message.clone());
                Handshake::Initialize
            }
            Some(method::NOTIFICATION_INITIALIZED) => {
                state.initialized = true;
                Handshake::Initialized
            }
            _ => Handshake::Other,
        }
    }

    /// Takes the session id a response issued (T-38), unless the session has one.
    pub(crate) fn adopt_issued_id(&self, response: &Answer) {
        if let Some(id) = issued_session_id(response) {
            let mut state = lock(&self.state);
            if state.id.is_none() {
                set_id(&mut state, Some(id.clone()));
            }
        }
    }

    /// Takes the version `initialize` agreed to, sent on every later request (T-44). A
    /// version that is not a valid header value is not sent.
    pub(crate) fn set_protocol_version(&self, version: String) {
        let mut state = lock(&self.state);
        match HeaderValue::from_str(&version) {
            Ok(value) => state.headers.insert(MCP_PROTOCOL_VERSION, value),
            Err(_) => state.headers.remove(MCP_PROTOCOL_VERSION),
        };
        state.protocol_version = Some(version);
        state.headers_changed();
    }

    /// Starts renewing session generation `expired` (T-41): waits for a renewal under way,
    /// and answers `None` when one has already replaced that generation.
    pub(crate) async fn renew(&self, expired: u64) -> Option<Renewal<'_>> {
        let one_at_a_time = self.renewing.lock().await;
        if self.generation() != expired {
            return None;
        }
        Some(Renewal {
            session: self,
            _one_at_a_time: one_at_a_time,
        })
    }
}

/// Takes the session id the server issued (T-38), or drops it.
fn set_id(state: &mut State, id: Option<HeaderValue>) {
    match &id {
        Some(id) => state.headers.insert(MCP_SESSION_ID, id.clone()),
        None => state.headers.remove(MCP_SESSION_ID),
    };
    state.id = id;
    state.headers_changed();
}

/// A renewal of the session under way: the only one until it is dropped.
pub(crate) struct Renewal<'a> {
    session: &'a Session,
    _one_at_a_time: tokio::sync::MutexGuard<'a, ()>,
}

impl Renewal<'_> {
    /// The `initialize` to replay, and the headers of its POST; none when the client never
    /// sent one.
    pub(crate) fn initialize(&self) -> Result<(Outbound, HeaderMap), TransportError> {
        let initialize = lock(&self.session.state).initialize.clone();
        match initialize {
            Some(initialize) => Ok((initialize, self.session.sessionless_post_headers())),
            None => Err(session_expired()),
        }
    }

    /// Takes the new session when the server agreed to the same version as before, and stops
    /// the streams of the old one. The renewal stays the only one until dropped, so requests
    /// waiting for it go out once the new session is ready.
    pub(crate) fn finish(
        &self,
        new_id: Option<HeaderValue>,
        reply: &Response,
    ) -> Result<(), TransportError> {
        let negotiated = negotiated_version(reply);
        let mut state = lock(&self.session.state);
        if negotiated.is_none() || negotiated != state.protocol_version {
            return Err(TransportError::new(
                TransportErrorKind::SessionExpired,
                format!(
                    "the session expired, and the server no longer agrees to protocol version {}",
                    state.protocol_version.as_deref().unwrap_or_default()
                ),
            ));
        }
        set_id(&mut state, new_id);
        // Streams of the old session stop now.
        self.session.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }
}
