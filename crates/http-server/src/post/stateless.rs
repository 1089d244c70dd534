//! A POST to a stateless endpoint: no session, a request answered by a router and peer of its
//! own, made only when needed where nothing names them (PF-52, PF-53).

use super::*;

impl StreamableHttpService {
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
            // T-47: the header is never checked on initialize.
            let header_version = match checks::protocol_version(headers) {
                Ok(version) => version,
                Err(_) if is_initialize => None,
                Err(message) => return Err(Rejection::UnsupportedVersion(message)),
            };
            match message {
                Message::Request(request)
                    if is_modern_probe(&request, self.inner.config().eras) =>
                {
                    Err(Rejection::ModernRequest(request.id))
                }
                // Answered in JSON only, its router is one nothing names: it and the peer are
                // made only when needed (PF-53).
                Message::Request(request)
                    if self.inner.config().response_mode == ResponseMode::Json =>
                {
                    let unmade = self.unmade();
                    if !is_initialize {
                        let version = header_version.unwrap_or(ProtocolVersion::LATEST_LEGACY);
                        let state = unmade.state();
                        state.set_shared_client(version, &self.inner.stateless_client);
                        state.set_initialized();
                    }
                    let handed = (extensions, places);
                    let answered = self.answer_unmade(request, unmade, handed, false, |_| ());
                    Ok(answered.await?.0)
                }
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
