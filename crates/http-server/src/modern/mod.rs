//! The 2026-07-28 era on the same endpoint as the legacy sessions: which era a POST belongs to,
//! and how a modern request is served.
//!
//! **The body decides** ([`route`]). A request is modern when its `params._meta` names a
//! protocol version, or when its method exists only in 2026-07-28 (`server/discover`,
//! `subscriptions/listen`). A message that carries no such claim (a notification, a response,
//! a request without `_meta`) is modern when its `MCP-Protocol-Version` header names a
//! 2026-07-28-era version and it names no session (a header that names no version at all
//! decides nothing: T-47 lets a legacy `initialize` carry anything there). Everything else is legacy, served exactly
//! as before. The edge cases, each tested in `tests/modern.rs`:
//!
//! - a modern request with an `Mcp-Session-Id` (stale or live): the header is ignored (H-12);
//! - `initialize` with a modern claim: modern, so 404 -32601 (it does not exist there); with a
//!   2026-07-28 header but no claim: modern, so 400 -32602 (no `_meta` envelope);
//! - `ping`, `logging/setLevel`, `resources/(un)subscribe` with a claim: 404 -32601;
//! - a batch with any modern element (or under a modern header): 400 -32600;
//! - a modern notification: 202, ignored, `notifications/cancelled` included: closing the
//!   stream is how a modern request is cancelled (H-5), and a client-chosen id must not let
//!   one caller cancel another's work;
//! - a POSTed response under a modern header: 400 -32600 (M-9);
//! - GET or DELETE with a modern header and no session: 405 (H-12);
//! - a modern body without the header: 400 -32020 (the headers rung);
//! - a full envelope naming a legacy version: 400 -32022 (versions before 2026-07-28 are
//!   negotiated through `initialize`).
//!
//! A modern request passes the [`ladder`], then runs on a fresh peer of its own (the factory's
//! stateless handler) whose state comes from its `_meta` alone (M-5): the client's
//! capabilities and info, the log level. It is answered like any request (JSON, or SSE once it
//! streams) with no event ids (no resumption, H-6), and closing its stream cancels it (H-5).

pub(crate) mod ladder;
pub(crate) mod listen;

use http::{HeaderMap, StatusCode};
use mcp_http_core::peer::WeakPeer;
use mcp_http_core::{ParamHeaders, Peer};
use mcp_http_proto::jsonrpc::{Message, Parsed, Request as RpcRequest};
use mcp_http_proto::{ProtocolVersion, SubscriptionsListenRequestParams, method};

use crate::checks::Headers;
use crate::config::Eras;
use crate::rejection::Rejection;
use crate::service::{HttpResponse, StreamableHttpService, sse, status};
use crate::unmade::Start;

/// Whether the `MCP-Protocol-Version` header names a 2026-07-28-era version. A value that is
/// no version at all decides nothing (a legacy `initialize` may carry anything, T-47).
fn modern_header(headers: &Headers<'_>) -> bool {
    // The value's bytes (PF-113): a value that is not visible ASCII names no version either.
    headers.version.is_some_and(|v| {
        ProtocolVersion::from_bytes(v.as_bytes().trim_ascii()).is_some_and(|v| !v.is_legacy())
    })
}

/// Whether a GET or DELETE belongs to the 2026-07-28 era, which has neither (405, H-12).
pub(crate) fn modern_get_or_delete(headers: &Headers<'_>, eras: Eras) -> bool {
    match eras {
        Eras::Modern => true,
        Eras::Legacy => false,
        _ => modern_header(headers) && headers.session.is_none(),
    }
}

/// Which era a POST belongs to: `Ok(true)` for 2026-07-28 (see the module docs). `mentions`:
/// where the body contains the `_meta` key that names a version (else its params cannot).
pub(crate) fn route(
    headers: &Headers<'_>,
    parsed: &Parsed,
    mentions: ladder::Mention<'_>,
    eras: Eras,
) -> Result<bool, Rejection> {
    let sessionless_modern_header = || headers.session.is_none() && modern_header(headers);
    let modern = match parsed {
        Parsed::Single(Message::Request(request)) => {
            mentions.in_params(request.params.as_ref())
                || matches!(
                    request.method.as_str(),
                    method::SERVER_DISCOVER | method::SUBSCRIPTIONS_LISTEN
                )
                || sessionless_modern_header()
        }
        Parsed::Single(Message::Notification(_)) => sessionless_modern_header(),
        Parsed::Single(Message::Response(_)) => {
            if sessionless_modern_header() || eras == Eras::Modern {
                return Err(Rejection::ModernResponse);
            }
            false
        }
        Parsed::Batch(items) => {
            let claims = items.iter().any(|item| {
                item.get().contains(ladder::VERSION_KEY)
                    && matches!(Message::parse(item.get().as_bytes()),
                        Ok(Message::Request(r)) if ladder::claims_modern(r.params.as_ref()))
            });
            if claims || sessionless_modern_header() || eras == Eras::Modern {
                return Err(Rejection::ModernBatch);
            }
            false
        }
    };
    match (modern, eras) {
        (true, Eras::Legacy) => Ok(false),
        (false, Eras::Modern) => match parsed {
            // H-12: the versions this endpoint serves, named to a legacy client.
            Parsed::Single(Message::Request(r)) if r.method == method::INITIALIZE => {
                Err(Rejection::LegacyRefused(r.id.clone(), requested_version(r)))
            }
            _ => Ok(true),
        },
        (modern, _) => Ok(modern),
    }
}

/// The version an `initialize` asks for.
fn requested_version(request: &RpcRequest) -> String {
    #[derive(serde::Deserialize)]
    struct Params {
        #[serde(rename = "protocolVersion")]
        version: String,
    }
    request
        .params_as::<Params>()
        .map(|p| p.version)
        .unwrap_or_default()
}

/// What [`StreamableHttpService::post_modern`] did with a POST: answered it at once, gave it
/// back, or left the wait for its answer to a future of its own, boxed so that it does not size
/// every POST's (PF-65; a quick 2026-07-28 call needs none, PF-94).
pub(crate) enum Served<F> {
    /// It was a 2026-07-28 message and has its answer.
    Answered(HttpResponse),
    /// It was not: the legacy path serves it (with the extensions and places given back).
    NotModern(Message, mcp_http_core::Extensions, mcp_http_core::Places),
    /// Its handler waits (or sent something): the rest of its exchange (a thin box, so that
    /// the POST's future holds one pointer for it).
    Waits(std::pin::Pin<Box<F>>),
}

/// Closes a modern request's peer when dropped, which cancels its handler (H-5): held by the
/// POST until it answers, then by its SSE body.
struct CancelOnClose(WeakPeer);

impl Drop for CancelOnClose {
    fn drop(&mut self) {
        if let Some(peer) = self.0.upgrade() {
            peer.close();
        }
    }
}

/// The JSON-RPC error code of a JSON answer, if it is an error.
fn error_code(json: &[u8]) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Answer {
        error: Option<Code>,
    }
    #[derive(serde::Deserialize)]
    struct Code {
        code: i64,
    }
    if written_result(json) {
        return None;
    }
    // Most answers are results: skip the parse unless an error member can be there.
    static ERROR: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"error\":"));
    ERROR.find(json)?;
    serde_json::from_slice::<Answer>(json)
        .ok()
        .and_then(|a| a.error)
        .map(|e| e.code)
}

/// Whether a JSON answer is a result response as the peer writes one (PF-49): its envelope's
/// prefix, a numeric id, then `"result":` (an error response has `"error":` there), told
/// without a search of the whole answer.
fn written_result(json: &[u8]) -> bool {
    const PREFIX: &[u8] = b"{\"jsonrpc\":\"2.0\",\"id\":";
    let Some(rest) = json.strip_prefix(PREFIX) else {
        return false;
    };
    let rest = rest.strip_prefix(b"-").unwrap_or(rest);
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0
        && rest
            .get(digits..)
            .is_some_and(|r| r.starts_with(b",\"result\":"))
}

/// Whether a JSON answer is an error.
pub(crate) fn is_error(json: &[u8]) -> bool {
    error_code(json).is_some()
}

/// An SSE body of one event and nothing more (a modern answer in SSE mode: no event id, since
/// a modern stream is never resumed).
pub(crate) fn one_event(json: bytes::Bytes, config: &crate::HttpConfig) -> crate::ResponseBody {
    let mut out = bytes::BytesMut::with_capacity(json.len() + 16);
    crate::sse::put_event(&mut out, None, &json);
    crate::ResponseBody::sse(
        out.freeze(),
        crate::queue::QueueRx::closed(),
        config.keep_alive,
        None,
        None,
    )
}

/// The HTTP status of a modern JSON answer: the method is unknown (404, H-11), a header or the
/// version was wrong or a capability was missing (400, H-8, M-3, M-6), else 200.
fn status_of(json: &[u8]) -> StatusCode {
    use mcp_http_proto::error_code as code;
    match error_code(json).and_then(|c| i32::try_from(c).ok()) {
        Some(code::METHOD_NOT_FOUND) => StatusCode::NOT_FOUND,
        Some(
            code::HEADER_MISMATCH
            | code::MISSING_REQUIRED_CLIENT_CAPABILITY
            | code::UNSUPPORTED_PROTOCOL_VERSION,
        ) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// The `Mcp-Param-*` headers of a request.
fn param_headers(headers: &HeaderMap) -> ParamHeaders {
    let mut params = ParamHeaders::default();
    for (name, value) in headers {
        if let Some(suffix) = name.as_str().strip_prefix("mcp-param-") {
            // A value that is not visible ASCII is kept as nothing a tool can match (H-8).
            params.push(suffix, value.to_str().unwrap_or("\u{0}"));
        }
    }
    params
}

impl StreamableHttpService {
    /// Serves a POST that looks like the 2026-07-28 era ([`route`]); gives the message back
    /// when the envelope shows it is not (a legacy request that only mentions the `_meta` key).
    /// Runs the handler's first poll before it returns: a request answered there is served
    /// with no future (PF-94). Not inlined into `post_now` (PF-107): its frame is below that
    /// call's only for a 2026-07-28 POST, not for every POST.
    #[inline(never)]
    pub(crate) fn post_modern(
        &self,
        headers: &Headers<'_>,
        (message, members): (Message, mcp_http_proto::modern_read::Members<'_>),
        mut extensions: mcp_http_core::Extensions,
        places: mcp_http_core::Places,
    ) -> Result<Served<impl Future<Output = Result<HttpResponse, Rejection>> + Send + '_>, Rejection>
    {
        let request = match message {
            Message::Request(request) => request,
            // H-3; see the module docs for why a cancellation is ignored.
            Message::Notification(_) => {
                return Ok(Served::Answered(status(StatusCode::ACCEPTED)));
            }
            Message::Response(_) => return Err(Rejection::ModernResponse),
        };
        let last = &self.inner.sessions.last_client;
        let checked = match ladder::check(&request, members, headers, last) {
            Ok(checked) => checked,
            Err(refusal)
                if !refusal.claimed
                    && self.inner.config().eras.legacy()
                    && !modern_header(headers)
                    && !matches!(
                        request.method.as_str(),
                        method::SERVER_DISCOVER | method::SUBSCRIPTIONS_LISTEN
                    ) =>
            {
                let request = Message::Request(request);
                return Ok(Served::NotModern(request, extensions, places));
            }
            Err(refusal) => return Err(Rejection::Modern(refusal)),
        };
        // No session to bind, but the principal goes to the handler in the extensions (a sealed
        // requestState is bound to it).
        let client = checked.client;
        if request.method == method::SUBSCRIPTIONS_LISTEN {
            return self.listen(request).map(Served::Answered);
        }
        // Its router (PF-46) and peer are made only when needed (PF-53).
        let mut unmade = self.unmade_modern();
        let state = unmade.state_mut();
        state.init_shared_client(ProtocolVersion::V2026_07_28, &client);
        if let Some(level) = checked.log_level {
            state.set_log_level(level);
        }
        if request.method == method::TOOLS_CALL {
            if headers.has_param_headers {
                extensions.insert(param_headers(headers.map()));
            }
            if let Some(view) = checked.tool_call {
                // As fields, not in the map (PF-70); a first call told (PF-59).
                unmade = unmade.with_tool_call(view, checked.first_call);
            }
        }
        let handed = (extensions, places);
        let cancel = |peer: &Peer| CancelOnClose(peer.downgrade());
        match self.start_unmade(request, unmade, handed, cancel) {
            // A request answered with no peer made has nothing left to cancel.
            Start::Done(answered) => Ok(Served::Answered(answered_modern(answered?, None))),
            // The rest made straight into its box (PF-97).
            made => Ok(Served::Waits(mcp_http_core::boxed::in_place(
                || async move {
                    let (response, cancel) = self.finish_unmade(made, true).await?;
                    Ok(answered_modern(response, cancel))
                },
            ))),
        }
    }

    /// Opens a `subscriptions/listen` stream (see [`listen`]).
    fn listen(&self, request: RpcRequest) -> Result<HttpResponse, Rejection> {
        let params: SubscriptionsListenRequestParams = request
            .params_as()
            .map_err(|error| Rejection::Modern(invalid_params(&request, error)))?;
        let inner = &self.inner;
        let honoured = inner.handlers.listen_filter(&params.notifications);
        let config = inner.config();
        let Some((first, rx, leave)) = inner.sessions.listeners.open(
            request.id.clone(),
            honoured,
            config.connection_queue,
            config.max_listeners,
        ) else {
            return Err(Rejection::TooManyListeners(request.id));
        };
        let body = crate::body::ResponseBody::sse(first, rx, config.keep_alive, None, None)
            .on_close(leave);
        Ok(sse(body))
    }
}

/// A modern request's answer as the POST sends it: a JSON answer with the status its error
/// code gives (its head is written where it leaves the service, PF-68), else a stream that
/// cancels the request when it closes (H-5).
fn answered_modern(mut response: HttpResponse, cancel: Option<CancelOnClose>) -> HttpResponse {
    if response.body().head() == crate::body::Head::Json {
        if let Some(bytes) = response.body().full_bytes() {
            *response.status_mut() = status_of(bytes);
        }
        return response;
    }
    match cancel {
        Some(cancel) => response.map(|body| body.on_close(cancel)),
        None => response,
    }
}

/// A listen request whose params are malformed, refused on the envelope rung.
fn invalid_params(request: &RpcRequest, error: mcp_http_proto::ErrorObject) -> ladder::Refusal {
    ladder::Refusal {
        claimed: true,
        id: request.id.clone(),
        rung: ladder::Rung::Envelope,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PF-49: a result is told by its envelope, an error by its code, whatever their text holds.
    #[test]
    fn results_and_errors_are_told_apart_by_their_envelope() {
        let result = br#"{"jsonrpc":"2.0","id":-12,"result":{"content":[{"type":"text","text":"\"error\":{\"code\":1}"}]}}"#;
        assert!(written_result(result) && !is_error(result));
        assert_eq!(status_of(result), StatusCode::OK);
        let named = br#"{"jsonrpc":"2.0","id":"a","result":{"error":{"code":-32601}}}"#;
        assert!(!written_result(named));
        let not_found = br#"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"m"}}"#;
        assert!(!written_result(not_found) && is_error(not_found));
        assert_eq!(status_of(not_found), StatusCode::NOT_FOUND);
        let string_id = br#"{"jsonrpc":"2.0","id":"x","error":{"code":-32020,"message":"m"}}"#;
        assert_eq!(status_of(string_id), StatusCode::BAD_REQUEST);
        assert!(!written_result(br#"{"jsonrpc":"2.0","id":,"result":{}}"#));
    }

    /// PF-113: the version header names the 2026-07-28 era by its bytes, spaces around it
    /// ignored, as its text did.
    #[test]
    fn a_version_header_names_the_era_by_its_bytes() {
        let named = |v: &'static [u8]| {
            let mut map = http::HeaderMap::new();
            map.insert(
                "mcp-protocol-version",
                http::HeaderValue::from_bytes(v).unwrap(),
            );
            modern_header(&Headers::read(Box::leak(Box::new(map))))
        };
        assert!(named(b"2026-07-28") && named(b" 2026-07-28\t"));
        assert!(!named(b"2025-11-25") && !named(b"2026-07-2") && !named(b"2026-07-28\xe9"));
        assert!(!modern_header(&Headers::read(&http::HeaderMap::new())));
    }
}
