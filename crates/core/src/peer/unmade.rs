//! A request answered before its peer exists (PF-52): a transport that would make a peer (and
//! its sink) for one request alone, a stateless HTTP request, hands over how to make it instead.
//! The handler runs where the request arrived with a context whose peer is made the first time
//! something needs it (a message the handler sends, a request to the other side, the handler
//! waiting); a request answered in the handler's first poll makes none.

use super::*;

/// Makes the peer of a request that was received before it (see [`Unmade`]). A transport
/// implements it once and shares it among its requests.
pub trait MakePeer: Send + Sync + 'static {
    /// Makes the peer that carries request `id` for `handler`, with its sink. The peer's state
    /// is then copied from the request's ([`Unmade::state`]), which the transport set. With
    /// `answered`, the request was answered already (its handler left something running that
    /// asked for the peer later): nothing more of it has a stream to go to.
    fn make_peer(
        &self,
        id: &RequestId,
        handler: Arc<dyn Handler>,
        state: &SessionState,
        answered: bool,
    ) -> Peer;
}

/// How to make the peer of a request that has none yet: the transport's [`MakePeer`], the
/// handler and the negotiated state the peer will have.
pub struct Unmade {
    maker: Arc<dyn MakePeer>,
    handler: Arc<dyn Handler>,
    state: SessionState,
    max_inbound_requests: usize,
    /// The `tools/call` the transport read already, handed to the context (PF-70).
    call: Option<crate::tool_call::HandedCall>,
}

impl Unmade {
    /// The peer of a request, made by `maker` when needed, for `handler`, with `config`'s limit
    /// on requests in progress (RL-29). Set the request's negotiated state with
    /// [`Unmade::state`].
    pub fn new(maker: Arc<dyn MakePeer>, handler: Arc<dyn Handler>, config: &PeerConfig) -> Self {
        Unmade {
            maker,
            handler,
            state: SessionState::default(),
            max_inbound_requests: config.max_inbound_requests,
            call: None,
        }
    }

    /// Hands the handler the `tools/call` name and arguments the transport read already, and
    /// whether the call is a first call ([`crate::FirstCall`]): the handler finds them in the
    /// request's extensions as if the transport had put them there, and a handler that reads
    /// them with [`RequestContext::extension`] makes no map for them (PF-70).
    pub fn with_tool_call(mut self, view: crate::ToolCallView, first_call: bool) -> Self {
        self.call = Some(crate::tool_call::HandedCall {
            view,
            first: first_call,
        });
        self
    }

    /// The negotiated state the request is handled with (and its peer, once made, has).
    pub fn state(&self) -> &SessionState {
        &self.state
    }

    /// [`state`](Self::state), to fill in before the request is handed over (such as with
    /// [`SessionState::init_shared_client`]).
    pub fn state_mut(&mut self) -> &mut SessionState {
        &mut self.state
    }

    /// Makes the peer (see [`MakePeer::make_peer`]).
    pub(crate) fn make(&self, id: &RequestId, answered: bool) -> Peer {
        let peer = self
            .maker
            .make_peer(id, self.handler.clone(), &self.state, answered);
        peer.state().copy_from(&self.state);
        peer
    }
}

/// What [`Peer::answer_unmade`] did.
#[derive(Debug)]
#[non_exhaustive]
pub enum Answered {
    /// The response is in the buffer, and no peer was made.
    AtOnce,
    /// The request made its peer (its handler sent something, or waits): `answered` says
    /// whether the response is in the buffer, as [`Peer::answer_request_into`] returns it;
    /// when it is not, the handler goes on in a task of its own and its response comes through
    /// the peer's sink.
    Made {
        /// The request's peer.
        peer: Peer,
        /// Whether the response is in the buffer.
        answered: bool,
    },
}

impl Peer {
    /// [`Peer::answer_request_into`] for a request whose peer does not exist yet (PF-52): the
    /// handler is called in place with a context that makes the peer ([`Unmade`]) only when
    /// something needs it; a request answered in the handler's first poll, having sent nothing,
    /// is answered into `out` with no peer made. A fresh peer has nothing in progress: no id
    /// is a duplicate, and only a limit of none refuses the request (RL-29), as
    /// [`Peer::answer_request_into`] on an empty peer does.
    pub fn answer_unmade(
        request: Request,
        extensions: Extensions,
        places: Places,
        mut unmade: Unmade,
        out: &mut Vec<u8>,
    ) -> Answered {
        let id = request.id.clone();
        if request.method == method::PING {
            // PG-2, as a peer answers it.
            let _ = at_once::result_writer(out, &id);
            out.extend_from_slice(b"{}}");
            return Answered::AtOnce;
        }
        if unmade.max_inbound_requests == 0 {
            inbound::refuse(&request, 0, out);
            return Answered::AtOnce;
        }
        let progress = progress_token(request.params.as_ref());
        let handler = unmade.handler.clone();
        let handed = (extensions, unmade.call.take());
        let peer = crate::context::UnmadePeer::new(unmade);
        let ctx = RequestContext::new(peer, id.clone(), progress, None, handed, places);
        let span = tracing::debug_span!("request", %id, method = %request.method);
        match inbound::first_poll(&*handler, request, &ctx, &id, &span, out) {
            inbound::First::Answered => match ctx.made_peer() {
                None => Answered::AtOnce,
                Some(peer) => Answered::Made {
                    peer: peer.clone(),
                    answered: true,
                },
            },
            inbound::First::Waits(run) => {
                let peer = ctx.peer().clone();
                let answered = peer.go_on(ctx, id, run, span, out);
                Answered::Made { peer, answered }
            }
        }
    }

    /// The transport's own sink, when it is of type `T` (a transport that made this peer finds
    /// its part of it again).
    pub fn sink_as<T: std::any::Any>(&self) -> Option<&T> {
        self.inner.sink.as_any()?.downcast_ref()
    }
}
