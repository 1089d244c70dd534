//! The bridge's settings, serve side.

use std::time::Duration;

/// How children are shared among HTTP sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ChildMode {
    /// One child serves every session (BR-2): ids and progress tokens multiplexed, each
    /// session's `initialize` answered from the child's one handshake, each session's log
    /// level and subscriptions its own. Restarted with backoff when it exits (BR-6).
    #[default]
    Shared,
    /// A child per session, started by its `initialize` and stopped when it ends (BR-4).
    PerSession,
}

/// Settings of a bridged server. Start from [`BridgeSettings::default`].
///
/// ```
/// use std::time::Duration;
/// use mcp_http_bridge::{BridgeSettings, ChildMode};
/// let settings = BridgeSettings::default().mode(ChildMode::PerSession).init_timeout(Duration::from_secs(5));
/// assert_eq!(settings.mode, ChildMode::PerSession);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BridgeSettings {
    /// Shared child or a child per session.
    pub mode: ChildMode,
    /// How long a child may take to answer `initialize` (BR-6).
    pub init_timeout: Duration,
    /// How long a request may wait on the child without progress, and a request of the child
    /// on the client (a person answering an elicitation).
    pub request_timeout: Duration,
    /// The first wait before a shared child that exited is started again; it doubles up to
    /// `max_backoff` while the child keeps failing (BR-6).
    pub min_backoff: Duration,
    /// The longest wait between restarts.
    pub max_backoff: Duration,
}

impl Default for BridgeSettings {
    fn default() -> Self {
        BridgeSettings {
            mode: ChildMode::Shared,
            init_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(600),
            min_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl BridgeSettings {
    /// Shared child or a child per session.
    pub fn mode(mut self, mode: ChildMode) -> Self {
        self.mode = mode;
        self
    }

    /// How long a child may take to answer `initialize`.
    pub fn init_timeout(mut self, timeout: Duration) -> Self {
        self.init_timeout = timeout;
        self
    }

    /// How long a request may wait without progress.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The restart backoff's bounds.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max.max(min);
        self
    }
}
