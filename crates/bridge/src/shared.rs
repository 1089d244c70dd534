//! The shared child (BR-2): started once and initialized by the bridge itself, restarted with
//! a doubling backoff when it exits (BR-6). The sessions of a child that exited are ended (their
//! calls get a clear error, later requests 404), and new sessions get the next child. A child
//! that cannot start leaves the bridge serving: its sessions get an error naming the cause
//! until a restart works.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_http_proto::{ErrorObject, error_code};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::attached::BroadcastSlot;
use crate::child::ChildSpec;
use crate::settings::BridgeSettings;
use crate::upstream::Upstream;

/// How long a request waits for a failed child's restart before it gets the failure.
const FAILED_GRACE: Duration = Duration::from_secs(2);

/// A child that lived this long is healthy again: the backoff starts over.
const HEALTHY_AFTER: Duration = Duration::from_secs(30);

#[derive(Clone)]
enum Current {
    Starting,
    Ready(Arc<Upstream>),
    Failed(String),
}

/// The shared child of one bridged server.
pub(crate) struct SharedChild {
    name: Arc<str>,
    spec: ChildSpec,
    settings: BridgeSettings,
    current: watch::Sender<Current>,
    /// The endpoint's broadcaster, once it hands one (BR-76).
    broadcast: BroadcastSlot,
    started: std::sync::Once,
    stop: CancellationToken,
    stopped: CancellationToken,
}

impl SharedChild {
    pub(crate) fn new(
        name: Arc<str>,
        spec: ChildSpec,
        settings: BridgeSettings,
        broadcast: BroadcastSlot,
    ) -> Arc<Self> {
        Arc::new(SharedChild {
            name,
            spec,
            settings,
            broadcast,
            current: watch::Sender::new(Current::Starting),
            started: std::sync::Once::new(),
            stop: CancellationToken::new(),
            stopped: CancellationToken::new(),
        })
    }

    /// Starts the supervisor, once.
    pub(crate) fn ensure_started(self: &Arc<Self>) {
        self.started.call_once(|| {
            let this = self.clone();
            tokio::spawn(async move { this.supervise().await });
        });
    }

    async fn supervise(self: Arc<Self>) {
        let mut backoff = self.settings.min_backoff;
        let mut first = true;
        loop {
            if !first {
                metrics::counter!("mcp_http_bridge_restarts_total", "server" => self.name.to_string())
                    .increment(1);
            }
            first = false;
            self.current.send_replace(Current::Starting);
            let begun = Instant::now();
            match Upstream::start(
                &self.name,
                &self.spec,
                &self.settings,
                None,
                Some(self.broadcast.clone()),
            )
            .await
            {
                Ok(upstream) => {
                    self.current.send_replace(Current::Ready(upstream.clone()));
                    tokio::select! {
                        _ = upstream.child.exited() => {
                            tracing::warn!(server = %self.name, status = upstream.child.status().unwrap_or_default(), "the shared child exited; its sessions end and it is started again");
                        }
                        _ = self.stop.cancelled() => {
                            upstream.child.stop().await;
                            break;
                        }
                    }
                    self.current.send_replace(Current::Failed(format!(
                        "it exited ({})",
                        upstream.child.status().unwrap_or_default()
                    )));
                    upstream.attached.close_all().await;
                }
                Err(e) => {
                    tracing::warn!(server = %self.name, error = %e.message, "the shared child could not start");
                    self.current.send_replace(Current::Failed(e.message));
                }
            }
            if begun.elapsed() >= HEALTHY_AFTER {
                backoff = self.settings.min_backoff;
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = self.stop.cancelled() => break,
            }
            backoff = (backoff * 2).min(self.settings.max_backoff);
        }
        self.stopped.cancel();
    }

    /// The running child, waiting up to the initialize timeout while one starts.
    pub(crate) async fn running(self: &Arc<Self>) -> Result<Arc<Upstream>, ErrorObject> {
        self.ensure_started();
        let mut current = self.current.subscribe();
        let wait = self.settings.init_timeout + Duration::from_secs(1);
        let found = tokio::time::timeout(wait, async {
            // A failed child may be about to restart: its sessions' clients re-initialize at
            // once, so they get a moment before the failure is theirs.
            let mut failed_since: Option<Instant> = None;
            loop {
                let now = current.borrow_and_update().clone();
                match now {
                    Current::Ready(upstream) if !upstream.child.is_gone() => return Ok(upstream),
                    Current::Failed(reason) => {
                        let since = *failed_since.get_or_insert_with(Instant::now);
                        let left = FAILED_GRACE.saturating_sub(since.elapsed());
                        if left.is_zero() {
                            return Err(reason);
                        }
                        match tokio::time::timeout(left, current.changed()).await {
                            Ok(Ok(())) => continue,
                            Ok(Err(_)) => return Err("the bridge is stopping".to_owned()),
                            Err(_) => return Err(reason),
                        }
                    }
                    _ => {}
                }
                if current.changed().await.is_err() {
                    return Err("the bridge is stopping".to_owned());
                }
            }
        })
        .await;
        match found {
            Ok(Ok(upstream)) => Ok(upstream),
            Ok(Err(reason)) => Err(ErrorObject::new(
                error_code::INTERNAL_ERROR,
                format!(
                    "the bridged server `{}` is not running: {reason}; it is being restarted, try again shortly",
                    self.name
                ),
            )),
            Err(_) => Err(ErrorObject::new(
                error_code::INTERNAL_ERROR,
                format!("the bridged server `{}` is still starting", self.name),
            )),
        }
    }

    /// Stops the child for good and waits until it is reaped.
    pub(crate) async fn shutdown(&self) {
        self.stop.cancel();
        if self.started.is_completed() {
            self.stopped.cancelled().await;
        }
    }

    /// How many sessions the running child serves.
    pub(crate) fn sessions(&self) -> usize {
        match &*self.current.borrow() {
            Current::Ready(u) => u.attached.len(),
            _ => 0,
        }
    }

    /// Whether the child is up now.
    pub(crate) fn is_ready(&self) -> bool {
        matches!(&*self.current.borrow(), Current::Ready(u) if !u.child.is_gone())
    }
}
