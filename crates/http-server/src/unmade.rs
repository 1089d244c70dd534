//! Stateless requests whose router and peer are made only when needed (PF-53): a stateless
//! request answered in JSON only and a 2026-07-28 request get a router that no event id or
//! server-to-client request ever names (PF-46, PF-47), so nothing of it has to exist before
//! its handler runs. The handler runs with a context that makes them the first time something
//! needs them (a message the handler sends, the handler waiting, PF-52); a request answered in
//! its handler's first poll, having sent nothing, is answered with no router and no peer.

use std::sync::Arc;

use mcp_http_core::peer::{Answered, MakePeer, Unmade};
use mcp_http_core::{Extensions, Handler, Peer, Places, SessionState};
use mcp_http_proto::RequestId;
use mcp_http_proto::jsonrpc::Request as RpcRequest;

use crate::post::{ANSWER_CAPACITY, First, exact};
use crate::rejection::Rejection;
use crate::router::Router;
use crate::service::{HttpResponse, StreamableHttpService};
use crate::sessions::Sessions;

/// The router and peer of a stateless request, made as the eager path makes them: a
/// 2026-07-28 request's ([`Router::for_modern_request`], no id prefix), or a legacy stateless
/// request's answered in JSON only ([`Router::for_json_request`], ids prefixed with its tag).
impl MakePeer for Sessions {
    fn make_peer(
        &self,
        id: &RequestId,
        handler: Arc<dyn Handler>,
        state: &SessionState,
        answered: bool,
    ) -> Peer {
        let back_channel = self.back_channel.clone();
        let modern = state.is_modern();
        let (router, config) = match modern {
            true => {
                let router = Router::for_modern_request(&self.config, self.log(), back_channel);
                (router, self.peer_config.clone())
            }
            false => {
                let router = Router::for_json_request(&self.config, self.log(), back_channel);
                // Globally unique server-to-client ids; in a cluster they name this instance.
                let prefix = match self.clustered() {
                    true => format!("{}.{}", self.backends.instance, router.id_prefix()).into(),
                    false => router.id_prefix(),
                };
                (
                    router,
                    self.peer_config.clone().request_id_prefix(Some(prefix)),
                )
            }
        };
        // T-21b: priming and polling from 2025-11-25 on, once the request's version is set
        // (never on a stateless initialize's).
        let version = state.protocol_version();
        if !modern && state.is_initialized() && version.is_some_and(|v| v.supports_priming()) {
            router.enable_priming();
        }
        let router = Arc::new(router);
        router.expect(id);
        if answered {
            router.solo_answered();
        }
        let peer = Peer::new(router.clone(), handler, config);
        router.set_peer(peer.downgrade());
        if answered && modern {
            // A 2026-07-28 request's peer is closed once its POST answered (H-5).
            peer.close();
        }
        peer
    }
}

impl StreamableHttpService {
    /// The state of a stateless request whose router and peer are made only when needed (see
    /// [`StreamableHttpService::start_unmade`]); set it, then answer.
    pub(crate) fn unmade(&self) -> Unmade {
        self.unmade_with(self.inner.handlers.stateless_handler())
    }

    /// [`StreamableHttpService::unmade`] of a 2026-07-28 request: with the handler they all
    /// share when the factory gives one, none made for it (PF-57).
    pub(crate) fn unmade_modern(&self) -> Unmade {
        match &self.inner.sessions.modern_handler {
            Some(handler) => self.unmade_with(handler.clone()),
            None => self.unmade(),
        }
    }

    /// The state of a stateless request whose handler is `handler`: the one construction
    /// [`unmade`](Self::unmade) and [`unmade_modern`](Self::unmade_modern) share.
    fn unmade_with(&self, handler: Arc<dyn Handler>) -> Unmade {
        let sessions = &self.inner.sessions;
        let maker: Arc<dyn MakePeer> = sessions.clone();
        Unmade::new(maker, handler, &sessions.peer_config)
    }

    /// The part of a stateless request's answer that runs at once, as
    /// [`StreamableHttpService::answer_as`] runs it, its router and peer made only when needed
    /// (PF-52, PF-53): the handler's first poll, and its answer when it gave one with nothing
    /// sent (such a request needs no future at all, PF-94, PF-103). The handler's `on_made` is
    /// called with the peer when one was made, and what it gives is held until the answer is
    /// ready (a 2026-07-28 request's cancellation when the POST goes away, H-5).
    pub(crate) fn start_unmade<G>(
        &self,
        request: RpcRequest,
        unmade: Unmade,
        (extensions, places): (Extensions, Places),
        on_made: impl FnOnce(&Peer) -> G,
    ) -> Start<G> {
        let id = request.id.clone();
        let mut out = Vec::with_capacity(ANSWER_CAPACITY);
        match Peer::answer_unmade(request, extensions, places, unmade, &mut out) {
            // Answered in the first poll, with nothing sent: no GET stream to wait for.
            Answered::AtOnce => Start::Done(Ok(self.direct_alone(exact(out)))),
            Answered::Made { peer, answered } => {
                let held = on_made(&peer);
                let first = First {
                    out,
                    answered,
                    opened: None,
                    head: None,
                };
                Start::Made(Made {
                    id,
                    peer,
                    first,
                    held,
                })
            }
            _ => Start::Done(Err(Rejection::ShuttingDown)),
        }
    }

    /// The rest of a stateless request's answer after the handler's first poll:
    /// the answer given then, or, once a peer was made, the POST going on as a session's does.
    /// Not an `async fn`: its future holds `start` once (PF-65).
    #[allow(clippy::manual_async_fn)] // PF-65: not an async fn, on purpose
    pub(crate) fn finish_unmade<G>(
        &self,
        start: Start<G>,
        errors_as_json: bool,
    ) -> impl Future<Output = Result<(HttpResponse, Option<G>), Rejection>> {
        async move {
            let Made {
                id,
                peer,
                first,
                held,
            } = match start {
                Start::Done(answered) => return answered.map(|response| (response, None)),
                Start::Made(made) => made,
            };
            let Some(router) = peer.sink_as::<Router>() else {
                return Err(Rejection::ShuttingDown);
            };
            let next = self.after_first_poll(router, id, first, false, errors_as_json);
            let response = self
                .answer_next(router, next, false, errors_as_json)
                .await?;
            Ok((response, Some(held)))
        }
    }
}

/// What a stateless request's handler left after its first poll.
pub(crate) enum Start<G> {
    /// Answered (or refused) at once.
    Done(Result<HttpResponse, Rejection>),
    /// The peer made: the POST goes on as a session's does.
    Made(Made<G>),
}

/// A stateless request whose handler did not answer in its first poll (or sent something).
pub(crate) struct Made<G> {
    /// The request's id.
    id: RequestId,
    peer: Peer,
    /// What the first poll wrote and whether it answered.
    first: First,
    /// What `on_made` gave for the peer.
    held: G,
}
