//! A session's GET stream moving between three instances over a real redis-server, each with a
//! registry of its own (as separate processes have), behind one round-robin address (requests
//! go to the instances in turn, so each step below lands where its comment says). A
//! notification for every session or for a resource's subscribers, made on any instance,
//! reaches the session's GET stream exactly once wherever it is held (RB-36): held while no
//! stream is open (RB-39), not sent to a replaced stream (RB-40), and taken in full by a stream
//! opened while broadcasts are being read (RB-41), at a bounded cost per broadcast (RB-37).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use mcp_http_server::{NoArgs, Server, ToolDef};
use mcp_http_server_http::HttpConfig;
use serde_json::{Value, json};
use support::*;

const WATCHED: &str = "test://watched-resource";

async fn cluster() -> (Vec<Server>, TestServer) {
    let servers: Vec<_> = (0..3).map(|_| mcp_http::builtin::server()).collect();
    let server = TestServer::start_redis_cluster(servers.clone(), HttpConfig::default()).await;
    (servers, server)
}

/// A session (initialize on instance 0, `notifications/initialized` on 1) subscribed to
/// [`WATCHED`] (on 2), then a ping (on 0): the next request lands on instance 1.
async fn subscribed_session(http: &reqwest::Client, url: &str) -> String {
    let sid = session(http, url, "2025-11-25").await;
    let subscribe = json!({"jsonrpc": "2.0", "id": 1, "method": "resources/subscribe",
        "params": {"uri": WATCHED}});
    let r = post(http, url, Some(&sid), &subscribe).await;
    assert_eq!(r.status(), 200);
    let _ = r.bytes().await.unwrap();
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"});
    let r = post(http, url, Some(&sid), &ping).await;
    assert_eq!(r.status(), 200);
    let _ = r.bytes().await.unwrap();
    sid
}

/// The JSON-RPC messages that come on a stream until none came for `quiet` (priming events
/// and comments skipped); bounded by 10 s in all.
async fn until_quiet(reader: &mut SseReader, quiet: Duration) -> Vec<Value> {
    with_ids(reader, quiet)
        .await
        .into_iter()
        .map(|(_, m)| m)
        .collect()
}

/// The next JSON-RPC message on a stream, within 5 s.
async fn next_message(reader: &mut SseReader) -> Value {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), reader.next())
            .await
            .expect("a message in time")
            .expect("the stream is open");
        if let Some(message) = event.json() {
            return message;
        }
    }
}

fn methods(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m["method"].as_str().unwrap_or("?"))
        .collect()
}

fn add_tool(server: &Server, name: &str) {
    server.add_tool(ToolDef::new(name, "Added late", |_: NoArgs, _| async {
        "late"
    }));
}

/// RB-39 (the first of the three ways the handover failed: a held notification did not reach
/// the first GET stream): notifications made on two instances while no GET stream is open
/// anywhere are held, and a GET stream opened on a third instance gets each once, in order,
/// then the live ones.
#[tokio::test]
async fn notifications_held_without_a_get_stream_reach_one_opened_elsewhere_once() {
    let (servers, server) = cluster().await;
    let (http, url) = (client(), server.url.as_str());
    let sid = subscribed_session(&http, url).await;
    servers[2].notify_resource_updated(WATCHED).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    add_tool(&servers[0], "late");
    // Read by every instance's bus meanwhile: nobody holds the stream, so nobody takes them.
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The GET stream opens on instance 1.
    let mut stream = SseReader::new(get_stream(&http, url, &sid, None).await);
    let held = until_quiet(&mut stream, Duration::from_millis(500)).await;
    assert_eq!(
        methods(&held),
        [
            "notifications/resources/updated",
            "notifications/tools/list_changed"
        ],
        "each held notification once, in order: {held:?}"
    );
    // Live ones from every instance, once each.
    for s in &servers {
        s.notify_resource_updated(WATCHED).await;
    }
    let live = until_quiet(&mut stream, Duration::from_millis(500)).await;
    assert_eq!(methods(&live), ["notifications/resources/updated"; 3]);
}

/// RB-40 (the second way: the replaced stream still got a message): after a second GET on
/// instance 2 replaced the first on instance 1, the first ends with nothing more, even for
/// notifications made on instance 1 itself, and the second gets each once.
#[tokio::test]
async fn a_replaced_get_stream_gets_nothing_after_the_replacement() {
    let (servers, server) = cluster().await;
    let (http, url) = (client(), server.url.as_str());
    let sid = subscribed_session(&http, url).await;
    let mut first = SseReader::new(get_stream(&http, url, &sid, None).await);
    let mut second = SseReader::new(get_stream(&http, url, &sid, None).await);
    // At once, from each instance, the old holder first.
    servers[1].notify_resource_updated(WATCHED).await;
    add_tool(&servers[1], "from-old-holder");
    servers[0].notify_resource_updated(WATCHED).await;
    servers[2].notify_resource_updated(WATCHED).await;

    let after = tokio::time::timeout(Duration::from_secs(10), first.rest())
        .await
        .expect("the replaced stream ends");
    let after: Vec<Value> = after.iter().filter_map(|e| e.json()).collect();
    assert!(after.is_empty(), "the replaced stream got {after:?}");
    let mut got = until_quiet(&mut second, Duration::from_millis(500)).await;
    got.sort_by_key(|m| m["method"].as_str().unwrap_or("?").to_owned());
    assert_eq!(
        methods(&got),
        [
            "notifications/resources/updated",
            "notifications/resources/updated",
            "notifications/resources/updated",
            "notifications/tools/list_changed"
        ],
        "each once on the new stream"
    );
}

/// RB-41 (the third way: the new stream missed what came next): while instances make and read
/// a run of broadcasts, a GET stream opens on one instance and then a second replaces it on
/// another. Every broadcast reaches the session once: on the first stream before it ended,
/// or on the second; and the second stays open for what comes after.
#[tokio::test]
async fn a_get_stream_opened_while_broadcasts_are_read_gets_each_once() {
    const RUN: usize = 30;
    let (servers, server) = cluster().await;
    let (http, url) = (client(), server.url.as_str());
    let sid = subscribed_session(&http, url).await;
    let producers = servers.clone();
    let produced = tokio::spawn(async move {
        for k in 0..RUN {
            add_tool(&producers[k % 3], &format!("t{k}"));
            tokio::time::sleep(Duration::from_millis(4)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    // The first GET on instance 1 and, a moment later, the second on instance 2, both while
    // the run is being made and read.
    let mut first = SseReader::new(get_stream(&http, url, &sid, None).await);
    tokio::time::sleep(Duration::from_millis(30)).await;
    let mut second = SseReader::new(get_stream(&http, url, &sid, None).await);
    produced.await.unwrap();

    let on_first: Vec<Value> = tokio::time::timeout(Duration::from_secs(10), first.rest())
        .await
        .expect("the replaced stream ends")
        .iter()
        .filter_map(|e| e.json())
        .collect();
    let on_second = until_quiet(&mut second, Duration::from_millis(500)).await;
    let changed = |messages: &[Value]| {
        methods(messages)
            .iter()
            .filter(|m| **m == "notifications/tools/list_changed")
            .count()
    };
    assert_eq!(
        changed(&on_first) + changed(&on_second),
        RUN,
        "each of the run once: {} on the first, {} on the second",
        on_first.len(),
        on_second.len()
    );
    // The second is the live one.
    servers[1].notify_resource_updated(WATCHED).await;
    assert_eq!(
        next_message(&mut second).await["method"],
        "notifications/resources/updated"
    );
}

/// RB-37: a notification for every session costs Redis one script per instance holding GET
/// streams (plus the one that adds it), whatever the number of sessions: counted with
/// `INFO commandstats` for 30 sessions whose GET streams are spread over three instances.
#[tokio::test]
async fn a_broadcast_costs_one_script_per_instance_not_one_per_session() {
    const SESSIONS: usize = 30;
    let (servers, server) = cluster().await;
    let (http, url) = (client(), server.url.as_str());
    let mut streams = Vec::new();
    // Requests sent so far: the next lands on instance `sent % 3`.
    let mut sent = 0;
    for i in 0..SESSIONS {
        let sid = session(&http, url, "2025-11-25").await;
        sent += 2;
        // Pings until the GET lands on instance 0, 1 or 2 in turn.
        while sent % 3 != i % 3 {
            let ping = json!({"jsonrpc": "2.0", "id": sent, "method": "ping"});
            let _ = post(&http, url, Some(&sid), &ping).await.bytes().await;
            sent += 1;
        }
        sent += 1;
        streams.push(SseReader::new(get_stream(&http, url, &sid, None).await));
    }
    // Claims and their record reloads settle first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let redis = server.redis().expect("a Redis cluster");
    redis.command(&["CONFIG", "RESETSTAT"]);
    add_tool(&servers[0], "late");
    for stream in &mut streams {
        assert_eq!(
            next_message(stream).await["method"],
            "notifications/tools/list_changed"
        );
    }
    let counts = redis.command_counts();
    // One script adds it to the stream of broadcasts, and each of the three instances hands
    // it to the GET streams it holds in one more (inside: a read and a write of each
    // session's record).
    assert_eq!(counts.get("evalsha"), Some(&4), "{counts:?}");
    assert_eq!(counts.get("hmget"), Some(&(SESSIONS as u64)), "{counts:?}");
    for stream in &mut streams {
        let more = until_quiet(stream, Duration::from_millis(50)).await;
        assert!(more.is_empty(), "once: {more:?}");
    }
}

/// The tag of an event id (`{tag}.{stream}.{seq}`): which router, so which instance, numbered
/// it.
fn tag_of(id: &str) -> &str {
    id.split('.').next().unwrap_or_default()
}

/// A GET stream read until its first `list_changed` made on instance 1, then left (the
/// client's connection breaks): the last event id the client has. The stream opens on
/// instance 1 (the next request after [`subscribed_session`]).
async fn get_then_leave(
    http: &reqwest::Client,
    url: &str,
    sid: &str,
    servers: &[Server],
) -> String {
    let mut stream = SseReader::new(get_stream(http, url, sid, None).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    add_tool(&servers[1], "before-leaving");
    let mut last = None;
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("an event in time")
            .expect("the stream is open");
        last = event.id.clone().or(last);
        if event
            .json()
            .is_some_and(|m| m["method"] == "notifications/tools/list_changed")
        {
            break;
        }
    }
    drop(stream);
    last.expect("events have ids")
}

/// The JSON-RPC messages of a stream with their event ids (`""` for none), until none came
/// for `quiet` (priming events and comments skipped); bounded by 10 s in all.
async fn with_ids(reader: &mut SseReader, quiet: Duration) -> Vec<(String, Value)> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(quiet, reader.next()).await {
            Ok(Some(event)) => {
                if let Some(json) = event.json() {
                    got.push((event.id.unwrap_or_default(), json));
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    got
}

/// RB-43, RB-44: a GET stream resumed with `Last-Event-ID` on another instance than the one
/// that held it (no load balancer: the round-robin address sends it to instance 2) takes the
/// stream over. It first gets, once, what the old stream stored after the client's last event
/// (a change made while the client was away, with the old stream's ids), then every later
/// change from each instance once, on the stream numbered by the new instance (their ids
/// name it, so the client's next resume goes there too); the old holder's own changes
/// included.
#[tokio::test]
async fn a_get_stream_resumed_on_another_instance_takes_the_stream_over() {
    let (servers, server) = cluster().await;
    let (http, url) = (client(), server.url.as_str());
    let sid = subscribed_session(&http, url).await;
    let last = get_then_leave(&http, url, &sid, &servers).await;
    // While the client is away: instance 1 still holds the stream and stores it there.
    servers[0].notify_resource_updated(WATCHED).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The resume lands on instance 2.
    let mut resumed = SseReader::new(get_stream(&http, url, &sid, Some(&last)).await);
    let replayed = with_ids(&mut resumed, Duration::from_millis(500)).await;
    assert_eq!(
        replayed
            .iter()
            .map(|(id, m)| (tag_of(id) == tag_of(&last), m["method"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        [(true, "notifications/resources/updated")],
        "what the old stream stored after the client's last event, once: {replayed:?}"
    );
    for (k, s) in servers.iter().enumerate() {
        add_tool(s, &format!("after-{k}"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let live = with_ids(&mut resumed, Duration::from_millis(500)).await;
    assert_eq!(live.len(), 3, "each later change once: {live:?}");
    for (id, message) in &live {
        assert_eq!(message["method"], "notifications/tools/list_changed");
        assert_ne!(
            tag_of(id),
            tag_of(&last),
            "on the stream the new instance numbered: {live:?}"
        );
    }
}

/// RB-45: a GET stream resumed with `Last-Event-ID` on the instance that holds it (two pings
/// bring the round-robin back to instance 1) gets what came while the client was away once,
/// then every later change from each instance once, on the same stream.
#[tokio::test]
async fn a_get_stream_resumed_on_its_own_instance_goes_on_there() {
    let (servers, server) = cluster().await;
    let (http, url) = (client(), server.url.as_str());
    let sid = subscribed_session(&http, url).await;
    let last = get_then_leave(&http, url, &sid, &servers).await;
    servers[2].notify_resource_updated(WATCHED).await;
    for id in [10, 11] {
        let ping = json!({"jsonrpc": "2.0", "id": id, "method": "ping"});
        let _ = post(&http, url, Some(&sid), &ping).await.bytes().await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut resumed = SseReader::new(get_stream(&http, url, &sid, Some(&last)).await);
    for (k, s) in servers.iter().enumerate() {
        add_tool(s, &format!("after-{k}"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = with_ids(&mut resumed, Duration::from_millis(500)).await;
    assert_eq!(
        got.iter()
            .map(|(_, m)| m["method"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [
            "notifications/resources/updated",
            "notifications/tools/list_changed",
            "notifications/tools/list_changed",
            "notifications/tools/list_changed"
        ],
        "each once, in order: {got:?}"
    );
    assert!(
        got.iter().all(|(id, _)| tag_of(id) == tag_of(&last)),
        "all on the stream instance 1 numbered: {got:?}"
    );
}
