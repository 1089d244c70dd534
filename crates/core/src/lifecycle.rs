//! What the initialize handshake negotiated (L-1..L-8, V-1..V-6, C-1..C-3).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use mcp_http_proto::{
    ClientCapabilities, Implementation, LoggingLevel, ProtocolVersion, ServerCapabilities,
};
use serde_json::value::RawValue;

/// The negotiated state of one session, filled in by the initialize handshake.
///
/// A session fills only the other side's half, so each half is boxed: an empty slot costs a
/// pointer, not the struct (a server holds thousands of idle sessions). The client's
/// capabilities are kept as their JSON text, a few dozen bytes instead of the 300-byte struct.
#[derive(Debug, Default)]
pub struct SessionState {
    /// The negotiated version: 0 until known, then 1 + its place in [`ProtocolVersion::ALL`],
    /// set once as a `OnceLock` would be but without its `Once` (PF-113).
    protocol_version: AtomicU8,
    /// The client's info and capabilities, set once together.
    client: OnceLock<SharedClient>,
    server_info: OnceLock<Box<Implementation>>,
    server_capabilities: OnceLock<Box<ServerCapabilities>>,
    initialized: AtomicBool,
    /// 0 = no `logging/setLevel` yet; otherwise 1 + the level's rank.
    log_level: AtomicU8,
    /// The resources the client subscribed to, without repeats (a session has few).
    subscriptions: Mutex<Vec<String>>,
}

/// A client's half of the handshake, built once and shared by many sessions: a stateless server
/// assumes the same client for every request.
///
/// ```
/// use mcp_http_core::{SessionState, SharedClient};
/// use mcp_http_proto::{ClientCapabilities, Implementation, ProtocolVersion};
/// let client = SharedClient::new(Implementation::new("unknown", "0"), &ClientCapabilities::default());
/// let state = SessionState::default();
/// state.set_shared_client(ProtocolVersion::LATEST, &client);
/// assert_eq!(state.client_info().map(|i| i.name.as_str()), Some("unknown"));
/// ```
#[derive(Debug, Clone)]
pub struct SharedClient {
    pub(crate) info: Arc<Implementation>,
    pub(crate) capabilities: Option<Arc<RawValue>>,
}

impl SharedClient {
    /// The client half of `info` and capabilities kept as their JSON text (a stored session's).
    pub fn from_raw(info: Implementation, capabilities: Option<Arc<RawValue>>) -> Self {
        SharedClient {
            info: Arc::new(info),
            capabilities,
        }
    }

    /// The client half of `info` and `capabilities`.
    pub fn new(info: Implementation, capabilities: &ClientCapabilities) -> Self {
        SharedClient {
            info: Arc::new(info),
            capabilities: serde_json::value::to_raw_value(capabilities)
                .ok()
                .map(Arc::from),
        }
    }
}

/// [`SessionState`]'s code of `version`: 1 + its place in [`ProtocolVersion::ALL`].
fn version_code(version: ProtocolVersion) -> u8 {
    let place = ProtocolVersion::ALL.iter().position(|&v| v == version);
    place.map_or(0, |place| place as u8 + 1)
}

/// The levels by rank.
const LEVELS: [LoggingLevel; 8] = [
    LoggingLevel::Debug,
    LoggingLevel::Info,
    LoggingLevel::Notice,
    LoggingLevel::Warning,
    LoggingLevel::Error,
    LoggingLevel::Critical,
    LoggingLevel::Alert,
    LoggingLevel::Emergency,
];

/// The severity rank of a level, debug = 0 .. emergency = 7 (RFC 5424 order, LG-2a).
pub fn level_rank(level: LoggingLevel) -> u8 {
    match serde_json::to_value(level)
        .ok()
        .as_ref()
        .and_then(|v| v.as_str())
    {
        Some("debug") => 0,
        Some("info") => 1,
        Some("notice") => 2,
        Some("warning") => 3,
        Some("error") => 4,
        Some("critical") => 5,
        Some("alert") => 6,
        _ => 7,
    }
}

impl SessionState {
    /// Records the outcome of `initialize` on the server side.
    pub fn set_client(
        &self,
        version: ProtocolVersion,
        info: Implementation,
        capabilities: ClientCapabilities,
    ) {
        // PF-28: sessions of the same client share one copy of its half.
        let capabilities = serde_json::value::to_raw_value(&capabilities).ok();
        self.set_shared_client(version, &crate::client_table::shared(info, capabilities));
    }

    /// Records a client half shared with other sessions (no copy of it is made).
    pub fn set_shared_client(&self, version: ProtocolVersion, client: &SharedClient) {
        self.set_version(version);
        let _ = self.client.set(client.clone());
    }

    /// [`set_shared_client`](Self::set_shared_client) then
    /// [`set_initialized`](Self::set_initialized) on a state nothing else sees yet, such as a
    /// stateless request's: the version and the flag as plain stores (PF-113). Replaces a
    /// version or client set before.
    pub fn init_shared_client(&mut self, version: ProtocolVersion, client: &SharedClient) {
        *self.protocol_version.get_mut() = version_code(version);
        self.client = OnceLock::from(client.clone());
        *self.initialized.get_mut() = true;
    }

    /// Records the outcome of `initialize` on the client side.
    pub fn set_server(
        &self,
        version: ProtocolVersion,
        info: Implementation,
        capabilities: ServerCapabilities,
    ) {
        self.set_version(version);
        let _ = self.server_info.set(Box::new(info));
        let _ = self.server_capabilities.set(Box::new(capabilities));
    }

    /// Takes on what `other` holds (a request's state, set before its peer was made, PF-52).
    pub(crate) fn copy_from(&self, other: &SessionState) {
        if let Some(version) = other.protocol_version() {
            self.set_version(version);
        }
        if let Some(client) = other.client.get() {
            let _ = self.client.set(client.clone());
        }
        if let Some(info) = other.server_info.get() {
            let _ = self.server_info.set(info.clone());
        }
        if let Some(capabilities) = other.server_capabilities.get() {
            let _ = self.server_capabilities.set(capabilities.clone());
        }
        if other.is_initialized() {
            self.set_initialized();
        }
        let level = other.log_level.load(Ordering::Relaxed);
        self.log_level.store(level, Ordering::Relaxed);
        let subscriptions = crate::sync::lock(&other.subscriptions).clone();
        if !subscriptions.is_empty() {
            self.set_subscriptions(subscriptions);
        }
    }

    /// Marks the session operational (`notifications/initialized` sent or received, L-4).
    pub fn set_initialized(&self) {
        self.initialized.store(true, Ordering::Release);
    }

    /// Whether the session is operational.
    pub fn is_initialized(&self) -> bool {
        self.initialized.load(Ordering::Acquire)
    }

    /// The negotiated protocol version, once known.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        let code = self.protocol_version.load(Ordering::Acquire);
        ProtocolVersion::ALL
            .get(usize::from(code).checked_sub(1)?)
            .copied()
    }

    /// Whether `initialize` has been answered (the version is known).
    pub fn is_negotiated(&self) -> bool {
        self.protocol_version.load(Ordering::Acquire) != 0
    }

    /// Sets the version unless one is set already.
    fn set_version(&self, version: ProtocolVersion) {
        let code = version_code(version);
        let set = Ordering::AcqRel;
        let _ = self
            .protocol_version
            .compare_exchange(0, code, set, Ordering::Acquire);
    }

    /// The client's `clientInfo` (on the server side).
    pub fn client_info(&self) -> Option<&Implementation> {
        self.client.get().map(|c| &*c.info)
    }

    /// The client's capabilities (on the server side), decoded from their stored JSON.
    pub fn client_capabilities(&self) -> Option<ClientCapabilities> {
        serde_json::from_str(self.client_capabilities_raw()?.get()).ok()
    }

    /// The server's `serverInfo` (on the client side).
    pub fn server_info(&self) -> Option<&Implementation> {
        self.server_info.get().map(|b| &**b)
    }

    /// The server's capabilities (on the client side).
    pub fn server_capabilities(&self) -> Option<&ServerCapabilities> {
        self.server_capabilities.get().map(|b| &**b)
    }

    /// Sets the minimum level of log notifications sent to the client (LG-2).
    pub fn set_log_level(&self, level: LoggingLevel) {
        self.log_level
            .store(level_rank(level) + 1, Ordering::Relaxed);
    }

    /// The level the client set with `logging/setLevel`, if it did.
    pub fn log_level(&self) -> Option<LoggingLevel> {
        match self.log_level.load(Ordering::Relaxed) {
            0 => None,
            n => LEVELS.get(usize::from(n - 1)).copied(),
        }
    }

    /// Records a subscription to `uri` (`resources/subscribe`).
    pub fn subscribe(&self, uri: &str) {
        let mut subscriptions = crate::sync::lock(&self.subscriptions);
        if !subscriptions.iter().any(|u| u == uri) {
            subscriptions.push(uri.to_owned());
        }
    }

    /// Drops a subscription to `uri` (`resources/unsubscribe`).
    pub fn unsubscribe(&self, uri: &str) {
        crate::sync::lock(&self.subscriptions).retain(|u| u != uri);
    }

    /// Whether the client subscribed to `uri`.
    pub fn is_subscribed(&self, uri: &str) -> bool {
        crate::sync::lock(&self.subscriptions)
            .iter()
            .any(|u| u == uri)
    }

    /// The resources the client subscribed to.
    pub fn subscriptions(&self) -> Vec<String> {
        crate::sync::lock(&self.subscriptions).clone()
    }

    /// Replaces the subscriptions (a session restored from a stored record).
    pub fn set_subscriptions(&self, uris: Vec<String>) {
        *crate::sync::lock(&self.subscriptions) = uris;
    }

    /// The client's capabilities as the JSON text it sent (what a session store keeps).
    pub fn client_capabilities_raw(&self) -> Option<&Arc<RawValue>> {
        self.client.get()?.capabilities.as_ref()
    }

    /// Whether a log message at `level` passes the client's filter. In a legacy session that is
    /// `logging/setLevel`, and before any, every level passes (LG-6, as the official SDKs do).
    /// A 2026-07-28 request names its level in its `_meta`, and without one gets no log
    /// message at all (LGm-1).
    pub fn log_enabled(&self, level: LoggingLevel) -> bool {
        let min = self.log_level.load(Ordering::Relaxed);
        if min == 0 {
            return !self.is_modern();
        }
        level_rank(level) + 1 >= min
    }

    /// Whether this is a request of the 2026-07-28 era (stateless, its state taken from its
    /// own `_meta`) rather than a legacy session.
    pub fn is_modern(&self) -> bool {
        self.protocol_version().is_some_and(|v| !v.is_legacy())
    }

    /// A client capability by its path, such as `["elicitation", "url"]` (C-1), read from the
    /// capabilities the client declared.
    pub fn client_declares(&self, path: &[&str]) -> bool {
        let Some(caps) = self.client_capabilities_raw() else {
            return false;
        };
        declares(serde_json::from_str(caps.get()).ok(), path)
    }

    /// A server capability by its path, such as `["resources", "subscribe"]` (C-2).
    pub fn server_declares(&self, path: &[&str]) -> bool {
        let Some(caps) = self.server_capabilities.get() else {
            return false;
        };
        declares(serde_json::to_value(caps).ok(), path)
    }
}

fn declares(value: Option<serde_json::Value>, path: &[&str]) -> bool {
    let mut v = match value {
        Some(v) => v,
        None => return false,
    };
    for key in path {
        match v.get_mut(*key).map(serde_json::Value::take) {
            Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) | None => {
                return false;
            }
            Some(next) => v = next,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PF-113: the version is set once, as a `OnceLock` would keep it, and a state no one
    /// shares yet takes a shared client with plain stores.
    #[test]
    fn the_version_is_set_once_and_read_back() {
        let client = SharedClient::new(Implementation::new("c", "1"), &Default::default());
        for version in ProtocolVersion::ALL {
            let state = SessionState::default();
            assert!(!state.is_negotiated() && state.protocol_version().is_none());
            state.set_shared_client(version, &client);
            state.set_shared_client(ProtocolVersion::V2024_11_05, &client);
            assert_eq!(state.protocol_version(), Some(version));
            let mut fresh = SessionState::default();
            fresh.init_shared_client(version, &client);
            assert!(fresh.is_negotiated() && fresh.is_initialized());
            assert_eq!(fresh.protocol_version(), Some(version));
            assert_eq!(fresh.client_info().map(|i| i.name.as_str()), Some("c"));
            let copy = SessionState::default();
            copy.copy_from(&fresh);
            assert_eq!(copy.protocol_version(), Some(version));
        }
    }

    #[test]
    fn the_client_side_is_kept_compact_and_answers_capability_questions() {
        let state = SessionState::default();
        let caps: ClientCapabilities = serde_json::from_value(
            serde_json::json!({"sampling": {}, "elicitation": {"form": {}}}),
        )
        .unwrap_or_default();
        let info: Implementation =
            serde_json::from_value(serde_json::json!({"name": "c", "version": "1"}))
                .unwrap_or_else(|_| Implementation::new("x", "0"));
        state.set_client(ProtocolVersion::LATEST, info, caps.clone());
        assert!(state.client_declares(&["sampling"]));
        assert!(state.client_declares(&["elicitation", "form"]));
        assert!(!state.client_declares(&["roots"]));
        assert_eq!(state.client_capabilities(), Some(caps));
        assert_eq!(state.client_info().map(|i| i.name.as_str()), Some("c"));
        assert!(state.server_info().is_none());
        assert_eq!(state.log_level(), None);
        state.set_log_level(LoggingLevel::Warning);
        assert_eq!(state.log_level(), Some(LoggingLevel::Warning));
    }
}
