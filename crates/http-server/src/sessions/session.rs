//! One legacy-era session on this instance: its peer and router, the principal it belongs to,
//! and its activity, which the idle reaper reads (open streams and running requests count).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use mcp_http_core::{Peer, Principal};
use mcp_http_proto::ProtocolVersion;

use super::store::{SessionRecord, unix_ms};
use crate::router::Router;

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Who holds a session's GET stream, when instances share sessions.
pub(crate) type GetOwner = Arc<Mutex<Option<Arc<str>>>>;

/// One legacy-era session.
pub(crate) struct Session {
    pub(crate) id: Arc<str>,
    pub(crate) peer: Peer,
    pub(crate) router: Arc<Router>,
    pub(crate) principal: Option<Principal>,
    last_active_ms: AtomicU64,
    created_ms: AtomicU64,
    /// The instance that holds the GET stream, shared with the router's forwarder (only when
    /// instances share sessions).
    pub(crate) get_owner: Option<GetOwner>,
    /// Whether this instance created the session (ran its `initialize`): in a cluster, the
    /// instance that holds what waits for a GET stream until one opens somewhere.
    pub(crate) origin: std::sync::atomic::AtomicBool,
}

impl Session {
    pub(crate) fn new(
        id: Arc<str>,
        peer: Peer,
        router: Arc<Router>,
        principal: Option<Principal>,
        get_owner: Option<GetOwner>,
    ) -> Self {
        Session {
            id,
            peer,
            router,
            principal,
            last_active_ms: AtomicU64::new(now_ms()),
            created_ms: AtomicU64::new(unix_ms()),
            get_owner,
            origin: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The instance that holds the GET stream.
    pub(crate) fn get_owner(&self) -> Option<Arc<str>> {
        mcp_http_core::sync::lock(self.get_owner.as_ref()?).clone()
    }

    pub(crate) fn touch(&self) {
        self.last_active_ms.store(now_ms(), Ordering::Relaxed);
    }

    pub(crate) fn open_connections(&self) -> usize {
        self.router.connections.load(Ordering::Relaxed)
    }

    /// Priming and polling only from 2025-11-25 on (T-21b).
    pub(crate) fn sync_priming(&self) {
        if self
            .peer
            .state()
            .protocol_version()
            .is_some_and(ProtocolVersion::supports_priming)
        {
            self.router.enable_priming();
        }
    }

    /// How long the session has been idle; `None` while it is busy.
    pub(crate) fn idle_ms(&self) -> Option<u64> {
        let busy = self.open_connections() > 0
            || self.peer.inflight_count() > 0
            || self.router.open_requests() > 0;
        (!busy).then(|| now_ms().saturating_sub(self.last_active_ms.load(Ordering::Relaxed)))
    }

    /// The session as a record, once `initialize` negotiated it.
    pub(crate) fn record(&self) -> Option<SessionRecord> {
        let state = self.peer.state();
        let version = state.protocol_version()?;
        let info = state.client_info()?.clone();
        let mut record = SessionRecord::new(
            self.id.clone(),
            version,
            info,
            state.client_capabilities_raw().cloned(),
            self.principal.as_ref().map(|p| p.id().to_owned()),
        );
        record.initialized = state.is_initialized();
        record.log_level = state.log_level();
        record.subscriptions = state.subscriptions();
        record.created_ms = self.created_ms.load(Ordering::Relaxed);
        record.get_owner = self.get_owner().map(|o| o.to_string());
        Some(record)
    }

    /// Takes the negotiated state from a stored record (a session another instance created,
    /// or one whose record changed there).
    pub(crate) fn restore(&self, record: &SessionRecord) {
        let state = self.peer.state();
        if !state.is_negotiated() {
            state.set_shared_client(record.protocol_version, &super::shared_client(record));
        }
        if record.initialized {
            state.set_initialized();
        }
        if let Some(level) = record.log_level {
            state.set_log_level(level);
        }
        state.set_subscriptions(record.subscriptions.clone());
        self.created_ms.store(record.created_ms, Ordering::Relaxed);
        if let Some(owner) = &self.get_owner {
            *mcp_http_core::sync::lock(owner) = record.get_owner.as_deref().map(Arc::from);
        }
        self.sync_priming();
    }
}
