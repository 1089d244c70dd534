//! Where the state of tasks lives (TK-8): the [`TaskStore`] trait, the serializable
//! [`TaskRecord`] it keeps, and [`MemoryTaskStore`], bounded and evicting expired tasks.
//!
//! A store keeps what `tasks/get` answers from (status, timestamps, the inlined result or error,
//! the pending inputs and the answers gathered for them). The running work of a task is not in
//! it: it stays in the process that runs it. A fleet of instances behind one endpoint shares a
//! store (Redis, say) so that any instance answers `tasks/get`, `tasks/update` and `tasks/cancel`;
//! see the tasks module for what else a fleet needs.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use futures::future::BoxFuture;
use mcp_http_proto::modern::InputRequests;
use mcp_http_proto::{ErrorObject, TaskStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a store keeps of one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskRecord {
    /// The task identifier (128 random bits, hex).
    pub id: String,
    /// The principal that created it; only that principal sees it (TK-9).
    pub principal: Option<String>,
    /// The current state.
    pub status: TaskStatus,
    /// A human-readable message about the current state.
    pub status_message: Option<String>,
    /// When it was created, milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// When it last changed, milliseconds since the Unix epoch.
    pub updated_at_ms: u64,
    /// How long it is kept after creation; `None` for as long as the store keeps it.
    pub ttl_ms: Option<u64>,
    /// The `tools/call` result, once completed.
    pub result: Option<Value>,
    /// The protocol error, once failed.
    pub error: Option<ErrorObject>,
    /// The inputs still pending, while input_required.
    pub input_requests: InputRequests,
    /// Every answer given so far, raw, by key (the next run gets them all).
    pub answers: Map<String, Value>,
}

impl TaskRecord {
    /// A working task created at `now_ms`.
    pub fn new(
        id: impl Into<String>,
        principal: Option<String>,
        ttl_ms: Option<u64>,
        now_ms: u64,
    ) -> Self {
        TaskRecord {
            id: id.into(),
            principal,
            status: TaskStatus::Working,
            status_message: None,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            ttl_ms,
            result: None,
            error: None,
            input_requests: InputRequests::new(),
            answers: Map::new(),
        }
    }

    /// Whether its TTL has passed at `now_ms` (TK-7: never before).
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.ttl_ms
            .is_some_and(|ttl| now_ms >= self.created_at_ms.saturating_add(ttl))
    }
}

/// A failure of a task store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskStoreError {
    /// The store holds as many live tasks as it may.
    Full,
    /// The backend failed (a connection, a timeout), with a reason for the log.
    Backend(String),
}

impl fmt::Display for TaskStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskStoreError::Full => f.write_str("the task store is full"),
            TaskStoreError::Backend(reason) => write!(f, "the task store failed: {reason}"),
        }
    }
}

impl std::error::Error for TaskStoreError {}

/// The future a store method returns.
pub type StoreFuture<'a, T> = BoxFuture<'a, Result<T, TaskStoreError>>;

/// A change to a record. It may run more than once (a store with optimistic concurrency runs it
/// again after a conflict), so it must depend on the record alone.
pub type TaskChange<'a> = &'a (dyn Fn(&mut TaskRecord) + Send + Sync);

/// Where task records live (TK-8). Expired records are never returned.
pub trait TaskStore: Send + Sync + 'static {
    /// Stores a new record; a `tools/call` answers its `CreateTaskResult` only after this
    /// returned (TK-2).
    fn create(&self, record: TaskRecord) -> StoreFuture<'_, ()>;
    /// The record of `id`, unless unknown or expired.
    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<TaskRecord>>;
    /// Applies `change` to the record of `id` atomically and returns the changed record;
    /// `None` when unknown or expired.
    fn update<'a>(
        &'a self,
        id: &'a str,
        change: TaskChange<'a>,
    ) -> StoreFuture<'a, Option<TaskRecord>>;
}

/// The default store: a map in this process's memory, bounded in count. Expired tasks are
/// dropped when met and before refusing a new one; when full of live tasks, the oldest
/// finished one makes room, else creation fails with [`TaskStoreError::Full`].
#[derive(Debug)]
pub struct MemoryTaskStore {
    tasks: Mutex<HashMap<String, TaskRecord>>,
    max: usize,
}

impl Default for MemoryTaskStore {
    fn default() -> Self {
        MemoryTaskStore::new(10_000)
    }
}

impl MemoryTaskStore {
    /// A store of at most `max` tasks.
    pub fn new(max: usize) -> Self {
        MemoryTaskStore {
            tasks: Mutex::default(),
            max: max.max(1),
        }
    }

    /// How many records it holds (expired ones not yet dropped included).
    pub fn len(&self) -> usize {
        mcp_http_core::sync::lock(&self.tasks).len()
    }

    /// Whether it holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert(&self, record: TaskRecord, now_ms: u64) -> Result<(), TaskStoreError> {
        let mut tasks = mcp_http_core::sync::lock(&self.tasks);
        if tasks.len() >= self.max {
            tasks.retain(|_, t| !t.is_expired(now_ms));
        }
        if tasks.len() >= self.max {
            let oldest = tasks
                .values()
                .filter(|t| t.status.is_terminal())
                .min_by_key(|t| t.updated_at_ms)
                .map(|t| t.id.clone());
            match oldest {
                Some(id) => {
                    tasks.remove(&id);
                }
                None => return Err(TaskStoreError::Full),
            }
        }
        tasks.insert(record.id.clone(), record);
        Ok(())
    }

    fn find(&self, id: &str, now_ms: u64, change: Option<TaskChange<'_>>) -> Option<TaskRecord> {
        let mut tasks = mcp_http_core::sync::lock(&self.tasks);
        if tasks.get(id)?.is_expired(now_ms) {
            tasks.remove(id);
            return None;
        }
        let record = tasks.get_mut(id)?;
        if let Some(change) = change {
            change(record);
        }
        Some(record.clone())
    }
}

impl TaskStore for MemoryTaskStore {
    fn create(&self, record: TaskRecord) -> StoreFuture<'_, ()> {
        let outcome = self.insert(record, super::clock::now_ms());
        Box::pin(async move { outcome })
    }

    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<TaskRecord>> {
        let found = self.find(id, super::clock::now_ms(), None);
        Box::pin(async move { Ok(found) })
    }

    fn update<'a>(
        &'a self,
        id: &'a str,
        change: TaskChange<'a>,
    ) -> StoreFuture<'a, Option<TaskRecord>> {
        let found = self.find(id, super::clock::now_ms(), Some(change));
        Box::pin(async move { Ok(found) })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(id: &str, ttl: Option<u64>, now: u64) -> TaskRecord {
        TaskRecord::new(id, None, ttl, now)
    }

    #[tokio::test]
    async fn create_get_update_and_expiry() {
        let store = MemoryTaskStore::new(4);
        let now = super::super::clock::now_ms();
        store.create(record("a", Some(60_000), now)).await.unwrap();
        assert_eq!(store.get("a").await.unwrap().unwrap().id, "a");
        let done = store
            .update("a", &|t| t.status = TaskStatus::Completed)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(done.status, TaskStatus::Completed);
        assert!(store.update("zz", &|_| {}).await.unwrap().is_none());
        // Expired long ago: never returned, and dropped when met.
        store
            .create(record("old", Some(1), now - 10))
            .await
            .unwrap();
        assert!(store.get("old").await.unwrap().is_none());
        assert_eq!(store.len(), 1);
        // Not before its TTL (TK-7).
        assert!(!record("x", Some(1_000), now).is_expired(now + 999));
        assert!(record("x", Some(1_000), now).is_expired(now + 1_000));
        assert!(!record("x", None, 0).is_expired(u64::MAX));
    }

    #[tokio::test]
    async fn bounded_evicts_expired_then_finished_then_refuses() {
        let store = MemoryTaskStore::new(2);
        let now = super::super::clock::now_ms();
        store
            .create(record("gone", Some(1), now - 10))
            .await
            .unwrap();
        store.create(record("live", None, now)).await.unwrap();
        store.create(record("b", None, now)).await.unwrap();
        assert!(store.get("live").await.unwrap().is_some());
        assert_eq!(store.len(), 2);
        assert_eq!(
            store.create(record("c", None, now)).await,
            Err(TaskStoreError::Full)
        );
        store
            .update("live", &|t| t.status = TaskStatus::Failed)
            .await
            .unwrap();
        store.create(record("c", None, now)).await.unwrap();
        assert!(store.get("live").await.unwrap().is_none());
        assert!(store.get("c").await.unwrap().is_some());
    }
}
