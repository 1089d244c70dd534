//! Event logs in Redis Streams: one stream per (session, router tag, stream number),
//! `{p}{sid}:s:{tag}.{n}`, with explicit ids `{seq+1}-0`, bounded with `MAXLEN ~` and expiring
//! `event_ttl` after its last event; the session's set `{p}{sid}:logs` names them, so ending a
//! session removes them all.
//!
//! The router appends under its lock, so appending only queues: a writer task sends the queue
//! in order, in pipelines, on the command connection (write-behind: the stored log is always a
//! prefix of what was sent). A replay first waits until everything this instance queued before
//! it has been written, so a resume here never misses an event numbered before it; a resume on
//! another instance may see a shorter prefix and polls again.

use crate::metrics::{Component, counted};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use mcp_http_proto::RequestId;
use mcp_http_server_http::sessions::{EventLog, ReplayError, StreamKey};
use redis::aio::ConnectionManager;
use redis::{Script, Value};
use tokio::sync::{mpsc, oneshot};

use crate::config::{RedisConfig, ms};
use crate::keys::Keys;

/// Replays one log: nil when the stream is unknown, else the id of its first entry if older
/// entries were trimmed away (more entries added than it holds: Redis 7; `0-0` otherwise) and
/// the entries in the range.
pub(crate) const REPLAY: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local length, added, first = 0, nil, '0-0'
for i = 1, #info, 2 do
  if info[i] == 'length' then length = info[i + 1] end
  if info[i] == 'entries-added' then added = info[i + 1] end
  if info[i] == 'first-entry' and type(info[i + 1]) == 'table' then first = info[i + 1][1] end
end
if added == nil or added <= length then first = '0-0' end
return {first, redis.call('XRANGE', KEYS[1], ARGV[1], '+')}
";

/// Removes every log of a session and the set that names them.
pub(crate) const FORGET_SESSION: &str = r"
local logs = redis.call('SMEMBERS', KEYS[1])
for i = 1, #logs do redis.call('UNLINK', logs[i]) end
redis.call('UNLINK', KEYS[1])
return #logs
";

/// Events in a batch of the writer at most.
const BATCH: usize = 512;

enum Op {
    Append {
        session: Box<str>,
        key: String,
        seq: u64,
        event: Option<Bytes>,
    },
    /// The request a stream answers, as JSON, in entry `0-1` (before event 0's `1-0`, and
    /// out of every replay's range): RB-15.
    Note {
        session: Box<str>,
        key: String,
        request: String,
    },
    ForgetStream {
        session: Box<str>,
        key: String,
    },
    ForgetSession {
        session: Box<str>,
    },
    /// Answered once everything queued before it is written.
    Barrier(oneshot::Sender<()>),
}

/// Event logs in Redis Streams, written behind a queue.
pub struct RedisEventLog {
    queue: mpsc::Sender<Op>,
    conn: ConnectionManager,
    keys: Keys,
    replay: Arc<Script>,
    wait: Duration,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for RedisEventLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisEventLog")
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl RedisEventLog {
    /// Starts the writer task (on the current tokio runtime).
    pub(crate) fn new(conn: ConnectionManager, keys: Keys, config: &RedisConfig) -> Self {
        let (queue, rx) = mpsc::channel(config.write_queue.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let writer = Writer {
            conn: conn.clone(),
            keys: keys.clone(),
            max: config.events_per_stream.max(1),
            ttl: config.event_ttl,
            registered: HashMap::new(),
            forget_session: Script::new(FORGET_SESSION),
            dropped: dropped.clone(),
        };
        tokio::spawn(writer.run(rx));
        RedisEventLog {
            queue,
            conn,
            keys,
            replay: Arc::new(Script::new(REPLAY)),
            wait: config.response_timeout * 4,
            dropped,
        }
    }

    /// How many events (or batches of them) were lost: the queue was full or Redis failed.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn enqueue(&self, op: Op) {
        match self.queue.try_send(op) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    tracing::warn!(
                        dropped = n,
                        "the Redis event log's queue is full; events are dropped"
                    );
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

/// The stream id of event `seq` (ids start at 1-0: 0-0 is not a valid one).
fn entry_id(seq: u64) -> String {
    format!("{}-0", seq.saturating_add(1))
}

/// The entry that holds the request a stream answers (see [`Op::Note`]).
const NOTE_ID: &str = "0-1";

/// The request id in the answer to `XRANGE key 0-1 0-1`.
fn parse_note(value: &Value) -> Option<RequestId> {
    let Value::Array(entries) = value else {
        return None;
    };
    let Value::Array(parts) = entries.first()? else {
        return None;
    };
    let [_, Value::Array(fields)] = parts.as_slice() else {
        return None;
    };
    fields.chunks(2).find_map(|pair| match pair {
        [name, value] if bulk(name) == Some(b"r") => serde_json::from_slice(bulk(value)?).ok(),
        _ => None,
    })
}

/// The event number of a stream id.
fn seq_of(id: &[u8]) -> Option<u64> {
    let id = std::str::from_utf8(id).ok()?;
    let (ms, _) = id.split_once('-')?;
    ms.parse::<u64>().ok()?.checked_sub(1)
}

fn bulk(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

/// The replay script's answer as events after `after`, or why there are none.
fn parse_replay(value: &Value, after: u64) -> Result<Vec<(u64, Bytes)>, ReplayError> {
    let malformed = || {
        tracing::error!("a stored event log does not parse");
        ReplayError::Unavailable
    };
    let items = match value {
        Value::Nil => return Err(ReplayError::UnknownStream),
        Value::Array(items) if items.len() == 2 => items,
        _ => return Err(malformed()),
    };
    let first = bulk(&items[0]).ok_or_else(malformed)?;
    // `0-0`: nothing was trimmed. Otherwise the events before the first one kept are gone, and
    // the replay needs them if it starts before.
    if first != b"0-0" && seq_of(first).ok_or_else(malformed)? > after.saturating_add(1) {
        return Err(ReplayError::Evicted);
    }
    let Value::Array(entries) = &items[1] else {
        return Err(malformed());
    };
    let mut events = Vec::with_capacity(entries.len());
    for entry in entries {
        let Value::Array(parts) = entry else {
            return Err(malformed());
        };
        let [id, Value::Array(fields)] = parts.as_slice() else {
            return Err(malformed());
        };
        let seq = bulk(id).and_then(seq_of).ok_or_else(malformed)?;
        let mut data = None;
        for pair in fields.chunks(2) {
            if let [name, value] = pair
                && bulk(name) == Some(b"d")
            {
                data = bulk(value);
            }
        }
        // An empty event is a priming event: a position only.
        match data {
            Some([]) => {}
            Some(json) => events.push((seq, Bytes::copy_from_slice(json))),
            None => return Err(malformed()),
        }
    }
    Ok(events)
}

impl EventLog for RedisEventLog {
    fn append(&self, session: &str, key: StreamKey<'_>, seq: u64, event: Option<Bytes>) {
        self.enqueue(Op::Append {
            session: session.into(),
            key: self.keys.stream(session, key.tag, key.stream),
            seq,
            event,
        });
    }

    fn replay(
        &self,
        session: &str,
        key: StreamKey<'_>,
        after: u64,
    ) -> BoxStream<'static, Result<(u64, Bytes), ReplayError>> {
        let stream_key = self.keys.stream(session, key.tag, key.stream);
        let (queue, mut conn, script, wait) = (
            self.queue.clone(),
            self.conn.clone(),
            self.replay.clone(),
            self.wait,
        );
        let read = async move {
            // What this instance queued before the replay is written first.
            let (done, written) = oneshot::channel();
            if queue.send(Op::Barrier(done)).await.is_err()
                || tokio::time::timeout(wait, written).await.is_err()
            {
                return vec![Err(ReplayError::Unavailable)];
            }
            let start = format!("({}", entry_id(after));
            let answer: Result<Value, _> = script
                .key(&stream_key)
                .arg(&start)
                .invoke_async(counted(&mut conn, Component::EventLog))
                .await;
            match answer {
                Ok(value) => match parse_replay(&value, after) {
                    Ok(events) => events.into_iter().map(Ok).collect(),
                    Err(e) => vec![Err(e)],
                },
                Err(e) => {
                    tracing::warn!(error = %e, "an event log could not be read");
                    vec![Err(ReplayError::Unavailable)]
                }
            }
        };
        Box::pin(futures::stream::once(read).flat_map(futures::stream::iter))
    }

    fn note_request(&self, session: &str, key: StreamKey<'_>, request: &RequestId) {
        let Ok(request) = serde_json::to_string(request) else {
            return;
        };
        self.enqueue(Op::Note {
            session: session.into(),
            key: self.keys.stream(session, key.tag, key.stream),
            request,
        });
    }

    fn request_of(
        &self,
        session: &str,
        key: StreamKey<'_>,
    ) -> BoxFuture<'static, Option<RequestId>> {
        let stream_key = self.keys.stream(session, key.tag, key.stream);
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let answer: Value = redis::cmd("XRANGE")
                .arg(&stream_key)
                .arg(NOTE_ID)
                .arg(NOTE_ID)
                .query_async(counted(&mut conn, Component::EventLog))
                .await
                .ok()?;
            parse_note(&answer)
        })
    }

    fn forget_session(&self, session: &str) {
        self.enqueue(Op::ForgetSession {
            session: session.into(),
        });
    }

    fn forget_stream(&self, session: &str, key: StreamKey<'_>) {
        self.enqueue(Op::ForgetStream {
            session: session.into(),
            key: self.keys.stream(session, key.tag, key.stream),
        });
    }
}

/// The task that writes the queue to Redis.
struct Writer {
    conn: ConnectionManager,
    keys: Keys,
    max: usize,
    ttl: Duration,
    /// Logs whose expiry and membership in their session's set were renewed, and when: both
    /// are renewed again after a fraction of the time to live, not on every event.
    registered: HashMap<String, Instant>,
    forget_session: Script,
    dropped: Arc<AtomicU64>,
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Op>) {
        let mut batch = Vec::with_capacity(BATCH);
        let mut last_prune = Instant::now();
        while rx.recv_many(&mut batch, BATCH).await > 0 {
            self.write(&mut batch).await;
            if last_prune.elapsed() > self.ttl {
                let ttl = self.ttl;
                self.registered.retain(|_, at| at.elapsed() < ttl);
                last_prune = Instant::now();
            }
        }
    }

    /// Renews a log's expiry and its place in its session's set, when due; the commands added.
    fn register(
        &mut self,
        pipe: &mut redis::Pipeline,
        session: &str,
        key: String,
        ttl: i64,
        renew_after: Duration,
    ) -> usize {
        let renew = self
            .registered
            .get(&key)
            .is_none_or(|at| at.elapsed() >= renew_after);
        if !renew {
            return 0;
        }
        let logs = self.keys.logs(session);
        pipe.pexpire(&key, ttl)
            .ignore()
            .sadd(&logs, &key)
            .ignore()
            .pexpire(&logs, ttl)
            .ignore();
        self.registered.insert(key, Instant::now());
        3
    }

    async fn write(&mut self, batch: &mut Vec<Op>) {
        let mut pipe = redis::pipe();
        let mut barriers = Vec::new();
        let mut sessions_ended = Vec::new();
        let mut commands = 0usize;
        let ttl = ms(self.ttl) as i64;
        let renew_after = self.ttl / 8;
        for op in batch.drain(..) {
            match op {
                Op::Append {
                    session,
                    key,
                    seq,
                    event,
                } => {
                    pipe.cmd("XADD")
                        .arg(&key)
                        .arg("MAXLEN")
                        .arg("~")
                        .arg(self.max)
                        .arg(entry_id(seq))
                        .arg("d")
                        .arg(event.as_deref().unwrap_or_default())
                        .ignore();
                    commands += 1 + self.register(&mut pipe, &session, key, ttl, renew_after);
                }
                Op::Note {
                    session,
                    key,
                    request,
                } => {
                    pipe.cmd("XADD")
                        .arg(&key)
                        .arg(NOTE_ID)
                        .arg("r")
                        .arg(request)
                        .ignore();
                    commands += 1 + self.register(&mut pipe, &session, key, ttl, renew_after);
                }
                Op::ForgetStream { session, key } => {
                    pipe.cmd("UNLINK")
                        .arg(&key)
                        .ignore()
                        .srem(self.keys.logs(&session), &key)
                        .ignore();
                    commands += 2;
                    self.registered.remove(&key);
                }
                Op::ForgetSession { session } => sessions_ended.push(session),
                Op::Barrier(done) => barriers.push(done),
            }
        }
        if commands > 0
            && let Err(e) = pipe
                .query_async::<()>(counted(&mut self.conn, Component::EventLog))
                .await
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, "events could not be written to Redis");
        }
        for session in sessions_ended {
            let prefix = self.keys.stream(&session, "", 0);
            let prefix = prefix.trim_end_matches(".0");
            self.registered.retain(|key, _| !key.starts_with(prefix));
            let answer: Result<i64, _> = self
                .forget_session
                .key(self.keys.logs(&session))
                .invoke_async(counted(&mut self.conn, Component::EventLog))
                .await;
            if let Err(e) = answer {
                tracing::warn!(error = %e, "an ended session's events could not be removed");
            }
        }
        for done in barriers {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry(id: &str, data: &str) -> Value {
        Value::Array(vec![
            Value::BulkString(id.into()),
            Value::Array(vec![
                Value::BulkString(b"d".to_vec()),
                Value::BulkString(data.into()),
            ]),
        ])
    }

    #[test]
    fn replies_parse_and_malformed_ones_are_errors_not_panics() {
        let reply = Value::Array(vec![
            Value::BulkString(b"0-0".to_vec()),
            Value::Array(vec![entry("2-0", ""), entry("3-0", "{}")]),
        ]);
        assert_eq!(parse_replay(&reply, 0).unwrap(), [(2, Bytes::from("{}"))]);
        assert_eq!(
            parse_replay(&Value::Nil, 0),
            Err(ReplayError::UnknownStream)
        );
        // Trimmed: the first event kept is 5.
        let trimmed = Value::Array(vec![
            Value::BulkString(b"6-0".to_vec()),
            Value::Array(vec![]),
        ]);
        assert_eq!(parse_replay(&trimmed, 3), Err(ReplayError::Evicted));
        assert_eq!(parse_replay(&trimmed, 4).unwrap(), []);
        for bad in [
            Value::Int(3),
            Value::Array(vec![Value::Int(1), Value::Array(vec![])]),
            Value::Array(vec![
                Value::BulkString(b"0-0".to_vec()),
                Value::Array(vec![entry("x-0", "{}")]),
            ]),
        ] {
            assert_eq!(parse_replay(&bad, 0), Err(ReplayError::Unavailable));
        }
        assert_eq!(seq_of(b"1-0"), Some(0));
        assert_eq!(entry_id(0), "1-0");
    }
}
