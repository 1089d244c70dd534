//! The 2026-07-28 `requestState` nonces used so far, in Redis (RB-26): one key per used nonce,
//! `{p}state:{nonce}`, set with `SET NX` and expiring when its state does, so a sealed state is
//! accepted once across every instance behind a balancer (MR-2), not once per instance.

use std::time::{SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use mcp_http_server::{StateNonce, UsedStates};
use redis::aio::ConnectionManager;

use crate::keys::Keys;
use crate::metrics::{Component, counted};

/// The uses of sealed states, shared by the instances.
#[derive(Clone)]
pub struct RedisUsedStates {
    conn: ConnectionManager,
    keys: Keys,
}

impl std::fmt::Debug for RedisUsedStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisUsedStates").finish_non_exhaustive()
    }
}

impl RedisUsedStates {
    pub(crate) fn new(conn: ConnectionManager, keys: Keys) -> Self {
        RedisUsedStates { conn, keys }
    }
}

impl UsedStates for RedisUsedStates {
    fn first_use(&self, nonce: StateNonce, expires_at: SystemTime) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            // An expiry in the past still needs a positive one; such a state is refused anyway.
            let at_ms = expires_at
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .max(crate::unix_ms() + 1);
            let mut conn = self.conn.clone();
            let set: Result<Option<String>, _> = redis::cmd("SET")
                .arg(self.keys.used_state(&nonce.to_string()))
                .arg(1)
                .arg("NX")
                .arg("PXAT")
                .arg(at_ms)
                .query_async(counted(&mut conn, Component::States))
                .await;
            match set {
                Ok(first) => first.is_some(),
                Err(e) => {
                    // Refused rather than risk a replay (the trait's rule): the client calls again.
                    tracing::warn!(error = %e, "a requestState's use could not be recorded");
                    false
                }
            }
        })
    }

    fn release(&self, nonce: StateNonce) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let deleted: Result<u64, _> = redis::cmd("DEL")
                .arg(self.keys.used_state(&nonce.to_string()))
                .query_async(counted(&mut conn, Component::States))
                .await;
            if let Err(e) = deleted {
                tracing::warn!(error = %e, "a requestState's use could not be forgotten");
            }
        })
    }
}
