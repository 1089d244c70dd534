//! Our client (`Client` over `StreamableHttpClient`) against servers that misbehave: each case
//! a tiny raw HTTP server on 127.0.0.1 (`hostile/mod.rs`) and a real `initialize` and
//! `tools/call`. Every case ends in a typed error or a bounded wait (each test's outcome must
//! come within a few seconds), never a hang, a panic or a buffer that grows without bound
//! (RL-20..RL-29; docs/reliability.md has the table).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod hostile;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use hostile::{
    Hostile, SSE_HEAD, connect, event, json_answer, settings, text_result, transport_error, within,
    write,
};
use mcp_http_client::RequestError;
use serde_json::json;

/// A request timeout long enough that a case that ends by it has not ended by its own bound.
const LONG: Duration = Duration::from_secs(30);
/// A request timeout for the cases that end by it.
const SHORT: Duration = Duration::from_millis(400);

/// RL-20: an SSE answer that sends keep-alive comments forever and never the response ends
/// with the request timeout, and the client closes the stream (the server's writes fail).
#[tokio::test]
async fn an_endless_stream_without_a_response_times_out_and_is_closed() {
    let closed = Arc::new(AtomicBool::new(false));
    let seen_closed = closed.clone();
    let server = Hostile::on_call(move |_req, mut stream| {
        let closed = closed.clone();
        async move {
            write(&mut stream, SSE_HEAD.as_bytes()).await;
            // At most a minute of comments; the client must close long before.
            for _ in 0..3_000 {
                if !write(&mut stream, b": still here\n\n").await {
                    closed.store(true, Ordering::SeqCst);
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            None
        }
    })
    .await;
    let client = connect(&server.url, settings().build(), SHORT)
        .await
        .unwrap();
    let outcome = within(5, client.call_tool("wait", json!({}))).await;
    assert!(
        matches!(outcome, Err(RequestError::Timeout(_))),
        "{outcome:?}"
    );
    within(5, async {
        while !seen_closed.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    // The server was told the call is over.
    assert_eq!(
        server
            .seen(|r| r.rpc_method() == Some("notifications/cancelled"))
            .len(),
        1
    );
}

/// RL-27: a JSON answer whose id is another request's fails the call at once with a protocol
/// error, instead of leaving it to wait for its timeout.
#[tokio::test]
async fn a_json_answer_with_the_wrong_id_fails_the_request_at_once() {
    let server = Hostile::on_call(|_req, mut stream| async move {
        write(
            &mut stream,
            json_answer(&text_result(&json!(9_999), "not yours")).as_bytes(),
        )
        .await;
        Some(stream)
    })
    .await;
    let client = connect(&server.url, settings().build(), LONG)
        .await
        .unwrap();
    let e = transport_error(within(5, client.call_tool("x", json!({}))).await);
    assert!(e.is_protocol(), "{e:?}");
    // The connection stays usable.
    let e = transport_error(within(5, client.call_tool("x", json!({}))).await);
    assert!(e.is_protocol(), "{e:?}");
}

/// RL-28: a response to a request the client never sent, ahead of the real one on the stream,
/// is ignored; the call gets its own response.
#[tokio::test]
async fn a_response_to_a_request_never_sent_is_ignored() {
    let server = Hostile::on_call(|req, mut stream| async move {
        let stray = event(&text_result(&json!("never-sent"), "stray"));
        let real = event(&text_result(&req.id(), "real"));
        write(&mut stream, format!("{SSE_HEAD}{stray}{real}").as_bytes()).await;
        None
    })
    .await;
    let client = connect(&server.url, settings().build(), LONG)
        .await
        .unwrap();
    let result = within(5, client.call_tool("x", json!({}))).await.unwrap();
    assert_eq!(mcp_http_test_support::text(&result), "real");
}

/// RL-26: a 200 whose body is an HTML page (a proxy's or a login page) is a protocol error
/// naming the content type, for a call and for `initialize`.
#[tokio::test]
async fn an_html_page_is_a_protocol_error() {
    const PAGE: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 38\r\n\r\n\
                        <html><body>Please log in</body></html>";
    let server = Hostile::on_call(|_req, mut stream| async move {
        write(&mut stream, PAGE.as_bytes()).await;
        Some(stream)
    })
    .await;
    let client = connect(&server.url, settings().build(), LONG)
        .await
        .unwrap();
    let e = transport_error(within(5, client.call_tool("x", json!({}))).await);
    assert!(
        e.is_protocol() && e.to_string().contains("text/html"),
        "{e:?}"
    );

    let login = Hostile::start(|_req, mut stream| async move {
        write(&mut stream, PAGE.as_bytes()).await;
        Some(stream)
    })
    .await;
    let refused = within(5, connect(&login.url, settings().build(), LONG)).await;
    let e = transport_error(refused);
    assert!(
        e.is_protocol() && e.to_string().contains("text/html"),
        "{e:?}"
    );
}

/// RL-23: a redirect loop ends after the allowed redirects with an error naming them.
#[tokio::test]
async fn a_redirect_loop_ends_with_an_error() {
    let redirects = Arc::new(AtomicUsize::new(0));
    let counted = redirects.clone();
    let server = Hostile::start(move |_req, mut stream| {
        let redirects = redirects.clone();
        async move {
            redirects.fetch_add(1, Ordering::SeqCst);
            let loop_back = "HTTP/1.1 307 Temporary Redirect\r\nlocation: /mcp\r\n\
                             content-length: 0\r\n\r\n";
            write(&mut stream, loop_back.as_bytes()).await;
            Some(stream)
        }
    })
    .await;
    let config = settings().max_redirects(3).build();
    let e = transport_error(within(5, connect(&server.url, config, LONG)).await);
    assert_eq!(e.status(), Some(307), "{e:?}");
    assert!(e.to_string().contains("too many redirects"), "{e}");
    // The first POST and the three redirects it followed.
    assert_eq!(counted.load(Ordering::SeqCst), 4);
}

/// RL-25: a JSON answer that drips one byte at a time ends with the request timeout, and the
/// client closes its connection.
#[tokio::test]
async fn a_dripping_body_ends_with_the_request_timeout() {
    let closed = Arc::new(AtomicBool::new(false));
    let seen_closed = closed.clone();
    let server = Hostile::on_call(move |req, mut stream| {
        let closed = closed.clone();
        async move {
            let body = text_result(&req.id(), "slowly");
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            write(&mut stream, head.as_bytes()).await;
            for byte in body.bytes() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if !write(&mut stream, &[byte]).await {
                    closed.store(true, Ordering::SeqCst);
                    return None;
                }
            }
            None
        }
    })
    .await;
    let client = connect(&server.url, settings().build(), SHORT)
        .await
        .unwrap();
    let outcome = within(5, client.call_tool("x", json!({}))).await;
    assert!(
        matches!(outcome, Err(RequestError::Timeout(_))),
        "{outcome:?}"
    );
    within(5, async {
        while !seen_closed.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// RL-25: a server that reads requests and never answers (not the call, not the cancellation
/// that follows its timeout) still lets the call end with the request timeout.
#[tokio::test]
async fn a_server_that_never_answers_ends_with_the_request_timeout() {
    let server = Hostile::start(|req, stream| async move {
        if req.is_call() || req.rpc_method() == Some("notifications/cancelled") {
            // Holds the connection, silent, for longer than any bound here.
            tokio::time::sleep(Duration::from_secs(60)).await;
            drop(stream);
            return None;
        }
        hostile::normal(req, stream).await
    })
    .await;
    let client = connect(&server.url, settings().build(), SHORT)
        .await
        .unwrap();
    let outcome = within(5, client.call_tool("x", json!({}))).await;
    assert!(
        matches!(outcome, Err(RequestError::Timeout(_))),
        "{outcome:?}"
    );
}

/// RL-25: a server that never answers the POST of a notification (here
/// `notifications/initialized`) fails the send after `send_timeout` with an error that says
/// it timed out, instead of holding the client's connect forever.
#[tokio::test]
async fn a_notification_the_server_never_takes_fails_after_the_send_timeout() {
    let server = Hostile::start(|req, stream| async move {
        if req.rpc_method() == Some("notifications/initialized") {
            tokio::time::sleep(Duration::from_secs(60)).await;
            drop(stream);
            return None;
        }
        hostile::normal(req, stream).await
    })
    .await;
    let config = settings().send_timeout(Duration::from_millis(300)).build();
    let e = transport_error(within(5, connect(&server.url, config, LONG)).await);
    assert!(e.is_timeout(), "{e:?}");
}

/// Writes an SSE answer that opens an event with `data:` and then never ends its line, up to
/// `total` bytes; whether the client closed the connection before all of it was written.
async fn endless_line(mut stream: tokio::net::TcpStream, total: usize) -> bool {
    if !write(&mut stream, format!("{SSE_HEAD}data: ").as_bytes()).await {
        return true;
    }
    let chunk = vec![b'x'; 16 * 1024];
    for _ in 0..total / chunk.len() {
        if !write(&mut stream, &chunk).await {
            return true;
        }
    }
    false
}

/// RL-21: one SSE event larger than the cap (a `data` line that never ends) fails the call
/// with a protocol error as soon as it passes the cap, and the client closes the stream
/// before the server could send it all: the buffer did not grow with it.
#[tokio::test]
async fn an_event_larger_than_the_cap_is_an_error_not_a_growing_buffer() {
    let cut_off = Arc::new(AtomicBool::new(false));
    let seen_cut_off = cut_off.clone();
    let server = Hostile::on_call(move |_req, stream| {
        let cut_off = cut_off.clone();
        async move {
            // 256 MiB: far more than socket buffers hold.
            cut_off.store(endless_line(stream, 256 << 20).await, Ordering::SeqCst);
            None
        }
    })
    .await;
    let config = settings().max_event_size(64 * 1024).build();
    let client = connect(&server.url, config, LONG).await.unwrap();
    let e = transport_error(within(10, client.call_tool("x", json!({}))).await);
    assert!(e.is_protocol() && e.to_string().contains("65536"), "{e:?}");
    within(10, async {
        while !seen_cut_off.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// RL-21: a JSON answer larger than the cap fails the call with a protocol error, whether
/// its `Content-Length` says so up front or it has none and just goes on.
#[tokio::test]
async fn a_json_answer_larger_than_the_cap_is_an_error() {
    let server = Hostile::on_call(|req, mut stream| async move {
        let announced = req.header("x-case").is_none();
        if announced {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                        content-length: 1000000000\r\n\r\n{";
            write(&mut stream, head.as_bytes()).await;
            return None;
        }
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n[";
        write(&mut stream, head.as_bytes()).await;
        let chunk = vec![b' '; 16 * 1024];
        for _ in 0..(256 << 20) / chunk.len() {
            if !write(&mut stream, &chunk).await {
                break;
            }
        }
        None
    })
    .await;
    let config = settings().max_body_size(64 * 1024).build();
    let client = connect(&server.url, config, LONG).await.unwrap();
    let e = transport_error(within(10, client.call_tool("x", json!({}))).await);
    assert!(e.is_protocol() && e.to_string().contains("65536"), "{e:?}");

    let http = http::HeaderName::from_static("x-case");
    let config = settings()
        .max_body_size(64 * 1024)
        .header(http, http::HeaderValue::from_static("unannounced"))
        .build();
    let client = connect(&server.url, config, LONG).await.unwrap();
    let e = transport_error(within(10, client.call_tool("x", json!({}))).await);
    assert!(e.is_protocol() && e.to_string().contains("65536"), "{e:?}");
}

/// RL-24: bytes that are not UTF-8 in an SSE event are decoded as the SSE format says, each
/// invalid sequence becoming U+FFFD: the response still answers the call. In a JSON body,
/// which must be UTF-8, they make the answer unreadable: a protocol error.
#[tokio::test]
async fn invalid_utf8_is_replaced_in_events_and_refused_in_json() {
    let server = Hostile::on_call(|req, mut stream| async move {
        let text = text_result(&req.id(), "PLACEHOLDER");
        let (before, after) = text.split_once("PLACEHOLDER").unwrap();
        let mut body = Vec::new();
        body.extend_from_slice(before.as_bytes());
        body.extend_from_slice(b"bad \xff\xfe bytes");
        body.extend_from_slice(after.as_bytes());
        let mut answer = Vec::new();
        if req.header("accept").is_some_and(|a| a.contains("x-json")) {
            answer.extend_from_slice(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            answer.extend_from_slice(&body);
        } else {
            answer.extend_from_slice(SSE_HEAD.as_bytes());
            answer.extend_from_slice(b"event: message\ndata: ");
            answer.extend_from_slice(&body);
            answer.extend_from_slice(b"\n\n");
        }
        write(&mut stream, &answer).await;
        None
    })
    .await;
    let client = connect(&server.url, settings().build(), LONG)
        .await
        .unwrap();
    let result = within(5, client.call_tool("x", json!({}))).await.unwrap();
    assert_eq!(
        mcp_http_test_support::text(&result),
        "bad \u{fffd}\u{fffd} bytes"
    );

    // The same bytes in a JSON answer (the test's Accept header picks it).
    let json_please = http::HeaderValue::from_static("application/json, text/event-stream, x-json");
    let config = settings().header(http::header::ACCEPT, json_please).build();
    let client = connect(&server.url, config, LONG).await.unwrap();
    let e = transport_error(within(5, client.call_tool("x", json!({}))).await);
    assert!(e.is_protocol(), "{e:?}");
}

/// A server whose call streams send a priming event with `retry` and then close, and whose
/// resumptions (GET with `Last-Event-ID`) do the same, `gets` counted; with `answer_on_get`
/// the first resumption brings the response instead.
async fn closing_streams(
    retry: &'static str,
    gets: Arc<AtomicUsize>,
    answer_on_get: bool,
) -> Hostile {
    Hostile::start(move |req, mut stream| {
        let gets = gets.clone();
        async move {
            let priming = format!("{SSE_HEAD}id: e1\nretry: {retry}\ndata: \n\n");
            if req.is_call() {
                write(&mut stream, priming.as_bytes()).await;
                return None;
            }
            if req.method == "GET" && req.header("last-event-id").is_some() {
                gets.fetch_add(1, Ordering::SeqCst);
                if answer_on_get {
                    let answer = format!("{SSE_HEAD}{}", event(&text_result(&json!(1), "resumed")));
                    write(&mut stream, answer.as_bytes()).await;
                } else {
                    write(&mut stream, priming.as_bytes()).await;
                }
                return None;
            }
            hostile::normal(req, stream).await
        }
    })
    .await
}

/// RL-22: a `retry` of 0 does not make the client reconnect in a tight loop: reconnections
/// wait at least `min_retry`, and the call ends with its timeout.
#[tokio::test]
async fn a_retry_of_zero_does_not_spin() {
    let gets = Arc::new(AtomicUsize::new(0));
    let server = closing_streams("0", gets.clone(), false).await;
    let config = settings().min_retry(Duration::from_millis(100)).build();
    let client = connect(&server.url, config, Duration::from_secs(1))
        .await
        .unwrap();
    let outcome = within(5, client.call_tool("x", json!({}))).await;
    assert!(
        matches!(outcome, Err(RequestError::Timeout(_))),
        "{outcome:?}"
    );
    // About ten in the second; without the floor, thousands.
    let gets = gets.load(Ordering::SeqCst);
    assert!((1..=30).contains(&gets), "{gets} reconnections");
}

/// RL-22: a `retry` of a year is cut to `max_retry`: the stream is resumed and the call
/// answered, instead of waiting out its timeout.
#[tokio::test]
async fn a_retry_of_years_is_clamped_to_the_longest_backoff() {
    let gets = Arc::new(AtomicUsize::new(0));
    let server = closing_streams("31536000000", gets.clone(), true).await;
    let config = settings().max_retry(Duration::from_millis(200)).build();
    let client = connect(&server.url, config, LONG).await.unwrap();
    let result = within(5, client.call_tool("x", json!({}))).await.unwrap();
    assert_eq!(mcp_http_test_support::text(&result), "resumed");
    assert_eq!(gets.load(Ordering::SeqCst), 1);
}

/// RL-22: a server that answers every resumption with a stream that brings nothing is given
/// up on after `max_reconnect_attempts`, with an I/O error, not polled until the timeout.
#[tokio::test]
async fn resumptions_that_bring_nothing_are_given_up() {
    let gets = Arc::new(AtomicUsize::new(0));
    let counted = gets.clone();
    let server = Hostile::start(move |req, mut stream| {
        let gets = gets.clone();
        async move {
            if req.is_call() {
                write(
                    &mut stream,
                    format!("{SSE_HEAD}id: e1\ndata: \n\n").as_bytes(),
                )
                .await;
                return None;
            }
            if req.method == "GET" {
                gets.fetch_add(1, Ordering::SeqCst);
                write(&mut stream, SSE_HEAD.as_bytes()).await;
                return None;
            }
            hostile::normal(req, stream).await
        }
    })
    .await;
    let config = settings().max_reconnect_attempts(3).build();
    let client = connect(&server.url, config, LONG).await.unwrap();
    let e = transport_error(within(5, client.call_tool("x", json!({}))).await);
    assert_eq!(e.kind(), mcp_http_core::TransportErrorKind::Io, "{e:?}");
    assert_eq!(counted.load(Ordering::SeqCst), 3);
}

/// RL-29: a flood of server-to-client requests that wait (sampling the user never answers)
/// is bounded: at most `max_inbound_requests` are in progress, the others are answered at
/// once with an error, and the call that carried them still gets its response.
#[tokio::test]
async fn a_flood_of_server_requests_is_bounded() {
    const FLOOD: usize = 300;
    const LIMIT: usize = 8;
    let server = Hostile::on_call(|req, mut stream| async move {
        let mut answer = String::from(SSE_HEAD);
        for n in 0..FLOOD {
            let request = json!({
                "jsonrpc": "2.0", "id": format!("s{n}"), "method": "sampling/createMessage",
                "params": {
                    "messages": [{ "role": "user", "content": { "type": "text", "text": "hi" } }],
                    "maxTokens": 10
                }
            });
            answer.push_str(&event(&request.to_string()));
        }
        answer.push_str(&event(&text_result(&req.id(), "done")));
        write(&mut stream, answer.as_bytes()).await;
        None
    })
    .await;
    let builder =
        mcp_http_client::Client::builder("hostile", "1.0").sampling(|_params, _ctx| async {
            // The user never answers.
            std::future::pending().await
        });
    let peer = mcp_http_core::PeerConfig::default()
        .request_timeout(LONG)
        .max_inbound_requests(LIMIT);
    let client = hostile::connect_with(&server.url, settings().build(), peer, builder)
        .await
        .unwrap();
    let result = within(20, client.call_tool("x", json!({}))).await.unwrap();
    assert_eq!(mcp_http_test_support::text(&result), "done");
    assert!(client.peer().inflight_count() <= LIMIT);
    // Every refused one was answered with an error.
    within(20, async {
        loop {
            let refused = server.seen(|r| {
                r.is_response() && r.json.as_ref().unwrap()["error"]["code"] == json!(-32603)
            });
            if refused.len() >= FLOOD - LIMIT {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}
