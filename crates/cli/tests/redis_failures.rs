//! Failures of a fleet of real `mcp-http serve --redis` processes over a real `redis-server`
//! (RB-15..RB-19): an instance killed with SIGKILL mid-call, Redis stopped and restarted empty,
//! an instance stopped gracefully, and a DELETE that every instance acknowledges.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod redis_fleet;
mod support;

use std::time::{Duration, Instant};

use redis_fleet::*;
use serde_json::json;
use support::*;

/// RB-15, RB-16: an instance killed (SIGKILL) in the middle of a call. The client resumes the
/// call's stream on another instance: it gets what the dead instance stored, then a JSON-RPC
/// error response for the call once the dead instance's heartbeat is gone (no wait for an
/// answer that cannot come), and the session goes on serving requests on the others.
#[tokio::test]
async fn a_call_of_a_killed_instance_resumed_elsewhere_ends_with_an_error_and_the_session_lives_on()
{
    let mut fleet = Fleet::start(3).await;
    let http = client();
    let sid = session_across(&http, &fleet, 0).await;
    let long = call_with_progress(
        7,
        "long_running_operation",
        json!({"duration": 60, "steps": 120}),
    );
    let r = post(&http, fleet.url(1), Some(&sid), &long).await;
    assert_eq!(r.status(), 200);
    let mut reader = SseReader::new(r);
    let last_id = read_progress(&mut reader, 2).await;
    assert!(
        last_id.starts_with("i1~"),
        "the event id names the instance running the call: {last_id}"
    );
    // Let the progress sent meanwhile be written behind, then kill.
    tokio::time::sleep(Duration::from_millis(300)).await;
    fleet.instances[1].child.kill().unwrap();
    let _ = fleet.instances[1].child.wait();
    drop(reader);

    let killed = Instant::now();
    let r = get_stream(&http, fleet.url(0), &sid, Some(&last_id)).await;
    assert_eq!(r.status(), 200);
    let (messages, _) = read_to_end(&mut SseReader::new(r), Duration::from_secs(20)).await;
    let waited = killed.elapsed();
    let last = messages.last().expect("the resume carries messages");
    assert_eq!(last["id"], 7, "{messages:?}");
    assert_eq!(last["error"]["code"], -32603, "{last}");
    assert!(
        messages[..messages.len() - 1]
            .iter()
            .all(|m| m["method"] == "notifications/progress"
                || m["method"] == "notifications/message"),
        "what was stored, then the error: {messages:?}"
    );
    eprintln!(
        "resumed stream of the killed instance: {} stored messages, error after {waited:?}",
        messages.len() - 1
    );
    // The heartbeat lives 6 s; the follower checks every second.
    assert!(waited < Duration::from_secs(12), "ended in {waited:?}");

    // The session survives: the next requests work on the other instances.
    let r = post(&http, fleet.url(2), Some(&sid), &ping(8)).await;
    assert_eq!(r.status(), 200);
    let r = post(
        &http,
        fleet.url(0),
        Some(&sid),
        &call(9, "echo", json!({"message": "after"})),
    )
    .await;
    assert_eq!(tool_text(r).await, "after");
}

/// RB-17, RB-32: with Redis stopped, a request of a session an instance has not cached gets 503
/// with `Retry-After` (never a false 404, never a hang) while the instance that cached it keeps
/// answering quick calls; after Redis comes back without its data, the old session is 404 on
/// every instance, those that had it cached included (the client re-initializes), and a new
/// session works on every instance.
#[tokio::test]
async fn redis_down_a_cache_miss_is_503_and_after_a_restart_that_lost_data_clients_start_again() {
    let mut fleet = Fleet::start(3).await;
    let http = client();
    // Cached on instances 0 and 1 (initialize, initialized), never seen by 2.
    let sid = session_across(&http, &fleet, 0).await;
    fleet.redis.kill();

    let started = Instant::now();
    let r = post(&http, fleet.url(2), Some(&sid), &ping(1)).await;
    let waited = started.elapsed();
    assert_eq!(r.status(), 503, "a cache miss with Redis down");
    assert!(r.headers().contains_key("retry-after"), "{:?}", r.headers());
    assert!(waited < Duration::from_secs(8), "answered in {waited:?}");
    let echo = call(2, "echo", json!({"message": "cached"}));
    let r = post(&http, fleet.url(0), Some(&sid), &echo).await;
    assert_eq!(tool_text(r).await, "cached", "no Redis needed");

    fleet.redis.restart();
    // Redis is back, empty: what needs it works again, and the lost session is unknown.
    let mut status = 0;
    for _ in 0..50 {
        status = post(&http, fleet.url(2), Some(&sid), &ping(3))
            .await
            .status()
            .as_u16();
        if status != 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status, 404,
        "the lost session is unknown: the client re-initializes"
    );
    // The instances that had it cached let it go too, once a heartbeat has found the fleet's
    // marker gone (RB-32): no stale session anywhere.
    for i in 0..2 {
        let deadline = Instant::now() + Duration::from_secs(8);
        loop {
            let status = post(&http, fleet.url(i), Some(&sid), &ping(3))
                .await
                .status();
            if status == 404 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "instance {i} still serves the lost session: {status}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let fresh = session_across(&http, &fleet, 2).await;
    for i in 0..3 {
        let echo = call(4, "echo", json!({"message": "again"}));
        let r = post(&http, fleet.url(i), Some(&fresh), &echo).await;
        assert_eq!(tool_text(r).await, "again", "instance {i}");
    }
}

/// RB-18: an instance stopped with SIGTERM lets the call it runs finish and answer, ends the GET
/// stream it holds with `retry`; the client's GET reconnects to another instance and receives
/// what the others produce, the session's requests go on elsewhere, and the process exits.
#[tokio::test]
async fn a_stopping_instance_drains_its_calls_and_its_get_holders_reconnect_elsewhere() {
    let mut fleet = Fleet::start(3).await;
    let http = client();
    let sid = session_across(&http, &fleet, 0).await;
    let mut get = SseReader::new(get_stream(&http, fleet.url(0), &sid, None).await);
    let long = call_with_progress(
        5,
        "long_running_operation",
        json!({"duration": 2, "steps": 4}),
    );
    let r = post(&http, fleet.url(0), Some(&sid), &long).await;
    let mut call_stream = SseReader::new(r);
    assert_eq!(
        next_message(&mut call_stream).await.unwrap()["method"],
        "notifications/progress"
    );

    fleet.instances[0].signal("-TERM");
    let (_, _) = read_to_end(&mut get, Duration::from_secs(5)).await;
    let (messages, _) = read_to_end(&mut call_stream, Duration::from_secs(10)).await;
    let result = messages.last().expect("the call answered");
    assert_eq!(
        result["result"]["content"][0]["text"], "Long running operation completed: 4 steps in 2 s",
        "{messages:?}"
    );

    // The GET reconnects elsewhere and gets a change made on the third instance.
    let mut get = SseReader::new(get_stream(&http, fleet.url(1), &sid, None).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    trigger_tool_change(&http, fleet.url(2), &sid, 6).await;
    expect_list_changed(&mut get).await;

    exits_cleanly(&mut fleet.instances[0].child).await;
    let r = post(&http, fleet.url(1), Some(&sid), &ping(7)).await;
    assert_eq!(r.status(), 200);
}

/// RB-19: a request sent as soon as a DELETE is answered finds the session gone on every
/// instance, however it was cached: the DELETE is answered once every other instance alive has
/// acknowledged the end. A stalled instance delays the DELETE by the bound (1 s) at most.
#[tokio::test]
async fn a_request_right_after_a_delete_finds_the_session_gone_on_every_instance() {
    let fleet = Fleet::start(3).await;
    let http = client();
    let mut acknowledged = Vec::new();
    for round in 0..12 {
        let sid = session_across(&http, &fleet, round).await;
        for i in 0..3 {
            let r = post(&http, fleet.url(i), Some(&sid), &ping(1)).await;
            assert_eq!(r.status(), 200, "cached on instance {i}");
        }
        let started = Instant::now();
        let r = delete_session(&http, fleet.url(round), &sid).await;
        assert_eq!(r.status(), 200);
        acknowledged.push(started.elapsed());
        let (ping_a, ping_b) = (ping(2), ping(3));
        let (a, b) = tokio::join!(
            post(&http, fleet.url(round + 1), Some(&sid), &ping_a),
            post(&http, fleet.url(round + 2), Some(&sid), &ping_b),
        );
        assert_eq!(a.status(), 404, "round {round}");
        assert_eq!(b.status(), 404, "round {round}");
    }
    // Acknowledged, not timed out: a DELETE that waited for the bound takes 1 s or more, every
    // time; the median leaves room for a loaded machine's odd slow round.
    acknowledged.sort();
    eprintln!("acknowledged DELETEs took {acknowledged:?}");
    assert!(
        acknowledged[acknowledged.len() / 2] < Duration::from_millis(800),
        "acknowledged, not timed out: {acknowledged:?}"
    );

    // An instance that cannot answer (stopped) holds the DELETE up to the bound, no longer.
    let sid = session_across(&http, &fleet, 0).await;
    fleet.instances[2].signal("-STOP");
    // What the DELETE will wait for: the instances listed alive, with their last beat (ms).
    let listed = fleet
        .redis
        .command(&["ZRANGE", "mcp:instances", "0", "-1", "WITHSCORES"]);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let started = Instant::now();
    let r = delete_session(&http, fleet.url(0), &sid).await;
    let took = started.elapsed();
    fleet.instances[2].signal("-CONT");
    assert_eq!(r.status(), 200);
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "waited for the stalled instance's acknowledgement, bounded: {took:?} \
         (instances listed {listed:?} at {now_ms} ms)"
    );
    let r = post(&http, fleet.url(1), Some(&sid), &ping(4)).await;
    assert_eq!(r.status(), 404);
}

/// The `list_changed` of a GET stream until none came for `quiet` (bounded by 10 s).
async fn list_changes_until_quiet(get: &mut SseReader, quiet: Duration) -> usize {
    let mut changed = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match tokio::time::timeout(quiet, next_message(get)).await {
            Ok(Some(m)) if m["method"] == "notifications/tools/list_changed" => changed += 1,
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    changed
}

/// RB-47: with Redis stopped, a change made on the instance that holds a GET stream still
/// reaches that stream, once each, at once; when Redis is back (restarted with its data) none
/// of them comes a second time, and the next change made on another instance comes once.
#[tokio::test]
async fn redis_down_an_instance_still_delivers_its_own_broadcasts_to_its_get_streams_once() {
    let mut fleet = Fleet::start(3).await;
    let http = client();
    // Initialized on 0 and 1: cached on instance 1, which holds the GET stream.
    let sid = session_across(&http, &fleet, 0).await;
    let mut get = SseReader::new(get_stream(&http, fleet.url(1), &sid, None).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    trigger_tool_change(&http, fleet.url(1), &sid, 2).await;
    expect_list_changed(&mut get).await;

    fleet.redis.command(&["SAVE"]);
    fleet.redis.kill();
    for id in 3..5 {
        trigger_tool_change(&http, fleet.url(1), &sid, id).await;
        expect_list_changed(&mut get).await;
    }

    fleet.redis.restart();
    let back = Instant::now();
    while post(&http, fleet.url(0), Some(&sid), &ping(9))
        .await
        .status()
        != 200
    {
        assert!(back.elapsed() < Duration::from_secs(10), "Redis is back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Past the bus readers' reconnection: anything delivered twice would have come by now.
    assert_eq!(
        list_changes_until_quiet(&mut get, Duration::from_secs(3)).await,
        0,
        "none of those made while Redis was down came again"
    );
    trigger_tool_change(&http, fleet.url(0), &sid, 10).await;
    assert_eq!(
        list_changes_until_quiet(&mut get, Duration::from_secs(1)).await,
        1,
        "the next change, made elsewhere, once"
    );
}

/// RB-51: `serve --redis` listens only once its Redis backend is connected. While the
/// connection cannot be made (a "Redis" that accepts and never answers), the port refuses
/// connections, so nothing (a load balancer's check, a test's readiness probe) is accepted and
/// then reset; the instance exits with the reason. A port already taken is found first, before
/// any wait for Redis. Once Redis is there, the instance listens and its health path names it.
#[tokio::test]
async fn an_instance_listens_only_once_its_redis_backend_is_connected() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("redis://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    // Short bounds, so that the connect gives up in about a second.
    let timeouts = [
        "--redis-timeout-ms",
        "300",
        "--redis-connect-timeout-ms",
        "300",
    ];

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port().to_string();
    let serve = ["serve", "--port", &taken_port, "--redis", &silent_url];
    let run = run_cli(&[&serve[..], &timeouts].concat(), &[]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("cannot listen on"), "{run:?}");
    assert!(
        !run.stderr.contains("Redis"),
        "the port is checked first: {run:?}"
    );
    drop(taken);

    let port = mcp_http_test_support::redis::free_port();
    let port_text = port.to_string();
    let serve = ["serve", "--port", &port_text, "--redis", &silent_url];
    let mut child = cli_command(&[&serve[..], &timeouts].concat())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut probes = 0;
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still connecting after 30 s"
        );
        let probe = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
        assert!(probe.is_err(), "accepted while Redis was not connected");
        probes += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    held.abort();
    let run = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot connect to Redis"), "{stderr}");
    assert!(!stderr.contains("serving MCP"), "{stderr}");
    assert!(probes >= 5, "probed {probes} times while it connected");

    // With Redis there, each instance listens, and its health path (RL-54) says which it is.
    let fleet = Fleet::start(2).await;
    for i in 0..2 {
        let (_, body) = get_text(&fleet.url(i).replace("/mcp", "/health")).await;
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body, json!({"status": "ok", "instance": format!("i{i}")}));
    }
}
