//! The end of a session for a DELETE in a cluster: answered once every other live instance has
//! acknowledged that it let the session go (RB-19).

use std::sync::Arc;

use super::{BusMessage, Sessions};

/// How long a DELETE waits for the other instances' acknowledgements at most (an instance
/// killed a moment ago is still listed until its heartbeat expires; a stalled one never
/// answers): then it is answered anyway (RB-19).
const ACK_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

impl Sessions {
    /// Ends a session for a DELETE: as [`Sessions::end`], and returns once every other
    /// instance alive has acknowledged that it let the session go, so that a request sent as
    /// soon as the DELETE is answered finds it gone on every instance (T-40, RB-19). The
    /// instances' caches are not asked on each request (a quick call costs no round trip,
    /// RB-12): the DELETE pays, one listing of the instances and one acknowledgement each,
    /// bounded by [`ACK_WAIT`].
    pub(crate) async fn end_acknowledged(&self, id: &str) {
        let Some(bus) = &self.backends.bus else {
            return self.end(id).await;
        };
        self.forget(id).await;
        let me = &self.backends.instance;
        let others: Vec<Arc<str>> = match bus.instances().await {
            Ok(all) => all.into_iter().filter(|i| i != me).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "the instances could not be listed; a DELETE waits for none");
                Vec::new()
            }
        };
        let session: Arc<str> = id.into();
        mcp_http_core::sync::lock(&self.acks).insert(session.clone(), Vec::new());
        self.broadcast(BusMessage::SessionEnding {
            session: session.clone(),
            ack_to: me.clone(),
        })
        .await;
        let deadline = tokio::time::Instant::now() + ACK_WAIT;
        loop {
            let notified = self.acked.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let missing: Vec<Arc<str>> = {
                let acks = mcp_http_core::sync::lock(&self.acks);
                let done = acks.get(&session).map_or(&[][..], Vec::as_slice);
                others
                    .iter()
                    .filter(|i| !done.contains(i))
                    .cloned()
                    .collect()
            };
            if missing.is_empty() {
                break;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                tracing::warn!(session = %id, ?missing, "instances did not acknowledge the end of a session in time");
                break;
            }
        }
        mcp_http_core::sync::lock(&self.acks).remove(&session);
    }
}
