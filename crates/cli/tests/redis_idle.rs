//! The idle reaper of a fleet of real `mcp-http serve --redis` processes over a real
//! `redis-server` (RB-25): a session busy on some instances is kept alive on all of them, an
//! idle one ends everywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod redis_fleet;
mod support;

use std::time::{Duration, Instant};

use mcp_http_test_support::redis::Reply;
use redis_fleet::*;
use serde_json::json;
use support::*;

#[tokio::test]
async fn the_idle_reaper_keeps_busy_sessions_alive_across_instances() {
    let fleet = Fleet::start_with(3, &["--idle-timeout", "1"]).await;
    let http = client();
    // All three made on instance 0 (initialized on 1); then:
    let idle = session_across(&http, &fleet, 0).await;
    // a GET stream held on instance 2, and nothing else;
    let watched = session_across(&http, &fleet, 0).await;
    let _get = SseReader::new(get_stream(&http, fleet.url(2), &watched, None).await);
    // requests every 300 ms, on instances 1 and 2 only.
    let called = session_across(&http, &fleet, 0).await;
    let ping = |id: i64| json!({"jsonrpc": "2.0", "id": id, "method": "ping"});
    let started = Instant::now();
    let mut id = 10;
    while started.elapsed() < Duration::from_secs(3) {
        let on = 1 + (id % 2) as usize;
        let r = post(&http, fleet.url(on), Some(&called), &ping(id)).await;
        assert_eq!(
            r.status(),
            200,
            "a busy session was ended ({:?} in)",
            started.elapsed()
        );
        id += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Three idle timeouts later: the busy ones answer on every instance, the creator included;
    // the idle one is gone everywhere, its record too.
    for i in 0..3 {
        for sid in [&watched, &called] {
            let r = post(&http, fleet.url(i), Some(sid), &ping(100 + i as i64)).await;
            assert_eq!(r.status(), 200, "instance {i}");
        }
        let r = post(&http, fleet.url(i), Some(&idle), &ping(200 + i as i64)).await;
        assert_eq!(r.status(), 404, "instance {i}");
    }
    assert_eq!(
        fleet.redis.command(&["EXISTS", &format!("mcp:{{{idle}}}")]),
        Reply::Int(0)
    );
    assert_eq!(
        fleet
            .redis
            .command(&["EXISTS", &format!("mcp:{{{called}}}")]),
        Reply::Int(1)
    );
}
