//! Where SSE events are kept so a client can resume a stream with `Last-Event-ID` (T-30..T-36).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use dashmap::DashMap;
use foldhash::HashMap;

/// Why a replay is impossible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayError {
    /// The stream is unknown or its events expired.
    UnknownStream,
    /// Events after the given one were already evicted: replay would lose messages.
    Evicted,
}

/// Stores the events of each stream of each session. Calls are made under the session's routing
/// lock, so they must be quick (an in-memory structure, or a buffer in front of a remote store).
pub trait EventStore: Send + Sync + 'static {
    /// Records event `seq` of a stream; `json` is `None` for a priming event (a position only).
    fn store(&self, session: &str, stream: u64, seq: u64, json: Option<Bytes>);
    /// The events of a stream after `after`, in order.
    fn replay(
        &self,
        session: &str,
        stream: u64,
        after: u64,
    ) -> Result<Vec<(u64, Bytes)>, ReplayError>;
    /// Forgets a session's events (the session ended).
    fn forget_session(&self, session: &str);
    /// Forgets one stream's events: its client received all of them, response included.
    fn forget_stream(&self, session: &str, stream: u64);
    /// Drops expired events; called periodically.
    fn prune(&self) {}
}

struct Log {
    events: VecDeque<(u64, Option<Bytes>)>,
    /// The highest sequence number evicted, so a replay from before it is refused.
    evicted_upto: Option<u64>,
    touched: Instant,
}

/// The default store: in memory, bounded per stream, with a time to live.
#[derive(Debug)]
pub struct MemoryEventStore {
    /// Each session's streams. Keyed by session, so storing an event borrows its `&str` (no key
    /// allocated per event) and a session ends with one removal, not a scan of every stream.
    sessions: DashMap<Box<str>, HashMap<u64, Log>, foldhash::fast::RandomState>,
    max_per_stream: usize,
    ttl: Duration,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("events", &self.events.len())
            .finish()
    }
}

impl Default for MemoryEventStore {
    fn default() -> Self {
        Self::new(1024, Duration::from_secs(300))
    }
}

impl MemoryEventStore {
    /// A store keeping at most `max_per_stream` events per stream, each stream for `ttl` after its
    /// last event.
    pub fn new(max_per_stream: usize, ttl: Duration) -> Self {
        MemoryEventStore {
            sessions: DashMap::default(),
            max_per_stream: max_per_stream.max(1),
            ttl,
        }
    }
}

impl EventStore for MemoryEventStore {
    fn store(&self, session: &str, stream: u64, seq: u64, json: Option<Bytes>) {
        let mut logs = match self.sessions.get_mut(session) {
            Some(logs) => logs,
            None => self.sessions.entry(session.into()).or_default(),
        };
        let now = Instant::now();
        let log = logs.entry(stream).or_insert_with(|| Log {
            events: VecDeque::new(),
            evicted_upto: None,
            touched: now,
        });
        log.touched = now;
        log.events.push_back((seq, json));
        while log.events.len() > self.max_per_stream {
            if let Some((evicted, _)) = log.events.pop_front() {
                log.evicted_upto = Some(evicted);
            }
        }
    }

    fn replay(
        &self,
        session: &str,
        stream: u64,
        after: u64,
    ) -> Result<Vec<(u64, Bytes)>, ReplayError> {
        let logs = self
            .sessions
            .get(session)
            .ok_or(ReplayError::UnknownStream)?;
        let log = logs.get(&stream).ok_or(ReplayError::UnknownStream)?;
        if log.touched.elapsed() >= self.ttl {
            return Err(ReplayError::UnknownStream);
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

    fn forget_session(&self, session: &str) {
        self.sessions.remove(session);
    }

    fn forget_stream(&self, session: &str, stream: u64) {
        let now_empty = match self.sessions.get_mut(session) {
            Some(mut logs) => {
                logs.remove(&stream);
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
            logs.retain(|_, log| log.touched.elapsed() < ttl);
            !logs.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_after_and_refuses_evicted() {
        let store = MemoryEventStore::new(3, Duration::from_secs(60));
        store.store("s", 1, 0, None);
        for seq in 1..=2 {
            store.store("s", 1, seq, Some(Bytes::from(format!("m{seq}"))));
        }
        let replay = store.replay("s", 1, 0).unwrap();
        assert_eq!(replay.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(store.replay("s", 2, 0), Err(ReplayError::UnknownStream));
        assert_eq!(store.replay("other", 1, 0), Err(ReplayError::UnknownStream));
        store.store("s", 1, 3, Some(Bytes::from("m3")));
        store.store("s", 1, 4, Some(Bytes::from("m4")));
        assert_eq!(store.replay("s", 1, 0), Err(ReplayError::Evicted));
        assert_eq!(store.replay("s", 1, 2).unwrap().len(), 2);
        store.forget_session("s");
        assert_eq!(store.replay("s", 1, 2), Err(ReplayError::UnknownStream));
    }

    #[test]
    fn forgetting_streams_leaves_nothing_behind() {
        let store = MemoryEventStore::new(8, Duration::from_secs(60));
        store.store("s", 1, 0, Some(Bytes::from("a")));
        store.store("s", 2, 0, Some(Bytes::from("b")));
        store.store("t", 1, 0, Some(Bytes::from("c")));
        store.forget_stream("s", 1);
        assert_eq!(store.replay("s", 1, 0), Err(ReplayError::UnknownStream));
        assert_eq!(store.replay("s", 2, 0).unwrap().len(), 0);
        store.forget_stream("s", 2);
        assert!(
            !store.sessions.contains_key("s"),
            "an idle session keeps no entry"
        );
        assert_eq!(store.replay("t", 1, 0).unwrap().len(), 0);
        let expired = MemoryEventStore::new(8, Duration::ZERO);
        expired.store("s", 1, 0, None);
        expired.prune();
        assert!(expired.sessions.is_empty());
    }
}
