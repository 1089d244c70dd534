//! Where SSE events are kept so a client can resume a stream with `Last-Event-ID` (T-30..T-36).
//!
//! A stream's log is named by its session, the tag of the router that numbered it and its number
//! in that router: every lookup is scoped by the session, so a replay never crosses sessions,
//! whatever id is presented (T-36). The router numbers events (`{tag}.{stream}.{seq}`); the log
//! keeps them and replays them, asynchronously, as a stream.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use dashmap::DashMap;
use foldhash::HashMap;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use mcp_http_proto::RequestId;

/// Why a replay is impossible.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplayError {
    /// The stream is unknown in this session (a resume naming another router's stream takes
    /// it for another session's).
    UnknownStream,
    /// Events after the given one were already evicted, or the stream's log expired: replay
    /// would lose messages.
    Evicted,
    /// The log could not be read (a remote log is unreachable).
    Unavailable,
}

/// One stream's log, named within its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamKey<'a> {
    /// The tag of the router that numbered the stream's events.
    pub tag: &'a str,
    /// The stream's number in that router.
    pub stream: u64,
}

/// Stores the events of each stream of each session. `append` and the `forget_*` calls are made
/// under a session's routing lock, so they must be quick (an in-memory structure, or a buffer in
/// front of a remote log); `replay` is asynchronous and awaited with no lock held.
pub trait EventLog: Send + Sync + 'static {
    /// Records event `seq` of a stream; `event` is `None` for a priming event (a position only).
    fn append(&self, session: &str, key: StreamKey<'_>, seq: u64, event: Option<Bytes>);
    /// The events of a stream of `session` after `after`, in order. The stream yields an error
    /// first, and nothing else, when the replay is impossible.
    fn replay(
        &self,
        session: &str,
        key: StreamKey<'_>,
        after: u64,
    ) -> BoxStream<'static, Result<(u64, Bytes), ReplayError>>;
    /// Forgets a session's events (the session ended).
    fn forget_session(&self, session: &str);
    /// Forgets one stream's events: its client received all of them, response included.
    fn forget_stream(&self, session: &str, key: StreamKey<'_>);
    /// Drops expired events; called periodically.
    fn prune(&self) {}
    /// Notes the request a stream answers, before its first event, so that a resume on
    /// another instance can end it with an error response once the instance running it is
    /// gone (RB-15). By default nothing is noted.
    fn note_request(&self, session: &str, key: StreamKey<'_>, request: &RequestId) {
        let _ = (session, key, request);
    }
    /// The request noted for a stream, if any (`None` for a GET stream).
    fn request_of(
        &self,
        session: &str,
        key: StreamKey<'_>,
    ) -> BoxFuture<'static, Option<RequestId>> {
        let _ = (session, key);
        Box::pin(std::future::ready(None))
    }
}

struct Log {
    tag: Box<str>,
    /// The request the stream answers (RB-15).
    request: Option<RequestId>,
    events: VecDeque<(u64, Option<Bytes>)>,
    /// The highest sequence number evicted, so a replay from before it is refused.
    evicted_upto: Option<u64>,
    touched: Instant,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("events", &self.events.len())
            .finish()
    }
}

/// A session's logs: by stream number, then by tag (almost always one).
type SessionLogs = HashMap<u64, Vec<Log>>;

/// The default log: in memory, bounded per stream, with a time to live.
#[derive(Debug)]
pub struct MemoryEventLog {
    /// Keyed by session, so appending borrows its `&str` (no key allocated per event) and a
    /// session ends with one removal, not a scan of every stream.
    sessions: DashMap<Box<str>, SessionLogs, foldhash::fast::RandomState>,
    max_per_stream: usize,
    ttl: Duration,
}

impl Default for MemoryEventLog {
    fn default() -> Self {
        Self::new(1024, Duration::from_secs(300))
    }
}

impl MemoryEventLog {
    /// A log keeping at most `max_per_stream` events per stream, each stream for `ttl` after its
    /// last event.
    pub fn new(max_per_stream: usize, ttl: Duration) -> Self {
        MemoryEventLog {
            sessions: DashMap::default(),
            max_per_stream: max_per_stream.max(1),
            ttl,
        }
    }

    /// Whether `session` has a log for this stream.
    pub fn contains(&self, session: &str, key: StreamKey<'_>) -> bool {
        self.sessions.get(session).is_some_and(|logs| {
            logs.get(&key.stream)
                .is_some_and(|logs| logs.iter().any(|l| &*l.tag == key.tag))
        })
    }

    /// What the log holds for `session`: each stream's key and its number of entries (priming
    /// events included), sorted. For tests that check memory returns to idle (RL-42).
    #[cfg(test)]
    pub(crate) fn held(&self, session: &str) -> Vec<(String, u64, usize)> {
        let mut held: Vec<(String, u64, usize)> = self
            .sessions
            .get(session)
            .map(|logs| {
                logs.iter()
                    .flat_map(|(stream, tagged)| {
                        tagged
                            .iter()
                            .map(|l| (l.tag.to_string(), *stream, l.events.len()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        held.sort();
        held
    }

    /// How many sessions have an entry at all (an idle log has none).
    #[cfg(test)]
    pub(crate) fn session_entries(&self) -> usize {
        self.sessions.len()
    }

    fn read(
        &self,
        session: &str,
        key: StreamKey<'_>,
        after: u64,
    ) -> Result<Vec<(u64, Bytes)>, ReplayError> {
        let logs = self
            .sessions
            .get(session)
            .ok_or(ReplayError::UnknownStream)?;
        let log = logs
            .get(&key.stream)
            .and_then(|logs| logs.iter().find(|l| &*l.tag == key.tag))
            .ok_or(ReplayError::UnknownStream)?;
        if log.touched.elapsed() >= self.ttl {
            // Known but expired (not pruned yet): not another session's.
            return Err(ReplayError::Evicted);
        }
        if log.evicted_upto.is_some_and(|e| e > after) {
            return Err(ReplayError::Evicted);
        }
        Ok(log
            .events
            .iter()
            .filter(|(seq, _)| *seq > after)
            .filter_map(|(seq, json)| json.clone().map(|j| (*seq, j)))
            .collect())
    }
}

impl MemoryEventLog {
    /// The log of a stream, made if it has none yet; touched now.
    fn with_log<R>(&self, session: &str, key: StreamKey<'_>, f: impl FnOnce(&mut Log) -> R) -> R {
        let mut logs = match self.sessions.get_mut(session) {
            Some(logs) => logs,
            None => self.sessions.entry(session.into()).or_default(),
        };
        let now = Instant::now();
        let logs = logs.entry(key.stream).or_default();
        let log = match logs.iter().position(|l| &*l.tag == key.tag) {
            Some(at) => &mut logs[at],
            None => {
                // Almost every stream number has one tag, and a GET stream's log holds its
                // priming event alone for as long as nothing is sent: room for one of each,
                // not the four the first push would make (PF-27).
                logs.reserve_exact(1);
                logs.push(Log {
                    tag: key.tag.into(),
                    request: None,
                    events: VecDeque::with_capacity(1),
                    evicted_upto: None,
                    touched: now,
                });
                let last = logs.len() - 1;
                &mut logs[last]
            }
        };
        log.touched = now;
        f(log)
    }
}

impl EventLog for MemoryEventLog {
    fn append(&self, session: &str, key: StreamKey<'_>, seq: u64, event: Option<Bytes>) {
        let max = self.max_per_stream;
        self.with_log(session, key, |log| {
            log.events.push_back((seq, event));
            while log.events.len() > max {
                if let Some((evicted, _)) = log.events.pop_front() {
                    log.evicted_upto = Some(evicted);
                }
            }
        });
    }

    fn note_request(&self, session: &str, key: StreamKey<'_>, request: &RequestId) {
        self.with_log(session, key, |log| log.request = Some(request.clone()));
    }

    fn request_of(
        &self,
        session: &str,
        key: StreamKey<'_>,
    ) -> BoxFuture<'static, Option<RequestId>> {
        let request = self.sessions.get(session).and_then(|logs| {
            logs.get(&key.stream)?
                .iter()
                .find(|l| &*l.tag == key.tag)?
                .request
                .clone()
        });
        Box::pin(std::future::ready(request))
    }

    fn replay(
        &self,
        session: &str,
        key: StreamKey<'_>,
        after: u64,
    ) -> BoxStream<'static, Result<(u64, Bytes), ReplayError>> {
        let items: Vec<Result<(u64, Bytes), ReplayError>> = match self.read(session, key, after) {
            Ok(events) => events.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        Box::pin(futures::stream::iter(items))
    }

    fn forget_session(&self, session: &str) {
        self.sessions.remove(session);
    }

    fn forget_stream(&self, session: &str, key: StreamKey<'_>) {
        let now_empty = match self.sessions.get_mut(session) {
            Some(mut logs) => {
                if let Some(tagged) = logs.get_mut(&key.stream) {
                    tagged.retain(|l| &*l.tag != key.tag);
                    if tagged.is_empty() {
                        logs.remove(&key.stream);
                    }
                }
                logs.is_empty()
            }
            None => false,
        };
        if now_empty {
            // An idle session keeps nothing here.
            self.sessions.remove_if(session, |_, logs| logs.is_empty());
        }
    }

    fn prune(&self) {
        let ttl = self.ttl;
        self.sessions.retain(|_, logs| {
            logs.retain(|_, tagged| {
                tagged.retain(|log| log.touched.elapsed() < ttl);
                !tagged.is_empty()
            });
            !logs.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use futures::TryStreamExt;

    use super::*;

    const A1: StreamKey<'static> = StreamKey {
        tag: "a",
        stream: 1,
    };

    async fn replay(
        log: &MemoryEventLog,
        session: &str,
        key: StreamKey<'_>,
        after: u64,
    ) -> Result<Vec<u64>, ReplayError> {
        let events: Vec<(u64, Bytes)> = log.replay(session, key, after).try_collect().await?;
        Ok(events.into_iter().map(|(seq, _)| seq).collect())
    }

    #[tokio::test]
    async fn replays_after_and_refuses_evicted() {
        let log = MemoryEventLog::new(3, Duration::from_secs(60));
        log.append("s", A1, 0, None);
        for seq in 1..=2 {
            log.append("s", A1, seq, Some(Bytes::from(format!("m{seq}"))));
        }
        assert_eq!(replay(&log, "s", A1, 0).await.unwrap(), [1, 2]);
        let other_stream = StreamKey {
            tag: "a",
            stream: 2,
        };
        assert_eq!(
            replay(&log, "s", other_stream, 0).await,
            Err(ReplayError::UnknownStream)
        );
        // T-36: another session's lookup never finds this session's stream.
        assert_eq!(
            replay(&log, "other", A1, 0).await,
            Err(ReplayError::UnknownStream)
        );
        // Another router's stream 1 in the same session is another log.
        assert_eq!(
            replay(
                &log,
                "s",
                StreamKey {
                    tag: "b",
                    stream: 1
                },
                0
            )
            .await,
            Err(ReplayError::UnknownStream)
        );
        log.append("s", A1, 3, Some(Bytes::from("m3")));
        log.append("s", A1, 4, Some(Bytes::from("m4")));
        assert_eq!(replay(&log, "s", A1, 0).await, Err(ReplayError::Evicted));
        assert_eq!(replay(&log, "s", A1, 2).await.unwrap().len(), 2);
        log.forget_session("s");
        assert_eq!(
            replay(&log, "s", A1, 2).await,
            Err(ReplayError::UnknownStream)
        );
    }

    #[tokio::test]
    async fn forgetting_streams_leaves_nothing_behind() {
        let log = MemoryEventLog::new(8, Duration::from_secs(60));
        let b1 = StreamKey {
            tag: "b",
            stream: 1,
        };
        log.append("s", A1, 0, Some(Bytes::from("a")));
        log.append("s", b1, 0, Some(Bytes::from("b")));
        log.append("t", A1, 0, Some(Bytes::from("c")));
        log.forget_stream("s", A1);
        assert!(!log.contains("s", A1));
        assert!(log.contains("s", b1));
        log.forget_stream("s", b1);
        assert!(
            !log.sessions.contains_key("s"),
            "an idle session keeps no entry"
        );
        assert_eq!(replay(&log, "t", A1, 0).await.unwrap().len(), 0);
        let expired = MemoryEventLog::new(8, Duration::ZERO);
        expired.append("s", A1, 0, None);
        expired.prune();
        assert!(expired.sessions.is_empty());
    }
}
