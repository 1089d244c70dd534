//! A POST to a stateless endpoint: no session, a request answered by a router and peer of its
//! own, made only when needed where nothing names them (PF-52, PF-53).

use super::*;

/// What [`StreamableHttpService::stateless_at_once`] did with a stateless POST.
pub(super) enum AtOnce<F> {
    /// Answered (or refused) by the time its handler's first poll ended.
    Answered(Result<HttpResponse, Rejection>),
    /// Its handler waits (or sent something first): the rest of its exchange, boxed (PF-103).
    Waits(std::pin::Pin<Box<F>>),
    /// Not a request answered in JSON only: [`StreamableHttpService::post_stateless`] serves it.
    Other(Parsed, Extensions, Places),
}

impl StreamableHttpService {
    /// A stateless request answered in JSON only, served with no future of its own up to its
    /// handler's first poll (PF-103): the checks [`post_stateless`](Self::post_stateless) makes
    /// first, in its order, then the handler run in place. Anything else is given back. Not
    /// inlined into `post_now` (PF-107): its frame is below that call's only for a stateless
    /// POST.
    #[inline(never)]
    pub(super) fn stateless_at_once(
        &self,
        headers: &checks::Headers<'_>,
        parsed: Parsed,
        extensions: Extensions,
        places: Places,
    ) -> AtOnce<impl Future<Output = Result<(HttpResponse, Option<()>), Rejection>> + use<'_>> {
        let config = self.inner.config();
        let request = match parsed {
            Parsed::Single(Message::Request(request))
                if config.response_mode == ResponseMode::Json =>
            {
                request
            }
            other => return AtOnce::Other(other, extensions, places),
        };
        let is_initialize = request.method == method::INITIALIZE;
        let header_version = match header_version(headers, is_initialize) {
            Ok(version) => version,
            Err(rejection) => return AtOnce::Answered(Err(rejection)),
        };
        if is_modern_probe(&request, config.eras) {
            return AtOnce::Answered(Err(Rejection::ModernRequest(request.id)));
        }
        // Answered in JSON only, its router is one nothing names: it and the peer are made only
        // when needed (PF-53).
        let mut unmade = self.unmade();
        if !is_initialize {
            let version = header_version.unwrap_or(ProtocolVersion::LATEST_LEGACY);
            let client = &self.inner.stateless_client;
            unmade.state_mut().init_shared_client(version, client);
        }
        match self.start_unmade(request, unmade, (extensions, places), |_| ()) {
            crate::unmade::Start::Done(answered) => AtOnce::Answered(answered),
            made => AtOnce::Waits(mcp_http_core::boxed::in_place(move || {
                self.finish_unmade(made, false)
            })),
        }
    }

    /// A stateless POST (not an `async fn`, PF-65).
    #[allow(clippy::manual_async_fn)] // PF-65: not an async fn, on purpose
    pub(super) fn post_stateless(
        &self,
        headers: &checks::Headers<'_>,
        parsed: Parsed,
        extensions: Extensions,
        places: Places,
    ) -> impl Future<Output = Result<HttpResponse, Rejection>> {
        async move {
            let Parsed::Single(message) = parsed else {
                return Err(Rejection::BatchNotSupported);
            };
            let is_initialize =
                matches!(&message, Message::Request(r) if r.method == method::INITIALIZE);
            let header_version = header_version(headers, is_initialize)?;
            match message {
                Message::Request(request)
                    if is_modern_probe(&request, self.inner.config().eras) =>
                {
                    Err(Rejection::ModernRequest(request.id))
                }
                // A request answered in JSON only is served by `stateless_at_once`, first;
                // this one answers on an SSE stream (or in adaptive mode).
                Message::Request(request) => {
                    let inner = &self.inner;
                    let sessions = &inner.sessions;
                    // Only a stream can be resumed: in JSON mode no event id ever reaches the client.
                    let resumable = inner.config().resumable
                        && inner.config().response_mode != ResponseMode::Json;
                    let live = resumable.then(|| sessions.live.clone());
                    let router = Router::for_request(
                        inner.config(),
                        sessions.log(),
                        sessions.back_channel.clone(),
                        live,
                    )
                    .map_err(|_| Rejection::RandomUnavailable)?;
                    let router = Arc::new(router);
                    if resumable {
                        sessions
                            .live
                            .insert(router.tag().clone(), Arc::downgrade(&router));
                    }
                    // Globally unique server-to-client ids; in a cluster they name this instance.
                    let prefix = match sessions.clustered() {
                        true => {
                            format!("{}.{}", sessions.backends.instance, router.id_prefix()).into()
                        }
                        false => router.id_prefix(),
                    };
                    let config = sessions.peer_config.clone().request_id_prefix(Some(prefix));
                    let peer =
                        Peer::new(router.clone(), inner.handlers.stateless_handler(), config);
                    router.set_peer(peer.downgrade());
                    if !is_initialize {
                        let version = header_version.unwrap_or(ProtocolVersion::LATEST_LEGACY);
                        peer.state()
                            .set_shared_client(version, &inner.stateless_client);
                        peer.state().set_initialized();
                        // T-21b: priming and polling from 2025-11-25 on.
                        if version.supports_priming() {
                            router.enable_priming();
                        }
                    }
                    self.answer(&router, &peer, request, (extensions, places), false)
                        .await
                }
                Message::Response(response) => {
                    // Design idea 7: a client's answer to a server-to-client request finds its handler
                    // by the request's globally unique id.
                    let sessions = &self.inner.sessions;
                    let owner = response
                        .id
                        .as_ref()
                        .and_then(|id| sessions.owner_elsewhere(id))
                        .map(str::to_owned);
                    if let Some(owner) = owner {
                        let json = Bytes::from(Message::Response(response).to_json_bytes());
                        sessions.forward(&owner, None, json).await?;
                        return Ok(status(StatusCode::ACCEPTED));
                    }
                    let waiting = response
                        .id
                        .as_ref()
                        .and_then(|id| sessions.back_channel.remove(id));
                    match waiting.and_then(|(_, peer)| peer.upgrade()) {
                        Some(peer) => peer.receive(Message::Response(response)).await,
                        None => {
                            tracing::debug!(id = ?response.id, "stateless response for no waiting request")
                        }
                    }
                    Ok(status(StatusCode::ACCEPTED))
                }
                Message::Notification(_) => Ok(status(StatusCode::ACCEPTED)),
            }
        }
    }
}

/// The version a stateless request's `MCP-Protocol-Version` header names, if any; a version we
/// do not serve is refused (T-46), but never on `initialize` (T-47).
fn header_version(
    headers: &checks::Headers<'_>,
    is_initialize: bool,
) -> Result<Option<ProtocolVersion>, Rejection> {
    match checks::protocol_version(headers) {
        Ok(version) => Ok(version),
        Err(_) if is_initialize => Ok(None),
        Err(message) => Err(Rejection::UnsupportedVersion(message)),
    }
}
