//! A Redis backend for the session layer of `mcp-http-server-http`: several instances of a
//! Streamable HTTP endpoint behind a plain round-robin balancer serve the same sessions, any
//! request of any session on any instance.
//!
//! It implements the layer's three traits over one Redis (>= 6.2; 7.x for the eviction check of
//! replays) or Valkey:
//!
//! - [`RedisSessionStore`]: session records, one hash per session with the idle timeout as its
//!   expiry;
//! - [`RedisEventLog`]: the events of each stream in a Redis Stream, bounded, expiring, scoped by
//!   session, written behind a queue;
//! - [`RedisBus`]: an inbox per instance and a broadcast stream, read with one blocking `XREAD`
//!   on a connection of its own, and a heartbeat per instance.
//!
//! Commands go over one multiplexed, reconnecting connection ([`redis::aio::ConnectionManager`])
//! with a response timeout, so a stalled Redis is an error, never a hang.
//!
//! ```no_run
//! # async fn f(server: impl mcp_http_server_http::HandlerFactory) -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_http_redis::{RedisBackend, RedisConfig, WithRedis};
//! use mcp_http_server_http::{HttpConfig, StreamableHttpService};
//! let redis = RedisBackend::connect(RedisConfig::new("redis://127.0.0.1:6379/")).await?;
//! let service = StreamableHttpService::builder(server)
//!     .config(HttpConfig::default())
//!     .redis(&redis)
//!     .build();
//! # Ok(()) }
//! ```

mod bus;
mod bus_scripts;
mod config;
mod data_loss;
mod event_log;
mod keys;
pub mod metrics;
mod store;
mod tasks;
mod used_states;

use crate::metrics::{Component, counted};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use mcp_http_server_http::StreamableHttpServiceBuilder;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use bus::RedisBus;
pub use config::RedisConfig;
pub use event_log::RedisEventLog;
pub use store::RedisSessionStore;
pub use tasks::RedisTaskStore;
pub use used_states::RedisUsedStates;

use keys::Keys;

/// Why the backend could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisBackendError {
    /// The URL is not a Redis URL.
    #[error("invalid Redis URL: {0}")]
    InvalidUrl(#[source] redis::RedisError),
    /// Redis could not be reached (or refused the connection).
    #[error("cannot connect to Redis: {0}")]
    Connect(#[source] redis::RedisError),
    /// The instance id is empty, too long, or has a character other than ASCII letters,
    /// digits, `-` and `_`.
    #[error("invalid instance id {0:?}: use 1 to 64 ASCII letters, digits, '-' or '_'")]
    InvalidInstanceId(String),
}

/// Milliseconds since the Unix epoch.
pub(crate) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Whether `id` can name an instance: it goes into request ids as `{id}.` and into key names.
fn valid_instance_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The three components over one Redis connection, made by [`RedisBackend::connect`].
#[derive(Debug, Clone)]
pub struct RedisBackend {
    store: Arc<RedisSessionStore>,
    log: Arc<RedisEventLog>,
    bus: Arc<RedisBus>,
    tasks: Arc<RedisTaskStore>,
    used_states: Arc<RedisUsedStates>,
    instance_id: Option<Arc<str>>,
}

impl RedisBackend {
    /// Connects to Redis (failing if it cannot be reached within the connect timeout) and
    /// starts the event log's writer. Call it inside a tokio runtime.
    pub async fn connect(config: RedisConfig) -> Result<RedisBackend, RedisBackendError> {
        if let Some(id) = &config.instance_id
            && !valid_instance_id(id)
        {
            return Err(RedisBackendError::InvalidInstanceId(id.to_string()));
        }
        let client =
            redis::Client::open(config.url.as_str()).map_err(RedisBackendError::InvalidUrl)?;
        let manager = ConnectionManagerConfig::new()
            .set_response_timeout(Some(config.response_timeout))
            .set_connection_timeout(Some(config.connect_timeout))
            .set_number_of_retries(2)
            .set_max_delay(std::time::Duration::from_secs(1));
        let mut conn = ConnectionManager::new_with_config(client.clone(), manager)
            .await
            .map_err(RedisBackendError::Connect)?;
        // Loaded now, so that the first use of each script is one round trip (redis-rs loads a
        // script the server does not know, after a restart say, and runs it again).
        let (claim_get, take_broadcast) = (
            bus_scripts::claim_get_script(),
            bus_scripts::take_broadcast_script(),
        );
        for script in [
            event_log::REPLAY,
            event_log::FORGET_SESSION,
            bus_scripts::ADD,
            bus_scripts::TO_GET,
            &claim_get,
            &take_broadcast,
            tasks::SWAP,
        ] {
            redis::cmd("SCRIPT")
                .arg("LOAD")
                .arg(script)
                .query_async::<()>(counted(&mut conn, Component::Connect))
                .await
                .map_err(RedisBackendError::Connect)?;
        }
        // The bus reads what is sent to this instance from now on, by the server's clock.
        let (seconds, micros): (u64, u64) = redis::cmd("TIME")
            .query_async(counted(&mut conn, Component::Connect))
            .await
            .map_err(RedisBackendError::Connect)?;
        let start = format!("{}-0", seconds * 1000 + micros / 1000);
        let keys = Keys::new(&config.prefix);
        Ok(RedisBackend {
            store: Arc::new(RedisSessionStore::new(
                conn.clone(),
                keys.clone(),
                config.session_ttl,
            )),
            log: Arc::new(RedisEventLog::new(conn.clone(), keys.clone(), &config)),
            tasks: Arc::new(RedisTaskStore::new(conn.clone(), keys.clone())),
            used_states: Arc::new(RedisUsedStates::new(conn.clone(), keys.clone())),
            bus: Arc::new(RedisBus::new(conn, client, keys, &config, start)),
            instance_id: config.instance_id,
        })
    }

    /// The session store.
    pub fn store(&self) -> Arc<RedisSessionStore> {
        self.store.clone()
    }

    /// The event log.
    pub fn event_log(&self) -> Arc<RedisEventLog> {
        self.log.clone()
    }

    /// The message bus.
    pub fn bus(&self) -> Arc<RedisBus> {
        self.bus.clone()
    }

    /// The tasks extension's task store, shared by the instances (give it to
    /// `mcp_http_server::ServerBuilder::task_store`).
    pub fn task_store(&self) -> Arc<RedisTaskStore> {
        self.tasks.clone()
    }

    /// The 2026-07-28 `requestState` uses, shared by the instances, so a state is accepted once
    /// across them (give it to `RequestStates::with_used_states`, RB-26).
    pub fn used_states(&self) -> Arc<RedisUsedStates> {
        self.used_states.clone()
    }

    /// The instance id of the settings, if one was given.
    pub fn instance_id(&self) -> Option<&Arc<str>> {
        self.instance_id.as_ref()
    }
}

/// Puts a [`RedisBackend`] into a service: `StreamableHttpService::builder(..).redis(&backend)`.
pub trait WithRedis {
    /// Uses the backend's store, event log and bus (and its instance id, if it has one).
    #[must_use]
    fn redis(self, backend: &RedisBackend) -> Self;
}

impl WithRedis for StreamableHttpServiceBuilder {
    fn redis(self, backend: &RedisBackend) -> Self {
        let builder = self
            .session_store(backend.store())
            .event_log(backend.event_log())
            .message_bus(backend.bus());
        match backend.instance_id() {
            Some(id) => builder.instance_id(id.clone()),
            None => builder,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids_are_checked() {
        assert!(valid_instance_id("a-1_B"));
        assert!(!valid_instance_id(""));
        assert!(!valid_instance_id("a.b"));
        assert!(!valid_instance_id(&"x".repeat(65)));
    }
}
