//! What a transport that creates peers itself needs from a role: the HTTP server makes a peer
//! per session and per stateless exchange, and asks its [`HandlerFactory`] for their handlers.
//! The server role implements it; so can a custom [`Handler`] (a stdio child bridged to HTTP, a
//! proxy), which then sits behind the same endpoint.

use std::sync::Arc;

use crate::peer::{Handler, PeerConfig};

/// Makes the handlers of the peers a multi-session transport creates.
pub trait HandlerFactory: Send + Sync + 'static {
    /// The handler of a new session (it sees the session's `initialize` first).
    fn session_handler(&self) -> Arc<dyn Handler>;

    /// The handler of one stateless exchange: no `initialize` precedes its request (the
    /// transport sets the negotiated state itself).
    fn stateless_handler(&self) -> Arc<dyn Handler>;

    /// Settings of each peer the transport creates (timeouts of requests to the client).
    fn peer_config(&self) -> PeerConfig {
        PeerConfig::default()
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
