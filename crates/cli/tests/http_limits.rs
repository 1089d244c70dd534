//! The limits a peer cannot get around, on connections (docs/reliability.md): each exceeded on a
//! real loopback socket served by `serve`, with the answer a client sees, and the server still
//! serving afterwards. Requests in progress and streams are in `http_limits_streams.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use mcp_http_server_http::{HttpConfig, StreamableHttpService};
use mcp_http_test_support::eventually;
use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The built-in server behind `serve` (one instance, whatever `MCP_HTTP_TEST_INSTANCES` says:
/// the connection limits are `serve`'s).
async fn serve(config: HttpConfig) -> TestServer {
    start_service(StreamableHttpService::new(
        mcp_http::builtin::server(),
        config,
    ))
    .await
}

async fn still_serves(url: &str) {
    let response = post(&client(), url, None, &init_body("2025-11-25")).await;
    assert_eq!(response.status(), 200, "the server stopped serving");
}

/// A POST of `body` with the headers of an MCP client, as raw bytes.
fn raw_post(body_len: usize, extra: &str) -> String {
    format!(
        "POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: application/json, text/event-stream\r\n\
         content-type: application/json\r\ncontent-length: {body_len}\r\n{extra}\r\n"
    )
}

/// Everything the server sends until it closes the connection (or 10 s pass), and how it
/// ended: `Ok` for a clean close, `Err` for a reset.
async fn read_to_close(tcp: &mut TcpStream) -> (String, std::io::Result<()>) {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let ended = loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Err(_) => panic!(
                "the server did not close the connection; got {:?}",
                String::from_utf8_lossy(&got)
            ),
            Ok(Ok(0)) => break Ok(()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => break Err(e),
        }
    };
    (String::from_utf8_lossy(&got).into_owned(), ended)
}

/// The JSON body of a raw response.
fn json_body(response: &str) -> Value {
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or(Value::Null)
}

#[tokio::test]
async fn slow_or_silent_clients_are_cut_off_after_the_header_timeout() {
    let config = HttpConfig::default()
        .header_read_timeout(Duration::from_millis(300))
        .keep_alive(Some(Duration::from_millis(100)));
    let server = serve(config).await;
    let addr = server.addr();

    // A connection that never sends a byte.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    // A slowloris: headers a few bytes at a time, never finished.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        for _ in 0..200 {
            if slow.write_all(b"x-pad: a\r\n").await.is_err() {
                return true;
            }
            let mut byte = [0u8; 1];
            // The server closing shows as a read of 0 (or a reset).
            match tokio::time::timeout(Duration::from_millis(50), slow.read(&mut byte)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                _ => {}
            }
        }
        false
    });
    let started = Instant::now();
    let (got, _) = read_to_close(&mut silent).await;
    assert_eq!(got, "", "nothing is sent to a connection that sent nothing");
    assert!(trickle.await.unwrap(), "the slowloris was not cut off");
    // Cut off, not served: bounded far below the default header timeout (30 s) on a loaded
    // machine.
    assert!(started.elapsed() < Duration::from_secs(10));

    // An SSE stream is not a request being read: it outlives the header timeout.
    let http = client();
    let sid = session(&http, &server.url, "2025-11-25").await;
    let mut stream = get_stream(&http, &server.url, &sid, None).await;
    assert_eq!(stream.status(), 200);
    tokio::time::sleep(Duration::from_millis(900)).await;
    let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
        .await
        .expect("the stream went quiet")
        .expect("the stream broke");
    assert!(chunk.is_some(), "the stream ended");
    still_serves(&server.url).await;
}

#[tokio::test]
async fn headers_too_large_or_too_many_get_431() {
    let config = HttpConfig::default()
        .max_header_bytes(8 * 1024)
        .max_headers(20);
    let server = serve(config).await;
    let body = init_body("2025-11-25").to_string();

    // Too large: one 16 KiB header.
    let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
    let big = format!("x-big: {}\r\n", "a".repeat(16 * 1024));
    let request = raw_post(body.len(), &big) + &body;
    let _ = tcp.write_all(request.as_bytes()).await;
    let (response, _) = read_to_close(&mut tcp).await;
    assert!(
        response.starts_with("HTTP/1.1 431"),
        "over max_header_bytes: {response:?}"
    );

    // Too many: 30 small headers.
    let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
    let many: String = (0..30).map(|i| format!("x-h{i}: v\r\n")).collect();
    let request = raw_post(body.len(), &many) + &body;
    tcp.write_all(request.as_bytes()).await.unwrap();
    let (response, _) = read_to_close(&mut tcp).await;
    assert!(
        response.starts_with("HTTP/1.1 431"),
        "over max_headers: {response:?}"
    );

    // Within both: served.
    let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
    let request = raw_post(body.len(), "x-fine: yes\r\nconnection: close\r\n") + &body;
    tcp.write_all(request.as_bytes()).await.unwrap();
    let (response, _) = read_to_close(&mut tcp).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response:?}");
    still_serves(&server.url).await;
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408() {
    let config = HttpConfig::default().body_read_timeout(Duration::from_millis(300));
    let server = serve(config).await;
    let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
    // 100 bytes announced, 10 sent, then nothing.
    let request = raw_post(100, "") + r#"{"jsonrpc""#;
    tcp.write_all(request.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (response, _) = read_to_close(&mut tcp).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response:?}");
    assert!(response.contains("connection: close"), "{response:?}");
    let error = json_body(&response);
    assert_eq!(error["error"]["code"], -32000);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did not arrive in time")
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    still_serves(&server.url).await;
}

/// A `ping` whose body is `len` bytes or more.
fn big_ping(len: usize) -> Vec<u8> {
    let pad = "x".repeat(len);
    json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": pad}})
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn a_client_that_writes_its_whole_oversized_body_first_reads_the_413() {
    let server = serve(HttpConfig::default().max_body_bytes(64 * 1024)).await;
    let body = big_ping(8 * 1024 * 1024);

    // With a Content-Length over the limit: refused before a byte of the body is read.
    let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
    let head = raw_post(body.len(), "");
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&body)
        .await
        .expect("the server reset the connection while the body was being written");
    let (response, ended) = read_to_close(&mut tcp).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response:?}");
    assert!(response.contains("connection: close"), "{response:?}");
    assert_eq!(json_body(&response)["error"]["code"], -32000);
    assert!(ended.is_ok(), "the connection was reset: {ended:?}");

    // Chunked, with no length: found over the limit while reading.
    let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
    let head = "POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: application/json, text/event-stream\r\n\
                content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    tcp.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(256 * 1024) {
        let framed = [
            format!("{:x}\r\n", chunk.len()).as_bytes(),
            chunk,
            b"\r\n".as_slice(),
        ]
        .concat();
        tcp.write_all(&framed)
            .await
            .expect("the server reset the connection while the body was being written");
    }
    tcp.write_all(b"0\r\n\r\n").await.unwrap();
    let (response, ended) = read_to_close(&mut tcp).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response:?}");
    assert!(ended.is_ok(), "the connection was reset: {ended:?}");
    still_serves(&server.url).await;
}

#[tokio::test]
async fn pythons_http_client_gets_the_413_not_a_broken_pipe() {
    let Ok(probe) = std::process::Command::new("python3")
        .arg("--version")
        .output()
    else {
        eprintln!("python3 is not installed: this check is left to the raw client's test");
        return;
    };
    assert!(probe.status.success());
    let server = serve(HttpConfig::default().max_body_bytes(64 * 1024)).await;
    let port = server.addr().port();
    // http.client sends the whole body (sendall) before it reads anything.
    let script = format!(
        r#"
import http.client, json
body = b'{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"' + b'x' * 8_000_000 + b'"}}}}'
c = http.client.HTTPConnection("127.0.0.1", {port}, timeout=20)
c.request("POST", "/mcp", body=body, headers={{"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}})
r = c.getresponse()
print(r.status, json.loads(r.read())["error"]["code"])
"#
    );
    let run = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(stdout.trim(), "413 -32000", "stderr: {stderr}");
    still_serves(&server.url).await;
}

#[tokio::test]
async fn connections_over_the_limit_get_503_and_are_closed() {
    let server = serve(HttpConfig::default().max_connections(4)).await;
    let service = server.service.clone();
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(server.addr()).await.unwrap());
    }
    assert!(
        eventually(|| service.open_connections() == 4).await,
        "{} open",
        service.open_connections()
    );

    // The fifth is answered at once and closed, not left waiting.
    let started = Instant::now();
    let mut fifth = TcpStream::connect(server.addr()).await.unwrap();
    let body = init_body("2025-11-25").to_string();
    let _ = fifth
        .write_all((raw_post(body.len(), "") + &body).as_bytes())
        .await;
    let (response, ended) = read_to_close(&mut fifth).await;
    assert!(response.starts_with("HTTP/1.1 503"), "{response:?}");
    assert!(response.contains("retry-after: 5\r\n"), "{response:?}");
    assert!(response.contains("connection: close\r\n"), "{response:?}");
    let error = json_body(&response);
    assert_eq!(error["error"]["code"], -32000);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too many open connections")
    );
    assert!(ended.is_ok(), "{ended:?}");
    // Not left waiting for a place (or for the header timeout, 30 s).
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        service.open_connections(),
        4,
        "the refused one is not counted"
    );

    // A place freed is a place for the next client.
    idle.pop();
    assert!(eventually(|| service.open_connections() == 3).await);
    still_serves(&server.url).await;
}

/// Mcp-http's answer to a probe of many idle connections: how long a new client waits.
#[tokio::test]
async fn idle_connections_do_not_keep_a_new_client_waiting() {
    let server = serve(HttpConfig::default()).await;
    let service = server.service.clone();
    // 300 (the default open-file limit of 1024 holds both ends): half never send a byte, half
    // are kept alive after a request.
    let mut idle = Vec::new();
    for i in 0..300 {
        let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
        if i % 2 == 1 {
            tcp.write_all(b"GET /elsewhere HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
                .await
                .unwrap();
            let mut buf = [0u8; 512];
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(buf[..n].starts_with(b"HTTP/1.1 404"));
        }
        idle.push(tcp);
    }
    assert!(eventually(|| service.open_connections() >= 300).await);
    let started = Instant::now();
    still_serves(&server.url).await;
    let waited = started.elapsed();
    eprintln!("a new client was served in {waited:?} with 300 idle connections open");
    // Not kept waiting behind the idle ones (their header timeout is 30 s).
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    drop(idle);
}

#[tokio::test]
async fn serve_flags_set_the_limits_and_help_shows_their_defaults() {
    let help = run_cli(&["serve", "--help"], &[]).await;
    assert_eq!(help.code, 0, "{}", help.stderr);
    let text = help.stdout.replace('\n', " ");
    for (flag, default) in [
        ("--header-read-timeout-ms", "30000"),
        ("--max-header-bytes", "65536"),
        ("--max-headers", "100"),
        ("--max-body-bytes", "4194304"),
        ("--body-read-timeout-ms", "60000"),
        ("--lingering-time-ms", "5000"),
        ("--max-connections", "16384"),
        ("--max-in-flight", "4096"),
        ("--max-in-flight-per-session", "128"),
        ("--write-stall-timeout-ms", "30000"),
        ("--max-queued-events", "1024"),
        ("--max-sessions", "100000"),
        ("--max-streams-per-session", "32"),
    ] {
        let at = text
            .find(&format!("{flag} <"))
            .unwrap_or_else(|| panic!("{flag} is not in --help"));
        let shown = text[at..].find("[default: ").map(|i| &text[at + i + 10..]);
        assert!(
            shown.is_some_and(|s| s.starts_with(&format!("{default}]"))),
            "{flag} does not show its default {default}"
        );
    }

    // A flag reaches the server: a body over --max-body-bytes is refused.
    let args = ["serve", "--port", "0", "--max-body-bytes", "1024"];
    let (mut child, found) = spawn_until(&args, &[], &["mcp-http: serving MCP on "]).await;
    let url = found[0].clone();
    let http = client();
    let r = post(
        &http,
        &url,
        None,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "ping",
        "params": {"pad": "x".repeat(2000)}}),
    )
    .await;
    assert_eq!(r.status(), 413);
    still_serves(&url).await;
    child.kill().await.unwrap();
}
