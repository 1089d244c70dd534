//! The tasks extension's task store in Redis (RB-21): one string per task, `{p}task:{id}`, the
//! record's JSON, expiring with the task's TTL (a day for a task without one), so that every
//! instance behind a balancer answers `tasks/get`, `tasks/update` and `tasks/cancel` for a task
//! another one created (TK-8). An update is a compare-and-set: read, change, and write only if
//! the stored text is still what was read (one script), again after a conflict.

use crate::metrics::{Component, counted};
use std::sync::Arc;

use mcp_http_server::{StoreFuture, TaskChange, TaskRecord, TaskStore, TaskStoreError};
use redis::Script;
use redis::aio::ConnectionManager;

use crate::keys::Keys;

/// Writes ARGV[2] if the task's text is still ARGV[1], keeping its expiry: 1, else 0.
pub(crate) const SWAP: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
";

/// How long a task without a TTL is kept.
const UNBOUNDED_MS: u64 = 24 * 60 * 60 * 1000;

/// Conflicting updates retried before the update fails.
const ATTEMPTS: usize = 16;

/// Task records in Redis.
#[derive(Clone)]
pub struct RedisTaskStore {
    conn: ConnectionManager,
    keys: Keys,
    swap: Arc<Script>,
}

impl std::fmt::Debug for RedisTaskStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTaskStore").finish_non_exhaustive()
    }
}

fn backend(what: &str, e: impl std::fmt::Display) -> TaskStoreError {
    TaskStoreError::Backend(format!("{what}: {e}"))
}

/// A stored text as a live record: `None` when it expired (by its own TTL) or does not parse
/// (logged).
fn live(id: &str, text: &str) -> Option<TaskRecord> {
    match serde_json::from_str::<TaskRecord>(text) {
        Ok(record) => (!record.is_expired(crate::unix_ms())).then_some(record),
        Err(e) => {
            tracing::error!(task = %id, error = %e, "a stored task does not parse");
            None
        }
    }
}

impl RedisTaskStore {
    pub(crate) fn new(conn: ConnectionManager, keys: Keys) -> Self {
        RedisTaskStore {
            conn,
            keys,
            swap: Arc::new(Script::new(SWAP)),
        }
    }

    async fn read(&self, key: &str) -> Result<Option<String>, TaskStoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(key)
            .query_async(counted(&mut conn, Component::Tasks))
            .await
            .map_err(|e| backend("GET", e))
    }
}

impl TaskStore for RedisTaskStore {
    fn create(&self, record: TaskRecord) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let key = self.keys.task(&record.id);
            let text = serde_json::to_string(&record).map_err(|e| backend("a task record", e))?;
            let ttl = record.ttl_ms.unwrap_or(UNBOUNDED_MS).max(1);
            let mut conn = self.conn.clone();
            redis::cmd("SET")
                .arg(&key)
                .arg(text)
                .arg("PX")
                .arg(ttl)
                .query_async::<()>(counted(&mut conn, Component::Tasks))
                .await
                .map_err(|e| backend("SET", e))
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<TaskRecord>> {
        Box::pin(async move {
            let text = self.read(&self.keys.task(id)).await?;
            Ok(text.and_then(|text| live(id, &text)))
        })
    }

    fn update<'a>(
        &'a self,
        id: &'a str,
        change: TaskChange<'a>,
    ) -> StoreFuture<'a, Option<TaskRecord>> {
        Box::pin(async move {
            let key = self.keys.task(id);
            for _ in 0..ATTEMPTS {
                let Some(before) = self.read(&key).await? else {
                    return Ok(None);
                };
                let Some(mut record) = live(id, &before) else {
                    return Ok(None);
                };
                change(&mut record);
                let after =
                    serde_json::to_string(&record).map_err(|e| backend("a task record", e))?;
                let mut conn = self.conn.clone();
                let swapped: i64 = self
                    .swap
                    .key(&key)
                    .arg(&before)
                    .arg(&after)
                    .invoke_async(counted(&mut conn, Component::Tasks))
                    .await
                    .map_err(|e| backend("a task's compare-and-set", e))?;
                if swapped == 1 {
                    return Ok(Some(record));
                }
            }
            Err(TaskStoreError::Backend(format!(
                "task {id}: {ATTEMPTS} conflicting updates in a row"
            )))
        })
    }
}
