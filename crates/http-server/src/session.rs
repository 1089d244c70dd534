//! Sessions: activity tracking, the end of a session, and the idle reaper that counts open
//! streams and running requests as activity.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Instant;

use mcp_http_core::{Peer, Principal};
use mcp_http_proto::ProtocolVersion;

use crate::router::Router;
use crate::service::{Inner, reap_interval};

impl Inner {
    /// Ends a session: its streams close, its peer closes (cancelling running handlers), and later
    /// requests with its id get 404 (T-40).
    pub(crate) fn end_session(&self, id: &str) {
        if let Some((_, session)) = self.sessions.remove(id) {
            session.router.close_all(false);
            session.peer.close();
            self.event_store.forget_session(id);
            tracing::debug!(session = %id, "session ended");
        }
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// One legacy-era session.
pub(crate) struct Session {
    pub(crate) id: Arc<str>,
    pub(crate) peer: Peer,
    pub(crate) router: Arc<Router>,
    pub(crate) principal: Option<Principal>,
    last_active_ms: AtomicU64,
}

impl Session {
    pub(crate) fn new(
        id: Arc<str>,
        peer: Peer,
        router: Arc<Router>,
        principal: Option<Principal>,
    ) -> Self {
        Session {
            id,
            peer,
            router,
            principal,
            last_active_ms: AtomicU64::new(now_ms()),
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

    fn idle_ms(&self) -> Option<u64> {
        let busy = self.open_connections() > 0
            || self.peer.inflight_count() > 0
            || self.router.open_requests() > 0;
        (!busy).then(|| now_ms().saturating_sub(self.last_active_ms.load(Ordering::Relaxed)))
    }
}

/// Closes sessions idle for longer than the configured timeout, until the service is dropped.
pub(crate) async fn reap(service: Weak<Inner>) {
    let Some(interval) = service
        .upgrade()
        .map(|s| reap_interval(s.config.idle_timeout))
    else {
        return;
    };
    loop {
        tokio::time::sleep(interval).await;
        let Some(inner) = service.upgrade() else {
            return;
        };
        let limit = u64::try_from(inner.config.idle_timeout.as_millis()).unwrap_or(u64::MAX);
        let mut idle: Vec<Arc<str>> = Vec::new();
        for session in inner.sessions.iter() {
            session.router.release_idle_tables();
            if session.idle_ms().is_some_and(|ms| ms >= limit) {
                idle.push(session.id.clone());
            }
        }
        for id in idle {
            tracing::debug!(session = %id, "idle session reaped");
            inner.end_session(&id);
        }
        inner.event_store.prune();
    }
}
