//! Three `mcp-http serve --redis` processes over one real `redis-server` on loopback, each
//! request sent to the instance the test names, as a round-robin balancer would spread them
//! (RB-6..RB-12): nothing of a session is pinned to the instance that created it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod redis_fleet;
mod support;

use std::time::{Duration, Instant};

use mcp_http_test_support::redis::{RedisServer, Reply};
use redis_fleet::*;
use serde_json::{Value, json};
use support::*;

/// RB-6: `initialize` on one instance, then every later request on the others.
#[tokio::test]
async fn a_session_created_on_one_instance_is_served_by_every_other() {
    let fleet = Fleet::start(3).await;
    let http = client();
    let sid = session_across(&http, &fleet, 0).await;
    assert_eq!(
        fleet.redis.command(&["EXISTS", &format!("mcp:{{{sid}}}")]),
        Reply::Int(1),
        "the record is in Redis"
    );
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let (status, answer) = read_answer(post(&http, fleet.url(2), Some(&sid), &list).await).await;
    assert_eq!(status, 200);
    assert!(
        answer["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "echo")
    );
    for i in 0..6 {
        let r = post(
            &http,
            fleet.url(i),
            Some(&sid),
            &call(10 + i as i64, "echo", json!({"message": format!("hi {i}")})),
        )
        .await;
        assert_eq!(tool_text(r).await, format!("hi {i}"));
    }
    // An id no instance created is unknown everywhere.
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"});
    for i in 0..3 {
        let r = post(&http, fleet.url(i), Some("not-a-session"), &ping).await;
        assert_eq!(r.status(), 404);
    }
}

/// RB-7: a tool's progress and logs, its POST connection broken, resumed with `Last-Event-ID`
/// from the other instances until the result: everything arrives once, in order.
#[tokio::test]
async fn progress_and_logs_resume_on_another_instance_after_the_post_broke() {
    let fleet = Fleet::start(3).await;
    let http = client();
    let sid = session_across(&http, &fleet, 0).await;
    let long = call_with_progress(
        5,
        "long_running_operation",
        json!({"duration": 1.2, "steps": 4}),
    );
    let r = post(&http, fleet.url(0), Some(&sid), &long).await;
    let mut reader = SseReader::new(r);
    let mut messages = Vec::new();
    let mut last_id = None;
    // Up to the first progress notification, then the connection breaks.
    while let Some(event) = reader.next().await {
        last_id = event.id.clone().or(last_id);
        if let Some(message) = event.json() {
            let progress = message["method"] == "notifications/progress";
            messages.push(message);
            if progress {
                break;
            }
        }
    }
    drop(reader);
    let mut last_id = last_id.expect("events have ids");
    let mut done = false;
    for attempt in 0..60 {
        let on = 1 + attempt % 2;
        let r = get_stream(&http, fleet.url(on), &sid, Some(&last_id)).await;
        assert_eq!(r.status(), 200, "resume on instance {on}");
        let mut reader = SseReader::new(r);
        while let Some(event) = reader.next().await {
            last_id = event.id.clone().unwrap_or(last_id);
            if let Some(message) = event.json() {
                done |= message.get("result").is_some();
                messages.push(message);
            }
        }
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(done, "the result arrived: {messages:?}");
    let progress: Vec<f64> = messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .map(|m| m["params"]["progress"].as_f64().unwrap())
        .collect();
    assert_eq!(progress, [1.0, 2.0, 3.0, 4.0]);
    let logs: Vec<&str> = messages
        .iter()
        .filter(|m| m["method"] == "notifications/message")
        .map(|m| m["params"]["data"].as_str().unwrap())
        .collect();
    assert_eq!(
        logs,
        ["step 1 of 4", "step 2 of 4", "step 3 of 4", "step 4 of 4"]
    );
    let result = messages.last().unwrap();
    assert_eq!(result["id"], 5);
    assert_eq!(
        result["result"]["content"][0]["text"],
        "Long running operation completed: 4 steps in 1.2 s"
    );
    // Another session cannot read it (T-36): its own id, this session's event id.
    let other = session_across(&http, &fleet, 1).await;
    let r = get_stream(&http, fleet.url(2), &other, Some(&last_id)).await;
    assert_eq!(r.status(), 400);
}

/// RB-8: the client's answer to a sampling or elicitation request lands on another instance
/// than the handler that waits for it; an answer for an instance that is gone is refused.
#[tokio::test]
async fn answers_to_server_requests_reach_the_waiting_handler_on_another_instance() {
    let fleet = Fleet::start(3).await;
    let http = client();
    let sid = session_across(&http, &fleet, 0).await;

    let r = post(
        &http,
        fleet.url(0),
        Some(&sid),
        &call(1, "sample_llm", json!({"prompt": "hi"})),
    )
    .await;
    let mut stream = SseReader::new(r);
    let request = next_message(&mut stream).await.unwrap();
    assert_eq!(request["method"], "sampling/createMessage");
    assert!(
        request["id"].as_str().unwrap().starts_with("i0."),
        "the id names the waiting instance: {request}"
    );
    let reply = json!({"jsonrpc": "2.0", "id": request["id"], "result": {
        "role": "assistant", "model": "m", "content": {"type": "text", "text": "sampled!"}}});
    assert_eq!(
        post(&http, fleet.url(1), Some(&sid), &reply).await.status(),
        202
    );
    let result = next_message(&mut stream).await.unwrap();
    assert_eq!(
        result["result"]["content"][0]["text"],
        "LLM response: sampled!"
    );

    let r = post(
        &http,
        fleet.url(1),
        Some(&sid),
        &call(2, "ask_user", json!({"message": "Who are you?"})),
    )
    .await;
    let mut stream = SseReader::new(r);
    let request = next_message(&mut stream).await.unwrap();
    assert_eq!(request["method"], "elicitation/create");
    let reply = json!({"jsonrpc": "2.0", "id": request["id"], "result": {
        "action": "accept", "content": {"name": "Ann", "proceed": true}}});
    assert_eq!(
        post(&http, fleet.url(2), Some(&sid), &reply).await.status(),
        202
    );
    let result = next_message(&mut stream).await.unwrap();
    let text = result["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("Ann"), "{text}");

    // An answer whose instance is gone is reported to its poster, not silently lost.
    let orphan = json!({"jsonrpc": "2.0", "id": "gone.7", "result": {}});
    let r = post(&http, fleet.url(2), Some(&sid), &orphan).await;
    assert_eq!(r.status(), 410);
}

/// RB-9: a GET stream held on one instance receives `list_changed` and `resources/updated`
/// produced on another.
#[tokio::test]
async fn a_get_stream_receives_notifications_produced_on_another_instance() {
    let fleet = Fleet::start(3).await;
    let http = client();
    let sid = session_across(&http, &fleet, 0).await;
    let subscribe = json!({"jsonrpc": "2.0", "id": 1, "method": "resources/subscribe",
        "params": {"uri": "test://watched-resource"}});
    let r = post(&http, fleet.url(2), Some(&sid), &subscribe).await;
    assert_eq!(r.status(), 200);
    let _ = r.bytes().await.unwrap();
    let mut stream = SseReader::new(get_stream(&http, fleet.url(0), &sid, None).await);
    // The others learn that instance 0 holds it through the record and a broadcast.
    tokio::time::sleep(Duration::from_millis(200)).await;

    trigger_tool_change(&http, fleet.url(1), &sid, 2).await;
    let changed = next_message(&mut stream).await.expect("a notification");
    assert_eq!(changed["method"], "notifications/tools/list_changed");

    let update = call(
        3,
        "update_resource",
        json!({"uri": "test://watched-resource"}),
    );
    let r = post(&http, fleet.url(2), Some(&sid), &update).await;
    let _ = tool_text(r).await;
    let updated = match next_message(&mut stream).await {
        Some(message) => message,
        None => panic!(
            "no notification; the record: {:?}",
            fleet.redis.command(&["HGETALL", &format!("mcp:{{{sid}}}")])
        ),
    };
    assert_eq!(updated["method"], "notifications/resources/updated");
    assert_eq!(updated["params"]["uri"], "test://watched-resource");
}

/// The `test_cancellation_count` of instance `on`, as JSON.
async fn cancellation_count(http: &reqwest::Client, fleet: &Fleet, sid: &str, on: usize) -> Value {
    let r = post(
        http,
        fleet.url(on),
        Some(sid),
        &call(99, "test_cancellation_count", json!({})),
    )
    .await;
    serde_json::from_str(&tool_text(r).await).unwrap()
}

/// RB-10: `notifications/cancelled` posted to another instance stops the call where it runs.
#[tokio::test]
async fn a_cancellation_posted_to_another_instance_stops_the_call() {
    let fleet = Fleet::start(3).await;
    let http = client();
    let sid = session_across(&http, &fleet, 0).await;
    let long = call_with_progress(
        7,
        "long_running_operation",
        json!({"duration": 20, "steps": 40}),
    );
    let r = post(&http, fleet.url(0), Some(&sid), &long).await;
    let mut stream = SseReader::new(r);
    let first = next_message(&mut stream).await.unwrap();
    assert_eq!(first["method"], "notifications/progress", "running");
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 7, "reason": "changed my mind"}});
    let started = Instant::now();
    assert_eq!(
        post(&http, fleet.url(1), Some(&sid), &cancel)
            .await
            .status(),
        202
    );
    let mut cancelled = false;
    for _ in 0..50 {
        if cancellation_count(&http, &fleet, &sid, 0).await["cancelled"] == 1 {
            cancelled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(cancelled, "the run on instance 0 was cancelled");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// The JSON-RPC messages of a GET stream that arrive within `within`.
async fn messages_within(reader: &mut SseReader, within: Duration) -> Vec<Value> {
    let mut messages = Vec::new();
    let _ = tokio::time::timeout(within, async {
        while let Some(message) = next_message(reader).await {
            messages.push(message);
        }
    })
    .await;
    messages
}

/// The progress values among `messages`.
fn progress_of(messages: &[Value]) -> Vec<f64> {
    messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .map(|m| m["params"]["progress"].as_f64().unwrap())
        .collect()
}

/// RB-20: with `--response json` a call's progress travels on the session's GET stream, which
/// another instance may hold: every notification reaches it, whether the GET stream opened
/// before the call (the call's instance cached the session before, knowing no holder) or
/// only after it, on a third instance (they waited in the session's shared GET log); a quick
/// call still costs no Redis command.
#[tokio::test]
async fn json_mode_notifications_reach_the_get_stream_wherever_it_is_held() {
    let fleet = Fleet::start_with(3, &["--response", "json"]).await;
    let http = client();
    let sid = session_across(&http, &fleet, 0).await;
    // Instance 2 caches the session while no GET stream is open anywhere.
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    assert_eq!(
        post(&http, fleet.url(2), Some(&sid), &ping).await.status(),
        200
    );
    let mut get = SseReader::new(get_stream(&http, fleet.url(0), &sid, None).await);
    let long = call_with_progress(
        2,
        "long_running_operation",
        json!({"duration": 0.3, "steps": 3}),
    );
    let r = post(&http, fleet.url(2), Some(&sid), &long).await;
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    assert!(
        tool_text(r)
            .await
            .starts_with("Long running operation completed")
    );
    let messages = messages_within(&mut get, Duration::from_secs(2)).await;
    assert_eq!(progress_of(&messages), [1.0, 2.0, 3.0], "{messages:?}");
    // A quick call that sends nothing to the GET stream costs no Redis command in JSON mode
    // either: no flush when nothing went elsewhere (RB-12).
    for i in 1..3 {
        let r = post(
            &http,
            fleet.url(i),
            Some(&sid),
            &call(4, "echo", json!({"message": "w"})),
        )
        .await;
        assert_eq!(tool_text(r).await, "w");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    fleet.redis.command(&["CONFIG", "RESETSTAT"]);
    for i in 0..20 {
        let r = post(
            &http,
            fleet.url(1 + i % 2),
            Some(&sid),
            &call(5, "echo", json!({"message": "q"})),
        )
        .await;
        assert_eq!(tool_text(r).await, "q");
    }
    let quick = request_commands(&fleet.redis);
    assert_eq!(quick, 0, "{:?}", fleet.redis.command_counts());

    // A session with no GET stream yet: the call's notifications wait in the shared log for
    // the first one, opened on a third instance.
    let sid = session_across(&http, &fleet, 0).await;
    let long = call_with_progress(
        3,
        "long_running_operation",
        json!({"duration": 0.2, "steps": 2}),
    );
    let r = post(&http, fleet.url(1), Some(&sid), &long).await;
    assert!(
        tool_text(r)
            .await
            .starts_with("Long running operation completed")
    );
    let mut get = SseReader::new(get_stream(&http, fleet.url(2), &sid, None).await);
    let messages = messages_within(&mut get, Duration::from_secs(2)).await;
    assert_eq!(progress_of(&messages), [1.0, 2.0], "{messages:?}");
}

/// RB-48, RB-49: with `--response json`, a call whose notifications are all made before the
/// client's GET stream is claimed on another instance (the GET on its way while the call runs,
/// as clients send it right after `initialized`): the answer waits for the claim rather than
/// overtake them, and the GET stream gets them all, in order.
#[tokio::test]
async fn a_json_answer_waits_for_the_get_stream_its_notifications_wait_for() {
    let fleet = Fleet::start_with(3, &["--response", "json"]).await;
    let http = client();
    let sid = session_across(&http, &fleet, 0).await;
    let long = call_with_progress(
        2,
        "long_running_operation",
        json!({"duration": 0.1, "steps": 2}),
    );
    let posted = tokio::spawn({
        let (http, url, sid) = (http.clone(), fleet.url(1).to_owned(), sid.clone());
        async move { tool_text(post(&http, &url, Some(&sid), &long).await).await }
    });
    // Both notifications are made (at 50 and 100 ms) while no GET stream is held anywhere.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !posted.is_finished(),
        "the answer waits for a GET stream to take the notifications it would overtake"
    );
    let mut get = SseReader::new(get_stream(&http, fleet.url(2), &sid, None).await);
    let text = posted.await.unwrap();
    assert!(
        text.starts_with("Long running operation completed"),
        "{text}"
    );
    let messages = messages_within(&mut get, Duration::from_millis(500)).await;
    assert_eq!(progress_of(&messages), [1.0, 2.0], "{messages:?}");
}

/// RB-50: a GET request dropped while its claim waits on Redis (its client gone)
/// leaves no claim counted as running: a later change of the session's record is applied at
/// once there, and the bus's messages behind it (a JSON answer's notifications for the GET
/// stream held there, and its flush) are not held up behind it.
#[tokio::test]
async fn a_get_request_dropped_mid_claim_holds_nothing_up() {
    let fleet = Fleet::start_with(3, &["--response", "json"]).await;
    let http = client();
    let sid = session_across(&http, &fleet, 0).await;
    // Redis holds every write (the claim's script among them) for 600 ms; the GET on
    // instance 1 gives up after 200 ms, and the instance drops it mid-claim.
    fleet.redis.command(&["CLIENT", "PAUSE", "600", "WRITE"]);
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let gone = impatient
        .get(fleet.url(1))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .send()
        .await;
    assert!(gone.is_err(), "the GET timed out mid-claim");
    tokio::time::sleep(Duration::from_millis(600)).await;
    // A GET stream claimed on instance 1 for good, then a change of the record made on
    // instance 2, which instance 1 applies from its bus.
    let mut get = SseReader::new(get_stream(&http, fleet.url(1), &sid, None).await);
    let level = json!({"jsonrpc": "2.0", "id": 3, "method": "logging/setLevel",
                       "params": {"level": "info"}});
    assert_eq!(
        post(&http, fleet.url(2), Some(&sid), &level).await.status(),
        200
    );
    let long = call_with_progress(
        4,
        "long_running_operation",
        json!({"duration": 0.1, "steps": 2}),
    );
    let started = Instant::now();
    let text = tool_text(post(&http, fleet.url(0), Some(&sid), &long).await).await;
    assert!(
        text.starts_with("Long running operation completed"),
        "{text}"
    );
    // Written to the GET stream before the answer: already there, not seconds later.
    let messages = messages_within(&mut get, Duration::from_millis(200)).await;
    assert_eq!(
        progress_of(&messages),
        [1.0, 2.0],
        "after {:?}: {messages:?}",
        started.elapsed()
    );
}

/// RB-11: DELETE on one instance ends the session everywhere: its GET stream on another closes,
/// a call running on a third is cancelled, every instance answers 404, its keys are gone.
#[tokio::test]
async fn delete_on_one_instance_ends_the_session_everywhere() {
    let fleet = Fleet::start(3).await;
    let http = client();
    let sid = session_across(&http, &fleet, 0).await;
    let mut get = SseReader::new(get_stream(&http, fleet.url(0), &sid, None).await);
    let long = call_with_progress(
        3,
        "long_running_operation",
        json!({"duration": 20, "steps": 40}),
    );
    let mut call_stream = SseReader::new(post(&http, fleet.url(1), Some(&sid), &long).await);
    assert_eq!(
        next_message(&mut call_stream).await.unwrap()["method"],
        "notifications/progress"
    );

    let r = http
        .delete(fleet.url(2))
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while next_message(&mut get).await.is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the GET stream on instance 0 closed");
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(m) = next_message(&mut call_stream).await {
            assert!(m.get("result").is_none(), "no result after the end: {m}");
        }
    })
    .await;
    assert!(ended.is_ok(), "the call's stream on instance 1 closed");
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"});
    for i in 0..3 {
        assert_eq!(
            post(&http, fleet.url(i), Some(&sid), &ping).await.status(),
            404
        );
    }
    let other = session_across(&http, &fleet, 1).await;
    let counts = cancellation_count(&http, &fleet, &other, 1).await;
    assert_eq!(counts["cancelled"], 1, "{counts}");
    let keys = fleet.redis.command(&["KEYS", &format!("mcp:{{{sid}}}*")]);
    assert_eq!(keys, Reply::Array(vec![]), "nothing of the session is left");
}

/// Commands that ran in Redis since the last reset, but for the instances' background work
/// (heartbeats, the bus's blocking reads) and the test's own.
fn request_commands(redis: &RedisServer) -> u64 {
    redis
        .command_counts()
        .into_iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                // The heartbeat's (with its read of the fleet's marker, RB-32) and the
                // reader's: background work, not the calls'.
                "set" | "get" | "pexpire" | "xread" | "info" | "zadd" | "zremrangebyscore"
            ) && !name.starts_with("config")
        })
        .map(|(_, n)| n)
        .sum()
}

/// RB-12: a quick call of a session cached on its instance costs no Redis command; the first
/// request of a session on an instance costs one round trip.
#[tokio::test]
async fn quick_calls_on_a_cached_session_cost_no_redis_round_trip() {
    let fleet = Fleet::start(3).await;
    let http = client();
    let sid = session_across(&http, &fleet, 0).await;
    // Each instance has served the session once: cached everywhere.
    for i in 0..3 {
        let body = call(1, "echo", json!({"message": "x"}));
        let r = post(&http, fleet.url(i), Some(&sid), &body).await;
        assert_eq!(tool_text(r).await, "x");
    }
    // What the instances do in the background after a change (a reload on `SessionChanged`)
    // settles first.
    tokio::time::sleep(Duration::from_millis(300)).await;
    fleet.redis.command(&["CONFIG", "RESETSTAT"]);
    const N: usize = 60;
    for i in 0..N {
        let body = call(2, "echo", json!({"message": "y"}));
        let r = post(&http, fleet.url(i), Some(&sid), &body).await;
        assert_eq!(tool_text(r).await, "y");
    }
    let quick = request_commands(&fleet.redis);
    eprintln!(
        "redis commands for {N} quick calls on a cached session: {quick} ({:?})",
        fleet.redis.command_counts()
    );
    assert_eq!(quick, 0);

    // A new instance's first request of the session: one HGETALL (and PTTL) pipeline.
    fleet.redis.command(&["CONFIG", "RESETSTAT"]);
    let fresh = start_instance(&fleet.redis, "i9").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    fleet.redis.command(&["CONFIG", "RESETSTAT"]);
    let body = call(3, "echo", json!({"message": "z"}));
    let r = post(&http, &fresh.url, Some(&sid), &body).await;
    assert_eq!(tool_text(r).await, "z");
    let counts = fleet.redis.command_counts();
    eprintln!("redis commands for a cache miss: {counts:?}");
    assert_eq!(counts.get("hgetall"), Some(&1));
    let mut fresh = fresh;
    let _ = fresh.child.kill();
    let _ = fresh.child.wait();
}

/// RB-13: with Redis stopped, a new session gets 503 with `Retry-After` quickly (never a hang,
/// never a false 404) while a session cached on its instance keeps answering quick calls;
/// once Redis is back (empty), new sessions work again.
#[tokio::test]
async fn redis_down_means_503_for_what_needs_it_and_recovery_when_it_returns() {
    let mut fleet = Fleet::start(2).await;
    let http = client();
    let sid = session_across(&http, &fleet, 0).await;
    let echo = call(1, "echo", json!({"message": "still here"}));
    let r = post(&http, fleet.url(0), Some(&sid), &echo).await;
    assert_eq!(tool_text(r).await, "still here");

    fleet.redis.kill();
    let started = Instant::now();
    let r = post(&http, fleet.url(1), None, &init_body("2025-11-25")).await;
    let waited = started.elapsed();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"), "{:?}", r.headers());
    assert!(waited < Duration::from_secs(8), "answered in {waited:?}");
    let r = post(&http, fleet.url(0), Some(&sid), &echo).await;
    assert_eq!(tool_text(r).await, "still here", "cached: no Redis needed");

    fleet.redis.restart();
    let mut recovered = false;
    for _ in 0..50 {
        let r = post(&http, fleet.url(1), None, &init_body("2025-11-25")).await;
        if r.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "initialize works again once Redis is back");
}

/// RB-4: settings `serve` cannot use stop it with one clear line, quickly.
#[tokio::test]
async fn serve_refuses_bad_redis_settings() {
    let run = run_cli(&["serve", "--port", "0", "--redis", "not a url"], &[]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("--redis: invalid Redis URL"), "{run:?}");

    let redis = RedisServer::start();
    let url = redis.url();
    let run = run_cli(
        &[
            "serve",
            "--port",
            "0",
            "--redis",
            &url,
            "--instance-id",
            "a.b",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("invalid instance id"), "{run:?}");

    // Nothing listens there any more.
    drop(redis);
    let started = Instant::now();
    let run = run_cli(
        &[
            "serve",
            "--port",
            "0",
            "--redis",
            &url,
            "--redis-connect-timeout-ms",
            "500",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("cannot connect to Redis"), "{run:?}");
    assert!(started.elapsed() < Duration::from_secs(10));

    let run = run_cli(&["serve", "--instance-id", "a"], &[]).await;
    assert_eq!(run.code, 2, "--instance-id needs --redis: {run:?}");
}

/// RB-5: a record that does not parse is a logged error and a 500 for the request that needs
/// it, never a panic; the instance that has the session cached goes on serving it.
#[tokio::test]
async fn a_stored_record_that_does_not_parse_is_a_500_not_a_panic() {
    let fleet = Fleet::start(2).await;
    let http = client();
    let r = post(&http, fleet.url(0), None, &init_body("2025-11-25")).await;
    assert_eq!(r.status(), 200);
    let sid = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let _ = r.bytes().await.unwrap();
    fleet
        .redis
        .command(&["HSET", &format!("mcp:{{{sid}}}"), "ci", "{not json"]);
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let r = post(&http, fleet.url(1), Some(&sid), &ping).await;
    assert_eq!(r.status(), 500);
    let r = post(&http, fleet.url(0), Some(&sid), &ping).await;
    assert_eq!(r.status(), 200, "cached where it was created");
    // Both instances are alive and well.
    for i in 0..2 {
        let r = post(&http, fleet.url(i), None, &init_body("2025-11-25")).await;
        assert_eq!(r.status(), 200);
    }
}

/// The Redis commands one operation ran (all of them: background work is quiet in the short
/// window, and the test's own `CONFIG`/`INFO` are left out), by name.
fn commands_of(redis: &RedisServer) -> std::collections::BTreeMap<String, u64> {
    let mut counts = redis.command_counts();
    counts.retain(|name, _| !name.starts_with("config") && name != "info");
    redis.command(&["CONFIG", "RESETSTAT"]);
    counts
}

/// RB-12: what each operation costs in Redis, printed (`--nocapture`) for BENCHMARKS-style
/// figures, and bounded by the design's table.
#[tokio::test]
async fn redis_commands_per_operation() {
    let fleet = Fleet::start(3).await;
    let http = client();
    let total = |c: &std::collections::BTreeMap<String, u64>| -> u64 {
        c.iter()
            .filter(|(n, _)| {
                // The heartbeat's (with its read of the fleet's marker, RB-32) and the reader's.
                !matches!(
                    n.as_str(),
                    "set" | "get" | "xread" | "zadd" | "zremrangebyscore"
                )
            })
            .map(|(_, n)| n)
            .sum()
    };
    let mut table = Vec::new();
    fleet.redis.command(&["CONFIG", "RESETSTAT"]);

    let r = post(&http, fleet.url(0), None, &init_body("2025-11-25")).await;
    let sid = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let _ = r.bytes().await.unwrap();
    let init = commands_of(&fleet.redis);
    assert_eq!(init.get("hset"), Some(&1), "{init:?}");
    table.push(("initialize", init));

    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(
        post(&http, fleet.url(0), Some(&sid), &note).await.status(),
        202
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    table.push(("notifications/initialized", commands_of(&fleet.redis)));

    let echo = call(1, "echo", json!({"message": "x"}));
    let _ = tool_text(post(&http, fleet.url(1), Some(&sid), &echo).await).await;
    let miss = commands_of(&fleet.redis);
    assert_eq!(total(&miss), 2, "HGETALL + PTTL: {miss:?}");
    table.push(("first request on another instance (cache miss)", miss));

    let _ = tool_text(post(&http, fleet.url(1), Some(&sid), &echo).await).await;
    let quick = commands_of(&fleet.redis);
    assert_eq!(total(&quick), 0, "{quick:?}");
    table.push(("quick call, session cached", quick));

    let long = call_with_progress(
        2,
        "long_running_operation",
        json!({"duration": 0.3, "steps": 3}),
    );
    let r = post(&http, fleet.url(0), Some(&sid), &long).await;
    let _ = SseReader::new(r).rest().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    table.push((
        "streamed call, 3 progress + 3 logs",
        commands_of(&fleet.redis),
    ));

    let r = post(
        &http,
        fleet.url(0),
        Some(&sid),
        &call(3, "sample_llm", json!({"prompt": "hi"})),
    )
    .await;
    let mut stream = SseReader::new(r);
    let request = next_message(&mut stream).await.unwrap();
    fleet.redis.command(&["CONFIG", "RESETSTAT"]);
    let reply = json!({"jsonrpc": "2.0", "id": request["id"], "result": {
        "role": "assistant", "model": "m", "content": {"type": "text", "text": "ok"}}});
    assert_eq!(
        post(&http, fleet.url(2), Some(&sid), &reply).await.status(),
        202
    );
    let answer = commands_of(&fleet.redis);
    assert_eq!(answer.get("evalsha"), Some(&1), "one script: {answer:?}");
    table.push(("sampling answer posted to another instance", answer));
    let _ = next_message(&mut stream).await;
    drop(stream);
    tokio::time::sleep(Duration::from_millis(50)).await;
    fleet.redis.command(&["CONFIG", "RESETSTAT"]);

    // A stream whose connection broke, resumed elsewhere.
    let long = call_with_progress(
        4,
        "long_running_operation",
        json!({"duration": 0.2, "steps": 2}),
    );
    let mut reader = SseReader::new(post(&http, fleet.url(0), Some(&sid), &long).await);
    let first = reader.next().await.unwrap().id.unwrap();
    drop(reader);
    tokio::time::sleep(Duration::from_millis(400)).await;
    fleet.redis.command(&["CONFIG", "RESETSTAT"]);
    let r = get_stream(&http, fleet.url(1), &sid, Some(&first)).await;
    let _ = SseReader::new(r).rest().await;
    let resume = commands_of(&fleet.redis);
    assert_eq!(resume.get("evalsha"), Some(&1), "one script: {resume:?}");
    table.push(("resume on another instance", resume));

    let memory = fleet
        .redis
        .command(&["MEMORY", "USAGE", &format!("mcp:{{{sid}}}")])
        .int();
    fleet.redis.command(&["CONFIG", "RESETSTAT"]);
    let r = http
        .delete(fleet.url(2))
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(50)).await;
    table.push(("DELETE", commands_of(&fleet.redis)));

    eprintln!(
        "Redis commands per operation (3 instances; heartbeats `set`, `zadd`, \
         `zremrangebyscore`, blocking `xread`):"
    );
    for (operation, counts) in &table {
        eprintln!("  {operation}: {} {counts:?}", total(counts));
    }
    eprintln!("  memory of one session record: {memory} bytes");
    assert!(memory <= 1024, "{memory}");
}
