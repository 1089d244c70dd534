//! The Redis backend's three components against a real `redis-server` (RB-1..RB-5): records
//! with an expiry, event logs scoped by session and bounded, the bus's inboxes, broadcasts and
//! heartbeats, and values that do not parse reported as errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use mcp_http_proto::{Implementation, ProtocolVersion};
use mcp_http_redis::{RedisBackend, RedisConfig};
use mcp_http_server_http::sessions::{
    BusMessage, EventLog, MessageBus, ReplayError, SessionRecord, SessionStore, StreamKey,
};
use mcp_http_test_support::redis::{RedisServer, Reply};

async fn backend(redis: &RedisServer, config: impl Fn(RedisConfig) -> RedisConfig) -> RedisBackend {
    RedisBackend::connect(config(RedisConfig::new(redis.url()).prefix("t:")))
        .await
        .unwrap()
}

fn record(id: &str) -> SessionRecord {
    let caps = serde_json::value::RawValue::from_string(r#"{"sampling":{}}"#.into()).unwrap();
    let mut record = SessionRecord::new(
        id.into(),
        ProtocolVersion::LATEST_LEGACY,
        Implementation::new("client", "1.0"),
        Some(Arc::from(caps)),
        Some("alice".into()),
    );
    record.initialized = true;
    record.subscriptions = vec!["file:///a".into()];
    record.get_owner = Some("i2".into());
    record
}

const A1: StreamKey<'static> = StreamKey {
    tag: "a",
    stream: 1,
};

async fn replay(
    log: &dyn EventLog,
    session: &str,
    key: StreamKey<'_>,
    after: u64,
) -> Result<Vec<(u64, Bytes)>, ReplayError> {
    log.replay(session, key, after).try_collect().await
}

/// RB-1: a record round-trips through its hash, expires when idle, is kept alive by touch,
/// ends with delete; a touch never brings back an ended session.
#[tokio::test]
async fn session_records_round_trip_expire_and_end() {
    let redis = RedisServer::start();
    let backend = backend(&redis, |c| c.session_ttl(Duration::from_millis(800))).await;
    let store = backend.store();
    store.save(&record("s1")).await.unwrap();
    let loaded = store.load("s1").await.unwrap().expect("stored");
    assert_eq!(&*loaded.id, "s1");
    assert_eq!(loaded.protocol_version, ProtocolVersion::LATEST_LEGACY);
    assert_eq!(loaded.principal.as_deref(), Some("alice"));
    assert_eq!(loaded.client_info.name, "client");
    assert_eq!(
        loaded.client_capabilities.as_ref().unwrap().get(),
        r#"{"sampling":{}}"#
    );
    assert!(loaded.initialized);
    assert_eq!(loaded.subscriptions, ["file:///a"]);
    assert_eq!(loaded.get_owner.as_deref(), Some("i2"));
    assert!(store.load("nope").await.unwrap().is_none());
    // The key's expiry is the idle timeout.
    let pttl = redis.command(&["PTTL", "t:{s1}"]).int();
    assert!((1..=800).contains(&pttl), "{pttl}");

    // Kept alive by touches, gone once idle.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        store.touch(&["s1".into()]).await.unwrap();
    }
    assert!(store.load("s1").await.unwrap().is_some(), "touched: alive");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(store.load("s1").await.unwrap().is_none(), "idle: expired");

    store.save(&record("s2")).await.unwrap();
    store.delete("s2").await.unwrap();
    store.touch(&["s2".into()]).await.unwrap();
    assert!(store.load("s2").await.unwrap().is_none());
    assert_eq!(
        redis.command(&["EXISTS", "t:{s2}"]).int(),
        0,
        "not resurrected"
    );
}

/// RB-5: a stored value that does not parse is an error for that load, never a panic.
#[tokio::test]
async fn a_record_that_does_not_parse_is_an_error() {
    let redis = RedisServer::start();
    let store = backend(&redis, |c| c).await.store();
    store.save(&record("s1")).await.unwrap();
    redis.command(&["HSET", "t:{s1}", "v", "not json"]);
    assert!(store.load("s1").await.unwrap_err().is_corrupt());
    redis.command(&["HSET", "t:{s1}", "v", "\"1999-01-01\""]);
    assert!(
        store.load("s1").await.unwrap_err().is_corrupt(),
        "an unknown version"
    );
}

/// RB-2: events are kept per (session, tag, stream), replayed after an id, priming events are
/// positions only, another session's lookup finds nothing (T-36), and forgetting removes the
/// keys.
#[tokio::test]
async fn event_logs_replay_in_order_scoped_by_session() {
    let redis = RedisServer::start();
    let backend = backend(&redis, |c| c).await;
    let log = backend.event_log();
    log.append("s", A1, 0, None);
    for seq in 1..=3 {
        log.append("s", A1, seq, Some(Bytes::from(format!("m{seq}"))));
    }
    // Written behind a queue; a replay waits for what was queued before it.
    let events = replay(&*log, "s", A1, 0).await.unwrap();
    let seqs: Vec<u64> = events.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(events[0].1, Bytes::from("m1"));
    assert_eq!(replay(&*log, "s", A1, 2).await.unwrap().len(), 1);
    assert_eq!(replay(&*log, "s", A1, 3).await.unwrap().len(), 0);
    assert_eq!(
        replay(&*log, "other", A1, 0).await,
        Err(ReplayError::UnknownStream)
    );
    let b1 = StreamKey {
        tag: "b",
        stream: 1,
    };
    assert_eq!(
        replay(&*log, "s", b1, 0).await,
        Err(ReplayError::UnknownStream)
    );
    let pttl = redis.command(&["PTTL", "t:{s}:s:a.1"]).int();
    assert!((1..=300_000).contains(&pttl), "expires: {pttl}");

    log.append("s", b1, 0, Some(Bytes::from("b")));
    log.forget_stream("s", A1);
    assert_eq!(
        replay(&*log, "s", A1, 0).await,
        Err(ReplayError::UnknownStream)
    );
    assert_eq!(replay(&*log, "s", b1, 0).await, Ok(vec![]));
    log.forget_session("s");
    assert_eq!(
        replay(&*log, "s", b1, 0).await,
        Err(ReplayError::UnknownStream)
    );
    let keys = redis.command(&["KEYS", "t:{s}*"]);
    assert_eq!(keys, Reply::Array(vec![]), "nothing of the session is left");
    assert_eq!(log.dropped(), 0);
}

/// RB-2: a bounded log refuses a replay from before what it evicted, as the memory log does.
#[tokio::test]
async fn a_replay_from_before_evicted_events_is_refused() {
    let redis = RedisServer::start();
    let log = backend(&redis, |c| c.events_per_stream(10))
        .await
        .event_log();
    for seq in 0..400 {
        log.append("s", A1, seq, Some(Bytes::from("{}")));
    }
    assert_eq!(replay(&*log, "s", A1, 0).await, Err(ReplayError::Evicted));
    let tail = replay(&*log, "s", A1, 395).await.unwrap();
    assert_eq!(
        tail.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        [396, 397, 398, 399]
    );
    let len = redis.command(&["XLEN", "t:{s}:s:a.1"]).int();
    assert!(len < 400, "trimmed: {len}");
}

/// The session of the next message, which must be a `SessionEnded`.
async fn next(stream: &mut futures::stream::BoxStream<'static, BusMessage>) -> String {
    match tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
        Ok(Some(BusMessage::SessionEnded { session })) => session.to_string(),
        other => panic!("unexpected: {other:?}"),
    }
}

/// RB-3: a message sent to one instance reaches it only; a broadcast reaches every other
/// instance; each instance's heartbeat says it is alive, and a message for an instance that is
/// gone is an error the sender sees.
#[tokio::test]
async fn the_bus_delivers_to_one_or_all_and_knows_who_is_alive() {
    let redis = RedisServer::start();
    let config = |c: RedisConfig| {
        c.heartbeat(Duration::from_millis(200))
            .block(Duration::from_millis(300))
    };
    let one = backend(&redis, config).await.bus();
    let two = backend(&redis, config).await.bus();
    let mut a = one.subscribe("a");
    let mut b = two.subscribe("b");
    let alive = |id: &str| redis.command(&["EXISTS", &format!("t:inst:{id}")]).int() == 1;
    assert!(
        mcp_http_test_support::eventually(|| alive("a") && alive("b")).await,
        "heartbeats"
    );
    // The readers start from "now": give them a moment to be blocked in XREAD.
    tokio::time::sleep(Duration::from_millis(100)).await;

    let ended = |s: &str| BusMessage::SessionEnded { session: s.into() };
    one.send("b", ended("to-b")).await.unwrap();
    two.broadcast("b", ended("from-b")).await.unwrap();
    assert_eq!(next(&mut b).await, "to-b");
    assert_eq!(next(&mut a).await, "from-b");
    // b did not get its own broadcast, a did not get b's message: the next ones are these.
    one.send("a", ended("to-a")).await.unwrap();
    assert_eq!(next(&mut a).await, "to-a");
    one.broadcast("a", ended("from-a")).await.unwrap();
    assert_eq!(next(&mut b).await, "from-a");

    // Unknown or gone: reported.
    assert!(one.send("nobody", ended("x")).await.is_err());
    drop(a);
    assert!(
        mcp_http_test_support::eventually(|| !alive("a")).await,
        "a dropped subscription ends the heartbeat"
    );
    assert!(one.send("a", ended("late")).await.is_err());
    assert_eq!(
        redis.command(&["EXISTS", "t:inbox:nobody"]).int(),
        0,
        "nothing is written for an instance that is not there"
    );
}

/// RB-3: a reader whose connection drops reads on from where it was: what was sent in between
/// arrives.
#[tokio::test]
async fn the_bus_reader_survives_a_dropped_connection() {
    let redis = RedisServer::start();
    let config = |c: RedisConfig| {
        c.heartbeat(Duration::from_millis(200))
            .block(Duration::from_millis(300))
    };
    let bus = backend(&redis, config).await.bus();
    let mut a = bus.subscribe("a");
    let alive = || redis.command(&["EXISTS", "t:inst:a"]).int() == 1;
    assert!(mcp_http_test_support::eventually(alive).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Every client connection is closed by the server (the reader's blocked XREAD too).
    redis.command(&["CLIENT", "KILL", "TYPE", "normal"]);
    // The command connection reconnects on its own; a send may fail meanwhile (an error, not
    // a hang), so it is tried a few times.
    let mut sent = false;
    for _ in 0..20 {
        let message = BusMessage::SessionEnded {
            session: "after".into(),
        };
        if bus.send("a", message).await.is_ok() {
            sent = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sent, "the command connection came back");
    let got = tokio::time::timeout(Duration::from_secs(10), a.next())
        .await
        .expect("delivered after the reconnect");
    assert!(
        matches!(got, Some(BusMessage::SessionEnded { .. })),
        "{got:?}"
    );
}
