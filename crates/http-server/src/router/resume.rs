//! Resumption (T-33..T-36): the events after a `Last-Event-ID`, replayed from the event log
//! with no routing lock held across the await, then the live stream if it runs here.

use super::*;
use crate::sessions::ReplayError;

/// Whether replayed frames hold a JSON-RPC response (a message with a `result` or an `error`
/// and no `method`), which ends a request stream.
fn contains_response(frames: &[u8]) -> bool {
    frames
        .split(|&b| b == b'\n')
        .filter_map(|line| line.strip_prefix(b"data: "))
        .any(|data| {
            matches!(
                mcp_http_proto::jsonrpc::Message::parse(data),
                Ok(mcp_http_proto::jsonrpc::Message::Response(_))
            )
        })
}

/// The events of stream `sid` of `session` numbered by router `tag`, after `after` and before
/// `upto`, framed with their original ids.
async fn replay_framed(
    log: &Arc<dyn EventLog>,
    session: &str,
    (tag, sid): (&str, u64),
    after: u64,
    upto: u64,
) -> Result<BytesMut, ReplayError> {
    let key = StreamKey { tag, stream: sid };
    let events: Vec<(u64, Bytes)> = log.replay(session, key, after).try_collect().await?;
    let mut prefix = BytesMut::new();
    for (seq, json) in events.iter().filter(|(seq, _)| *seq < upto) {
        sse::put_event(&mut prefix, Some(event_id(tag, sid, *seq)), json);
    }
    Ok(prefix)
}

impl Router {
    /// Resumes the stream named by `last_event_id` (T-33, T-34): the events after it from the
    /// log, then the live stream if it is still running here. A stream another router of the
    /// same session numbered (another instance's) is replayed from the log; if its response is
    /// not there yet, the connection ends after a `retry` field and the client polls again.
    pub(crate) async fn resume(&self, last_event_id: &str) -> Result<ResponseBody, ResumeError> {
        let (tag, sid, seq) = parse_event_id(last_event_id)?;
        if !self.resumable {
            return Err(ResumeError::Unknown);
        }
        if tag != &*self.tag {
            return self.resume_elsewhere(tag, sid, seq).await;
        }
        let (tx, rx) = queue(self.queue as usize);
        let done = Arc::new(AtomicBool::new(false));
        // Under the lock: what waited goes to the log, the live connection is attached, and the
        // events the replay must cover are those numbered before `upto`.
        let (answered, upto, is_get) = {
            let mut st = self.lock();
            if st.streams.get(&sid).is_some_and(|s| s.unnamed) {
                // No event id of it was ever sent (see `Router::abandon`): a made-up id.
                return Err(ResumeError::Unknown);
            }
            let mut answered = st.get_stream != Some(sid) && !st.streams.contains_key(&sid);
            let mut upto = u64::MAX;
            if let Some(stream) = st.streams.get_mut(&sid) {
                // A stream whose POST never chose: what waited is part of the replay too.
                if let Some(waiting) = stream.waiting.take() {
                    answered =
                        self.flush_waiting(sid, stream, &waiting, &mut BytesMut::new(), true);
                }
                upto = stream.next_seq;
                if !answered {
                    stream.conn = Some(tx);
                    stream.completed = Some(done.clone());
                }
            }
            (answered, upto, st.get_stream == Some(sid))
        };
        // No lock across the replay's await.
        let prefix = self
            .replay(&self.tag, sid, seq, upto)
            .await
            .map_err(|_| ResumeError::Unknown)?;
        if answered {
            // A finished request stream: the replay holds its response.
            done.store(true, Ordering::Release);
            let mut st = self.lock();
            if st.streams.contains_key(&sid) {
                finish(&mut st, sid);
            }
        }
        Ok(self.body(prefix, rx, (!is_get).then_some((sid, done))))
    }

    /// The events of stream `sid` of this session numbered by router `tag`, after `after` and
    /// before `upto`, framed.
    async fn replay(
        &self,
        tag: &str,
        sid: u64,
        after: u64,
        upto: u64,
    ) -> Result<BytesMut, ReplayError> {
        replay_framed(&self.log, &self.session, (tag, sid), after, upto).await
    }

    /// The stored events of stream `sid` numbered by router `tag`, after `after`.
    pub(super) async fn stored_after(
        &self,
        tag: &str,
        sid: u64,
        after: u64,
    ) -> Result<Vec<(u64, Bytes)>, ReplayError> {
        let key = StreamKey { tag, stream: sid };
        self.log
            .replay(&self.session, key, after)
            .try_collect()
            .await
    }

    /// The events after `after` of stream `sid` that another router of this session numbered
    /// (T-36: the log is looked up within this session only, so another session's id finds
    /// nothing, and the replay says so without a second round trip).
    pub(super) async fn replay_elsewhere(
        &self,
        tag: &str,
        sid: u64,
        after: u64,
    ) -> Result<Vec<(u64, Bytes)>, ResumeError> {
        // A shared log is written behind: a client that resumes on another instance right after
        // its connection broke can arrive before the stream's first events are stored. An
        // unknown stream is asked again for a moment before it counts as another session's.
        let following = !self.follow_elsewhere.is_zero();
        let mut pause = FOLLOW_PAUSE.0;
        let unknown_until = following.then(|| tokio::time::Instant::now() + UNKNOWN_FOR);
        loop {
            match self.stored_after(tag, sid, after).await {
                Ok(events) => return Ok(events),
                Err(ReplayError::UnknownStream)
                    if unknown_until.is_some_and(|until| tokio::time::Instant::now() < until) =>
                {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(FOLLOW_PAUSE.1);
                }
                Err(ReplayError::UnknownStream) => return Err(ResumeError::Foreign),
                Err(_) => return Err(ResumeError::Unknown),
            }
        }
    }

    /// Resumes a stream of this session that another router numbered (T-36: the log is looked
    /// up within this session only, so another session's id finds nothing): what the log holds,
    /// then what the other instance goes on appending, until the response (RB-7).
    async fn resume_elsewhere(
        &self,
        tag: &str,
        sid: u64,
        after: u64,
    ) -> Result<ResponseBody, ResumeError> {
        let following = !self.follow_elsewhere.is_zero();
        let events = self.replay_elsewhere(tag, sid, after).await?;
        let mut follow = Follow {
            bus: self.bus().cloned(),
            log: self.log.clone(),
            session: self.session.clone(),
            tag: tag.to_owned(),
            sid,
            after,
            retry_ms: self.retry_ms(),
            done: Arc::new(AtomicBool::new(false)),
        };
        let mut prefix = BytesMut::new();
        let mut answered = follow.frame(events, &mut prefix);
        if !answered && follow.owner_gone().await {
            // The instance that ran it is gone: what it stored, then an error (RB-15).
            follow.end_orphan(&mut prefix).await;
            answered = true;
        }
        // Once the response is sent and the client has read it all, the stream's events go,
        // as they do on the instance that numbered it (RL-46).
        let completion = Some(Completion {
            done: follow.done.clone(),
            log: self.log.clone(),
            session: self.session.clone(),
            tag: Arc::from(tag),
            stream: sid,
        });
        let guard = Some(ConnectionGuard::new(&self.connections));
        if answered || !following {
            // Not answered yet and not followed: the client polls again (T-12).
            if !answered {
                prefix.extend_from_slice(&sse::retry(self.retry_ms()));
            }
            return Ok(ResponseBody::sse(
                prefix.freeze(),
                QueueRx::closed(),
                self.keep_alive,
                guard,
                completion,
            ));
        }
        // The other instance is still at work: follow its log, live, on this connection.
        let (tx, rx) = queue(self.queue as usize);
        tokio::spawn(follow.run(tx, self.follow_elsewhere));
        Ok(ResponseBody::sse(
            prefix.freeze(),
            rx,
            self.keep_alive,
            guard,
            completion,
        ))
    }

    /// Replays a finished stream of a stateless request whose router is gone, straight from the
    /// log: `last_event_id` starts with the request's tag, which is also its session key.
    pub(crate) async fn replay_stored(
        log: &Arc<dyn EventLog>,
        last_event_id: &str,
    ) -> Result<ResponseBody, ResumeError> {
        let (tag, sid, seq) = parse_event_id(last_event_id)?;
        // The request's tag is also its session key.
        let prefix = replay_framed(log, tag, (tag, sid), seq, u64::MAX)
            .await
            .map_err(|_| ResumeError::Unknown)?;
        let completion = Completion {
            done: Arc::new(AtomicBool::new(true)),
            log: log.clone(),
            session: Arc::from(tag),
            tag: Arc::from(tag),
            stream: sid,
        };
        Ok(ResponseBody::sse(
            prefix.freeze(),
            QueueRx::closed(),
            None,
            None,
            Some(completion),
        ))
    }
}

/// How long a stream another instance numbered may be missing from the log (written behind)
/// before a resume of it is refused as another session's.
const UNKNOWN_FOR: std::time::Duration = std::time::Duration::from_millis(500);
/// The first and the longest pause between two reads of a followed log.
const FOLLOW_PAUSE: (std::time::Duration, std::time::Duration) = (
    std::time::Duration::from_millis(10),
    std::time::Duration::from_millis(200),
);

/// The instance a cluster router's tag names (see [`Router::owned_by`]).
pub(crate) fn owner_of(tag: &str) -> Option<&str> {
    tag.split_once('~').map(|(owner, _)| owner)
}

/// How often a followed stream checks that the instance writing it is alive.
const OWNER_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// A stream that another instance of the session writes, read from the shared log as it grows.
struct Follow {
    /// Tells whether the instance writing the stream is alive (in a cluster).
    bus: Option<Arc<dyn MessageBus>>,
    log: Arc<dyn EventLog>,
    session: Arc<str>,
    tag: String,
    sid: u64,
    /// The last event delivered.
    after: u64,
    retry_ms: u64,
    /// Set once the response was framed: the stream is finished.
    done: Arc<AtomicBool>,
}

impl Follow {
    /// Frames `events` with their ids into `out`; whether the response was among them.
    fn frame(&mut self, events: Vec<(u64, Bytes)>, out: &mut BytesMut) -> bool {
        let start = out.len();
        for (seq, json) in events {
            sse::put_event(out, Some(event_id(&self.tag, self.sid, seq)), &json);
            self.after = self.after.max(seq);
        }
        let answered = contains_response(&out[start..]);
        if answered {
            self.done.store(true, Ordering::Release);
        }
        answered
    }

    /// Whether the instance that numbered the stream is known to be gone: its tag names it
    /// and the bus finds no heartbeat (an unreachable bus proves nothing).
    async fn owner_gone(&self) -> bool {
        let (Some(bus), Some(owner)) = (&self.bus, owner_of(&self.tag)) else {
            return false;
        };
        matches!(bus.is_alive(owner).await, Ok(false))
    }

    /// Ends a stream whose instance is gone (RB-15): a JSON-RPC error response to its request
    /// (-32603), framed as its next event, so that no call waits for an answer that cannot
    /// come; the session lives on. A stream with no request noted (a GET stream) ends with
    /// `retry` instead, and its client reconnects.
    async fn end_orphan(&mut self, out: &mut BytesMut) {
        let key = StreamKey {
            tag: &self.tag,
            stream: self.sid,
        };
        let Some(request) = self.log.request_of(&self.session, key).await else {
            out.extend_from_slice(&sse::retry(self.retry_ms));
            return;
        };
        let error = serde_json::json!({
            "jsonrpc": "2.0",
            "id": request,
            "error": {
                "code": -32603,
                "message": "the server instance handling this request stopped; send it again",
            },
        });
        let json = Bytes::from(serde_json::to_vec(&error).unwrap_or_default());
        let seq = self.after.saturating_add(1);
        sse::put_event(out, Some(event_id(&self.tag, self.sid, seq)), &json);
        self.after = seq;
        self.done.store(true, Ordering::Release);
    }

    /// Reads the log after the last event until the response (which ends the stream), the
    /// client leaving, an unreadable log or `follow_for` (both end it with `retry`), or the
    /// writing instance found gone (an error response ends it, RB-15).
    async fn run(mut self, tx: QueueTx, follow_for: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + follow_for;
        let mut pause = FOLLOW_PAUSE.0;
        let mut checked = tokio::time::Instant::now();
        while tokio::time::Instant::now() < deadline && !tx.receiver_gone() {
            tokio::time::sleep(pause).await;
            let key = StreamKey {
                tag: &self.tag,
                stream: self.sid,
            };
            let events: Vec<(u64, Bytes)> = match self
                .log
                .replay(&self.session, key, self.after)
                .try_collect()
                .await
            {
                Ok(events) => events,
                Err(_) => break,
            };
            if events.is_empty() {
                if checked.elapsed() >= OWNER_CHECK {
                    checked = tokio::time::Instant::now();
                    if self.owner_gone().await {
                        let mut frames = BytesMut::new();
                        self.end_orphan(&mut frames).await;
                        let _ = tx.try_send(frames.freeze());
                        return;
                    }
                }
                pause = (pause * 2).min(FOLLOW_PAUSE.1);
                continue;
            }
            pause = FOLLOW_PAUSE.0;
            let mut frames = BytesMut::new();
            let answered = self.frame(events, &mut frames);
            if tx.try_send(frames.freeze()).is_err() || answered {
                return;
            }
        }
        let _ = tx.try_send(sse::retry(self.retry_ms));
    }
}
