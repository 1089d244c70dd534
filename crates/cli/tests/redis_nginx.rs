//! The failures of a fleet as a client behind nginx sees them (RB-28..RB-32): three real
//! `mcp-http serve --redis` processes over a real `redis-server`, behind a real nginx
//! round-robin with the config of scripts/nginx-cluster.sh, and the client talking to nginx
//! only: our client library as a user runs it (a call resumed after its stream broke,
//! re-initialization after 404), and plain HTTP where the test reads streams, statuses and
//! headers. Which instance
//! runs a call or holds a GET stream is read from the event ids and the instances' own metrics
//! (`--metrics`), the way an operator would find it.
//!
//! Skipped, saying so, only where nginx is not installed; scripts/test.sh installs it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod redis_fleet;
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_http_client::{Client, Era, RequestError, RequestOptions};
use mcp_http_client_http::{HttpClient, HttpClientConfig, StreamableHttpClient};
use mcp_http_test_support::redis::{RedisServer, free_port};
use redis_fleet::nginx::{self, Nginx};
use redis_fleet::*;
use serde_json::{Value, json};
use support::*;

/// Three instances with metrics, behind nginx; `None` (and a message) without nginx.
struct Behind {
    fleet: Fleet,
    metrics: Vec<String>,
    nginx: Nginx,
}

async fn behind_nginx(test: &str) -> Option<Behind> {
    let Some(binary) = nginx::binary() else {
        eprintln!(
            "SKIPPED {test}: nginx is not installed (apt-get install nginx-light; scripts/test.sh \
             installs it, so CI runs this test)"
        );
        return None;
    };
    let redis = RedisServer::start();
    let mut instances = Vec::new();
    let mut metrics = Vec::new();
    for i in 0..3 {
        let addr = format!("127.0.0.1:{}", free_port());
        instances.push(start_instance_with(&redis, &format!("i{i}"), &["--metrics", &addr]).await);
        metrics.push(format!("http://{addr}/metrics"));
    }
    let upstreams: Vec<String> = instances
        .iter()
        .map(|i| {
            i.url
                .trim_start_matches("http://")
                .trim_end_matches("/mcp")
                .to_owned()
        })
        .collect();
    let nginx = Nginx::start(&binary, &upstreams).await;
    Some(Behind {
        fleet: Fleet { redis, instances },
        metrics,
        nginx,
    })
}

/// A value of an instance's metrics (`name{labels}` as exposed), 0 when absent or unreachable.
async fn metric(http: &reqwest::Client, url: &str, series: &str) -> f64 {
    let Ok(response) = http.get(url).send().await else {
        return 0.0;
    };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap_or(0.0))
}

const POST_STREAMS: &str = "mcp_http_open_streams{kind=\"post\"}";
const GET_STREAMS: &str = "mcp_http_open_streams{kind=\"get\"}";

/// The instances whose `series` is at least `at_least` now.
async fn instances_with(
    b: &Behind,
    http: &reqwest::Client,
    series: &str,
    at_least: f64,
) -> Vec<usize> {
    let mut found = Vec::new();
    for (i, url) in b.metrics.iter().enumerate() {
        if metric(http, url, series).await >= at_least {
            found.push(i);
        }
    }
    found
}

/// The one instance with a GET stream open (waiting 10 s at most for it).
async fn get_holder(b: &Behind, http: &reqwest::Client) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let [holder] = instances_with(b, http, GET_STREAMS, 1.0).await[..] {
            return holder;
        }
        assert!(
            Instant::now() < deadline,
            "one instance holds the GET stream"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Our client, through `url`, in a 2025-11-25 session, recording the notifications it gets.
async fn connect(url: &str, notes: Arc<Mutex<Vec<String>>>) -> Client {
    let transport = StreamableHttpClient::with_client(
        url,
        HttpClient::new().unwrap(),
        HttpClientConfig::default(),
    )
    .unwrap();
    Client::builder("nginx-failures", "1.0")
        .era(Era::Legacy)
        .on_notification(move |n| notes.lock().unwrap().push(n.method))
        .connect(transport)
        .await
        .unwrap()
}

async fn echo(client: &Client, text: &str) -> Result<String, RequestError> {
    let result = client.call_tool("echo", json!({"message": text})).await?;
    let value = serde_json::to_value(&result).unwrap();
    Ok(value["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// RB-28, RB-29: an instance killed (SIGKILL) in the middle of a call, the client behind
/// nginx. nginx cuts the call's stream; the client resumes it through nginx (which skips the
/// dead instance), gets what was stored, then the call's JSON-RPC error response once the dead
/// instance's heartbeat is gone: nothing waits forever. The session lives on: the client's next
/// requests, POSTs included, all work, nginx sending none of them to the dead instance, and our
/// client library starts a session and calls through the same nginx.
#[tokio::test]
async fn a_call_on_an_instance_killed_behind_nginx_ends_with_an_error_and_the_session_goes_on() {
    let Some(mut b) = behind_nginx("killed instance").await else {
        return;
    };
    let http = client();
    let url = b.nginx.url.clone();
    let sid = raw_session(&http, &url).await;
    let long = call_with_progress(
        7,
        "long_running_operation",
        json!({"duration": 60, "steps": 120}),
    );
    let r = post(&http, &url, Some(&sid), &long).await;
    assert_eq!(r.status(), 200);
    let mut reader = SseReader::new(r);
    // The event id names the instance that runs the call; its metrics agree.
    let last_id = read_progress(&mut reader, 2).await;
    let (owner, _) = last_id.split_once('~').expect("an instance in the id");
    let victim: usize = owner.trim_start_matches('i').parse().unwrap();
    assert_eq!(
        instances_with(&b, &http, POST_STREAMS, 1.0).await,
        [victim],
        "the instance named by {last_id} runs the call"
    );
    // Let the progress sent meanwhile be written behind, then kill.
    tokio::time::sleep(Duration::from_millis(KILL_AFTER_MS)).await;
    b.fleet.instances[victim].child.kill().unwrap();
    let _ = b.fleet.instances[victim].child.wait();
    let killed = Instant::now();
    // The client's connection through nginx broke with the instance: it resumes from the
    // last event it had before.
    drop(reader);
    let mut last_id = last_id;

    // The client resumes through nginx, polling again after each `retry` (T-12) until the
    // response: what was stored, then the error.
    let mut messages: Vec<Value> = Vec::new();
    let mut polls = 0;
    while !messages.last().is_some_and(|m| m["id"] == 7) {
        assert!(
            killed.elapsed() < Duration::from_secs(25),
            "the resumed call ends in time ({polls} polls): {messages:?}"
        );
        polls += 1;
        let r = get_stream(&http, &url, &sid, Some(&last_id)).await;
        assert_eq!(r.status(), 200, "poll {polls}");
        let (more, more_last) = read_to_end(&mut SseReader::new(r), Duration::from_secs(20)).await;
        messages.extend(more);
        last_id = more_last.unwrap_or(last_id);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let waited = killed.elapsed();
    let last = messages.last().expect("the resume carries messages");
    assert_eq!(last["id"], 7, "{messages:?}");
    assert_eq!(last["error"]["code"], -32603, "{last}");
    eprintln!(
        "killed instance i{victim}: the resume through nginx ({polls} polls) replayed {} \
         messages and ended with the error {waited:?} after the kill",
        messages.len() - 1
    );
    assert!(waited < Duration::from_secs(15), "ended in {waited:?}");

    // The session lives on, and nginx skips the dead instance, POSTs included.
    echoes(&http, &url, &sid, 9).await;
    let client = connect(&url, Arc::default()).await;
    for i in 0..3 {
        let text = format!("library {i}");
        assert_eq!(echo(&client, &text).await.unwrap(), text);
    }
    let log = b.nginx.access_log();
    assert!(
        !log.lines()
            .any(|l| l.contains("\"POST ") && l.contains("\" 502 ")),
        "no POST failed with 502: {log}"
    );
}

/// RB-29, with our client library: an instance killed (SIGKILL) in the middle of a call made by
/// `call_tool_with`, behind nginx. The library's stream breaks; it resumes through nginx (which
/// skips the dead instance), gets what was stored, then the call's JSON-RPC error response once
/// the dead instance's heartbeat is gone: nothing waits forever. The session lives on: the client's next requests,
/// POSTs included, all work, nginx sending none of them to the dead instance.
#[tokio::test]
async fn our_client_library_behind_nginx_gets_the_killed_calls_error_and_carries_on() {
    let Some(mut b) = behind_nginx("killed instance, our client").await else {
        return;
    };
    let http = client();
    let client = Arc::new(connect(&b.nginx.url, Arc::default()).await);
    let progress = Arc::new(AtomicUsize::new(0));
    let seen = progress.clone();
    let options = RequestOptions::default()
        .timeout(Duration::from_secs(120))
        .on_progress(move |_| {
            seen.fetch_add(1, Ordering::Relaxed);
        });
    let calling = client.clone();
    let call = tokio::spawn(async move {
        calling
            .call_tool_with(
                "long_running_operation",
                json!({"duration": 60, "steps": 120}),
                options,
            )
            .await
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while progress.load(Ordering::Relaxed) < 2 {
        assert!(Instant::now() < deadline, "progress through nginx");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The instance that runs the call has its POST stream open.
    let running = instances_with(&b, &http, POST_STREAMS, 1.0).await;
    assert_eq!(running.len(), 1, "one instance runs the call: {running:?}");
    let victim = running[0];
    // Let the progress sent meanwhile be written behind, then kill.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stored = progress.load(Ordering::Relaxed);
    b.fleet.instances[victim].child.kill().unwrap();
    let _ = b.fleet.instances[victim].child.wait();
    let killed = Instant::now();

    let outcome = tokio::time::timeout(Duration::from_secs(30), call)
        .await
        .expect("the call ends: nothing waits forever")
        .unwrap();
    let waited = killed.elapsed();
    match outcome {
        Err(RequestError::Rpc(error)) => assert_eq!(error.code, -32603, "{error:?}"),
        other => panic!("the call ends with the error response: {other:?}"),
    }
    eprintln!(
        "our client, killed instance i{victim}: {stored} progress before the kill, {} in all; the call's \
         error came {waited:?} after the kill",
        progress.load(Ordering::Relaxed)
    );
    assert!(waited < Duration::from_secs(15), "ended in {waited:?}");

    // The session lives on, and nginx skips the dead instance, POSTs included.
    for i in 0..9 {
        let text = format!("after {i}");
        assert_eq!(echo(&client, &text).await.unwrap(), text);
    }
    client.ping().await.unwrap();
    let log = b.nginx.access_log();
    assert!(
        !log.lines()
            .any(|l| l.contains("\"POST ") && l.contains("\" 502 ")),
        "no POST failed with 502: {log}"
    );
}

/// `n` echo calls of session `sid` through `url`, each answered.
async fn echoes(http: &reqwest::Client, url: &str, sid: &str, n: i64) {
    for i in 0..n {
        let text = format!("after {i}");
        let r = post(
            http,
            url,
            Some(sid),
            &call(100 + i, "echo", json!({"message": text})),
        )
        .await;
        assert_eq!(tool_text(r).await, text);
    }
}

/// How long after the second progress notification the instance is killed.
const KILL_AFTER_MS: u64 = 300;

/// `initialize` and `notifications/initialized` through `url`: the session id.
async fn raw_session(http: &reqwest::Client, url: &str) -> String {
    let r = post(http, url, None, &init_body("2025-11-25")).await;
    assert_eq!(r.status(), 200);
    let sid = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let _ = r.bytes().await.unwrap();
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(http, url, Some(&sid), &note).await.status(), 202);
    sid
}

/// RB-30: Redis stopped, behind nginx. A new session and a request of a session an instance has
/// not cached get 503 with `Retry-After` (never a hang, never a false 404); our client's
/// session, cached on every instance, keeps answering quick calls. When Redis comes back with
/// its data (it was saved before it stopped), everything works again and no cached session was
/// let go (no false "data lost", RB-32).
#[tokio::test]
async fn redis_stopped_behind_nginx_is_503_for_what_needs_it_and_all_recovers() {
    let Some(mut b) = behind_nginx("Redis stopped").await else {
        return;
    };
    let http = client();
    let client = connect(&b.nginx.url, Arc::default()).await;
    for i in 0..6 {
        echo(&client, &format!("warm {i}")).await.unwrap();
    }
    // A second session, seen by two of the three instances only (initialize, initialized).
    let r = post(&http, &b.nginx.url, None, &init_body("2025-11-25")).await;
    assert_eq!(r.status(), 200);
    let sid = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let _ = r.bytes().await.unwrap();
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(
        post(&http, &b.nginx.url, Some(&sid), &note).await.status(),
        202
    );

    b.fleet.redis.command(&["SAVE"]);
    b.fleet.redis.kill();

    let started = Instant::now();
    let r = post(&http, &b.nginx.url, None, &init_body("2025-11-25")).await;
    assert_eq!(r.status(), 503, "a new session needs Redis");
    assert!(r.headers().contains_key("retry-after"), "{:?}", r.headers());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let mut statuses = Vec::new();
    for id in 0..6 {
        let started = Instant::now();
        let r = post(&http, &b.nginx.url, Some(&sid), &ping(id)).await;
        let waited = started.elapsed();
        assert!(waited < Duration::from_secs(5), "answered in {waited:?}");
        if r.status() == 503 {
            assert!(r.headers().contains_key("retry-after"), "{:?}", r.headers());
        }
        statuses.push(r.status().as_u16());
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "cached: 200, not cached: 503, never 404: {statuses:?}"
    );
    assert!(
        statuses.contains(&503),
        "the instance that never saw it: {statuses:?}"
    );
    assert!(
        statuses.contains(&200),
        "the instances that cached it: {statuses:?}"
    );
    for i in 0..6 {
        let text = format!("cached {i}");
        assert_eq!(echo(&client, &text).await.unwrap(), text, "no Redis needed");
    }

    b.fleet.redis.restart();
    let back = Instant::now();
    let mut recovered = false;
    while back.elapsed() < Duration::from_secs(10) {
        let mut all = true;
        for id in 0..3 {
            all &= post(&http, &b.nginx.url, Some(&sid), &ping(id))
                .await
                .status()
                == 200;
        }
        if all {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "the saved session answers on every instance again"
    );
    eprintln!("recovered {:?} after Redis came back", back.elapsed());
    // Past a heartbeat or two, the instances have checked the fleet's marker: it survived.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for i in 0..6 {
        let text = format!("back {i}");
        assert_eq!(echo(&client, &text).await.unwrap(), text);
    }
    let fresh = connect(&b.nginx.url, Arc::default()).await;
    assert_eq!(echo(&fresh, "new").await.unwrap(), "new");
    assert!(
        !b.nginx.access_log().contains("\" 404 "),
        "no session was lost, so none was 404"
    );
}

/// RB-31, RB-32: Redis restarted without its data, behind nginx. Within the bound (two
/// heartbeats) every instance answers 404 for the session it no longer has, including the
/// instances that had it cached; our client gets 404, starts a new session on its own (T-41)
/// and carries on.
#[tokio::test]
async fn a_redis_restart_that_lost_data_behind_nginx_gives_404_everywhere_and_clients_start_again()
{
    let Some(mut b) = behind_nginx("Redis lost its data").await else {
        return;
    };
    let http = client();
    let client = connect(&b.nginx.url, Arc::default()).await;
    // A session cached on every instance.
    let sid = {
        let r = post(&http, &b.nginx.url, None, &init_body("2025-11-25")).await;
        let sid = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
        let _ = r.bytes().await.unwrap();
        sid
    };
    for id in 0..6 {
        let r = post(&http, &b.nginx.url, Some(&sid), &ping(id)).await;
        assert_eq!(r.status(), 200);
    }
    for i in 0..6 {
        echo(&client, &format!("warm {i}")).await.unwrap();
    }

    b.fleet.redis.restart();
    let restarted = Instant::now();
    let gone = loop {
        let mut statuses = Vec::new();
        for id in 0..3 {
            statuses.push(
                post(&http, &b.nginx.url, Some(&sid), &ping(id))
                    .await
                    .status()
                    .as_u16(),
            );
        }
        if statuses.iter().all(|s| *s == 404) {
            break restarted.elapsed();
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(8),
            "every instance lets the lost session go in time: {statuses:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!("every instance answered 404 for the lost session {gone:?} after the restart");
    // And keeps doing so.
    for id in 0..6 {
        let r = post(&http, &b.nginx.url, Some(&sid), &ping(id)).await;
        assert_eq!(r.status(), 404);
    }

    let before = b
        .nginx
        .access_log()
        .lines()
        .filter(|l| l.contains("\" 404 "))
        .count();
    for i in 0..6 {
        let text = format!("again {i}");
        assert_eq!(
            echo(&client, &text).await.unwrap(),
            text,
            "the client carried on"
        );
    }
    let after = b
        .nginx
        .access_log()
        .lines()
        .filter(|l| l.contains("\" 404 "))
        .count();
    assert!(after > before, "our client got its 404 and re-initialized");
}

/// RB-31, RB-46: an instance stopped (SIGTERM) behind nginx, our client library as the user.
/// The calls it runs finish and answer; the GET stream it holds ends, and the library resumes
/// it with `Last-Event-ID` through nginx (on another instance: the stopped one takes no
/// connection), which takes the stream over: every `list_changed` made through nginx from the
/// stop on (one while the stream moves) reaches the client once. nginx answers nothing with
/// 502/503, and the process exits.
#[tokio::test]
async fn a_stopping_instance_behind_nginx_drains_and_its_get_holders_reconnect_elsewhere() {
    let Some(mut b) = behind_nginx("graceful stop").await else {
        return;
    };
    let http = client();
    let notes = Arc::new(Mutex::new(Vec::new()));
    let client = Arc::new(connect(&b.nginx.url, notes.clone()).await);
    let changed = || {
        notes
            .lock()
            .unwrap()
            .iter()
            .filter(|m| *m == "notifications/tools/list_changed")
            .count()
    };
    // The instance that holds the library's GET stream.
    let holder = get_holder(&b, &http).await;
    // Calls until one runs there too (round-robin: within three).
    let mut calls = Vec::new();
    for _ in 0..3 {
        let calling = client.clone();
        let progress = Arc::new(AtomicUsize::new(0));
        let seen = progress.clone();
        let options = RequestOptions::default().on_progress(move |_| {
            seen.fetch_add(1, Ordering::Relaxed);
        });
        calls.push(tokio::spawn(async move {
            calling
                .call_tool_with(
                    "long_running_operation",
                    json!({"duration": 3, "steps": 6}),
                    options,
                )
                .await
        }));
        // Running once its first progress came.
        let deadline = Instant::now() + Duration::from_secs(5);
        while progress.load(Ordering::Relaxed) == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if metric(&http, &b.metrics[holder], POST_STREAMS).await >= 1.0 {
            break;
        }
    }
    assert!(
        metric(&http, &b.metrics[holder], POST_STREAMS).await >= 1.0,
        "a call runs on the GET stream's instance"
    );
    let before = changed();

    b.fleet.instances[holder].signal("-TERM");
    // One change while the GET stream moves: made on a remaining instance, taken by the old
    // holder (and stored on its stream, which the resume replays) or by the new one's claim.
    client
        .call_tool("test_trigger_tool_change", json!({}))
        .await
        .unwrap();
    for call in calls {
        let result = call.await.unwrap().expect("the call answered");
        let value = serde_json::to_value(&result).unwrap();
        assert_eq!(
            value["content"][0]["text"], "Long running operation completed: 6 steps in 3 s",
            "the stopping instance drained it: {value}"
        );
    }
    // The library resumed its GET stream through nginx: on another instance.
    let new_holder = get_holder(&b, &http).await;
    assert_ne!(new_holder, holder);
    // Changes made through nginx land on both remaining instances (round-robin): the GET
    // holder hears its own and the other's.
    for _ in 0..4 {
        client
            .call_tool("test_trigger_tool_change", json!({}))
            .await
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while changed() < before + 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Anything sent twice would come within this.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        changed() - before,
        5,
        "each list_changed once: {:?}",
        notes.lock().unwrap()
    );

    exits_cleanly(&mut b.fleet.instances[holder].child).await;
    for i in 0..6 {
        let text = format!("after {i}");
        assert_eq!(echo(&client, &text).await.unwrap(), text);
    }
    let log = b.nginx.access_log();
    assert!(
        !log.lines()
            .any(|l| l.contains("\" 502 ") || l.contains("\" 503 ")),
        "nothing failed through nginx: {log}"
    );
}
