//! The session layer: the lifecycle of legacy-era sessions (create, resolve with the principal
//! check, end, reap), the back channel for answers to server-to-client requests, and where
//! events are kept, behind three traits, each a concept of its own:
//!
//! - [`SessionStore`]: the serializable [`SessionRecord`] of each session;
//! - [`EventLog`]: the events of each stream, scoped by session, replayed asynchronously;
//! - [`MessageBus`]: delivery to the instance that waits for a message, and broadcasts.
//!
//! Each instance keeps a local table of the sessions it has served: a session's peer and router
//! live where its requests arrive, built on first sight from the record. With a shared store, log
//! and bus, any instance serves any request of any session: the handshake, calls, the answer to a
//! server-to-client request (its id names the instance that waits), cancellations, resumption
//! from the log and the end of a session reach the instance that needs them.

mod bus;
mod ending;
mod event_log;
mod get_forward;
mod get_holder;
mod session;
mod store;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use dashmap::DashMap;
use futures::StreamExt;
use mcp_http_core::{HandlerFactory, Peer, PeerConfig, Principal, SharedClient};
use mcp_http_proto::RequestId;
use mcp_http_proto::jsonrpc::Message;

pub use bus::{BusError, BusMessage, MemoryBus, MessageBus};
pub use event_log::{EventLog, MemoryEventLog, ReplayError, StreamKey};
pub(crate) use session::{GetOwner, Session};
pub use store::{MemorySessionStore, SessionRecord, SessionStore, StoreError};

use crate::config::HttpConfig;
use crate::random;
use crate::rejection::Rejection;
use crate::router::{BackChannel, LiveStreams, Router};

/// How often the sessions a store lost are looked for before giving up (RB-32).
const LOST_CHECKS: usize = 10;
/// The wait between those attempts.
const LOST_CHECK_RETRY: std::time::Duration = std::time::Duration::from_millis(500);

/// The components of the session layer, shared by the instances that serve the same sessions.
#[derive(Clone)]
pub(crate) struct Backends {
    /// `None`: this instance's table of sessions is the only record of them (one instance, in
    /// memory: a second copy of every session would cost memory for nothing).
    pub(crate) store: Option<Arc<dyn SessionStore>>,
    pub(crate) log: Arc<dyn EventLog>,
    /// `None`: this instance serves its sessions alone.
    pub(crate) bus: Option<Arc<dyn MessageBus>>,
    pub(crate) instance: Arc<str>,
}

/// One instance's view of the sessions.
pub(crate) struct Sessions {
    pub(crate) backends: Backends,
    pub(crate) config: HttpConfig,
    pub(crate) handlers: Arc<dyn HandlerFactory>,
    /// The handler every 2026-07-28 request shares, when the factory gives one (PF-57).
    pub(crate) modern_handler: Option<Arc<dyn mcp_http_core::Handler>>,
    pub(crate) peer_config: PeerConfig,
    /// The sessions this instance has served, by id.
    pub(crate) local: DashMap<Arc<str>, Arc<Session>, foldhash::fast::RandomState>,
    /// Stateless requests' server-to-client request ids, so a client's answer reaches the
    /// waiting handler (design idea 7).
    pub(crate) back_channel: BackChannel,
    /// The running routers of stateless requests by tag (T-31).
    pub(crate) live: LiveStreams,
    pub(crate) shutting_down: AtomicBool,
    /// The open 2026-07-28 `subscriptions/listen` streams.
    pub(crate) listeners: Arc<crate::modern::listen::Listeners>,
    /// The client the last 2026-07-28 request described.
    pub(crate) last_client: crate::modern::ladder::LastClient,
    /// Messages for GET streams other instances hold: (instance, session, message), sent by
    /// [`Sessions::forward_get`] (routing runs under a lock and cannot await the bus).
    to_get: tokio::sync::mpsc::Sender<get_forward::ForGet>,
    to_get_rx: Mutex<Option<tokio::sync::mpsc::Receiver<get_forward::ForGet>>>,
    /// The endpoint's metrics, when they are on (MT-1).
    pub(crate) metrics: Option<Arc<crate::metrics::Metrics>>,
    /// The DELETEs waiting for the other instances to let their session go: session -> the
    /// instances that did (RB-19).
    acks: Mutex<foldhash::HashMap<Arc<str>, Vec<Arc<str>>>>,
    /// Woken at each acknowledgement.
    acked: tokio::sync::Notify,
    /// JSON responses waiting for their notifications to be written where the GET stream is
    /// held, by token (RB-20).
    flushes: Mutex<foldhash::HashMap<u64, tokio::sync::oneshot::Sender<bool>>>,
    next_flush: std::sync::atomic::AtomicU64,
    /// Per session, the claims of its GET stream started here and those still running: a
    /// record read while one ran may predate it, and must not end the GET stream it opened
    /// (RB-38). Kept while the session is served here.
    get_claims: DashMap<Arc<str>, get_holder::Claims, foldhash::fast::RandomState>,
}

impl Sessions {
    pub(crate) fn new(
        backends: Backends,
        config: HttpConfig,
        handlers: Arc<dyn HandlerFactory>,
        metrics: Option<Arc<crate::metrics::Metrics>>,
    ) -> Self {
        let mut peer_config = handlers.peer_config();
        if backends.bus.is_some() {
            // Server-to-client request ids name this instance, so an answer that lands on
            // another instance is sent here.
            peer_config =
                peer_config.request_id_prefix(Some(format!("{}.", backends.instance).into()));
        }
        let (to_get, to_get_rx) = tokio::sync::mpsc::channel(get_forward::TO_GET_QUEUE);
        Sessions {
            backends,
            config,
            modern_handler: handlers.modern_handler(),
            handlers,
            peer_config,
            local: DashMap::default(),
            back_channel: Arc::default(),
            live: Arc::default(),
            shutting_down: AtomicBool::new(false),
            listeners: Arc::default(),
            last_client: Default::default(),
            to_get,
            to_get_rx: Mutex::new(Some(to_get_rx)),
            metrics,
            acks: Mutex::default(),
            acked: tokio::sync::Notify::new(),
            flushes: Mutex::default(),
            next_flush: std::sync::atomic::AtomicU64::new(0),
            get_claims: DashMap::default(),
        }
    }

    /// Sets the sessions gauge (MT-1) after the table changed.
    fn count_sessions(&self) {
        if let Some(metrics) = &self.metrics {
            metrics.sessions(self.local.len());
        }
    }

    pub(crate) fn log(&self) -> &Arc<dyn EventLog> {
        &self.backends.log
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }

    fn build(&self, id: Arc<str>, principal: Option<Principal>) -> Result<Arc<Session>, Rejection> {
        let mut router = Router::new(id.clone(), &self.config, &self.backends.log, None)
            .map_err(|_| Rejection::RandomUnavailable)?;
        if let Some(bus) = &self.backends.bus {
            router = router.owned_by(&self.backends.instance, bus.clone());
        }
        // Only instances that share sessions need to know who holds a GET stream.
        let get_owner: Option<GetOwner> = self.clustered().then(Arc::default);
        if let Some(get_owner) = &get_owner {
            router = router.with_remote_get(Box::new(get_forward::GetForwarder {
                owner: get_owner.clone(),
                me: self.backends.instance.clone(),
                session: id.clone(),
                queue: self.to_get.clone(),
                shared_log: self
                    .backends
                    .bus
                    .as_ref()
                    .is_some_and(|bus| bus.shares_get_log()),
                queued: Arc::default(),
                flushed: Arc::default(),
            }));
        }
        let router = Arc::new(router);
        let peer = Peer::new(
            router.clone(),
            self.handlers.session_handler(),
            self.peer_config.clone(),
        );
        Ok(Arc::new(Session::new(
            id, peer, router, principal, get_owner,
        )))
    }

    /// Applies a changed record to this instance's copy of a session; if another instance now
    /// holds its GET stream, this one's ends and what waited for it goes there.
    async fn apply(&self, session: &Session, record: &SessionRecord) {
        if session
            .synced()
            .is_some_and(|known| known.version > record.version)
        {
            // Read before a change this instance made since: stale.
            return;
        }
        session.restore(record);
        let Some(owner) = session.get_owner() else {
            return;
        };
        if owner == self.backends.instance {
            return;
        }
        let Some(bus) = &self.backends.bus else {
            return;
        };
        for message in session.router.release_get() {
            let message = BusMessage::ToGetStream {
                session: session.id.clone(),
                message,
            };
            if let Err(e) = bus.send(&owner, message).await {
                tracing::warn!(error = %e, "a message for another instance's GET stream was lost");
            }
        }
    }

    /// A new session for an `initialize`, known to this instance only until [`Sessions::commit`]
    /// stores it.
    pub(crate) fn create(&self, principal: Option<Principal>) -> Result<Arc<Session>, Rejection> {
        if self.is_shutting_down() {
            return Err(Rejection::ShuttingDown);
        }
        if self.local.len() >= self.config.max_sessions {
            return Err(Rejection::TooManySessions);
        }
        let id = random::session_id().map_err(|_| Rejection::RandomUnavailable)?;
        let session = self.build(id.clone(), principal)?;
        session.origin.store(true, Ordering::Relaxed);
        self.local.insert(id.clone(), session.clone());
        self.count_sessions();
        tracing::debug!(session = %id, "session created");
        Ok(session)
    }

    /// Stores a session whose `initialize` succeeded: awaited before its id is sent, so the
    /// client's next request finds it on any instance.
    pub(crate) async fn commit(&self, session: &Session) -> Result<(), Rejection> {
        let Some(store) = &self.backends.store else {
            return Ok(());
        };
        let Some(record) = session.record() else {
            return Err(Rejection::SessionNotFound);
        };
        store.save(&record).await.map_err(|e| {
            tracing::warn!(error = %e, "a new session could not be stored");
            Rejection::StoreUnavailable
        })?;
        session.set_synced(&record);
        Ok(())
    }

    /// Saves a session's changed record (`notifications/initialized`, `logging/setLevel`) and
    /// tells the other instances. In a cluster the change is merged into the stored record, so
    /// that a change another instance made, which this one may not have applied yet, is kept
    /// (one more round trip, on these rare requests only).
    pub(crate) async fn sync(&self, session: &Session) {
        let Some(store) = &self.backends.store else {
            return;
        };
        // What this instance last saw, read before its state: a reload applied in between then
        // looks like a change made here, which the stored record already has.
        let base = session.synced();
        let Some(mut record) = session.record() else {
            return;
        };
        if self.clustered() {
            match store.load(&session.id).await {
                Ok(Some(stored)) => {
                    record = session::merge(base.as_ref(), &record, stored);
                    session.restore(&record);
                }
                // Ended elsewhere: not brought back.
                Ok(None) => return,
                Err(e) => {
                    record.version += 1;
                    tracing::warn!(error = %e, session = %session.id, "a session's stored record could not be read; saving this instance's");
                }
            }
        } else {
            record.version += 1;
        }
        session.set_synced(&record);
        if let Err(e) = store.save(&record).await {
            tracing::warn!(error = %e, session = %session.id, "a session's record could not be saved");
        }
        self.broadcast(BusMessage::SessionChanged {
            session: session.id.clone(),
        })
        .await;
    }

    /// Forgets a session whose `initialize` failed.
    pub(crate) fn discard(&self, session: &Session) {
        self.local.remove(&session.id);
        self.count_sessions();
        session.router.close_all(false);
        session.peer.close();
        tracing::debug!(session = %session.id, "initialize failed; session discarded");
    }

    /// The session this instance already serves, checked against `principal` (SEC-6). `None`
    /// when it has none by that id: [`Sessions::load`] asks the store.
    pub(crate) fn local(
        &self,
        id: &str,
        principal: Option<&Principal>,
    ) -> Option<Result<Arc<Session>, Rejection>> {
        let session = self.local.get(id).map(|s| s.clone())?;
        if session.peer.is_closed() {
            // Its handler ended it (a bridged child that exited, BR-6): 404, so the client
            // starts a new session (T-40).
            self.drop_local(id);
            return Some(Err(Rejection::SessionNotFound));
        }
        Some(if session.principal.as_ref() == principal {
            Ok(session)
        } else {
            Err(Rejection::SessionNotFound)
        })
    }

    /// A session this instance has not served yet, rebuilt from its record (a request of a
    /// session another instance created).
    pub(crate) async fn load(
        &self,
        id: &str,
        principal: Option<&Principal>,
    ) -> Result<Arc<Session>, Rejection> {
        let Some(store) = &self.backends.store else {
            return Err(Rejection::SessionNotFound);
        };
        let record = match store.load(id).await {
            Ok(Some(record)) => record,
            Ok(None) => return Err(Rejection::SessionNotFound),
            Err(e) if e.is_corrupt() => {
                tracing::error!(error = %e, "a stored session does not parse");
                return Err(Rejection::StoreCorrupt);
            }
            Err(e) => {
                // Not 404: the session may well exist, and a client drops one it gets 404 for.
                tracing::warn!(error = %e, "the session store is unreachable");
                return Err(Rejection::StoreUnavailable);
            }
        };
        if record.principal.as_deref() != principal.map(Principal::id) {
            return Err(Rejection::SessionNotFound);
        }
        if self.local.len() >= self.config.max_sessions {
            return Err(Rejection::TooManySessions);
        }
        let session = self.build(record.id.clone(), principal.cloned())?;
        session.restore(&record);
        // Two requests may rebuild it at once: the first one in wins.
        let session = self
            .local
            .entry(record.id.clone())
            .or_insert(session)
            .clone();
        self.count_sessions();
        tracing::debug!(session = %id, "session loaded from the store");
        Ok(session)
    }

    /// Ends a session here and everywhere: its streams close, its peers close (cancelling
    /// running handlers), its record and events go, and later requests get 404 (T-40).
    pub(crate) async fn end(&self, id: &str) {
        self.forget(id).await;
        self.broadcast(BusMessage::SessionEnded { session: id.into() })
            .await;
    }

    /// This instance's copy, the record and the events of an ended session go.
    async fn forget(&self, id: &str) {
        self.drop_local(id);
        if let Some(store) = &self.backends.store
            && let Err(e) = store.delete(id).await
        {
            tracing::warn!(error = %e, session = %id, "an ended session could not be deleted");
        }
        self.backends.log.forget_session(id);
    }

    /// Forgets a session on this instance only; whether it was held here.
    pub(crate) fn drop_local(&self, id: &str) -> bool {
        self.get_claims.remove(id);
        let Some((_, session)) = self.local.remove(id) else {
            return false;
        };
        self.count_sessions();
        session.router.close_all(false);
        session.peer.close();
        tracing::debug!(session = %id, "session ended");
        true
    }

    async fn broadcast(&self, message: BusMessage) {
        if let Some(bus) = &self.backends.bus
            && let Err(e) = bus.broadcast(&self.backends.instance, message).await
        {
            tracing::warn!(error = %e, "a broadcast to the other instances failed");
        }
    }

    /// The instance that sent server-to-client request `id`, when it is another one.
    pub(crate) fn owner_elsewhere<'a>(&self, id: &'a RequestId) -> Option<&'a str> {
        self.backends.bus.as_ref()?;
        let RequestId::String(id) = id else {
            return None;
        };
        let (owner, _) = id.split_once('.')?;
        (owner != &*self.backends.instance).then_some(owner)
    }

    /// Passes a client's answer to a server-to-client request on to the instance that waits for
    /// it (its id names it).
    pub(crate) async fn forward(
        &self,
        owner: &str,
        session: Option<Arc<str>>,
        message: Bytes,
    ) -> Result<(), Rejection> {
        let Some(bus) = &self.backends.bus else {
            return Ok(());
        };
        let Err(e) = bus
            .send(owner, BusMessage::Deliver { session, message })
            .await
        else {
            return Ok(());
        };
        // Only on this failure path: was it the instance (gone, RB-27) or the bus?
        if let Ok(false) = bus.is_alive(owner).await {
            return Err(Rejection::AnswerOwnerGone);
        }
        tracing::warn!(error = %e, "an answer could not be passed to its instance");
        Err(Rejection::StoreUnavailable)
    }

    /// A client notification every instance serving the session must see.
    pub(crate) async fn notify_all(&self, session: &Arc<str>, message: Bytes) {
        self.broadcast(BusMessage::Notify {
            session: session.clone(),
            message,
        })
        .await;
    }

    /// Whether other instances may serve this instance's sessions.
    pub(crate) fn clustered(&self) -> bool {
        self.backends.bus.is_some()
    }

    /// This instance's messages on the bus, from now on (`None` without a bus).
    pub(crate) fn subscribe(&self) -> Option<futures::stream::BoxStream<'static, BusMessage>> {
        Some(
            self.backends
                .bus
                .as_ref()?
                .subscribe(&self.backends.instance),
        )
    }

    /// Acts on what other instances said, until the bus or the layer is gone.
    pub(crate) async fn listen(
        sessions: std::sync::Weak<Sessions>,
        mut messages: futures::stream::BoxStream<'static, BusMessage>,
    ) {
        while let Some(message) = messages.next().await {
            let Some(sessions) = sessions.upgrade() else {
                return;
            };
            if let BusMessage::StoreDataLost = message {
                // Its checks may wait for the store: the bus's other messages go on meanwhile.
                tokio::spawn(async move { sessions.drop_lost().await });
                continue;
            }
            sessions.receive(message).await;
        }
    }

    async fn receive(&self, message: BusMessage) {
        match message {
            BusMessage::Deliver {
                session: Some(session),
                message,
            }
            | BusMessage::Notify { session, message } => {
                let Some(local) = self.local.get(&session).map(|s| s.clone()) else {
                    return;
                };
                match Message::parse(&message) {
                    Ok(message) => local.peer.receive(message).await,
                    Err(e) => tracing::debug!(error = %e.error, "an unreadable bus message"),
                }
            }
            BusMessage::Deliver {
                session: None,
                message,
            } => {
                let Ok(Message::Response(response)) = Message::parse(&message) else {
                    return;
                };
                let waiting = response
                    .id
                    .as_ref()
                    .and_then(|id| self.back_channel.remove(id));
                if let Some(peer) = waiting.and_then(|(_, peer)| peer.upgrade()) {
                    peer.receive(Message::Response(response)).await;
                }
            }
            BusMessage::ToGetStream { session, message } => {
                if let Some(local) = self.local.get(&session).map(|s| s.clone()) {
                    self.deliver_after_claims(&local, message);
                }
            }
            BusMessage::Broadcast {
                message,
                subscribers_of,
                entry: Some(entry),
                from,
            } => {
                if from.as_deref() != Some(&*self.backends.instance) {
                    self.listeners.deliver(&message, subscribers_of.as_deref());
                }
                self.deliver_shared_broadcast(&message, subscribers_of.as_deref(), &entry)
                    .await;
            }
            BusMessage::Broadcast {
                message,
                subscribers_of,
                entry: None,
                ..
            } => self.deliver_broadcast(&message, subscribers_of.as_deref()),
            BusMessage::SessionEnded { session } => self.ended_elsewhere(&session),
            BusMessage::SessionEnding { session, ack_to } => {
                self.ended_elsewhere(&session);
                if let Some(bus) = &self.backends.bus {
                    let ack = BusMessage::EndAcknowledged {
                        session,
                        by: self.backends.instance.clone(),
                    };
                    if let Err(e) = bus.send(&ack_to, ack).await {
                        tracing::debug!(error = %e, "the end of a session could not be acknowledged");
                    }
                }
            }
            BusMessage::GetFlush {
                session,
                token,
                reply_to,
            } => self.answer_get_flush(&session, token, reply_to),
            BusMessage::GetFlushed { token } => {
                if let Some(done) = mcp_http_core::sync::lock(&self.flushes).remove(&token) {
                    let _ = done.send(true);
                }
            }
            BusMessage::EndAcknowledged { session, by } => {
                if let Some(done) = mcp_http_core::sync::lock(&self.acks).get_mut(&session) {
                    done.push(by);
                }
                self.acked.notify_waiters();
            }
            BusMessage::SessionChanged { session } => {
                let Some(local) = self.local.get(&session).map(|s| s.clone()) else {
                    return;
                };
                let Some(store) = &self.backends.store else {
                    return;
                };
                let record = if self.shares_get_log() {
                    self.load_after_claims(store, &session).await
                } else {
                    store.load(&session).await.ok().flatten()
                };
                if let Some(record) = record {
                    self.apply(&local, &record).await;
                }
            }
            // Handled by `listen`.
            BusMessage::StoreDataLost => {}
        }
    }

    /// The store lost its data: the sessions held here whose records are gone end here too,
    /// so this instance answers 404 for them like the others (RB-32). Sessions created since
    /// (their records exist) are kept. One round trip for all of them.
    async fn drop_lost(&self) {
        let Some(store) = &self.backends.store else {
            return;
        };
        let held: Vec<Arc<str>> = self.local.iter().map(|s| s.id.clone()).collect();
        if held.is_empty() {
            return;
        }
        // The loss is told once: a store unreachable again meanwhile is asked again, a few
        // times, a retry interval apart.
        let mut exist = None;
        for _ in 0..LOST_CHECKS {
            match store.exist(&held).await {
                Ok(found) => {
                    exist = Some(found);
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the sessions the store lost could not be checked");
                    tokio::time::sleep(LOST_CHECK_RETRY).await;
                }
            }
        }
        let Some(exist) = exist else {
            return;
        };
        let mut dropped = 0;
        for (id, exists) in held.iter().zip(exist) {
            if !exists && self.drop_local(id) {
                self.backends.log.forget_session(id);
                dropped += 1;
            }
        }
        tracing::warn!(
            dropped,
            kept = held.len() - dropped,
            "the session store lost its data: the sessions it no longer has end here too"
        );
    }

    /// Another instance ended a session.
    fn ended_elsewhere(&self, session: &str) {
        // Events this instance queued for the session's streams (a shared log is written
        // behind) may land after the ending instance removed the session's logs: forget them
        // again here, behind them (RB-11).
        if self.drop_local(session) {
            self.backends.log.forget_session(session);
        }
    }

    /// The reaper's pass: sessions idle past the timeout end, the others are kept alive in the
    /// store, empty router tables are released. In a cluster a copy idle here ends only this
    /// instance's copy while another instance keeps the session alive in the store.
    pub(crate) async fn reap(&self) {
        let limit = u64::try_from(self.config.idle_timeout.as_millis()).unwrap_or(u64::MAX);
        let mut idle: Vec<Arc<str>> = Vec::new();
        let mut alive: Vec<Arc<str>> = Vec::new();
        for session in self.local.iter() {
            session.router.release_idle_tables();
            match session.idle_ms() {
                // A session whose handler closed it is over, idle or not (BR-6).
                _ if session.peer.is_closed() => idle.push(session.id.clone()),
                Some(ms) if ms >= limit => idle.push(session.id.clone()),
                _ => alive.push(session.id.clone()),
            }
        }
        if let Some(store) = &self.backends.store
            && let Err(e) = store.touch(&alive).await
        {
            tracing::warn!(error = %e, "active sessions could not be kept alive in the store");
        }
        for id in idle {
            if self.clustered() && self.alive_elsewhere(&id, limit).await {
                self.drop_local(&id);
                continue;
            }
            tracing::debug!(session = %id, "idle session reaped");
            self.end(&id).await;
        }
        self.backends.log.prune();
    }

    /// Whether another instance kept the session alive within the idle timeout.
    async fn alive_elsewhere(&self, id: &str, limit: u64) -> bool {
        let Some(store) = &self.backends.store else {
            return false;
        };
        match store.load(id).await {
            Ok(Some(record)) => store::unix_ms().saturating_sub(record.last_active_ms) < limit,
            Ok(None) => false,
            // Unknown: keep the session rather than end it for everyone.
            Err(_) => true,
        }
    }
}

/// The client every stateless request is assumed to come from, and how a stored session's
/// client is rebuilt.
pub(crate) fn shared_client(record: &SessionRecord) -> SharedClient {
    SharedClient::from_raw(
        record.client_info.clone(),
        record.client_capabilities.clone(),
    )
}
