//! How instances serving the same sessions reach each other: a message to the instance that
//! waits for it (a client's answer to a server-to-client request, whose id names the instance),
//! and broadcasts to all (a cancellation, the end of a session, a changed session record).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use tokio::sync::mpsc;

/// What one instance tells another.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BusMessage {
    /// A client's message for the peer of `session` on the receiving instance: an answer to a
    /// server-to-client request that instance sent (`session` is `None` for a stateless one).
    Deliver {
        /// The session, or `None` in stateless mode.
        session: Option<Arc<str>>,
        /// The JSON-RPC message.
        message: Bytes,
    },
    /// A client's notification that every instance serving `session` must see
    /// (`notifications/cancelled`: the request may run anywhere).
    Notify {
        /// The session.
        session: Arc<str>,
        /// The JSON-RPC notification.
        message: Bytes,
    },
    /// A message for the GET stream of `session`, which the receiving instance holds (a
    /// notification or request that belongs to no client request, produced elsewhere).
    ToGetStream {
        /// The session.
        session: Arc<str>,
        /// The JSON-RPC message.
        message: Bytes,
    },
    /// A notification for every session (a list changed), or for the subscribers of a
    /// resource: each instance delivers it to the GET streams it holds.
    Broadcast {
        /// The JSON-RPC notification.
        message: Bytes,
        /// When set, only the subscribers of this resource get it.
        subscribers_of: Option<String>,
        /// Its entry in a bus's shared stream of notifications (a bus that keeps a shared GET
        /// log): the receiving instance then delivers it only to the sessions
        /// [`MessageBus::take_broadcast`] gives it, so each session gets it exactly once
        /// wherever its GET stream is or moves (RB-36). `None` when sending.
        entry: Option<Arc<str>>,
        /// The instance that made it, when the bus says (the sender's own modern-era
        /// listeners got it already).
        from: Option<Arc<str>>,
    },
    /// The session ended: its streams close and its handlers are cancelled everywhere.
    SessionEnded {
        /// The session.
        session: Arc<str>,
    },
    /// The session was ended by a DELETE on instance `ack_to`: as [`BusMessage::SessionEnded`],
    /// and each instance then tells `ack_to` it has let the session go
    /// ([`BusMessage::EndAcknowledged`]), so the DELETE is answered once no instance serves
    /// it any more (RB-19).
    SessionEnding {
        /// The session.
        session: Arc<str>,
        /// The instance that waits for the acknowledgements.
        ack_to: Arc<str>,
    },
    /// Instance `by` no longer serves `session` (the answer to [`BusMessage::SessionEnding`]).
    EndAcknowledged {
        /// The session.
        session: Arc<str>,
        /// The instance that let it go.
        by: Arc<str>,
    },
    /// For the instance that holds the GET stream of `session`: once the messages sent to it
    /// before this one are written to the stream's connection, answer `reply_to` with
    /// [`BusMessage::GetFlushed`] (a JSON response waits for its notifications, RB-20).
    GetFlush {
        /// The session.
        session: Arc<str>,
        /// Names the waiting response.
        token: u64,
        /// The instance that waits.
        reply_to: Arc<str>,
    },
    /// The answer to [`BusMessage::GetFlush`].
    GetFlushed {
        /// The token of the flush.
        token: u64,
    },
    /// The session's record changed (its log level, say): instances that hold it reload it.
    SessionChanged {
        /// The session.
        session: Arc<str>,
    },
    /// The shared store lost its data (a Redis restarted without persistence, a failover that
    /// lost writes): the receiving instance lets go of the sessions it holds whose records are
    /// gone, so it answers 404 for them as every other instance does (RB-32). A bus tells its
    /// own instance this; it is not sent between instances.
    StoreDataLost,
}

/// Why the bus could not take a message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("message bus unavailable: {0}")]
#[non_exhaustive]
pub struct BusError(pub String);

impl BusError {
    /// An error with this reason (a bus outside this crate makes its errors so).
    pub fn new(reason: impl Into<String>) -> Self {
        BusError(reason.into())
    }
}

/// Carries messages between instances. The memory bus connects instances in one process (tests,
/// and the proof of the design); a shared one (Redis) connects processes.
pub trait MessageBus: Send + Sync + 'static {
    /// Sends `message` to instance `to`. A message for an instance that is gone is dropped.
    fn send(&self, to: &str, message: BusMessage) -> BoxFuture<'_, Result<(), BusError>>;
    /// Sends `message` to every instance but `from`.
    fn broadcast(&self, from: &str, message: BusMessage) -> BoxFuture<'_, Result<(), BusError>>;
    /// The messages for `instance`, sent to it or broadcast, from now on.
    fn subscribe(&self, instance: &str) -> BoxStream<'static, BusMessage>;
    /// Whether `instance` is alive (subscribed, its heartbeat fresh). A stream another instance
    /// ran is ended with an error once that instance is gone (RB-15). By default: alive.
    fn is_alive(&self, instance: &str) -> BoxFuture<'_, Result<bool, BusError>> {
        let _ = instance;
        Box::pin(std::future::ready(Ok(true)))
    }
    /// Whether the bus keeps a shared log of each session's GET stream messages
    /// ([`MessageBus::to_get_stream`], [`MessageBus::claim_get_stream`]). Without one, a
    /// message goes to the holder the producing instance knows of, or waits there.
    fn shares_get_log(&self) -> bool {
        false
    }
    /// A message for the GET stream of `session`, wherever it is held: to the inbox of the
    /// instance the session's record names as holder (alive), else into the session's GET
    /// log, in one atomic step against [`MessageBus::claim_get_stream`], so that nothing falls
    /// between (RB-20).
    fn to_get_stream(&self, session: &str, message: Bytes) -> BoxFuture<'_, Result<(), BusError>> {
        let _ = (session, message);
        Box::pin(std::future::ready(Err(BusError::new("no shared GET log"))))
    }
    /// Sends a [`BusMessage::GetFlush`] after what was sent to the GET stream of `session`, by
    /// the same way (the holder's inbox); `false` when no instance holds that stream (nothing
    /// to wait for).
    fn flush_get_stream(
        &self,
        session: &str,
        token: u64,
        reply_to: &str,
    ) -> BoxFuture<'_, Result<bool, BusError>> {
        let _ = (session, token, reply_to);
        Box::pin(std::future::ready(Ok(false)))
    }
    /// Instance `instance` now holds the GET stream of `session`: recorded, and what waited in
    /// the session's GET log is taken (in order) to send on it, with the broadcasts for the
    /// session that no holder took yet (RB-36).
    fn claim_get_stream(
        &self,
        session: &str,
        instance: &str,
    ) -> BoxFuture<'_, Result<Vec<Bytes>, BusError>> {
        let _ = (session, instance);
        Box::pin(std::future::ready(Ok(Vec::new())))
    }
    /// Of `sessions`, whose GET streams `instance` has open, those that get broadcast `entry`
    /// there: the ones whose record names `instance` as the holder of their GET stream and that
    /// have not had `entry` yet (each session's record keeps how far it got in the stream of
    /// broadcasts, and [`MessageBus::claim_get_stream`] hands what came after to a new holder),
    /// initialized and, for `subscribers_of`, subscribed to that resource. One atomic step per
    /// session against a claim, so a broadcast reaches each session exactly once (RB-36).
    /// By default (no shared log): all of them.
    fn take_broadcast(
        &self,
        entry: &str,
        subscribers_of: Option<&str>,
        sessions: Vec<Arc<str>>,
        instance: &str,
    ) -> BoxFuture<'_, Result<Vec<Arc<str>>, BusError>> {
        let _ = (entry, subscribers_of, instance);
        Box::pin(std::future::ready(Ok(sessions)))
    }
    /// The instances alive now, this one included: those a DELETE waits for (RB-19). By
    /// default none are known, and a DELETE waits for nobody.
    fn instances(&self) -> BoxFuture<'_, Result<Vec<Arc<str>>, BusError>> {
        Box::pin(std::future::ready(Ok(Vec::new())))
    }
}

/// Messages queued for one instance before the oldest are dropped (a stalled receiver must not
/// grow without bound).
const INBOX: usize = 4096;

/// Instances in one process: an inbox each.
#[derive(Debug, Default)]
pub struct MemoryBus {
    inboxes: Mutex<Vec<(Arc<str>, mpsc::Sender<BusMessage>)>>,
}

impl MemoryBus {
    /// A bus with no instance yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn deliver(&self, to: impl Fn(&str) -> bool, message: &BusMessage) {
        let mut inboxes = mcp_http_core::sync::lock(&self.inboxes);
        // Instances that are gone drop out here.
        inboxes.retain(|(_, tx)| !tx.is_closed());
        for (id, tx) in inboxes.iter() {
            if to(id) && tx.try_send(message.clone()).is_err() {
                tracing::warn!(instance = %id, "bus inbox full; a message was dropped");
            }
        }
    }
}

impl MessageBus for MemoryBus {
    fn send(&self, to: &str, message: BusMessage) -> BoxFuture<'_, Result<(), BusError>> {
        self.deliver(|id| id == to, &message);
        Box::pin(std::future::ready(Ok(())))
    }

    fn broadcast(&self, from: &str, message: BusMessage) -> BoxFuture<'_, Result<(), BusError>> {
        self.deliver(|id| id != from, &message);
        Box::pin(std::future::ready(Ok(())))
    }

    fn subscribe(&self, instance: &str) -> BoxStream<'static, BusMessage> {
        let (tx, mut rx) = mpsc::channel(INBOX);
        mcp_http_core::sync::lock(&self.inboxes).push((instance.into(), tx));
        Box::pin(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }

    fn is_alive(&self, instance: &str) -> BoxFuture<'_, Result<bool, BusError>> {
        let alive = mcp_http_core::sync::lock(&self.inboxes)
            .iter()
            .any(|(id, tx)| &**id == instance && !tx.is_closed());
        Box::pin(std::future::ready(Ok(alive)))
    }

    fn instances(&self) -> BoxFuture<'_, Result<Vec<Arc<str>>, BusError>> {
        let alive = mcp_http_core::sync::lock(&self.inboxes)
            .iter()
            .filter(|(_, tx)| !tx.is_closed())
            .map(|(id, _)| id.clone())
            .collect();
        Box::pin(std::future::ready(Ok(alive)))
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[tokio::test]
    async fn sends_reach_one_instance_and_broadcasts_all_others() {
        let bus = MemoryBus::new();
        let (mut a, mut b) = (bus.subscribe("a"), bus.subscribe("b"));
        let ended = |s: &str| BusMessage::SessionEnded { session: s.into() };
        assert!(bus.send("b", ended("1")).await.is_ok());
        assert!(bus.broadcast("b", ended("2")).await.is_ok());
        assert!(
            matches!(b.next().await, Some(BusMessage::SessionEnded { session }) if &*session == "1")
        );
        assert!(
            matches!(a.next().await, Some(BusMessage::SessionEnded { session }) if &*session == "2")
        );
        assert!(bus.is_alive("a").await.unwrap());
        drop(a);
        // A gone instance is dropped, not an error.
        assert!(bus.send("a", ended("3")).await.is_ok());
        assert!(!bus.is_alive("a").await.unwrap(), "RB-15");
        assert_eq!(bus.instances().await.unwrap(), [Arc::<str>::from("b")]);
    }
}
