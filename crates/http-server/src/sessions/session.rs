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
pub(crate) type GetOwner = Arc<GetOwnerCell>;

/// The instance known to hold a session's GET stream, and a wake-up for the JSON responses
/// that wait until some instance claims it (RB-48).
#[derive(Default)]
pub(crate) struct GetOwnerCell {
    holder: Mutex<Option<Arc<str>>>,
    claimed: tokio::sync::Notify,
}

impl GetOwnerCell {
    /// The holder as this instance knows it.
    pub(crate) fn get(&self) -> Option<Arc<str>> {
        mcp_http_core::sync::lock(&self.holder).clone()
    }

    /// Notes the holder; a holder named wakes whoever waits for a claim.
    pub(crate) fn set(&self, holder: Option<Arc<str>>) {
        let named = holder.is_some();
        *mcp_http_core::sync::lock(&self.holder) = holder;
        if named {
            self.claimed.notify_waiters();
        }
    }

    /// Done at the next [`GetOwnerCell::set`] that names a holder (enable it before asking, so
    /// that a claim seen meanwhile is not missed).
    pub(crate) fn claimed(&self) -> tokio::sync::futures::Notified<'_> {
        self.claimed.notified()
    }
}

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
    /// The record as this instance last saved or loaded it: what a change made here is told
    /// apart from the stored record by (see [`merge`]). Boxed: only instances with a session
    /// store keep one, and inline it would be most of every session's size (PF-3).
    synced: Mutex<Option<Box<SessionRecord>>>,
    /// The session's tracing span (MT-4), open while this instance serves it; each request
    /// span of the session follows from it. `None` when the span is disabled (the usual case
    /// without span export): a disabled span is 40 bytes that record nothing (PF-3).
    span: Option<Box<tracing::Span>>,
}

/// The record to save for a change made on this instance: the stored record (which other
/// instances may have changed since this one last saw it), with the fields this instance
/// changed since `base` taken from `local`. Subscriptions merge as a set: what was added here
/// is added, what was removed here is removed, the others' changes stay.
pub(crate) fn merge(
    base: Option<&SessionRecord>,
    local: &SessionRecord,
    mut stored: SessionRecord,
) -> SessionRecord {
    stored.version = stored.version.max(local.version) + 1;
    stored.initialized |= local.initialized;
    if base.is_none_or(|b| b.log_level != local.log_level) {
        stored.log_level = local.log_level;
    }
    if base.is_none_or(|b| b.get_owner != local.get_owner) {
        stored.get_owner.clone_from(&local.get_owner);
    }
    let before: &[String] = base.map_or(&[], |b| &b.subscriptions);
    stored
        .subscriptions
        .retain(|uri| local.subscriptions.contains(uri) || !before.contains(uri));
    for uri in &local.subscriptions {
        if !before.contains(uri) && !stored.subscriptions.contains(uri) {
            stored.subscriptions.push(uri.clone());
        }
    }
    stored
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
            span: Some(tracing::info_span!("mcp.session", session = %id))
                .filter(|span| !span.is_disabled())
                .map(Box::new),
            id,
            peer,
            router,
            principal,
            last_active_ms: AtomicU64::new(now_ms()),
            created_ms: AtomicU64::new(unix_ms()),
            get_owner,
            origin: std::sync::atomic::AtomicBool::new(false),
            synced: Mutex::new(None),
        }
    }

    /// The record as this instance last saved or loaded it.
    pub(crate) fn synced(&self) -> Option<SessionRecord> {
        mcp_http_core::sync::lock(&self.synced).as_deref().cloned()
    }

    /// Notes the record as saved or loaded now.
    pub(crate) fn set_synced(&self, record: &SessionRecord) {
        *mcp_http_core::sync::lock(&self.synced) = Some(Box::new(record.clone()));
    }

    /// Makes `span` follow from the session's span (MT-4), when that one is enabled.
    pub(crate) fn follows_from(&self, span: &tracing::Span) {
        if let Some(session) = &self.span {
            span.follows_from(&**session);
        }
    }

    /// The instance that holds the GET stream.
    pub(crate) fn get_owner(&self) -> Option<Arc<str>> {
        self.get_owner.as_ref()?.get()
    }

    /// This instance claimed the session's GET stream in the shared log, which recorded it
    /// there (RB-36): known here as the holder, and as the stored holder too, so that a later
    /// merge of a change made here does not write it back over a newer claim elsewhere.
    pub(crate) fn claimed_get(&self, me: &Arc<str>) {
        if let Some(owner) = &self.get_owner {
            owner.set(Some(me.clone()));
        }
        if let Some(synced) = mcp_http_core::sync::lock(&self.synced).as_deref_mut() {
            synced.get_owner = Some(me.to_string());
        }
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
        record.version = self.synced().map_or(0, |r| r.version);
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
            owner.set(record.get_owner.as_deref().map(Arc::from));
        }
        self.sync_priming();
        self.set_synced(record);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use mcp_http_proto::{Implementation, LoggingLevel};

    use super::*;

    fn record(subscriptions: &[&str]) -> SessionRecord {
        let mut record = SessionRecord::new(
            "s".into(),
            ProtocolVersion::LATEST_LEGACY,
            Implementation::new("c", "1"),
            None,
            None,
        );
        record.subscriptions = subscriptions.iter().map(|s| s.to_string()).collect();
        record
    }

    /// RB-14: a change made here is merged into the stored record, keeping the others'.
    #[test]
    fn a_change_here_keeps_the_changes_made_elsewhere() {
        // Seen here: subscribed to a. Elsewhere since: b subscribed, level set.
        let base = record(&["a"]);
        let mut stored = record(&["a", "b"]);
        stored.log_level = Some(LoggingLevel::Debug);
        // Here: a GET opened, c subscribed, a unsubscribed.
        let mut local = record(&["c"]);
        local.get_owner = Some("i0".into());
        let merged = merge(Some(&base), &local, stored);
        assert_eq!(merged.subscriptions, ["b", "c"]);
        assert_eq!(merged.log_level, Some(LoggingLevel::Debug), "kept");
        assert_eq!(merged.get_owner.as_deref(), Some("i0"), "taken");
        assert_eq!(merged.version, 1, "a new version");
    }

    /// PF-3: what every idle session allocates for its record and its router stays within the
    /// allocator's size classes it had before the cluster's and tracing's fields (a session
    /// record, a span, a bus) were added: those are boxed, or left out when unused.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn an_idle_sessions_record_and_router_stay_small() {
        // The allocations are `Arc`s: two counters before the value.
        let session = 16 + std::mem::size_of::<Session>();
        let router = 16 + std::mem::size_of::<Router>();
        assert!(session <= 128, "Arc<Session> is {session} bytes");
        assert!(router <= 384, "Arc<Router> is {router} bytes");
        // PF-90: the global allocator asks mimalloc for an aligned block (`mi_malloc_aligned`),
        // which, when the class's current page is full, over-allocates by the alignment less
        // one: a block exactly at a class's top (384) then goes to the next class (448) for
        // good. 8 bytes under the top it still fits its class.
        assert!(router <= 384 - 8, "Arc<Router> is {router} bytes");
    }
}
