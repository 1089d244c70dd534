//! The limits a peer cannot get around, on requests and streams (docs/reliability.md): requests
//! in progress in all and per session, a stream whose client stopped reading, and the events
//! queued for one stream; each on a real loopback socket served by `serve`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use mcp_http_proto::LoggingLevel;
use mcp_http_server::{RequestContext, Server, ToolDef};
use mcp_http_server_http::{HttpConfig, StreamableHttpService};
use mcp_http_test_support::eventually;
use serde::Deserialize;
use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Deserialize, schemars::JsonSchema)]
struct FloodArgs {
    /// How many log messages to send.
    count: u32,
    /// The size of each, in bytes.
    size: usize,
}

/// The built-in server's tools and `flood`, which sends `count` log messages of `size` bytes
/// (each with its index `i`) as fast as the stream takes them, then answers `done`.
fn flooding_server() -> Server {
    let server = mcp_http::builtin::server();
    server.add_tool(ToolDef::new(
        "flood",
        "Sends many large log messages",
        |a: FloodArgs, ctx: RequestContext| async move {
            let pad = "x".repeat(a.size);
            for i in 0..a.count.min(10_000) {
                let data = json!({"i": i, "pad": pad});
                ctx.log(LoggingLevel::Info, Some("flood"), &data).await?;
                // Each message from a later poll: the answer is a stream, not one body.
                tokio::task::yield_now().await;
            }
            Ok::<_, mcp_http_server::ToolError>("done".to_owned())
        },
    ));
    server
}

async fn serve(server: Server, config: HttpConfig) -> TestServer {
    start_service(StreamableHttpService::new(server, config)).await
}

/// A long call: `long_running_operation` for `seconds`, answered as a stream.
fn long_call(id: i64, seconds: f64) -> Value {
    call(
        id,
        "long_running_operation",
        json!({"duration": seconds, "steps": 2}),
    )
}

async fn error_of(response: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
    (status, retry, body)
}

#[tokio::test]
async fn requests_over_the_in_flight_limit_are_refused_until_some_finish() {
    let server = serve(
        mcp_http::builtin::server(),
        HttpConfig::default().max_in_flight(2),
    )
    .await;
    let (http, url) = (client(), server.url.as_str());
    let service = server.service.clone();
    let sid = session(&http, url, "2025-11-25").await;
    let first = post(&http, url, Some(&sid), &long_call(1, 1.5)).await;
    let second = post(&http, url, Some(&sid), &long_call(2, 1.5)).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    assert_eq!(service.requests_in_flight(), 2);

    let (status, retry, body) = error_of(
        post(
            &http,
            url,
            Some(&sid),
            &call(3, "echo", json!({"message": "hi"})),
        )
        .await,
    )
    .await;
    assert_eq!((status, retry.as_deref()), (503, Some("5")));
    assert_eq!(body["error"]["code"], -32000);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too many requests in progress"),
        "{body}"
    );
    // A client that goes away does not free its place: its handler still runs (T-19).
    drop(first);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(service.requests_in_flight(), 2);
    let refused = post(
        &http,
        url,
        Some(&sid),
        &call(4, "echo", json!({"message": "hi"})),
    )
    .await;
    assert_eq!(refused.status(), 503);

    // Through the tower Service the limit is backpressure: not ready until a place is free.
    let mut tower = service.clone();
    let mut ready = std::pin::pin!(std::future::poll_fn(|cx| {
        tower_service::Service::<http::Request<http_body_util::Full<Bytes>>>::poll_ready(
            &mut tower, cx,
        )
    }));
    assert!(futures::poll!(ready.as_mut()).is_pending());
    tokio::time::timeout(Duration::from_secs(10), ready)
        .await
        .expect("never ready again")
        .unwrap();
    let ping = json!({"jsonrpc": "2.0", "id": 5, "method": "ping"}).to_string();
    let request = http::Request::post(url)
        .header("host", server.addr().to_string())
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .header("mcp-session-id", &sid)
        .body(http_body_util::Full::new(Bytes::from(ping)))
        .unwrap();
    let answered = tower_service::Service::call(&mut tower, request)
        .await
        .unwrap();
    assert_eq!(answered.status(), 200);

    drop(second);
    assert!(
        eventually(|| service.requests_in_flight() == 0).await,
        "{} still in flight",
        service.requests_in_flight()
    );
    let served = post(
        &http,
        url,
        Some(&sid),
        &call(6, "echo", json!({"message": "hi"})),
    )
    .await;
    assert_eq!(served.status(), 200);
}

#[tokio::test]
async fn a_session_over_its_in_flight_limit_gets_429_while_others_are_served() {
    let server = serve(
        mcp_http::builtin::server(),
        HttpConfig::default().max_in_flight_per_session(1),
    )
    .await;
    let (http, url) = (client(), server.url.as_str());
    let busy = session(&http, url, "2025-11-25").await;
    let other = session(&http, url, "2025-11-25").await;
    let long = post(&http, url, Some(&busy), &long_call(1, 1.0)).await;
    assert_eq!(long.status(), 200);

    let echo = |id| call(id, "echo", json!({"message": "hi"}));
    let (status, retry, body) = error_of(post(&http, url, Some(&busy), &echo(2)).await).await;
    assert_eq!((status, retry.as_deref()), (429, Some("1")));
    assert_eq!(
        (body["id"].as_i64(), body["error"]["code"].as_i64()),
        (Some(2), Some(-32000))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too many requests in progress"),
        "{body}"
    );
    // A ping is answered however busy the session is (PG-2), and so is another session.
    let ping = json!({"jsonrpc": "2.0", "id": 3, "method": "ping"});
    assert_eq!(post(&http, url, Some(&busy), &ping).await.status(), 200);
    assert_eq!(post(&http, url, Some(&other), &echo(4)).await.status(), 200);

    // Once the long call is done, the session is served again.
    let events = SseReader::new(long).rest().await;
    assert!(messages(&events).iter().any(|m| m["id"] == 1));
    let mut served = false;
    for _ in 0..50 {
        if post(&http, url, Some(&busy), &echo(5)).await.status() == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "the session's place was never given back");
}

/// A raw POST of `body` in session `sid` on a socket with a small receive buffer, never read.
async fn stalled_post(
    addr: std::net::SocketAddr,
    sid: &str,
    body: &Value,
) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut tcp = socket.connect(addr).await.unwrap();
    let body = body.to_string();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nhost: {addr}\r\naccept: application/json, text/event-stream\r\n\
         content-type: application/json\r\nmcp-session-id: {sid}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    tcp.write_all((head + &body).as_bytes()).await.unwrap();
    tcp
}

#[tokio::test]
async fn a_stream_whose_client_stopped_reading_is_dropped_and_the_others_flow() {
    let config = HttpConfig::default().write_stall_timeout(Duration::from_millis(500));
    let server = serve(flooding_server(), config).await;
    let (http, url) = (client(), server.url.as_str());
    let service = server.service.clone();
    let sid = session(&http, url, "2025-11-25").await;
    let mut get = get_stream(&http, url, &sid, None).await;
    assert_eq!(get.status(), 200);

    // 12.8 MB for a client that reads nothing: more than the socket buffers hold.
    let flood = call(1, "flood", json!({"count": 200, "size": 64 * 1024}));
    let before = service.open_connections();
    let mut stalled = stalled_post(server.addr(), &sid, &flood).await;
    assert!(
        eventually(|| service.open_connections() == before + 1).await,
        "{before} then {}",
        service.open_connections()
    );

    // The session's other streams go on meanwhile.
    let started = Instant::now();
    let echo = post(
        &http,
        url,
        Some(&sid),
        &call(2, "echo", json!({"message": "hi"})),
    )
    .await;
    assert_eq!(echo.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let (status, _) = read_answer(echo).await;
    assert_eq!(status, 200);

    // The stalled connection goes after the bound; the GET stream and the client's pool stay.
    let with_stalled = service.open_connections();
    let mut dropped = false;
    for _ in 0..200 {
        if service.open_connections() == with_stalled - 1 {
            dropped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        dropped,
        "{} connections still open",
        service.open_connections()
    );
    // Its client finds the connection ended once it reads what was sent.
    let mut buf = vec![0u8; 256 * 1024];
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stalled.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stalled connection was not closed");
    let still = tokio::time::timeout(Duration::from_secs(1), get.chunk()).await;
    assert!(
        !matches!(still, Ok(Ok(None)) | Ok(Err(_))),
        "the GET stream ended"
    );
}

#[tokio::test]
async fn a_reader_that_falls_behind_its_queue_is_cut_off_and_resumes() {
    let config = HttpConfig::default().connection_queue(4);
    let server = serve(flooding_server(), config).await;
    let (http, url) = (client(), server.url.as_str());
    let sid = session(&http, url, "2025-11-25").await;
    let flood = call(1, "flood", json!({"count": 200, "size": 64 * 1024}));
    let response = post(&http, url, Some(&sid), &flood).await;
    assert_eq!(response.status(), 200);
    // Not reading for a while: the socket buffers fill, then the queue of 4.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let first = SseReader::new(response).rest().await;
    let seen = |events: &[Event]| -> Vec<i64> {
        messages(events)
            .iter()
            .filter_map(|m| m["params"]["data"]["i"].as_i64())
            .collect()
    };
    let before = seen(&first);
    assert!(
        !messages(&first).iter().any(|m| m["id"] == 1),
        "the slow reader got everything ({} messages): it was never cut off",
        before.len()
    );
    assert!(before.len() < 200, "{}", before.len());
    let last = first
        .iter()
        .rev()
        .find_map(|e| e.id.clone())
        .expect("no event id");

    // Resumed from its last event: the rest, once each, then the response.
    let resumed = get_stream(&http, url, &sid, Some(&last)).await;
    assert_eq!(resumed.status(), 200);
    let rest = SseReader::new(resumed).rest().await;
    let mut all = before;
    all.extend(seen(&rest));
    assert_eq!(all, (0..200).collect::<Vec<i64>>());
    assert!(
        messages(&rest)
            .iter()
            .any(|m| m["id"] == 1 && m["result"].is_object())
    );
}
