//! PF-68: the headers of every kind of answer, on the wire, are the ones the eager inserts
//! sent (the head written where the answer leaves the service, into the request's own map),
//! and a keep-alive connection whose maps are handed from answer to request keeps them so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use mcp_http_server_http::{HttpConfig, ResponseMode, StreamableHttpService, serve};
use serde_json::{Value, json};
use support::{call, custom, initialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// `config`'s endpoint served on a port of its own.
async fn start(config: HttpConfig) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = StreamableHttpService::new(custom(), config);
    tokio::spawn(serve(listener, service, std::future::pending()));
    addr
}

/// A POST as a client writes it, with `extra` headers more.
fn post(body: &Value, session: Option<&str>, extra: usize) -> Vec<u8> {
    let body = body.to_string();
    let mut head = String::from(
        "POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\norigin: http://127.0.0.1\r\n\
         accept: application/json, text/event-stream\r\ncontent-type: application/json\r\n",
    );
    if let Some(session) = session {
        head.push_str(&format!("mcp-session-id: {session}\r\n"));
    }
    for i in 0..extra {
        head.push_str(&format!("x-extra-{i}: {i}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    head.into_bytes()
}

/// The next answer's head (without its `date` line, which changes) and body; the body read by
/// its length, or by its chunks until `stop` is in it.
async fn answer(stream: &mut TcpStream, stop: &str) -> (String, String) {
    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    while !bytes.ends_with(b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte))
            .await
            .expect("an answer in time")
            .unwrap();
        assert_eq!(read, 1, "the connection closed");
        bytes.push(byte[0]);
    }
    let head = String::from_utf8(bytes).unwrap();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map(|l| l.trim().parse::<usize>().unwrap());
    let mut body = Vec::new();
    match length {
        Some(length) => {
            body.resize(length, 0);
            stream.read_exact(&mut body).await.unwrap();
        }
        None => {
            let mut buf = [0u8; 4096];
            while !String::from_utf8_lossy(&body).contains(stop) {
                let read = stream.read(&mut buf).await.unwrap();
                assert!(read > 0, "the connection closed");
                body.extend_from_slice(&buf[..read]);
            }
        }
    }
    let head = head
        .split("\r\n")
        .filter(|l| !l.starts_with("date: "))
        .collect::<Vec<_>>()
        .join("\r\n");
    (head, String::from_utf8(body).unwrap())
}

/// The head hyper writes for a 200 with `headers` (as they were inserted before) and a body of
/// `length` bytes, or chunked.
fn expected(headers: &[&str], length: Option<usize>) -> String {
    let mut head = String::from("HTTP/1.1 200 OK\r\n");
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    match length {
        Some(length) => head.push_str(&format!("content-length: {length}\r\n\r\n")),
        None => head.push_str("transfer-encoding: chunked\r\n\r\n"),
    }
    head
}

const SSE: [&str; 3] = [
    "content-type: text/event-stream",
    "cache-control: no-cache",
    "x-accel-buffering: no",
];
const JSON: [&str; 1] = ["content-type: application/json"];
const CORS: [&str; 2] = [
    "access-control-allow-origin: http://127.0.0.1",
    "access-control-expose-headers: mcp-session-id, www-authenticate, dpop-nonce",
];

#[tokio::test]
async fn every_kind_of_answer_has_the_headers_it_had() {
    for (mode, cors) in [
        (ResponseMode::Sse, false),
        (ResponseMode::Json, false),
        (ResponseMode::Sse, true),
        (ResponseMode::Json, true),
    ] {
        let config = HttpConfig::default().response_mode(mode).cors(cors);
        let addr = start(config).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let standard: &[&str] = match mode {
            ResponseMode::Sse => &SSE,
            _ => &JSON,
        };
        let cors_headers: &[&str] = if cors { &CORS } else { &[] };

        stream
            .write_all(&post(&initialize("2025-11-25"), None, 0))
            .await
            .unwrap();
        let (head, body) = answer(&mut stream, "\n\n").await;
        let session = head
            .lines()
            .find_map(|l| l.strip_prefix("mcp-session-id: "))
            .expect("a session id")
            .to_owned();
        let session_line = format!("mcp-session-id: {session}");
        let mut want: Vec<&str> = standard.to_vec();
        want.push(&session_line);
        want.extend(cors_headers);
        assert_eq!(
            head,
            expected(&want, Some(body.len())),
            "{mode:?} initialize"
        );

        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        stream
            .write_all(&post(&initialized, Some(&session), 0))
            .await
            .unwrap();
        let (head, _) = answer(&mut stream, "").await;
        let mut accepted = String::from("HTTP/1.1 202 Accepted");
        for line in cors_headers {
            accepted.push_str("\r\n");
            accepted.push_str(line);
        }
        accepted.push_str("\r\ncontent-length: 0\r\n\r\n");
        assert_eq!(head, accepted, "{mode:?} notification");

        // Quick calls on the one connection, a request with many headers among them (its map
        // is not kept for the next request, PF-68).
        let mut want: Vec<&str> = standard.to_vec();
        want.extend(cors_headers);
        for (id, extra) in [(2, 0), (3, 0), (4, 40), (5, 0), (6, 3)] {
            stream
                .write_all(&post(&call(id, "whoami"), Some(&session), extra))
                .await
                .unwrap();
            let (head, body) = answer(&mut stream, "").await;
            assert_eq!(head, expected(&want, Some(body.len())), "{mode:?} {id}");
            assert!(body.contains(&format!("\"id\":{id}")), "{body}");
        }

        // A call that logs before its result: the stream path.
        stream
            .write_all(&post(&call(7, "chatty"), Some(&session), 0))
            .await
            .unwrap();
        let (head, body) = answer(&mut stream, "\"done\"").await;
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .map(|_| body.len());
        assert_eq!(head, expected(&want, length), "{mode:?} chatty");
    }
}
