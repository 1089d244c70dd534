//! The message bus in Redis Streams: an inbox per instance, `{p}inbox:{iid}`, and one broadcast
//! stream, `{p}bcast`, both trimmed to the last `bus_retention` (`MINID ~`, by the server's
//! clock), and a heartbeat per instance, `{p}inst:{iid}`. Each instance reads its inbox and the
//! broadcasts with one blocking `XREAD` on a connection of its own (a blocking command on the
//! shared connection would stall every command queued behind it); after a reconnect it reads on
//! from the last ids it saw, so nothing within the retention is lost. Streams rather than
//! pub/sub for that reason.

use crate::metrics::{Component, counted};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use mcp_http_server_http::sessions::{BusError, BusMessage, MessageBus};
use redis::aio::ConnectionManager;
use redis::streams::StreamReadReply;
use redis::{AsyncConnectionConfig, Client, Script, Value};
use tokio::sync::mpsc;

use crate::bus_scripts::{ADD, TO_GET, claim_get_script, take_broadcast_script};
use crate::config::{RedisConfig, ms};
use crate::keys::Keys;

/// GET streams handed one broadcast by one script call: a fleet's broadcast costs each
/// instance one call per this many GET streams it holds (RB-37).
const TAKE_BATCH: usize = 500;

/// Messages received and not yet taken by the session layer before reading pauses.
const RECEIVED: usize = 4096;

/// The message bus over Redis Streams.
pub struct RedisBus {
    conn: ConnectionManager,
    client: Client,
    keys: Keys,
    add: Arc<Script>,
    to_get: Arc<Script>,
    claim_get: Arc<Script>,
    take_broadcast: Arc<Script>,
    /// How long the stream of broadcasts keeps them (ms): as long as a GET log (RB-36).
    notice_retention: u64,
    /// The bound and expiry (ms) of a session's GET log.
    get_log: (usize, u64),
    retention: u64,
    heartbeat: Duration,
    block: Duration,
    response_timeout: Duration,
    /// Where subscriptions start reading: the server's clock when the backend connected, so
    /// that nothing sent to an instance after that is missed, however late its reader starts.
    start: String,
}

impl std::fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus").finish_non_exhaustive()
    }
}

/// A message's fields in its stream entry: `k` its kind, `s` the session, `m` the JSON-RPC
/// message, `u` a resource URI, `f` the sending instance (broadcasts).
fn encode(message: BusMessage) -> Result<Vec<(&'static str, Vec<u8>)>, BusError> {
    let session = |s: &str| ("s", s.as_bytes().to_vec());
    let body = |m: &Bytes| ("m", m.to_vec());
    Ok(match message {
        BusMessage::Deliver {
            session: s,
            message,
        } => {
            let mut fields = vec![("k", b"d".to_vec()), body(&message)];
            fields.extend(s.as_deref().map(session));
            fields
        }
        BusMessage::Notify {
            session: s,
            message,
        } => {
            vec![("k", b"n".to_vec()), session(&s), body(&message)]
        }
        BusMessage::ToGetStream {
            session: s,
            message,
        } => {
            vec![("k", b"g".to_vec()), session(&s), body(&message)]
        }
        BusMessage::Broadcast {
            message,
            subscribers_of,
            ..
        } => {
            let mut fields = vec![("k", b"b".to_vec()), body(&message)];
            fields.extend(subscribers_of.map(|u| ("u", u.into_bytes())));
            fields
        }
        BusMessage::SessionEnded { session: s } => vec![("k", b"e".to_vec()), session(&s)],
        BusMessage::SessionEnding { session: s, ack_to } => vec![
            ("k", b"E".to_vec()),
            session(&s),
            ("a", ack_to.as_bytes().to_vec()),
        ],
        BusMessage::EndAcknowledged { session: s, by } => vec![
            ("k", b"A".to_vec()),
            session(&s),
            ("a", by.as_bytes().to_vec()),
        ],
        BusMessage::SessionChanged { session: s } => vec![("k", b"c".to_vec()), session(&s)],
        BusMessage::GetFlush {
            session: s,
            token,
            reply_to,
        } => vec![
            ("k", b"f".to_vec()),
            session(&s),
            ("m", token.to_string().into_bytes()),
            ("a", reply_to.as_bytes().to_vec()),
        ],
        BusMessage::GetFlushed { token } => {
            vec![("k", b"F".to_vec()), ("m", token.to_string().into_bytes())]
        }
        other => {
            return Err(BusError::new(format!(
                "a message the Redis bus cannot carry: {other:?}"
            )));
        }
    })
}

fn field<'a>(fields: &'a HashMap<String, Value>, name: &str) -> Option<&'a [u8]> {
    match fields.get(name)? {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

fn text(fields: &HashMap<String, Value>, name: &str) -> Option<Arc<str>> {
    Some(std::str::from_utf8(field(fields, name)?).ok()?.into())
}

/// A stream entry as a message; `None` when it does not parse (logged by the caller).
fn decode(fields: &HashMap<String, Value>) -> Option<BusMessage> {
    let message = || field(fields, "m").map(Bytes::copy_from_slice);
    let session = || text(fields, "s");
    Some(match field(fields, "k")? {
        b"d" => BusMessage::Deliver {
            session: session(),
            message: message()?,
        },
        b"n" => BusMessage::Notify {
            session: session()?,
            message: message()?,
        },
        b"g" => BusMessage::ToGetStream {
            session: session()?,
            message: message()?,
        },
        b"b" => BusMessage::Broadcast {
            message: message()?,
            subscribers_of: text(fields, "u").map(|u| u.to_string()),
            entry: None,
            from: text(fields, "f"),
        },
        b"e" => BusMessage::SessionEnded {
            session: session()?,
        },
        b"E" => BusMessage::SessionEnding {
            session: session()?,
            ack_to: text(fields, "a")?,
        },
        b"A" => BusMessage::EndAcknowledged {
            session: session()?,
            by: text(fields, "a")?,
        },
        b"f" => BusMessage::GetFlush {
            session: session()?,
            token: std::str::from_utf8(field(fields, "m")?)
                .ok()?
                .parse()
                .ok()?,
            reply_to: text(fields, "a")?,
        },
        b"F" => BusMessage::GetFlushed {
            token: std::str::from_utf8(field(fields, "m")?)
                .ok()?
                .parse()
                .ok()?,
        },
        b"c" => BusMessage::SessionChanged {
            session: session()?,
        },
        _ => return None,
    })
}

impl RedisBus {
    pub(crate) fn new(
        conn: ConnectionManager,
        client: Client,
        keys: Keys,
        config: &RedisConfig,
        start: String,
    ) -> Self {
        RedisBus {
            start,
            conn,
            client,
            keys,
            add: Arc::new(Script::new(ADD)),
            to_get: Arc::new(Script::new(TO_GET)),
            claim_get: Arc::new(Script::new(&claim_get_script())),
            take_broadcast: Arc::new(Script::new(&take_broadcast_script())),
            notice_retention: ms(config.event_ttl).max(ms(config.bus_retention)),
            get_log: (config.events_per_stream.max(1), ms(config.event_ttl)),
            retention: ms(config.bus_retention),
            heartbeat: config.heartbeat,
            block: config.block,
            response_timeout: config.response_timeout,
        }
    }

    async fn add(
        &self,
        stream: String,
        alive: Option<String>,
        fields: Vec<(&'static str, Vec<u8>)>,
    ) -> Result<i64, BusError> {
        let retention = self.retention;
        self.add_kept(stream, alive, fields, retention).await
    }

    /// [`RedisBus::add`] to a stream that keeps its entries `retention` ms.
    async fn add_kept(
        &self,
        stream: String,
        alive: Option<String>,
        fields: Vec<(&'static str, Vec<u8>)>,
        retention: u64,
    ) -> Result<i64, BusError> {
        let mut invocation = self.add.key(stream);
        if let Some(alive) = alive {
            invocation.key(alive);
        }
        invocation.arg(retention);
        for (name, value) in fields {
            invocation.arg(name).arg(value);
        }
        let mut conn = self.conn.clone();
        invocation
            .invoke_async(counted(&mut conn, Component::Bus))
            .await
            .map_err(|e| BusError::new(format!("XADD: {e}")))
    }
}

impl RedisBus {
    /// Runs [`TO_GET`] for a message (or, with `reply_to`, a flush) of `session`'s GET stream.
    fn get_script(
        &self,
        session: &str,
        message: &[u8],
        reply_to: Option<&str>,
    ) -> BoxFuture<'_, Result<i64, BusError>> {
        let mut invocation = self.to_get.key(self.keys.session(session));
        invocation
            .key(self.keys.get_log(session))
            .arg(self.keys.inbox(""))
            .arg(self.keys.instance(""))
            .arg(self.retention)
            .arg(session)
            .arg(message)
            .arg(self.get_log.0)
            .arg(self.get_log.1);
        if let Some(reply_to) = reply_to {
            invocation.arg(reply_to);
        }
        let mut conn = self.conn.clone();
        Box::pin(async move {
            invocation
                .invoke_async::<i64>(counted(&mut conn, Component::Bus))
                .await
                .map_err(|e| BusError::new(format!("a GET stream message: {e}")))
        })
    }
}

impl MessageBus for RedisBus {
    fn send(&self, to: &str, message: BusMessage) -> BoxFuture<'_, Result<(), BusError>> {
        let (inbox, alive) = (self.keys.inbox(to), self.keys.instance(to));
        let to = to.to_owned();
        Box::pin(async move {
            let added = self.add(inbox, Some(alive), encode(message)?).await?;
            if added == 0 {
                // Reported, not silently lost: the poster of an answer learns its handler is
                // gone with its instance.
                return Err(BusError::new(format!("instance {to} is gone")));
            }
            Ok(())
        })
    }

    fn broadcast(&self, from: &str, message: BusMessage) -> BoxFuture<'_, Result<(), BusError>> {
        // Notifications for sessions go to a stream of their own, kept as long as a GET log,
        // which a claim of a GET stream reads (RB-36); the rest to the broadcasts.
        let (stream, retention) = match message {
            BusMessage::Broadcast { .. } => (self.keys.notices(), self.notice_retention),
            _ => (self.keys.broadcast(), self.retention),
        };
        let from = from.as_bytes().to_vec();
        Box::pin(async move {
            let mut fields = encode(message)?;
            fields.push(("f", from));
            self.add_kept(stream, None, fields, retention)
                .await
                .map(|_| ())
        })
    }

    fn subscribe(&self, instance: &str) -> BoxStream<'static, BusMessage> {
        let (tx, mut rx) = mpsc::channel(RECEIVED);
        let reader = Reader {
            client: self.client.clone(),
            instance: instance.into(),
            inbox: self.keys.inbox(instance),
            broadcast: self.keys.broadcast(),
            notices: self.keys.notices(),
            block: self.block,
            response_timeout: self.response_timeout,
        };
        tokio::spawn(reader.run(tx.clone(), self.start.clone()));
        tokio::spawn(heartbeat(
            self.conn.clone(),
            Beat {
                key: self.keys.instance(instance),
                inbox: self.keys.inbox(instance),
                instances: self.keys.instances(),
                instance: instance.into(),
                marker: crate::data_loss::Marker::new(self.keys.fleet_marker(), instance),
            },
            self.heartbeat,
            self.retention,
            tx,
        ));
        Box::pin(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }

    fn shares_get_log(&self) -> bool {
        true
    }

    fn to_get_stream(&self, session: &str, message: Bytes) -> BoxFuture<'_, Result<(), BusError>> {
        let sent = self.get_script(session, message.as_ref(), None);
        Box::pin(async move { sent.await.map(|_| ()) })
    }

    fn flush_get_stream(
        &self,
        session: &str,
        token: u64,
        reply_to: &str,
    ) -> BoxFuture<'_, Result<bool, BusError>> {
        let sent = self.get_script(session, token.to_string().as_bytes(), Some(reply_to));
        Box::pin(async move { sent.await.map(|n| n == 1) })
    }

    fn claim_get_stream(
        &self,
        session: &str,
        instance: &str,
    ) -> BoxFuture<'_, Result<Vec<Bytes>, BusError>> {
        let owner = serde_json::to_string(instance).unwrap_or_default();
        let mut invocation = self.claim_get.key(self.keys.session(session));
        invocation
            .key(self.keys.get_log(session))
            .key(self.keys.notices())
            .arg(owner)
            .arg(self.get_log.0);
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let backlog: Vec<Vec<u8>> = invocation
                .invoke_async(counted(&mut conn, Component::Bus))
                .await
                .map_err(|e| BusError::new(format!("claiming a GET stream: {e}")))?;
            Ok(backlog.into_iter().map(Bytes::from).collect())
        })
    }

    fn take_broadcast(
        &self,
        entry: &str,
        subscribers_of: Option<&str>,
        sessions: Vec<Arc<str>>,
        instance: &str,
    ) -> BoxFuture<'_, Result<Vec<Arc<str>>, BusError>> {
        let owner = serde_json::to_string(instance).unwrap_or_default();
        let (entry, uri) = (entry.to_owned(), subscribers_of.unwrap_or("").to_owned());
        Box::pin(async move {
            let mut taken = Vec::new();
            for batch in sessions.chunks(TAKE_BATCH) {
                let mut invocation = self.take_broadcast.prepare_invoke();
                for id in batch {
                    invocation.key(self.keys.session(id));
                }
                invocation.arg(&owner).arg(&entry).arg(&uri);
                let mut conn = self.conn.clone();
                let places: Vec<usize> = invocation
                    .invoke_async(counted(&mut conn, Component::Bus))
                    .await
                    .map_err(|e| BusError::new(format!("handing on a broadcast: {e}")))?;
                taken.extend(
                    places
                        .into_iter()
                        .filter_map(|i| batch.get(i.checked_sub(1)?).cloned()),
                );
            }
            Ok(taken)
        })
    }

    fn is_alive(&self, instance: &str) -> BoxFuture<'_, Result<bool, BusError>> {
        let key = self.keys.instance(instance);
        Box::pin(async move {
            let mut conn = self.conn.clone();
            redis::cmd("EXISTS")
                .arg(key)
                .query_async::<bool>(counted(&mut conn, Component::Bus))
                .await
                .map_err(|e| BusError::new(format!("EXISTS: {e}")))
        })
    }

    fn instances(&self) -> BoxFuture<'_, Result<Vec<Arc<str>>, BusError>> {
        let key = self.keys.instances();
        let since = crate::unix_ms().saturating_sub(ms(self.heartbeat * 3));
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let ids: Vec<String> = redis::cmd("ZRANGEBYSCORE")
                .arg(key)
                .arg(since)
                .arg("+inf")
                .query_async(counted(&mut conn, Component::Bus))
                .await
                .map_err(|e| BusError::new(format!("ZRANGEBYSCORE: {e}")))?;
            Ok(ids.into_iter().map(Arc::from).collect())
        })
    }
}

/// The keys one instance's heartbeat writes.
struct Beat {
    /// Its heartbeat key.
    key: String,
    /// Its inbox, kept while it lives.
    inbox: String,
    /// The set of instances alive, where it is listed (RB-19).
    instances: String,
    instance: String,
    /// The fleet's marker, read by each beat to notice a loss of data (RB-32).
    marker: crate::data_loss::Marker,
}

/// Says the instance is alive every `interval` (the key lives three intervals; the set of
/// instances lists it with the time, and forgets instances silent for longer) and keeps its
/// inbox, until the subscription is dropped; then says it is gone.
async fn heartbeat(
    mut conn: ConnectionManager,
    mut beat: Beat,
    interval: Duration,
    retention: u64,
    subscribed: mpsc::Sender<BusMessage>,
) {
    let life = ms(interval * 3);
    while !subscribed.is_closed() {
        let now = crate::unix_ms();
        let written = redis::pipe()
            .cmd("SET")
            .arg(&beat.key)
            .arg("1")
            .arg("PX")
            .arg(life)
            .ignore()
            .pexpire(&beat.inbox, (retention + life) as i64)
            .ignore()
            .cmd("ZADD")
            .arg(&beat.instances)
            .arg(now)
            .arg(&beat.instance)
            .ignore()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&beat.instances)
            .arg("-inf")
            .arg(now.saturating_sub(life * 10))
            .ignore()
            .cmd("SET")
            .arg(&beat.marker.key)
            .arg(beat.marker.fresh_token())
            .arg("NX")
            .ignore()
            .cmd("GET")
            .arg(&beat.marker.key)
            .query_async::<(Option<Vec<u8>>,)>(counted(&mut conn, Component::Bus))
            .await;
        let marker = match written {
            Ok((marker,)) => marker,
            Err(e) => {
                tracing::warn!(error = %e, "the instance's heartbeat could not be written");
                None
            }
        };
        if beat.marker.observe(marker) {
            tracing::warn!("Redis lost its data (the fleet's marker was gone)");
            // The session layer lets go of the sessions Redis no longer has (RB-32).
            let _ = subscribed.send(BusMessage::StoreDataLost).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = subscribed.closed() => break,
        }
    }
    let _ = redis::pipe()
        .cmd("DEL")
        .arg(&beat.key)
        .ignore()
        .cmd("ZREM")
        .arg(&beat.instances)
        .arg(&beat.instance)
        .ignore()
        .query_async::<()>(counted(&mut conn, Component::Bus))
        .await;
}

/// Reads the instance's inbox and the broadcasts on a connection of its own.
struct Reader {
    client: Client,
    instance: Arc<str>,
    inbox: String,
    broadcast: String,
    /// The stream of notifications for sessions: read whoever sent them, this instance too,
    /// since it may hold GET streams they are for (RB-36).
    notices: String,
    block: Duration,
    response_timeout: Duration,
}

/// The ids a reader read last: its inbox, the broadcasts, the notifications.
type ReadIds = (String, String, String);

impl Reader {
    async fn run(self, tx: mpsc::Sender<BusMessage>, start: String) {
        let mut last = Some((start.clone(), start.clone(), start));
        let mut backoff = Duration::from_millis(50);
        while !tx.is_closed() {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(self.response_timeout.max(Duration::from_secs(1))))
                .set_response_timeout(Some(self.block + self.response_timeout * 2));
            let mut conn = match self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
            {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "the bus cannot reach Redis; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                    continue;
                }
            };
            backoff = Duration::from_millis(50);
            if let Err(e) = self.read(&mut conn, &mut last, &tx).await {
                tracing::warn!(error = %e, "the bus's connection to Redis failed; reconnecting");
            }
        }
    }

    /// Reads until the connection fails or the subscription is dropped.
    async fn read(
        &self,
        conn: &mut redis::aio::MultiplexedConnection,
        last: &mut Option<ReadIds>,
        tx: &mpsc::Sender<BusMessage>,
    ) -> redis::RedisResult<()> {
        let block = ms(self.block);
        while let Some((inbox_id, bcast_id, notice_id)) = last.clone() {
            let reply: Option<StreamReadReply> = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(256)
                .arg("BLOCK")
                .arg(block)
                .arg("STREAMS")
                .arg(&self.inbox)
                .arg(&self.broadcast)
                .arg(&self.notices)
                .arg(&inbox_id)
                .arg(&bcast_id)
                .arg(&notice_id)
                .query_async(counted(conn, Component::Bus))
                .await?;
            if tx.is_closed() {
                return Ok(());
            }
            let Some(reply) = reply else { continue };
            let (mut inbox_id, mut bcast_id, mut notice_id) = (inbox_id, bcast_id, notice_id);
            for stream in reply.keys {
                let from_broadcast = stream.key == self.broadcast;
                let from_notices = stream.key == self.notices;
                for entry in stream.ids {
                    if from_broadcast {
                        bcast_id.clone_from(&entry.id);
                        if text(&entry.map, "f").as_deref() == Some(&*self.instance) {
                            continue;
                        }
                    } else if from_notices {
                        notice_id.clone_from(&entry.id);
                    } else {
                        inbox_id.clone_from(&entry.id);
                    }
                    match decode(&entry.map) {
                        Some(BusMessage::Broadcast {
                            message,
                            subscribers_of,
                            from,
                            ..
                        }) if from_notices => {
                            let message = BusMessage::Broadcast {
                                message,
                                subscribers_of,
                                entry: Some(entry.id.as_str().into()),
                                from,
                            };
                            if tx.send(message).await.is_err() {
                                return Ok(());
                            }
                        }
                        Some(message) => {
                            if tx.send(message).await.is_err() {
                                return Ok(());
                            }
                        }
                        None => tracing::error!(
                            stream = %stream.key,
                            id = %entry.id,
                            "a bus message does not parse; skipped"
                        ),
                    }
                }
            }
            *last = Some((inbox_id, bcast_id, notice_id));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn as_map(fields: Vec<(&'static str, Vec<u8>)>) -> HashMap<String, Value> {
        fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::BulkString(v)))
            .collect()
    }

    #[test]
    fn messages_round_trip_and_unknown_kinds_do_not_parse() {
        let messages = [
            BusMessage::Deliver {
                session: None,
                message: Bytes::from("{}"),
            },
            BusMessage::Broadcast {
                message: Bytes::from("{}"),
                subscribers_of: Some("file:///x".into()),
                entry: None,
                from: None,
            },
            BusMessage::SessionEnded {
                session: "s".into(),
            },
            BusMessage::SessionEnding {
                session: "s".into(),
                ack_to: "i1".into(),
            },
            BusMessage::EndAcknowledged {
                session: "s".into(),
                by: "i2".into(),
            },
        ];
        for message in messages {
            let text = format!("{message:?}");
            let back = decode(&as_map(encode(message).unwrap())).unwrap();
            assert_eq!(format!("{back:?}"), text);
        }
        assert!(decode(&as_map(vec![("k", b"?".to_vec())])).is_none());
        assert!(
            decode(&as_map(vec![("k", b"n".to_vec())])).is_none(),
            "no session"
        );
    }
}
