//! Where SSE events are kept so a client can resume a stream with `Last-Event-ID` (T-30..T-36).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use dashmap::DashMap;

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
    logs: DashMap<(Box<str>, u64), Mutex<Log>>,
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
            logs: DashMap::new(),
            max_per_stream: max_per_stream.max(1),
            ttl,
        }
    }
}

impl EventStore for MemoryEventStore {
    fn store(&self, session: &str, stream: u64, seq: u64, json: Option<Bytes>) {
        let entry = self
            .logs
            .entry((session.into(), stream))
            .or_insert_with(|| {
                Mutex::new(Log {
                    events: VecDeque::new(),
                    evicted_upto: None,
                    touched: Instant::now(),
                })
            });
        let mut log = entry.lock().unwrap_or_else(|e| e.into_inner());
        log.touched = Instant::now();
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
        let key = (Box::<str>::from(session), stream);
        let entry = self.logs.get(&key).ok_or(ReplayError::UnknownStream)?;
        let log = entry.lock().unwrap_or_else(|e| e.into_inner());
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
        self.logs.retain(|(s, _), _| &**s != session);
    }

    fn forget_stream(&self, session: &str, stream: u64) {
        self.logs.remove(&(Box::<str>::from(session), stream));
    }

    fn prune(&self) {
        let ttl = self.ttl;
        self.logs.retain(|_, log| {
            log.get_mut()
                .map(|l| l.touched.elapsed() < ttl)
                .unwrap_or(false)
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
}
