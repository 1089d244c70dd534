//! A fleet of `mcp-http serve --redis` processes over one real `redis-server` on loopback,
//! shared by the cluster tests (`redis_cluster.rs`, `redis_failures.rs`).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

pub mod nginx;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcp_http_test_support::redis::{RedisServer, free_port};
use serde_json::{Value, json};

use crate::support::*;

/// One `mcp-http serve --redis` process.
pub struct Instance {
    pub url: String,
    pub child: Child,
}

impl Instance {
    /// Sends `signal` (`-TERM`, `-STOP`, `-CONT`) to the instance's process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// A JSON-RPC `ping` request.
pub fn ping(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "ping"})
}

/// A redis-server and the instances that share it; all stopped when dropped.
pub struct Fleet {
    pub redis: RedisServer,
    pub instances: Vec<Instance>,
}

impl Fleet {
    pub async fn start(n: usize) -> Fleet {
        Self::start_with(n, &[]).await
    }

    /// `n` instances with more `serve` flags.
    pub async fn start_with(n: usize, flags: &[&str]) -> Fleet {
        let redis = RedisServer::start();
        let mut instances = Vec::new();
        for i in 0..n {
            instances.push(start_instance_with(&redis, &format!("i{i}"), flags).await);
        }
        Fleet { redis, instances }
    }

    pub fn url(&self, i: usize) -> &str {
        &self.instances[i % self.instances.len()].url
    }
}

pub async fn start_instance(redis: &RedisServer, id: &str) -> Instance {
    start_instance_with(redis, id, &[]).await
}

/// An instance with more `serve` flags.
pub async fn start_instance_with(redis: &RedisServer, id: &str, flags: &[&str]) -> Instance {
    for _ in 0..5 {
        let port = free_port();
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--port",
                &port.to_string(),
                "--redis",
                &redis.url(),
            ])
            .args(["--instance-id", id])
            .args(flags)
            .env(
                "MCP_HTTP_LOG",
                std::env::var("MCP_HTTP_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        if listening(&mut child, port).await {
            return Instance {
                url: format!("http://127.0.0.1:{port}/mcp"),
                child,
            };
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("mcp-http serve --redis did not start");
}

/// Waits (10 s at most) until `child` accepts connections on `port`; `false` if it exited
/// first (the port was taken after all) or never did.
pub async fn listening(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for instance in &mut self.instances {
            let _ = instance.child.kill();
            let _ = instance.child.wait();
        }
    }
}

/// `initialize` on instance `on`, `notifications/initialized` on the next one.
pub async fn session_across(http: &reqwest::Client, fleet: &Fleet, on: usize) -> String {
    let r = post(http, fleet.url(on), None, &init_body("2025-11-25")).await;
    assert_eq!(r.status(), 200);
    let sid = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let _ = r.bytes().await.unwrap();
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(
        post(http, fleet.url(on + 1), Some(&sid), &note)
            .await
            .status(),
        202
    );
    sid
}

/// A tool's text result, from a JSON or SSE answer.
pub async fn tool_text(response: reqwest::Response) -> String {
    let (status, answer) = read_answer(response).await;
    assert_eq!(status, 200, "{answer}");
    answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text: {answer}"))
        .to_owned()
}

/// The next JSON-RPC message of a stream (priming events skipped); `None` when it ends.
pub async fn next_message(reader: &mut SseReader) -> Option<Value> {
    loop {
        let event = reader.next().await?;
        if let Some(message) = event.json() {
            return Some(message);
        }
    }
}

/// Calls `test_trigger_tool_change` of session `sid` on `url` (a tool list change every GET
/// stream of the session's instances must see).
pub async fn trigger_tool_change(http: &reqwest::Client, url: &str, sid: &str, id: i64) {
    let change = call(id, "test_trigger_tool_change", json!({}));
    let r = post(http, url, Some(sid), &change).await;
    assert_eq!(tool_text(r).await, "tool list changed");
}

/// The JSON-RPC messages of a stream until it ends (at most `within`), with its last event id.
pub async fn read_to_end(reader: &mut SseReader, within: Duration) -> (Vec<Value>, Option<String>) {
    let mut messages = Vec::new();
    let mut last_id = None;
    let read = tokio::time::timeout(within, async {
        while let Some(event) = reader.next().await {
            last_id = event.id.clone().or(last_id.take());
            if let Some(message) = event.json() {
                messages.push(message);
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the stream ended within {within:?}: {messages:?}"
    );
    (messages, last_id)
}

/// Reads a call's stream until `n` progress notifications came: the last event id seen.
pub async fn read_progress(reader: &mut SseReader, n: usize) -> String {
    let mut last_id = None;
    let mut progress = 0;
    while progress < n {
        let event = reader.next().await.expect("the call's stream goes on");
        last_id = event.id.clone().or(last_id);
        if event
            .json()
            .is_some_and(|m| m["method"] == "notifications/progress")
        {
            progress += 1;
        }
    }
    last_id.expect("events have ids")
}

/// The next message of a GET stream, within 5 s: a `tools/list_changed`.
pub async fn expect_list_changed(get: &mut SseReader) {
    let changed = tokio::time::timeout(Duration::from_secs(5), next_message(get))
        .await
        .expect("a notification in time")
        .expect("a notification");
    assert_eq!(changed["method"], "notifications/tools/list_changed");
}

/// Waits (15 s at most) until a stopped instance's process exits, successfully.
pub async fn exits_cleanly(child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the stopped instance exits");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}");
}
