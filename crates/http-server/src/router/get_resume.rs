//! A `Last-Event-ID` resume of the session's standalone GET stream on another instance than
//! the one that numbered it (through a load balancer, after a drain or a broken connection),
//! with a shared GET log: the resume takes the GET stream over here, as a new GET would, and
//! first replays what the old stream stored after the client's last event (RB-43, RB-44).

use super::resume::owner_of;
use super::*;

/// How long a resume waits, when the old stream's instance is still alive, for what that
/// instance took for the stream just before the claim to reach its (written-behind) log.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(150);

/// A GET stream another instance of the session numbered, which a resume takes over here
/// (see [`Router::moved_get`]).
pub(crate) struct MovedGet {
    /// The tag of the router that numbered it.
    tag: String,
    /// Its number there.
    sid: u64,
    /// The last event the client has.
    after: u64,
    /// Its stored events after `after`, read before the claim.
    events: Vec<(u64, Bytes)>,
}

impl Router {
    /// The stream `last_event_id` names, when it is this session's standalone GET stream as
    /// another instance numbered it and the bus keeps a shared GET log (RB-43); `None` for
    /// any other resume, which [`Router::resume`] serves. A GET stream is told from a
    /// request's stream by the request that every request stream in a cluster notes in the
    /// log before its first event (RB-15): a GET stream has none.
    pub(crate) async fn moved_get(
        &self,
        last_event_id: &str,
    ) -> Result<Option<MovedGet>, ResumeError> {
        let (tag, sid, after) = parse_event_id(last_event_id)?;
        let shared = self.bus().is_some_and(|bus| bus.shares_get_log());
        if !self.resumable || !shared || tag == &*self.tag {
            return Ok(None);
        }
        let key = StreamKey { tag, stream: sid };
        // A request stream's resume elsewhere (RB-7) costs this one read more.
        if self.log.request_of(&self.session, key).await.is_some() {
            return Ok(None);
        }
        // Not noted: a GET stream, or a stream not yet written behind (the replay waits for
        // it), whose note is then there to read.
        let events = self.replay_elsewhere(tag, sid, after).await?;
        if self.log.request_of(&self.session, key).await.is_some() {
            return Ok(None);
        }
        Ok(Some(MovedGet {
            tag: tag.to_owned(),
            sid,
            after,
            events,
        }))
    }

    /// The body of a resumed GET stream that this instance has just opened (with
    /// [`Router::open_get_parts`]) and claimed: the old stream's events after the client's
    /// last one first (those read before the claim, then what the old holder stored until the
    /// claim took the stream from it), then the new stream, whose first messages are what the
    /// claim handed on (RB-44). Each broadcast is in exactly one of the two: the old holder
    /// took it before the claim (and stored it on the old stream), or the claim did.
    pub(crate) async fn resume_moved_get(
        &self,
        moved: MovedGet,
        (opened, rx): (BytesMut, QueueRx),
    ) -> ResponseBody {
        let MovedGet {
            tag,
            sid,
            after,
            events,
        } = moved;
        let mut last = after;
        let mut prefix = BytesMut::new();
        let mut put = |events: Vec<(u64, Bytes)>, last: &mut u64| {
            for (seq, json) in events {
                if seq > *last {
                    sse::put_event(&mut prefix, Some(event_id(&tag, sid, seq)), &json);
                    *last = seq;
                }
            }
        };
        put(events, &mut last);
        // What the old holder stored meanwhile, before the claim; if it is alive, it may still
        // be writing what it took just before the claim: read once more after a moment.
        let alive = match (self.bus(), owner_of(&tag)) {
            (Some(bus), Some(owner)) => !matches!(bus.is_alive(owner).await, Ok(false)),
            _ => false,
        };
        let rounds = if alive { 2 } else { 1 };
        for round in 0..rounds {
            if round > 0 {
                tokio::time::sleep(SETTLE).await;
            }
            match self.stored_after(&tag, sid, last).await {
                Ok(events) => put(events, &mut last),
                Err(e) => {
                    tracing::warn!(error = ?e, "the replaced GET stream's log could not be read");
                    break;
                }
            }
        }
        prefix.extend_from_slice(&opened);
        self.body(prefix, rx, None)
    }
}
