//! What a transport that creates peers itself needs from a role: the HTTP server makes a peer
//! per session and per stateless exchange, and asks its [`HandlerFactory`] for their handlers.
//! The server role implements it; so can a custom [`Handler`] (a stdio child bridged to HTTP, a
//! proxy), which then sits behind the same endpoint.

use std::sync::Arc;

use bytes::Bytes;
use mcp_http_proto::SubscriptionFilter;

use crate::peer::{Handler, PeerConfig};

/// A notification a role sends to every session (a list changed, a resource updated).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Broadcast {
    /// The whole JSON-RPC notification.
    pub message: Bytes,
    /// When set, only sessions subscribed to this resource get it.
    pub subscribers_of: Option<String>,
}

impl Broadcast {
    /// A notification for every session, or (with `subscribers_of`) for the subscribers of a
    /// resource.
    pub fn new(message: Bytes, subscribers_of: Option<String>) -> Self {
        Broadcast {
            message,
            subscribers_of,
        }
    }
}

/// Delivers a [`Broadcast`] to every session, wherever it is served.
pub type Broadcaster = Arc<dyn Fn(Broadcast) + Send + Sync>;

/// Makes the handlers of the peers a multi-session transport creates.
pub trait HandlerFactory: Send + Sync + 'static {
    /// The handler of a new session (it sees the session's `initialize` first).
    fn session_handler(&self) -> Arc<dyn Handler>;

    /// The handler of one stateless exchange: no `initialize` precedes its request (the
    /// transport sets the negotiated state itself).
    fn stateless_handler(&self) -> Arc<dyn Handler>;

    /// A handler that every 2026-07-28 request may share (PF-57): such a request is stateless,
    /// its state negotiated by the transport from the request itself, and it never initializes
    /// a session nor subscribes one, so a handler that keeps nothing else per exchange can
    /// serve them all. The transport asks once and keeps it. The default, `None`: each such
    /// request gets a [`HandlerFactory::stateless_handler`] of its own.
    fn modern_handler(&self) -> Option<Arc<dyn Handler>> {
        None
    }

    /// Settings of each peer the transport creates (timeouts of requests to the client).
    fn peer_config(&self) -> PeerConfig {
        PeerConfig::default()
    }

    /// A transport whose sessions are served by several instances hands the role a
    /// broadcaster: the role then sends its notifications for every session through it (the
    /// transport delivers them to each session, on whichever instance holds its stream),
    /// instead of to the sessions it serves itself. The default ignores it.
    fn set_broadcaster(&self, broadcaster: Broadcaster) {
        let _ = broadcaster;
    }

    /// The part of a 2026-07-28 `subscriptions/listen` filter the role can deliver (SB-1): what
    /// its capabilities say it notifies. The default honours the whole request.
    fn listen_filter(&self, requested: &SubscriptionFilter) -> SubscriptionFilter {
        requested.clone()
    }
}

/// Any handler that can be shared is its own factory: every session and exchange gets the same
/// handler.
impl HandlerFactory for Arc<dyn Handler> {
    fn session_handler(&self) -> Arc<dyn Handler> {
        self.clone()
    }

    fn stateless_handler(&self) -> Arc<dyn Handler> {
        self.clone()
    }
}
