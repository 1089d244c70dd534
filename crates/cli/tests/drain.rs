//! Graceful drain (RL-50, RL-51), with the real binary and a real SIGTERM: calls running when
//! the signal comes finish and are answered, nothing is lost while the server stops (every call
//! completed, or failed with an error a client retries: the connection refused or closed), the
//! process exits by itself, and our client goes on against a server restarted on the same port.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_http_client::Client;
use mcp_http_client_http::StreamableHttpClient;
use mcp_http_core::{RequestError, RequestOptions};
use mcp_http_test_support::ports::free_port;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_mcp-http");

/// `mcp-http serve` on `port`, once it accepts connections.
async fn serve(port: u16, drain_seconds: &str) -> Child {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", &port.to_string()])
        .args(["--drain-timeout", drain_seconds])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(child.try_wait().unwrap().is_none(), "serve exited");
        assert!(Instant::now() < deadline, "serve did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the process to exit by itself; its exit code.
async fn exit_of(child: &mut Child, within: Duration) -> i32 {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not exit within {within:?} of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn client(url: &str) -> Arc<Client> {
    Arc::new(
        Client::builder("drain-test", "1.0")
            .connect(StreamableHttpClient::new(url).unwrap())
            .await
            .unwrap(),
    )
}

/// An error a client can retry: the server was not there to take the request, or went away
/// before it was answered.
fn retryable(error: &RequestError) -> bool {
    matches!(error, RequestError::Transport(_) | RequestError::Closed)
}

async fn echo(client: &Client) -> Result<String, RequestError> {
    let result = client.call_tool("echo", json!({"message": "hi"})).await?;
    Ok(serde_json::to_value(&result.content).unwrap()[0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// A session and a progress-streaming call, by hand; the whole SSE body of the call. `running`
/// is told once the call's answer has begun (the server runs it).
async fn raw_call_stream(
    url: String,
    seconds: f64,
    running: tokio::sync::oneshot::Sender<()>,
) -> String {
    let http = reqwest::Client::new();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"}}});
    let response = http
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(init.to_string())
        .send()
        .await
        .unwrap();
    let sid = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "long_running_operation", "arguments": {"duration": seconds, "steps": 3},
        "_meta": {"progressToken": 7}}});
    let response = http
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", sid)
        .header("mcp-protocol-version", "2025-11-25")
        .header("content-type", "application/json")
        .body(call.to_string())
        .send()
        .await
        .unwrap();
    let _ = running.send(());
    response.text().await.unwrap_or_default()
}

/// Waits (up to 20 s) until the raw call runs: on a loaded machine a fixed wait could signal
/// the server before it had the call, or even the session.
async fn runs(running: tokio::sync::oneshot::Receiver<()>) {
    tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .expect("the raw call did not start within 20 s")
        .expect("the raw call failed before it started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_lets_running_calls_finish_loses_none_and_clients_recover_after_a_restart() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let mut server = serve(port, "5").await;
    let slow = client(&url).await;
    let quick: Vec<Arc<Client>> = vec![client(&url).await, client(&url).await];

    // Calls that run for 1.5 s streaming progress (so each has an SSE stream open), under way
    // when the signal comes.
    let progress = Arc::new(AtomicUsize::new(0));
    let long_calls: Vec<_> = (0..3)
        .map(|_| {
            let (slow, progress) = (slow.clone(), progress.clone());
            tokio::spawn(async move {
                let options = RequestOptions::default()
                    .timeout(Duration::from_secs(20))
                    .on_progress(move |_| {
                        progress.fetch_add(1, Ordering::Relaxed);
                    });
                slow.call_tool_with(
                    "long_running_operation",
                    json!({"duration": 1.5, "steps": 3}),
                    options,
                )
                .await
            })
        })
        .collect();
    // Quick calls in a loop on other sessions, through the whole drain.
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let stop = Instant::now() + Duration::from_secs(3);
    let loops: Vec<_> = quick
        .iter()
        .map(|c| {
            let (c, outcomes) = (c.clone(), outcomes.clone());
            tokio::spawn(async move {
                while Instant::now() < stop {
                    let outcome = echo(&c).await;
                    let failed = outcome.is_err();
                    outcomes.lock().unwrap().push(outcome);
                    if failed {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            })
        })
        .collect();
    // And one such call read raw: its answer must come on the POST's own stream, which the
    // drain leaves open (no resumption needed).
    let (running, started) = tokio::sync::oneshot::channel();
    let raw = tokio::spawn(raw_call_stream(url.clone(), 1.5, running));
    runs(started).await;
    // The slow client's calls are under way once their first steps' progress came.
    let under_way = Instant::now() + Duration::from_secs(20);
    while progress.load(Ordering::Relaxed) < 3 {
        assert!(Instant::now() < under_way, "the long calls did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let signalled = Instant::now();
    terminate(&server);

    for call in long_calls {
        let result = call
            .await
            .unwrap()
            .expect("a call running at SIGTERM was answered");
        assert_ne!(result.is_error, Some(true), "{result:?}");
    }
    assert_eq!(
        progress.load(Ordering::Relaxed),
        9,
        "every step's progress arrived"
    );
    let stream = raw.await.unwrap();
    assert!(
        stream.contains(r#""id":2,"result""#),
        "the POST's stream ended before its answer: {stream}"
    );
    let finished = signalled.elapsed();
    let code = exit_of(&mut server, Duration::from_secs(8)).await;
    assert_eq!(code, 0, "serve exits cleanly after the drain");
    let exited = signalled.elapsed();
    assert!(
        exited >= finished,
        "the server exited ({exited:?}) before its running calls finished ({finished:?})"
    );
    for l in loops {
        l.await.unwrap();
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let completed = outcomes.iter().filter(|o| o.is_ok()).count();
    assert!(completed > 0, "no quick call completed");
    for outcome in &outcomes {
        match outcome {
            Ok(text) => assert_eq!(text, "hi"),
            Err(e) => assert!(retryable(e), "a call failed with a final error: {e:?}"),
        }
    }

    // A new server on the same port: every client goes on (a new session where the old one
    // is gone).
    let mut restarted = serve(port, "5").await;
    for c in quick.iter().chain([&slow]) {
        assert_eq!(echo(c).await.expect("a call after the restart"), "hi");
    }
    terminate(&restarted);
    assert_eq!(exit_of(&mut restarted, Duration::from_secs(8)).await, 0);
}

/// A call that outlives the drain's deadline: at the deadline its stream ends with a `retry`
/// field (its client resumes elsewhere or later) and the server exits; it is not held open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_drain_deadline_streams_end_with_retry_and_the_server_exits() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let mut server = serve(port, "0.5").await;
    let (running, started) = tokio::sync::oneshot::channel();
    let raw = tokio::spawn(raw_call_stream(url, 5.0, running));
    runs(started).await;
    let signalled = Instant::now();
    terminate(&server);
    assert_eq!(exit_of(&mut server, Duration::from_secs(4)).await, 0);
    let exited = signalled.elapsed();
    assert!(
        exited >= Duration::from_millis(450),
        "exited before the deadline: {exited:?}"
    );
    let stream = raw.await.unwrap();
    assert!(!stream.contains(r#""id":2"#), "{stream}");
    let last = stream.trim_end().lines().last().unwrap_or_default();
    assert_eq!(
        last, "retry: 1000",
        "the stream ends with a retry field: {stream}"
    );
}
