//! The 2026-07-28 era across real `mcp-http serve --redis` processes (RB-21, RB-22, RB-26): the
//! tasks extension's tasks live in the shared Redis task store, so any instance answers for a
//! task another one runs, a `subscriptions/listen` stream on one instance hears a change made on
//! another (the role's broadcasts cross the bus), and an MRTR retry is served anywhere, its
//! `requestState` used once fleet-wide.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod redis_fleet;
mod support;

use std::time::Duration;

use mcp_http_test_support::redis::Reply;
use redis_fleet::*;
use serde_json::{Value, json};
use support::*;

const V: &str = "2026-07-28";
const TASKS: &str = "io.modelcontextprotocol/tasks";

/// A 2026-07-28 request (its `_meta` envelope declaring elicitation and the tasks extension).
fn modern_body(id: i64, method: &str, mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "extensions": {TASKS: {}}},
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
    });
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

async fn send(http: &reqwest::Client, url: &str, body: &Value) -> reqwest::Response {
    let mut request = http
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json");
    for (name, value) in modern_headers(body) {
        request = request.header(name, value);
    }
    request.body(body.to_string()).send().await.unwrap()
}

/// The result of a request that must succeed on `url`.
async fn ok(http: &reqwest::Client, url: &str, method: &str, params: Value) -> Value {
    let (status, answer) =
        read_answer(send(http, url, &modern_body(1, method, params)).await).await;
    assert_eq!(status, 200, "{method}: {answer}");
    answer["result"].clone()
}

/// Polls `tasks/get` round-robin over the instances until the task is `status` or finished.
async fn wait_for(http: &reqwest::Client, fleet: &Fleet, id: &str, status: &str) -> Value {
    for attempt in 0..100 {
        let task = ok(http, fleet.url(attempt), "tasks/get", json!({"taskId": id})).await;
        let now = task["status"].as_str().unwrap_or_default().to_owned();
        if now == status || ["completed", "failed", "cancelled"].contains(&now.as_str()) {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("task {id} never reached {status}");
}

/// RB-21: a task created on one instance is polled on the others, and the input it waits for,
/// given on a third, reaches the instance that runs it: the task store is Redis.
#[tokio::test]
async fn tasks_created_on_one_instance_are_served_by_the_others() {
    let fleet = Fleet::start(3).await;
    let http = client();
    let call = json!({"name": "slow_compute", "arguments": {"seconds": 1, "label": "one"}});
    let created = ok(&http, fleet.url(0), "tools/call", call).await;
    assert_eq!(created["resultType"], "task", "{created}");
    let id = created["taskId"].as_str().unwrap().to_owned();
    let stored = fleet.redis.command(&["EXISTS", &format!("mcp:task:{id}")]);
    assert_eq!(stored, Reply::Int(1), "the task is in Redis");
    let seen = ok(&http, fleet.url(1), "tasks/get", json!({"taskId": id})).await;
    assert_eq!(seen["status"], "working", "{seen}");
    let done = wait_for(&http, &fleet, &id, "completed").await;
    assert_eq!(
        done["result"]["content"][0]["text"], "Computed after 1s: one",
        "{done}"
    );

    let call = json!({"name": "confirm_delete", "arguments": {"filename": "a.txt"}});
    let created = ok(&http, fleet.url(0), "tools/call", call).await;
    let id = created["taskId"].as_str().unwrap().to_owned();
    let parked = wait_for(&http, &fleet, &id, "input_required").await;
    let key = parked["inputRequests"]
        .as_object()
        .unwrap_or_else(|| panic!("{parked}"))
        .keys()
        .next()
        .unwrap()
        .clone();
    let answer = json!({"action": "accept", "content": {"confirm": true}});
    ok(
        &http,
        fleet.url(2),
        "tasks/update",
        json!({"taskId": id, "inputResponses": {key: answer}}),
    )
    .await;
    let done = wait_for(&http, &fleet, &id, "completed").await;
    assert_eq!(done["status"], "completed", "{done}");
    // Unknown everywhere: an id no instance created.
    let (status, answer) = read_answer(
        send(
            &http,
            fleet.url(1),
            &modern_body(2, "tasks/get", json!({"taskId": "0".repeat(32)})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
}

/// RB-22: a `subscriptions/listen` stream held on one instance hears a tool list change made
/// on another.
#[tokio::test]
async fn a_listen_stream_hears_changes_made_on_another_instance() {
    let fleet = Fleet::start(3).await;
    let http = client();
    let listen = modern_body(
        7,
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true}}),
    );
    let mut stream = SseReader::new(send(&http, fleet.url(0), &listen).await);
    let ack = stream.next().await.unwrap().json().unwrap();
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    let change = json!({"name": "test_trigger_tool_change", "arguments": {}});
    let changed = ok(&http, fleet.url(1), "tools/call", change).await;
    assert_eq!(changed["content"][0]["text"], "tool list changed");
    let heard = tokio::time::timeout(Duration::from_secs(5), next_message(&mut stream))
        .await
        .expect("heard in time")
        .expect("a notification");
    assert_eq!(heard["method"], "notifications/tools/list_changed");
    assert_eq!(
        heard["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        7
    );
}

/// RB-26: an MRTR retry lands on another instance than the round that sealed its
/// `requestState` (the fleet shares one `--state-key`), and the state is single use across the
/// fleet: the same retry replayed on a third instance is refused (-32602), as on the first.
#[tokio::test]
async fn an_mrtr_retry_is_served_elsewhere_and_its_state_is_used_once_fleet_wide() {
    let key = "k".repeat(40);
    let fleet = Fleet::start_with(3, &["--state-key", &key]).await;
    let http = client();
    let name = "test_input_required_result_request_state";
    let first = ok(
        &http,
        fleet.url(0),
        "tools/call",
        json!({"name": name, "arguments": {}}),
    )
    .await;
    assert_eq!(first["resultType"], "input_required", "{first}");
    let state = first["requestState"].as_str().unwrap().to_owned();
    let retry = json!({"name": name, "arguments": {},
        "inputResponses": {"confirm": {"action": "accept", "content": {"ok": true}}},
        "requestState": state});
    let done = ok(&http, fleet.url(1), "tools/call", retry.clone()).await;
    assert!(
        done["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("state-ok"),
        "{done}"
    );
    for on in [2, 0, 1] {
        let (status, answer) = read_answer(
            send(
                &http,
                fleet.url(on),
                &modern_body(2, "tools/call", retry.clone()),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "instance {on}: {answer}");
        assert_eq!(answer["error"]["code"], -32602, "instance {on}: {answer}");
    }
    // The use is one key in Redis, expiring with the state.
    let used = fleet.redis.command(&["KEYS", "mcp:state:*"]);
    assert!(
        matches!(&used, Reply::Array(keys) if keys.len() == 1),
        "{used:?}"
    );
}
