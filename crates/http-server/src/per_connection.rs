//! Sessions that live as long as one connection: the 2024-11-05 HTTP+SSE transport's (a GET
//! stream and the POSTs that name it, [`crate::legacy_sse`], BR-33). Each is a core [`Peer`]
//! whose handler comes from the endpoint's [`HandlerFactory`](mcp_http_core::HandlerFactory),
//! like a Streamable HTTP session's, and whose messages all go out on its one connection; the
//! connection's end ends it (its handlers cancelled, the handler's own end hooks run).

use std::sync::{Arc, Weak};

use dashmap::DashMap;
use mcp_http_core::{Extensions, MessageSink, Peer, Places, Principal};
use mcp_http_proto::jsonrpc::{Message, Parsed};

use crate::rejection::Rejection;
use crate::service::Inner;

/// One connection's session.
pub(crate) struct Connection {
    pub(crate) peer: Peer,
    /// Who opened it: later requests naming it must come from the same principal (SEC-6).
    principal: Option<Principal>,
}

/// The sessions of the open connections, by id.
#[derive(Default)]
pub(crate) struct PerConnection {
    table: DashMap<Arc<str>, Arc<Connection>>,
}

/// Ends its connection's session when dropped (the response body holds it).
pub(crate) struct EndOnClose {
    table: Weak<PerConnection>,
    id: Arc<str>,
    peer: Peer,
}

impl Drop for EndOnClose {
    fn drop(&mut self) {
        if let Some(table) = self.table.upgrade() {
            table.table.remove(&self.id);
        }
        tracing::debug!(session = %self.id, "connection closed: its session ends");
        self.peer.close();
    }
}

impl PerConnection {
    /// Opens a session sending through `sink`: its id, the session, and the guard that ends it.
    pub(crate) fn open(
        self: &Arc<Self>,
        inner: &Inner,
        sink: Arc<dyn MessageSink>,
        principal: Option<Principal>,
    ) -> Result<(Arc<str>, Arc<Connection>, EndOnClose), Rejection> {
        let sessions = &inner.sessions;
        if sessions.is_shutting_down() {
            return Err(Rejection::ShuttingDown);
        }
        if self.table.len() + sessions.local.len() >= inner.config().max_sessions {
            return Err(Rejection::TooManySessions);
        }
        let id = crate::random::session_id().map_err(|_| Rejection::RandomUnavailable)?;
        let peer = Peer::new(
            sink,
            inner.handlers.session_handler(),
            sessions.peer_config.clone(),
        );
        let connection = Arc::new(Connection {
            peer: peer.clone(),
            principal,
        });
        self.table.insert(id.clone(), connection.clone());
        let guard = EndOnClose {
            table: Arc::downgrade(self),
            id: id.clone(),
            peer,
        };
        Ok((id, connection, guard))
    }

    /// The session `id`, if it is open and belongs to `principal` (404 otherwise, T-40).
    pub(crate) fn get(
        &self,
        id: &str,
        principal: Option<&Principal>,
    ) -> Result<Arc<Connection>, Rejection> {
        let connection = self
            .table
            .get(id)
            .map(|c| c.clone())
            .ok_or(Rejection::SessionNotFound)?;
        if connection.principal.as_ref().map(Principal::id) != principal.map(Principal::id) {
            return Err(Rejection::SessionNotFound);
        }
        Ok(connection)
    }

    /// How many are open.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Ends every session: their connections close once what was queued is written.
    pub(crate) fn close_all(&self) {
        let open: Vec<Arc<Connection>> = self.table.iter().map(|c| c.clone()).collect();
        for connection in open {
            connection.peer.close();
        }
    }
}

/// Hands what a client sent to its connection's session: a request's answer goes out on the
/// connection when it comes; an element of a batch that is not a message is answered with the
/// matching JSON-RPC error.
pub(crate) async fn deliver(peer: &Peer, parsed: Parsed, extensions: &Extensions) {
    match parsed {
        Parsed::Single(message) => one(peer, message, extensions).await,
        Parsed::Batch(items) => {
            for item in items {
                match Message::parse(item.get().as_bytes()) {
                    Ok(message) => one(peer, message, extensions).await,
                    Err(invalid) => peer.reply_invalid(invalid).await,
                }
            }
        }
    }
}

async fn one(peer: &Peer, message: Message, extensions: &Extensions) {
    match message {
        // No places among the requests in progress: the limits of those counts are the
        // endpoint's, not applied on these transports (docs/bridge.md says so).
        Message::Request(request) => {
            peer.receive_request(request, extensions.clone(), Places::default())
                .await
        }
        other => peer.receive(other).await,
    }
}
