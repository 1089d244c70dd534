//! Three instances of the endpoint sharing one memory session store, event log and message bus,
//! as instances behind a round-robin balancer share Redis: any request of a session may go to
//! any of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::StatusCode;
use http_body_util::BodyExt;
use mcp_http_core::Handler;
use mcp_http_server_http::{
    EventLog, HttpConfig, MemoryBus, MemoryEventLog, MemorySessionStore, MessageBus, SessionStore,
    StreamableHttpService,
};
use serde_json::{Value, json};
use support::{Custom, call, delete, get, messages, next_frame, open_session_on, parse, post};

struct Cluster {
    instances: Vec<StreamableHttpService>,
    cancelled: Arc<AtomicUsize>,
}

impl Cluster {
    fn new(config: HttpConfig) -> Self {
        let store: Arc<dyn SessionStore> = Arc::new(MemorySessionStore::default());
        let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::default());
        let bus: Arc<dyn MessageBus> = Arc::new(MemoryBus::new());
        let handler = Custom::default();
        let cancelled = handler.cancelled.clone();
        let handler: Arc<dyn Handler> = Arc::new(handler);
        let instances = ["a", "b", "c"]
            .into_iter()
            .map(|name| {
                StreamableHttpService::builder(handler.clone())
                    .config(config.clone())
                    .session_store(store.clone())
                    .event_log(log.clone())
                    .message_bus(bus.clone())
                    .instance_id(name)
                    .build()
            })
            .collect();
        Cluster {
            instances,
            cancelled,
        }
    }

    fn a(&self) -> &StreamableHttpService {
        &self.instances[0]
    }

    fn b(&self) -> &StreamableHttpService {
        &self.instances[1]
    }

    fn c(&self) -> &StreamableHttpService {
        &self.instances[2]
    }
}

async fn result(service: &StreamableHttpService, session: &str, body: Value) -> Value {
    let response = service.handle(post(body, Some(session))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer = messages(response.into_body()).await;
    answer.last().cloned().unwrap()
}

#[tokio::test]
async fn a_session_initialized_on_one_instance_is_served_and_ended_by_the_others() {
    let cluster = Cluster::new(HttpConfig::default());
    let session = open_session_on(cluster.a(), cluster.b(), "2025-11-25").await;
    for (n, instance) in cluster.instances.iter().enumerate() {
        let answer = result(instance, &session, call(n as i64 + 1, "whoami")).await;
        assert!(answer["result"].is_object(), "instance {n}: {answer}");
    }
    // Every instance has rebuilt the session from its record.
    assert!(cluster.instances.iter().all(|i| i.session_count() == 1));

    // DELETE on one ends it on all (T-40).
    let ended = cluster.b().handle(delete(&session)).await;
    assert_eq!(ended.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(50)).await;
    for instance in &cluster.instances {
        let response = instance
            .handle(post(call(9, "whoami"), Some(&session)))
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(instance.session_count(), 0);
    }
}

#[tokio::test]
async fn a_sampling_answer_posted_to_another_instance_reaches_the_waiting_handler() {
    let cluster = Cluster::new(HttpConfig::default());
    let session = open_session_on(cluster.a(), cluster.c(), "2025-11-25").await;
    let response = cluster
        .a()
        .handle(post(call(1, "ask"), Some(&session)))
        .await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    let mut seen = Vec::new();
    let request = loop {
        seen.extend(parse(&next_frame(&mut body).await));
        if let Some(request) = seen
            .iter()
            .find(|m| m["method"] == "sampling/createMessage")
        {
            break request.clone();
        }
    };
    // The id names the instance that waits.
    assert!(
        request["id"].as_str().unwrap().starts_with("a."),
        "{request}"
    );
    let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": {
        "role": "assistant", "content": {"type": "text", "text": "from b"}, "model": "m"}});
    let accepted = cluster.b().handle(post(answer, Some(&session))).await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    let rest = loop {
        seen.extend(parse(&next_frame(&mut body).await));
        if let Some(done) = seen.iter().find(|m| m["id"] == 1) {
            break done.clone();
        }
    };
    assert_eq!(rest["result"], json!({"sampled": "from b"}));
}

// Paused clock: everything here is in memory and only timers are waited for.
#[tokio::test(start_paused = true)]
async fn a_cancellation_posted_to_another_instance_stops_the_handler() {
    let cluster = Cluster::new(HttpConfig::default());
    let session = open_session_on(cluster.a(), cluster.b(), "2025-11-25").await;
    let service = cluster.a().clone();
    let waiting = session.clone();
    let call = tokio::spawn(async move {
        let response = service.handle(post(call(7, "wait"), Some(&waiting))).await;
        messages(response.into_body()).await
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 7, "reason": "changed my mind"}});
    let accepted = cluster.c().handle(post(cancel, Some(&session))).await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    // The handler on A sees the cancellation; no response follows, and the client,
    // which cancelled, stops reading.
    mcp_http_test_support::eventually(|| cluster.cancelled.load(Ordering::SeqCst) > 0).await;
    call.abort();
    assert_eq!(cluster.cancelled.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_log_level_set_on_one_instance_applies_on_the_others() {
    let cluster = Cluster::new(HttpConfig::default());
    let session = open_session_on(cluster.a(), cluster.a(), "2025-11-25").await;
    let logs = |answer: &[Value]| {
        answer
            .iter()
            .filter(|m| m["method"] == "notifications/message")
            .count()
    };
    let response = cluster
        .c()
        .handle(post(call(1, "chatty"), Some(&session)))
        .await;
    assert_eq!(logs(&messages(response.into_body()).await), 1);
    let set = json!({"jsonrpc": "2.0", "id": 2, "method": "logging/setLevel",
        "params": {"level": "error"}});
    let answer = result(cluster.b(), &session, set).await;
    assert_eq!(answer["result"], json!({}));
    tokio::time::sleep(Duration::from_millis(50)).await;
    for (n, instance) in cluster.instances.iter().enumerate() {
        let response = instance
            .handle(post(call(10 + n as i64, "chatty"), Some(&session)))
            .await;
        let answer = messages(response.into_body()).await;
        assert_eq!(logs(&answer), 0, "instance {n}: {answer:?}");
    }
}

/// A `slow` call on A whose connection breaks after its first message; the last event id seen.
async fn cut_on_a(cluster: &Cluster, session: &str) -> String {
    let response = cluster
        .a()
        .handle(post(call(3, "slow"), Some(session)))
        .await;
    let mut body = response.into_body();
    let first = next_frame(&mut body).await;
    // The priming event and the log message, each with an id; then the connection breaks.
    assert!(first.contains("notifications/message"), "{first}");
    first
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .next_back()
        .unwrap()
        .to_owned()
}

// Paused clock: everything here is in memory and only timers are waited for.
#[tokio::test(start_paused = true)]
async fn a_stream_cut_on_one_instance_is_resumed_on_another_from_the_log() {
    let cluster =
        Cluster::new(HttpConfig::default().response_mode(mcp_http_server_http::ResponseMode::Sse));
    let session = open_session_on(cluster.a(), cluster.b(), "2025-11-25").await;
    let last_id = cut_on_a(&cluster, &session).await;

    // Resumed on B before the handler finished: what is stored, then what A goes on writing,
    // followed from the log until the response (RB-7).
    let resumed = cluster.b().handle(get(&session, Some(&last_id))).await;
    assert_eq!(resumed.status(), StatusCode::OK);
    let followed = messages(resumed.into_body()).await;
    assert_eq!(
        followed.len(),
        1,
        "only what came after {last_id}: {followed:?}"
    );
    assert_eq!(followed[0]["result"], json!({"slow": true}));

    // T-36: another session's event id finds nothing in this one.
    let other = open_session_on(cluster.c(), cluster.a(), "2025-11-25").await;
    let foreign = cluster.b().handle(get(&other, Some(&last_id))).await;
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
}

/// With `follow_elsewhere` zero, a resume elsewhere replays what is stored and ends with
/// `retry`; the client polls until the response is there (T-12).
#[tokio::test(start_paused = true)]
async fn without_following_a_resume_elsewhere_replays_and_the_client_polls() {
    let cluster = Cluster::new(
        HttpConfig::default()
            .response_mode(mcp_http_server_http::ResponseMode::Sse)
            .follow_elsewhere(Duration::ZERO),
    );
    let session = open_session_on(cluster.a(), cluster.b(), "2025-11-25").await;
    let last_id = cut_on_a(&cluster, &session).await;
    let resumed = cluster.b().handle(get(&session, Some(&last_id))).await;
    assert_eq!(resumed.status(), StatusCode::OK);
    let early = messages(resumed.into_body()).await;
    assert!(early.iter().all(|m| m["id"] != 3), "{early:?}");

    tokio::time::sleep(Duration::from_millis(400)).await;
    let resumed = cluster.c().handle(get(&session, Some(&last_id))).await;
    assert_eq!(resumed.status(), StatusCode::OK);
    let replayed = messages(resumed.into_body()).await;
    assert_eq!(
        replayed.len(),
        1,
        "only what came after {last_id}: {replayed:?}"
    );
    assert_eq!(replayed[0]["result"], json!({"slow": true}));
}

#[tokio::test]
async fn messages_for_the_get_stream_reach_the_instance_that_holds_it() {
    let cluster = Cluster::new(HttpConfig::default());
    let session = open_session_on(cluster.a(), cluster.b(), "2025-11-25").await;
    // Before any GET stream is open, C holds what it produced for one.
    let early = result(cluster.c(), &session, call(1, "announce")).await;
    assert_eq!(early["result"], json!({}));

    let response = cluster.a().handle(get(&session, None)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut stream = response.into_body();
    let mut seen = Vec::new();
    // C's held message arrives once A holds the stream; then one B produces now.
    let later = result(cluster.b(), &session, call(2, "announce")).await;
    assert_eq!(later["result"], json!({}));
    while seen
        .iter()
        .filter(|m: &&Value| m["method"] == "notifications/tools/list_changed")
        .count()
        < 2
    {
        seen.extend(parse(&next_frame(&mut stream).await));
    }

    // A second GET on C takes the stream over (the first ends); A's messages now go to C.
    let response = cluster.c().handle(get(&session, None)).await;
    let mut moved = response.into_body();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let third = result(cluster.a(), &session, call(3, "announce")).await;
    assert_eq!(third["result"], json!({}));
    let frame = next_frame(&mut moved).await;
    let frame = if frame.contains("list_changed") {
        frame
    } else {
        next_frame(&mut moved).await
    };
    assert!(
        frame.contains("notifications/tools/list_changed"),
        "{frame}"
    );
    let ended = tokio::time::timeout(Duration::from_secs(5), stream.collect()).await;
    assert!(
        ended.is_ok(),
        "the first GET stream ends once another took over"
    );
}
