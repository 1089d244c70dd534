//! Session records in Redis: one hash per session, `{p}{sid}`, whose key expiry is the idle
//! timeout. A save writes the whole record and renews the expiry; a touch renews the expiry
//! only (`PEXPIRE`, which does nothing to a key that is gone, so a touch never brings back an
//! ended session); the last activity is read back from the remaining time to live.

use crate::metrics::{Component, counted};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use mcp_http_server_http::sessions::{SessionRecord, SessionStore, StoreError};
use redis::aio::ConnectionManager;
use serde_json::value::RawValue;

use crate::config::ms;
use crate::keys::Keys;
use crate::unix_ms;

/// The record's fields and their short names in the hash. The id is the key's, the last
/// activity comes from the key's time to live.
const FIELDS: [(&str, &str); 10] = [
    ("protocol_version", "v"),
    ("client_info", "ci"),
    ("client_capabilities", "cc"),
    ("initialized", "init"),
    ("log_level", "ll"),
    ("principal", "p"),
    ("subscriptions", "subs"),
    ("get_owner", "go"),
    ("created_ms", "t0"),
    ("version", "n"),
];

/// Session records in Redis hashes with a key expiry.
#[derive(Clone)]
pub struct RedisSessionStore {
    conn: ConnectionManager,
    keys: Keys,
    ttl: Duration,
}

impl std::fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Whether a command failed because the connection broke (Redis restarted, say): the
/// connection manager reconnects, and the command gets one more try, so the first request
/// after Redis came back is not a 503 (RB-17).
fn broken(e: &redis::RedisError) -> bool {
    e.is_connection_dropped() || e.is_io_error()
}

fn store_error(what: &str, e: &redis::RedisError) -> StoreError {
    StoreError::new(format!("{what}: {e}"))
}

impl RedisSessionStore {
    pub(crate) fn new(conn: ConnectionManager, keys: Keys, ttl: Duration) -> Self {
        RedisSessionStore { conn, keys, ttl }
    }

    /// The hash fields of a record: each value is the JSON text of the record's field.
    fn fields(record: &SessionRecord) -> Result<Vec<(&'static str, String)>, StoreError> {
        let text = serde_json::to_string(record)
            .map_err(|e| StoreError::new(format!("a record could not be serialized: {e}")))?;
        let mut object: HashMap<String, Box<RawValue>> = serde_json::from_str(&text)
            .map_err(|e| StoreError::new(format!("a record could not be serialized: {e}")))?;
        Ok(FIELDS
            .iter()
            .filter_map(|(long, short)| {
                let value = object.remove(*long)?;
                (value.get() != "null").then(|| (*short, value.get().to_owned()))
            })
            .collect())
    }

    /// The record from its hash fields; `Err` names what does not parse.
    fn parse(
        id: &str,
        hash: &HashMap<String, Vec<u8>>,
        last_active_ms: u64,
    ) -> Result<SessionRecord, String> {
        let mut text = String::with_capacity(256);
        text.push('{');
        text.push_str("\"id\":");
        text.push_str(&serde_json::to_string(id).map_err(|e| e.to_string())?);
        text.push_str(",\"last_active_ms\":");
        text.push_str(&last_active_ms.to_string());
        let mut seen_subs = false;
        let mut seen_init = false;
        for (long, short) in FIELDS {
            let Some(value) = hash.get(short) else {
                continue;
            };
            // Each value must be one JSON value on its own, so nothing in it can add fields.
            let raw: &RawValue = serde_json::from_slice(value)
                .map_err(|e| format!("field {short} is not JSON: {e}"))?;
            seen_subs |= short == "subs";
            seen_init |= short == "init";
            text.push_str(",\"");
            text.push_str(long);
            text.push_str("\":");
            text.push_str(raw.get());
        }
        if !seen_subs {
            text.push_str(",\"subscriptions\":[]");
        }
        if !seen_init {
            text.push_str(",\"initialized\":false");
        }
        text.push('}');
        serde_json::from_str(&text).map_err(|e| e.to_string())
    }
}

impl SessionStore for RedisSessionStore {
    fn save(&self, record: &SessionRecord) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = self.keys.session(&record.id);
        let fields = Self::fields(record);
        let mut conn = self.conn.clone();
        let ttl = ms(self.ttl);
        Box::pin(async move {
            let fields = fields?;
            let mut pipe = redis::pipe();
            pipe.cmd("HSET")
                .arg(&key)
                .arg(&fields)
                .ignore()
                .pexpire(&key, ttl as i64)
                .ignore();
            let mut answer = pipe
                .query_async::<()>(counted(&mut conn, Component::Store))
                .await;
            if answer.as_ref().is_err_and(broken) {
                answer = pipe
                    .query_async::<()>(counted(&mut conn, Component::Store))
                    .await;
            }
            answer.map_err(|e| store_error("HSET", &e))
        })
    }

    fn load(&self, id: &str) -> BoxFuture<'_, Result<Option<SessionRecord>, StoreError>> {
        let key = self.keys.session(id);
        let id = id.to_owned();
        let mut conn = self.conn.clone();
        let ttl = ms(self.ttl);
        Box::pin(async move {
            let mut pipe = redis::pipe();
            pipe.hgetall(&key).pttl(&key);
            let mut answer = pipe.query_async(counted(&mut conn, Component::Store)).await;
            if answer.as_ref().is_err_and(broken) {
                answer = pipe.query_async(counted(&mut conn, Component::Store)).await;
            }
            let (hash, pttl): (HashMap<String, Vec<u8>>, i64) =
                answer.map_err(|e| store_error("HGETALL", &e))?;
            if hash.is_empty() {
                return Ok(None);
            }
            // Idle for (ttl - remaining) ms; a key without expiry counts as active now.
            let remaining = u64::try_from(pttl).unwrap_or(ttl);
            let last_active = unix_ms().saturating_sub(ttl.saturating_sub(remaining));
            match Self::parse(&id, &hash, last_active) {
                Ok(record) => Ok(Some(record)),
                Err(reason) => {
                    tracing::error!(session = %id, %reason, "a stored session record does not parse");
                    Err(StoreError::corrupt(format!(
                        "the record of a session does not parse: {reason}"
                    )))
                }
            }
        })
    }

    fn touch(&self, ids: &[Arc<str>]) -> BoxFuture<'_, Result<(), StoreError>> {
        if ids.is_empty() {
            return Box::pin(std::future::ready(Ok(())));
        }
        let mut pipe = redis::pipe();
        let ttl = ms(self.ttl) as i64;
        for id in ids {
            pipe.pexpire(self.keys.session(id), ttl).ignore();
        }
        let mut conn = self.conn.clone();
        Box::pin(async move {
            pipe.query_async::<()>(counted(&mut conn, Component::Store))
                .await
                .map_err(|e| store_error("PEXPIRE", &e))
        })
    }

    fn exist(&self, ids: &[Arc<str>]) -> BoxFuture<'_, Result<Vec<bool>, StoreError>> {
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.exists(self.keys.session(id));
        }
        let mut conn = self.conn.clone();
        Box::pin(async move {
            pipe.query_async(counted(&mut conn, Component::Store))
                .await
                .map_err(|e| store_error("EXISTS", &e))
        })
    }

    fn delete(&self, id: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = self.keys.session(id);
        let get_log = self.keys.get_log(id);
        let mut conn = self.conn.clone();
        Box::pin(async move {
            redis::cmd("UNLINK")
                .arg(&key)
                .arg(&get_log)
                .query_async::<()>(counted(&mut conn, Component::Store))
                .await
                .map_err(|e| store_error("UNLINK", &e))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_record_survives_its_hash_and_a_bad_field_is_an_error() {
        let text = r#"{"id":"s1","protocol_version":"2025-11-25",
            "client_info":{"name":"c","version":"1"},"client_capabilities":{"roots":{}},
            "initialized":true,"log_level":"debug","principal":"alice","subscriptions":["u"],
            "get_owner":null,"created_ms":5,"last_active_ms":6}"#;
        let record: SessionRecord = serde_json::from_str(text).unwrap();
        let fields = RedisSessionStore::fields(&record).unwrap();
        assert!(
            fields.iter().all(|(name, _)| *name != "go"),
            "None is not stored"
        );
        let hash: HashMap<String, Vec<u8>> = fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.into_bytes()))
            .collect();
        let back = RedisSessionStore::parse("s1", &hash, 7).unwrap();
        assert_eq!(back.principal.as_deref(), Some("alice"));
        assert_eq!(back.subscriptions, ["u"]);
        assert_eq!(back.last_active_ms, 7);
        assert_eq!(
            back.client_capabilities.as_ref().unwrap().get(),
            r#"{"roots":{}}"#
        );
        let mut bad = hash.clone();
        bad.insert("v".into(), b"not json".to_vec());
        assert!(RedisSessionStore::parse("s1", &bad, 7).is_err());
        let mut injected = hash;
        injected.insert(
            "v".into(),
            br#""2025-11-25","principal":"mallory""#.to_vec(),
        );
        assert!(RedisSessionStore::parse("s1", &injected, 7).is_err());
    }
}
