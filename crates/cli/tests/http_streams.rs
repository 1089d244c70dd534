//! Streams of the Streamable HTTP server on a real loopback socket: response modes, routing
//! (T-16, T-29b), the GET stream, resumption (T-30..T-36), polling (T-12), disconnects (T-19),
//! stateless server-to-client requests (design idea 7), priming rules (T-21b) and the reaper.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use mcp_http_server::{NoArgs, ToolDef};
use mcp_http_server_http::{HttpConfig, ResponseMode};
use serde_json::json;
use support::*;

fn is_json(r: &reqwest::Response) -> bool {
    r.headers()["content-type"] == "application/json"
}

#[tokio::test]
async fn adaptive_answers_json_when_quick_and_sse_when_streaming() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-11-25").await;
    let r = post(
        &http,
        url,
        Some(&sid),
        &call(1, "add", json!({"a": 1, "b": 2})),
    )
    .await;
    assert!(is_json(&r));
    let body: serde_json::Value = r.json_lossy().await;
    assert_eq!(body["result"]["content"][0]["text"], "3");

    let r = post(
        &http,
        url,
        Some(&sid),
        &call_with_progress(
            2,
            "long_running_operation",
            json!({"duration": 0.2, "steps": 2}),
        ),
    )
    .await;
    assert_eq!(r.headers()["cache-control"], "no-cache");
    assert_eq!(r.headers()["x-accel-buffering"], "no");
    let events = SseReader::new(r).rest().await;
    // T-11: a priming event first (id, retry, empty data).
    assert!(events[0].id.is_some() && events[0].retry.is_some() && events[0].data.is_empty());
    let msgs = messages(&events);
    let kinds: Vec<&str> = msgs
        .iter()
        .map(|m| m["method"].as_str().unwrap_or("response"))
        .collect();
    assert_eq!(
        kinds,
        [
            "notifications/progress",
            "notifications/message",
            "notifications/progress",
            "notifications/message",
            "response"
        ]
    );
    assert_eq!(msgs.last().unwrap()["id"], 2);
    // T-31: ids are unique and increasing on the stream.
    let ids: Vec<_> = events.iter().filter_map(|e| e.id.clone()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique);
}

trait JsonLossy {
    async fn json_lossy(self) -> serde_json::Value;
}

impl JsonLossy for reqwest::Response {
    async fn json_lossy(self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes().await.unwrap()).unwrap()
    }
}

#[tokio::test]
async fn sse_mode_always_streams_and_json_mode_never_does() {
    let sse_server = start(HttpConfig::default().response_mode(ResponseMode::Sse)).await;
    let http = client();
    let sid = session(&http, &sse_server.url, "2025-11-25").await;
    let r = post(
        &http,
        &sse_server.url,
        Some(&sid),
        &call(1, "add", json!({"a": 1, "b": 2})),
    )
    .await;
    // Answered at once: priming event and response are the whole, known-length body.
    assert!(r.headers().contains_key("content-length"), "{r:?}");
    let events = SseReader::new(r).rest().await;
    assert!(
        events[0].id.is_some() && events[0].data.is_empty(),
        "{events:?}"
    );
    let msgs = messages(&events);
    assert_eq!(msgs[0]["result"]["content"][0]["text"], "3");
    // A handler that streams keeps the chunked stream open until its response.
    let r = post(
        &http,
        &sse_server.url,
        Some(&sid),
        &call_with_progress(
            2,
            "long_running_operation",
            json!({"duration": 0.2, "steps": 2}),
        ),
    )
    .await;
    assert!(!r.headers().contains_key("content-length"), "{r:?}");
    let msgs = messages(&SseReader::new(r).rest().await);
    assert_eq!(msgs.last().unwrap()["id"], 2, "{msgs:?}");

    // Forced JSON: progress and logs travel on the GET stream, before the JSON response.
    let json_server = start(HttpConfig::default().response_mode(ResponseMode::Json)).await;
    let url = json_server.url.as_str();
    let sid = session(&http, url, "2025-11-25").await;
    let get = get_stream(&http, url, &sid, None).await;
    let mut get = SseReader::new(get);
    let r = post(
        &http,
        url,
        Some(&sid),
        &call_with_progress(
            3,
            "long_running_operation",
            json!({"duration": 0.2, "steps": 2}),
        ),
    )
    .await;
    assert!(is_json(&r));
    assert_eq!(r.json_lossy().await["id"], 3);
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let e = get.next().await.unwrap();
        seen.extend(e.json());
    }
    assert_eq!(
        seen.iter()
            .filter(|m| m["method"] == "notifications/progress")
            .count(),
        2
    );
    assert_eq!(
        seen.iter()
            .filter(|m| m["method"] == "notifications/message")
            .count(),
        2
    );
}

#[tokio::test]
async fn unrelated_messages_wait_for_the_get_stream_and_a_second_get_replaces_the_first() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-11-25").await;
    let subscribe = json!({"jsonrpc": "2.0", "id": 1, "method": "resources/subscribe", "params": {"uri": "test://watched-resource"}});
    assert_eq!(post(&http, url, Some(&sid), &subscribe).await.status(), 200);
    // The update is sent before any GET stream exists: it is held (T-26, design idea 5).
    let r = post(
        &http,
        url,
        Some(&sid),
        &call(
            2,
            "update_resource",
            json!({"uri": "test://watched-resource"}),
        ),
    )
    .await;
    let answer: Vec<_> = if is_json(&r) {
        vec![r.json_lossy().await]
    } else {
        messages(&SseReader::new(r).rest().await)
    };
    assert!(
        answer
            .iter()
            .all(|m| m["method"] != "notifications/resources/updated"),
        "not on the POST stream: {answer:?}"
    );

    let open = || {
        http.get(url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &sid)
            .send()
    };
    let mut first = SseReader::new(open().await.unwrap());
    let held = first.next().await.unwrap(); // priming
    assert!(held.data.is_empty());
    let held = first.next().await.unwrap().json().unwrap();
    assert_eq!(held["method"], "notifications/resources/updated");

    // A second GET replaces the first: the first ends cleanly, the session lives on (T-28b
    // decided differently from the TS SDK's 409).
    let mut second = SseReader::new(open().await.unwrap());
    assert!(first.rest().await.is_empty());
    post(
        &http,
        url,
        Some(&sid),
        &call(
            3,
            "update_resource",
            json!({"uri": "test://watched-resource"}),
        ),
    )
    .await
    .bytes()
    .await
    .unwrap();
    let mut got = None;
    while got.is_none() {
        got = second.next().await.unwrap().json();
    }
    assert_eq!(got.unwrap()["params"]["uri"], "test://watched-resource");
}

#[tokio::test]
async fn a_disconnected_call_keeps_running_and_is_replayed_with_last_event_id() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-11-25").await;
    let r = post(
        &http,
        url,
        Some(&sid),
        &call_with_progress(
            5,
            "long_running_operation",
            json!({"duration": 0.6, "steps": 3}),
        ),
    )
    .await;
    let mut reader = SseReader::new(r);
    let priming = reader.next().await.unwrap();
    let last = priming.id.clone().unwrap();
    drop(reader); // the client goes away mid-call (T-19: not a cancellation)
    tokio::time::sleep(Duration::from_millis(900)).await;
    let r = get_stream(&http, url, &sid, Some(&last)).await;
    let msgs = messages(&SseReader::new(r).rest().await);
    // Everything after the priming event, the final response included (T-34), and nothing from
    // any other stream (T-35).
    assert_eq!(
        msgs.iter()
            .filter(|m| m["method"] == "notifications/progress")
            .count(),
        3
    );
    assert_eq!(msgs.last().unwrap()["id"], 5);
    assert!(
        msgs.last().unwrap()["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("3 steps")
    );
}

#[tokio::test]
async fn test_reconnection_closes_the_stream_and_the_result_arrives_on_resume() {
    let server = start(HttpConfig::default().retry(Duration::from_millis(200))).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-11-25").await;
    let r = post(
        &http,
        url,
        Some(&sid),
        &call(9, "test_reconnection", json!({})),
    )
    .await;
    let events = SseReader::new(r).rest().await;
    // T-12, T-13: priming with retry, then the server closes without the response.
    assert_eq!(events[0].retry, Some(200));
    assert!(messages(&events).is_empty(), "{events:?}");
    let last = events.iter().rev().find_map(|e| e.id.clone()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = get_stream(&http, url, &sid, Some(&last)).await;
    let msgs = messages(&SseReader::new(r).rest().await);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(
        msgs[0]["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Reconnection test completed")
    );
}

#[tokio::test]
async fn priming_and_polling_only_from_2025_11_25() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-06-18").await;
    let r = post(
        &http,
        url,
        Some(&sid),
        &call_with_progress(
            1,
            "long_running_operation",
            json!({"duration": 0.2, "steps": 2}),
        ),
    )
    .await;
    let events = SseReader::new(r).rest().await;
    assert!(
        events
            .iter()
            .all(|e| !e.data.is_empty() && e.retry.is_none()),
        "T-21b: {events:?}"
    );
    // Without polling, test_reconnection completes on its own stream.
    let r = post(
        &http,
        url,
        Some(&sid),
        &call(2, "test_reconnection", json!({})),
    )
    .await;
    let msgs = if is_json(&r) {
        vec![r.json_lossy().await]
    } else {
        messages(&SseReader::new(r).rest().await)
    };
    assert!(msgs.last().unwrap()["result"].is_object(), "{msgs:?}");
}

/// Answers the sampling request found on a POST's SSE stream, then returns the tool result.
async fn answer_sampling(
    http: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    mut stream: SseReader,
) -> serde_json::Value {
    loop {
        let event = stream.next().await.expect("stream ended before the result");
        let Some(message) = event.json() else {
            continue;
        };
        if message["method"] == "sampling/createMessage" {
            let reply = json!({"jsonrpc": "2.0", "id": message["id"], "result": {
                "role": "assistant", "model": "m", "content": {"type": "text", "text": "sampled!"}}});
            assert_eq!(post(http, url, session, &reply).await.status(), 202);
        } else if message.get("result").is_some() || message.get("error").is_some() {
            return message;
        }
    }
}

#[tokio::test]
async fn stateless_server_to_client_requests_reach_the_handler() {
    let server = start(HttpConfig::default().stateless(true)).await;
    let (http, url) = (client(), server.url.as_str());
    let r = post(&http, url, None, &init_body("2025-11-25")).await;
    assert_eq!(r.status(), 200);
    assert!(
        !r.headers().contains_key("mcp-session-id"),
        "stateless: no session id"
    );
    // T-47: the version header is not checked on initialize, stateless or not.
    let r = http
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "garbage")
        .body(init_body("2025-11-25").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "garbage")
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        http.get(url)
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
    assert_eq!(http.delete(url).send().await.unwrap().status(), 405);
    // Design idea 7: sampling travels on the POST's stream; the POSTed answer finds the handler
    // by its globally unique id.
    let r = post(
        &http,
        url,
        None,
        &call(1, "sample_llm", json!({"prompt": "hi"})),
    )
    .await;
    let result = answer_sampling(&http, url, None, SseReader::new(r)).await;
    assert_eq!(
        result["result"]["content"][0]["text"],
        "LLM response: sampled!"
    );

    // JSON mode has no stream for it: the tool fails at once with a clear error, no hang.
    let json_server = start(
        HttpConfig::default()
            .stateless(true)
            .response_mode(ResponseMode::Json),
    )
    .await;
    let started = std::time::Instant::now();
    let r = post(
        &http,
        &json_server.url,
        None,
        &call(1, "sample_llm", json!({"prompt": "hi"})),
    )
    .await;
    let body = r.json_lossy().await;
    assert_eq!(body["result"]["isError"], true);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn stateful_sampling_on_the_post_stream() {
    let server = start(HttpConfig::default()).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-11-25").await;
    let r = post(
        &http,
        url,
        Some(&sid),
        &call(1, "sample_llm", json!({"prompt": "hi"})),
    )
    .await;
    let result = answer_sampling(&http, url, Some(&sid), SseReader::new(r)).await;
    assert_eq!(
        result["result"]["content"][0]["text"],
        "LLM response: sampled!"
    );
}

#[tokio::test]
async fn idle_sessions_are_reaped_but_open_streams_count_as_activity() {
    let server = start(HttpConfig::default().idle_timeout(Duration::from_millis(300))).await;
    let (http, url) = (client(), server.url.as_str());
    // The watched session's stream opens first: on a loaded machine another session's
    // handshake can outlast the idle timeout.
    let watched = session(&http, url, "2025-11-25").await;
    let get = get_stream(&http, url, &watched, None).await;
    let _stream = SseReader::new(get);
    let idle = session(&http, url, "2025-11-25").await;
    assert!(
        mcp_http_test_support::eventually(|| server.session_count() == 1).await,
        "the idle session was not reaped"
    );
    // Long past the idle timeout, the watched session is still there.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    assert_eq!(post(&http, url, Some(&idle), &ping).await.status(), 404);
    assert_eq!(post(&http, url, Some(&watched), &ping).await.status(), 200);
    assert_eq!(server.session_count(), 1);
}

#[tokio::test]
async fn a_slow_handler_does_not_block_another_session_or_request() {
    let tool = ToolDef::new("sleep", "sleeps", |_: NoArgs, _| async {
        tokio::time::sleep(Duration::from_secs(20)).await;
        "slept"
    });
    let server = start_with(
        mcp_http_server::Server::builder("t", "1")
            .tool(tool)
            .build(),
        HttpConfig::default(),
    )
    .await;
    let (http, url) = (client(), server.url.clone());
    let sid = session(&http, &url, "2025-11-25").await;
    let slow = {
        let (http, url, sid) = (http.clone(), url.clone(), sid.clone());
        tokio::spawn(async move {
            post(&http, &url, Some(&sid), &call(1, "sleep", json!({})))
                .await
                .bytes()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"});
    assert_eq!(post(&http, &url, Some(&sid), &ping).await.status(), 200);
    let other = session(&http, &url, "2025-11-25").await;
    assert_eq!(post(&http, &url, Some(&other), &ping).await.status(), 200);
    // Not blocked behind the sleeping call (20 s), with room for a loaded machine.
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!slow.is_finished(), "the slow call is still running");
    slow.abort();
}
