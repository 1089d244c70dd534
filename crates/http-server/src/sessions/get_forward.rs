//! Messages for a session's GET stream when another instance holds it: routers queue them, one
//! task sends them over the bus (to the holder, or through the bus's shared GET log, RB-20),
//! and a JSON response first waits until what its request sent there is written.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use super::{BusMessage, GetOwner, MessageBus, Sessions};

/// How long the holder of a GET stream waits for its connection to write what came for it
/// before it answers a flush (RB-20).
const GET_FLUSH_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// What a router hands to the task that sends to other instances' GET streams.
pub(super) enum ForGet {
    /// A message for the GET stream of `session`: to `owner`, or (`None`) through the bus's
    /// shared GET log.
    Message {
        owner: Option<Arc<str>>,
        session: Arc<str>,
        message: Bytes,
    },
    /// Answered once everything queued before it for `session` was written to the GET stream's
    /// connection where it is held (`true`), or at once when no instance holds it (`false`).
    Flush {
        session: Arc<str>,
        done: tokio::sync::oneshot::Sender<bool>,
    },
}

/// A session router's way to the GET stream another instance holds (see [`ForGet`]).
pub(super) struct GetForwarder {
    pub(super) owner: GetOwner,
    pub(super) me: Arc<str>,
    pub(super) session: Arc<str>,
    pub(super) queue: tokio::sync::mpsc::Sender<ForGet>,
    /// The bus keeps a shared GET log: every message goes through it, and it finds the holder
    /// (RB-20).
    pub(super) shared_log: bool,
    /// Messages queued so far, and how many of them a finished flush covers: a JSON response
    /// whose session sent nothing elsewhere since costs no flush (a quick call stays at zero
    /// Redis round trips, RB-12).
    pub(super) queued: Arc<AtomicU64>,
    pub(super) flushed: Arc<AtomicU64>,
}

impl crate::router::RemoteGet for GetForwarder {
    fn send(&self, json: Bytes) -> Result<(), Bytes> {
        let owner = if self.shared_log {
            None
        } else {
            match self.owner.get() {
                Some(owner) if owner != self.me => Some(owner),
                _ => return Err(json),
            }
        };
        let message = ForGet::Message {
            owner,
            session: self.session.clone(),
            message: json,
        };
        if self.queue.try_send(message).is_err() {
            tracing::warn!(
                "the queue to other instances' GET streams is full; a message was dropped"
            );
        }
        self.queued.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    fn flush(&self) -> futures::future::BoxFuture<'static, ()> {
        let upto = self.queued.load(Ordering::Acquire);
        if self.flushed.load(Ordering::Acquire) >= upto {
            return Box::pin(std::future::ready(()));
        }
        let (queue, session) = (self.queue.clone(), self.session.clone());
        let (owner, flushed_upto) = (self.owner.clone(), self.flushed.clone());
        Box::pin(async move {
            loop {
                // Enabled before asking: a claim seen while the flush runs is not missed.
                let claimed = owner.claimed();
                let mut claimed = std::pin::pin!(claimed);
                claimed.as_mut().enable();
                let (done, flushed) = tokio::sync::oneshot::channel();
                let session = session.clone();
                if queue.send(ForGet::Flush { session, done }).await.is_err() {
                    break;
                }
                match flushed.await {
                    // No instance holds the GET stream yet: what was sent waits in the shared
                    // log for the first claim, which the client's GET, often sent just before
                    // this request, is about to make. The answer waits for that claim (within
                    // the caller's deadline) and asks again, so that it does not overtake the
                    // notifications (RB-48).
                    Ok(false) => claimed.await,
                    _ => break,
                }
            }
            flushed_upto.fetch_max(upto, Ordering::AcqRel);
        })
    }
}

/// Messages for other instances' GET streams queued before the oldest are dropped.
pub(super) const TO_GET_QUEUE: usize = 4096;

impl Sessions {
    /// Sends what routers queued for other instances' GET streams, until the layer is gone.
    pub(crate) async fn forward_get(sessions: std::sync::Weak<Sessions>) {
        let Some(mut queue) = sessions
            .upgrade()
            .and_then(|s| mcp_http_core::sync::lock(&s.to_get_rx).take())
        else {
            return;
        };
        while let Some(item) = queue.recv().await {
            let Some(sessions) = sessions.upgrade() else {
                return;
            };
            let Some(bus) = &sessions.backends.bus else {
                return;
            };
            let sent = match item {
                ForGet::Flush { session, done } => {
                    sessions.flush_get(bus, &session, done).await;
                    continue;
                }
                ForGet::Message {
                    owner: Some(owner),
                    session,
                    message,
                } => {
                    bus.send(&owner, BusMessage::ToGetStream { session, message })
                        .await
                }
                ForGet::Message {
                    owner: None,
                    session,
                    message,
                } => bus.to_get_stream(&session, message).await,
            };
            if let Err(e) = sent {
                tracing::warn!(error = %e, "a message for another instance's GET stream was lost");
            }
        }
    }

    /// Asks the instance holding the GET stream of `session` to answer once what was sent
    /// there is written; `done` is answered then (or at once when no instance holds it).
    async fn flush_get(
        &self,
        bus: &Arc<dyn MessageBus>,
        session: &str,
        done: tokio::sync::oneshot::Sender<bool>,
    ) {
        if !bus.shares_get_log() {
            // Without a shared log a message goes only to a known holder: nothing to wait for.
            let _ = done.send(true);
            return;
        }
        let token = self
            .next_flush
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        mcp_http_core::sync::lock(&self.flushes).insert(token, done);
        let asked = bus
            .flush_get_stream(session, token, &self.backends.instance)
            .await;
        if !matches!(asked, Ok(true)) {
            // Nobody holds the stream (`false`), or the bus failed (nothing to wait for).
            if let Some(done) = mcp_http_core::sync::lock(&self.flushes).remove(&token) {
                let _ = done.send(asked.is_err());
            }
        }
    }

    /// The holder's side of a flush: once its GET connection wrote what came before
    /// (or [`GET_FLUSH_WAIT`] passed), `reply_to` is told.
    pub(super) fn answer_get_flush(&self, session: &str, token: u64, reply_to: Arc<str>) {
        let (Some(bus), local) = (
            self.backends.bus.clone(),
            self.local.get(session).map(|s| s.router.clone()),
        ) else {
            return;
        };
        // Not on the bus's reader: the connection may take a moment to write.
        tokio::spawn(async move {
            if let Some(router) = local {
                let deadline = tokio::time::Instant::now() + GET_FLUSH_WAIT;
                router.drain_local_get(deadline).await;
            }
            let _ = bus.send(&reply_to, BusMessage::GetFlushed { token }).await;
        });
    }
}
