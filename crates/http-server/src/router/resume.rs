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
        let (tx, rx) = queue(self.queue);
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

    /// Resumes a stream of this session that another router numbered (T-36: the log is looked
    /// up within this session only, so another session's id finds nothing).
    async fn resume_elsewhere(
        &self,
        tag: &str,
        sid: u64,
        after: u64,
    ) -> Result<ResponseBody, ResumeError> {
        // A log this session does not have: the id is another session's (or made up). The
        // replay says so, so a remote log needs no second round trip to tell.
        let mut prefix = self
            .replay(tag, sid, after, u64::MAX)
            .await
            .map_err(|e| match e {
                ReplayError::UnknownStream => ResumeError::Foreign,
                _ => ResumeError::Unknown,
            })?;
        // The response ends a request stream; until it is there, the client polls (T-12).
        // Once it is, and the client has read it all, the stream's events go, as they do on
        // the instance that numbered it (RL-46).
        let completion = match contains_response(&prefix) {
            true => Some(Completion {
                done: Arc::new(AtomicBool::new(true)),
                log: self.log.clone(),
                session: self.session.clone(),
                tag: Arc::from(tag),
                stream: sid,
            }),
            false => {
                prefix.extend_from_slice(&sse::retry(self.retry_ms));
                None
            }
        };
        let guard = Some(ConnectionGuard::new(&self.connections));
        Ok(ResponseBody::sse(
            prefix.freeze(),
            QueueRx::closed(),
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
