//! What a session is, wherever it is served: a serializable [`SessionRecord`] in a
//! [`SessionStore`], so any instance behind a load balancer can accept the session's id, check its
//! principal (SEC-6) and rebuild its negotiated state.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dashmap::DashMap;
use futures::future::BoxFuture;
use mcp_http_proto::{Implementation, LoggingLevel, ProtocolVersion};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One session as every instance sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionRecord {
    /// The session id (T-38).
    pub id: Arc<str>,
    /// The protocol version `initialize` negotiated.
    pub protocol_version: ProtocolVersion,
    /// The client's `clientInfo`.
    pub client_info: Implementation,
    /// The client's capabilities, as the JSON text it sent.
    pub client_capabilities: Option<Arc<RawValue>>,
    /// Whether `notifications/initialized` arrived.
    pub initialized: bool,
    /// The level of `logging/setLevel`, if the client set one.
    pub log_level: Option<LoggingLevel>,
    /// The principal that created the session (SEC-6).
    pub principal: Option<String>,
    /// The resources the client subscribed to.
    pub subscriptions: Vec<String>,
    /// The instance that holds the session's GET stream, if one was opened.
    pub get_owner: Option<String>,
    /// When the session was created, in milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// When a request last touched the session, in milliseconds since the Unix epoch.
    pub last_active_ms: u64,
    /// How many times the record was changed since `initialize`: an instance ignores a copy
    /// older than the one it has (a reload that raced with a change made here).
    #[serde(default)]
    pub version: u64,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl SessionRecord {
    /// A record for a session created now.
    pub fn new(
        id: Arc<str>,
        protocol_version: ProtocolVersion,
        client_info: Implementation,
        client_capabilities: Option<Arc<RawValue>>,
        principal: Option<String>,
    ) -> Self {
        let now = unix_ms();
        SessionRecord {
            id,
            protocol_version,
            client_info,
            client_capabilities,
            initialized: false,
            log_level: None,
            principal,
            subscriptions: Vec::new(),
            get_owner: None,
            created_ms: now,
            last_active_ms: now,
            version: 0,
        }
    }
}

/// Why a store could not answer: it is unreachable (the request gets 503, as the session may
/// well exist), or what it holds does not parse ([`StoreError::corrupt`]: 500).
#[derive(Debug, Clone, thiserror::Error)]
#[error("session store {kind}: {reason}", kind = if *.1 { "value unreadable" } else { "unavailable" }, reason = .0)]
#[non_exhaustive]
pub struct StoreError(pub String, bool);

impl StoreError {
    /// The store is unreachable, for this reason (a store outside this crate makes its errors
    /// so).
    pub fn new(reason: impl Into<String>) -> Self {
        StoreError(reason.into(), false)
    }

    /// A stored value does not parse, for this reason.
    pub fn corrupt(reason: impl Into<String>) -> Self {
        StoreError(reason.into(), true)
    }

    /// Whether a stored value did not parse (rather than the store being unreachable).
    pub fn is_corrupt(&self) -> bool {
        self.1
    }
}

/// Where session records live. The memory store serves one process; a shared one (Redis) lets
/// every instance behind a balancer serve every session.
pub trait SessionStore: Send + Sync + 'static {
    /// Saves a record, new or changed.
    fn save(&self, record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>>;
    /// The record of a live session, `None` if it is unknown, ended or expired.
    fn load(&self, id: &str) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>>;
    /// Marks sessions as active now (a batch: the reaper keeps busy sessions alive).
    fn touch(&self, ids: &[Arc<str>]) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Forgets a session (it ended).
    fn delete(&self, id: &str) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Which of these sessions have a record, in order (after the store lost its data, RB-32).
    /// The default loads each record; a shared store answers in one round trip.
    fn exist(&self, ids: &[Arc<str>]) -> BoxFuture<'_, Result<Vec<bool>, StoreError>> {
        let ids = ids.to_vec();
        Box::pin(async move {
            let mut exist = Vec::with_capacity(ids.len());
            for id in &ids {
                exist.push(self.load(id).await?.is_some());
            }
            Ok(exist)
        })
    }
}

/// The default store: records in memory, expired once idle for longer than the idle timeout.
#[derive(Debug)]
pub struct MemorySessionStore {
    records: DashMap<Arc<str>, SessionRecord, foldhash::fast::RandomState>,
    idle: Duration,
}

impl Default for MemorySessionStore {
    fn default() -> Self {
        Self::new(Duration::from_secs(30 * 60))
    }
}

impl MemorySessionStore {
    /// A store that forgets a record idle for longer than `idle`.
    pub fn new(idle: Duration) -> Self {
        MemorySessionStore {
            records: DashMap::default(),
            idle,
        }
    }

    /// How many live records it holds.
    pub fn len(&self) -> usize {
        let now = unix_ms();
        self.records
            .iter()
            .filter(|r| !self.expired(r, now))
            .count()
    }

    /// Whether it holds no live record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn expired(&self, record: &SessionRecord, now: u64) -> bool {
        now.saturating_sub(record.last_active_ms) > self.idle_ms()
    }
}

impl SessionStore for MemorySessionStore {
    fn save(&self, record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        self.records.insert(record.id.clone(), record.clone());
        Box::pin(std::future::ready(Ok(())))
    }

    fn load(&self, id: &str) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
        let now = unix_ms();
        let record = self.records.get(id).map(|r| r.clone());
        let record = match record {
            Some(r) if self.expired(&r, now) => {
                self.records.remove(id);
                None
            }
            other => other,
        };
        Box::pin(std::future::ready(Ok(record)))
    }

    fn touch(&self, ids: &[Arc<str>]) -> BoxFuture<'_, Result<(), StoreError>> {
        let now = unix_ms();
        for id in ids {
            if let Some(mut record) = self.records.get_mut(id) {
                record.last_active_ms = now;
            }
        }
        // Expired records go here too: the reaper calls this once per pass.
        self.records
            .retain(|_, r| now.saturating_sub(r.last_active_ms) <= self.idle_ms());
        Box::pin(std::future::ready(Ok(())))
    }

    fn delete(&self, id: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        self.records.remove(id);
        Box::pin(std::future::ready(Ok(())))
    }
}

impl MemorySessionStore {
    fn idle_ms(&self) -> u64 {
        u64::try_from(self.idle.as_millis()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn records_round_trip_expire_and_end() {
        let store = MemorySessionStore::new(Duration::from_secs(60));
        let mut record = SessionRecord::new(
            "s1".into(),
            ProtocolVersion::LATEST_LEGACY,
            Implementation::new("c", "1"),
            RawValue::from_string(r#"{"roots":{}}"#.into())
                .ok()
                .map(Arc::from),
            Some("alice".into()),
        );
        store.save(&record).await.unwrap();
        let loaded = store.load("s1").await.unwrap().unwrap();
        assert_eq!(loaded.principal.as_deref(), Some("alice"));
        assert_eq!(
            loaded.client_capabilities.as_ref().unwrap().get(),
            r#"{"roots":{}}"#
        );
        // Serializable: what a shared store keeps.
        let text = serde_json::to_string(&loaded.clone()).unwrap();
        let back: SessionRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(back.protocol_version, ProtocolVersion::LATEST_LEGACY);

        record.last_active_ms = 0;
        store.save(&record).await.unwrap();
        assert!(store.load("s1").await.unwrap().is_none(), "idle too long");
        store.save(&SessionRecord { ..back }).await.unwrap();
        store.delete("s1").await.unwrap();
        assert!(store.is_empty());
    }
}
