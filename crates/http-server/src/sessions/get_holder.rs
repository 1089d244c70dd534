//! Who holds a session's GET stream in a cluster, and the notifications for every session
//! that reach it: the role's broadcaster, a GET stream claimed when it opens here, and, with a
//! shared GET log, broadcasts handed to each session's stream exactly once wherever it is held
//! or moves (RB-36, RB-38).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use mcp_http_core::{Broadcast, Broadcaster};

use super::{BusMessage, Session, SessionRecord, SessionStore, Sessions};

impl Sessions {
    /// What the role uses, in a cluster, to notify every session: each instance delivers to the
    /// GET streams it holds (a session with no GET stream open anywhere has nowhere to get it).
    pub(crate) fn broadcaster(sessions: std::sync::Weak<Sessions>) -> Broadcaster {
        Arc::new(move |broadcast: Broadcast| {
            let Some(this) = sessions.upgrade() else {
                return;
            };
            if this.shares_get_log() {
                // The sessions get it from the shared stream of broadcasts, this instance's
                // too, through their GET streams' holders (RB-36); only the local modern-era
                // listeners get it here.
                this.listeners
                    .deliver(&broadcast.message, broadcast.subscribers_of.as_deref());
            } else {
                this.deliver_broadcast(&broadcast.message, broadcast.subscribers_of.as_deref());
            }
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                tracing::warn!("no runtime to tell the other instances of a notification");
                return;
            };
            runtime.spawn(async move {
                let (message, subscribers_of) = (broadcast.message, broadcast.subscribers_of);
                let Some(bus) = this.backends.bus.clone() else {
                    return;
                };
                let shared = BusMessage::Broadcast {
                    message: message.clone(),
                    subscribers_of: subscribers_of.clone(),
                    entry: None,
                    from: None,
                };
                let Err(e) = bus.broadcast(&this.backends.instance, shared).await else {
                    return;
                };
                tracing::warn!(error = %e, "a broadcast to the other instances failed");
                if this.shares_get_log() {
                    // Not in the shared stream of broadcasts, so no holder or claim will ever
                    // take it: the GET streams open here get it now, once (RB-47).
                    this.deliver_unshared(&message, subscribers_of.as_deref());
                }
            });
        })
    }

    /// Delivers a notification for every session to the GET streams this instance holds, and
    /// holds it for the sessions it created that have no GET stream open anywhere yet.
    pub(super) fn deliver_broadcast(&self, message: &Bytes, subscribers_of: Option<&str>) {
        self.listeners.deliver(message, subscribers_of);
        for session in self.local.iter() {
            let state = session.peer.state();
            let holds_get = match session.get_owner() {
                Some(owner) => owner == self.backends.instance,
                None => session.origin.load(Ordering::Relaxed),
            };
            let wanted = subscribers_of.is_none_or(|uri| state.is_subscribed(uri));
            if holds_get && wanted && state.is_initialized() {
                session.router.deliver_to_get(message.clone());
            }
        }
    }

    /// A notification made here that the bus could not add to its shared stream of broadcasts
    /// (Redis down): delivered to the GET streams open here, of the sessions initialized and,
    /// for a resource's notification, subscribed to it as this instance knows them (RB-47).
    /// Nothing else will deliver it, so it comes once; other instances' streams miss it.
    fn deliver_unshared(&self, message: &Bytes, subscribers_of: Option<&str>) {
        for session in self.local.iter() {
            let state = session.peer.state();
            let wanted = subscribers_of.is_none_or(|uri| state.is_subscribed(uri));
            if session.router.holds_get() && wanted && state.is_initialized() {
                session.router.deliver_to_get(message.clone());
            }
        }
    }

    /// Whether the bus keeps a shared GET log (and a shared stream of broadcasts).
    pub(super) fn shares_get_log(&self) -> bool {
        self.backends
            .bus
            .as_ref()
            .is_some_and(|bus| bus.shares_get_log())
    }

    /// A broadcast read from the bus's shared stream (`entry`): delivered to the GET streams
    /// open here whose sessions the bus says get it from this instance, exactly once (RB-36).
    pub(super) async fn deliver_shared_broadcast(
        &self,
        message: &Bytes,
        subscribers_of: Option<&str>,
        entry: &str,
    ) {
        let Some(bus) = &self.backends.bus else {
            return;
        };
        let open: Vec<Arc<str>> = self
            .local
            .iter()
            .filter(|s| s.router.holds_get())
            .map(|s| s.id.clone())
            .collect();
        if open.is_empty() {
            return;
        }
        match bus
            .take_broadcast(entry, subscribers_of, open, &self.backends.instance)
            .await
        {
            Ok(sessions) => {
                for id in sessions {
                    if let Some(session) = self.local.get(&id).map(|s| s.clone()) {
                        self.deliver_after_claims(&session, message.clone());
                    }
                }
            }
            Err(e) => {
                // Left for the next claim of these GET streams, which takes what no holder took.
                tracing::warn!(error = %e, "a broadcast could not be delivered to the GET streams held here");
            }
        }
    }

    /// A GET stream opened here: this instance holds it now, and the others send what they
    /// have for it here (a second GET replaces the first, wherever that one is).
    pub(crate) async fn claim_get(&self, session: &Session) {
        if !self.clustered() {
            return;
        }
        if let Some(owner) = &session.get_owner {
            owner.set(Some(self.backends.instance.clone()));
        }
        if let Some(bus) = &self.backends.bus
            && bus.shares_get_log()
        {
            let running = RunningClaim::start(self, session);
            // Recorded as the holder and what waited taken, in one step: a message produced
            // elsewhere meanwhile is either in the backlog or sent here (RB-20), and so is a
            // broadcast no holder took yet (RB-36).
            match bus
                .claim_get_stream(&session.id, &self.backends.instance)
                .await
            {
                Ok(backlog) => {
                    session.claimed_get(&self.backends.instance);
                    for message in backlog {
                        session.router.deliver_to_get(message);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the GET stream's waiting messages could not be taken");
                }
            }
            drop(running);
            // The claim wrote the holder into the record: the others only need to look
            // (the one that held the stream ends its connection, RB-38).
            self.broadcast(BusMessage::SessionChanged {
                session: session.id.clone(),
            })
            .await;
            return;
        }
        self.sync(session).await;
    }

    /// A `Last-Event-ID` resume of the session's GET stream that another instance numbered,
    /// with a shared GET log: the stream opens here and is claimed as by a new GET, after the
    /// old stream's stored events (RB-43, RB-44). `None` for any other resume.
    pub(crate) async fn resume_get(
        &self,
        session: &Session,
        last_event_id: &str,
    ) -> Result<Option<crate::body::ResponseBody>, crate::router::ResumeError> {
        let Some(moved) = session.router.moved_get(last_event_id).await? else {
            return Ok(None);
        };
        // Open before the claim, as a new GET does: a broadcast read meanwhile is taken by the
        // old holder or by the claim, never lost between (RB-36).
        let opened = session.router.open_get_parts();
        self.claim_get(session).await;
        Ok(Some(session.router.resume_moved_get(moved, opened).await))
    }

    /// A message for the session's GET stream held here, sent after the claim that made this
    /// instance its holder: delivered now, or, while that claim is still taking the backlog,
    /// after it (RB-49: a progress notification must not overtake the one before it).
    pub(super) fn deliver_after_claims(&self, session: &Session, message: Bytes) {
        if let Some(mut claims) = self.get_claims.get_mut(&session.id)
            && claims.running > 0
        {
            claims.held.push(message);
            return;
        }
        session.router.deliver_to_get(message);
    }

    /// The session's stored record, read when no claim of a GET stream ran here meanwhile (a
    /// record read before this instance's claim would say another instance holds the stream
    /// it just opened, RB-38); `None` when it is gone or cannot be read.
    pub(super) async fn load_after_claims(
        &self,
        store: &Arc<dyn SessionStore>,
        id: &str,
    ) -> Option<SessionRecord> {
        let claims = || {
            self.get_claims
                .get(id)
                .map_or((0, 0), |c| (c.started, c.running))
        };
        for _ in 0..5 {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(500);
            while claims().1 > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            let before = claims();
            let record = store.load(id).await.ok()??;
            if before.1 == 0 && claims() == before {
                return Some(record);
            }
        }
        tracing::warn!(session = %id, "a changed record was not applied: claims of its GET stream kept running here");
        None
    }
}

/// The claims of one session's GET stream made here (RB-38, RB-49).
#[derive(Default)]
pub(super) struct Claims {
    /// Claims started here so far.
    pub(super) started: u64,
    /// Claims still running.
    pub(super) running: usize,
    /// Messages for the stream that came while a claim ran, delivered after its backlog.
    pub(super) held: Vec<Bytes>,
}

/// A claim of a session's GET stream running here, counted while it runs (RB-38, RB-50). Its
/// end, when the claim is done or dropped with its GET request (a client gone mid-claim),
/// uncounts it, so that a record read after it is applied and the bus's messages go on, and
/// delivers what was held for the stream while it ran.
struct RunningClaim<'a> {
    sessions: &'a Sessions,
    session: &'a Session,
}

impl<'a> RunningClaim<'a> {
    fn start(sessions: &'a Sessions, session: &'a Session) -> Self {
        let mut claims = sessions.get_claims.entry(session.id.clone()).or_default();
        claims.started += 1;
        claims.running += 1;
        RunningClaim { sessions, session }
    }
}

impl Drop for RunningClaim<'_> {
    fn drop(&mut self) {
        let Some(mut claims) = self.sessions.get_claims.get_mut(&self.session.id) else {
            return;
        };
        claims.running = claims.running.saturating_sub(1);
        if claims.running == 0 {
            // What came for the stream while the claim ran was sent after the claim's step:
            // it follows the backlog (RB-49). Delivered under the entry's lock, so that
            // nothing held later slips in before it.
            for message in std::mem::take(&mut claims.held) {
                self.session.router.deliver_to_get(message);
            }
        }
    }
}
