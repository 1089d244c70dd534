//! MCP over WebSocket from `mcp-http serve --websocket` and `mcp-http bridge --websocket`
//! (BR-36, BR-37), driven by a plain WebSocket client: one JSON-RPC message per text frame, the
//! `mcp` subprotocol, a session per connection (a child of its own with `--child-per-session`,
//! stopped and reaped when the connection closes), and bad input refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_support;

use std::process::Child;
use std::time::Duration;

use bridge_support::*;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn serve(extra: &[&str]) -> (Child, u16) {
    let mut args = vec!["--websocket"];
    args.extend_from_slice(extra);
    serve_any(&args).await
}

/// Connects offering the `mcp` subprotocol (and `origin`, when given).
async fn connect(
    url: &str,
    origin: Option<&str>,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "mcp".parse().unwrap());
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
    }
    let (socket, response) = tokio_tungstenite::connect_async(request).await?;
    assert_eq!(response.headers()["sec-websocket-protocol"], "mcp");
    Ok(socket)
}

async fn send(socket: &mut Socket, message: &Value) {
    socket.send(Frame::text(message.to_string())).await.unwrap();
}

/// The next text frame's JSON (within 10 s); `None` if the connection closed.
async fn receive(socket: &mut Socket) -> Option<Value> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame within 10 s");
        match frame {
            Some(Ok(Frame::Text(text))) => return Some(serde_json::from_str(&text).unwrap()),
            Some(Ok(Frame::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}

/// The response with `id`, answering the server's sampling requests on the way with `name`.
async fn response(socket: &mut Socket, id: i64, name: &str) -> Value {
    loop {
        let message = receive(socket).await.expect("the connection closed");
        if message["id"] == id && message.get("method").is_none() {
            return message;
        }
        if message["method"] == "sampling/createMessage" {
            let answer = json!({"jsonrpc": "2.0", "id": message["id"], "result": {
                "role": "assistant", "model": "m", "content": {"type": "text", "text": name}}});
            send(socket, &answer).await;
        }
    }
}

async fn initialize(socket: &mut Socket) -> Value {
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {"sampling": {}},
        "clientInfo": {"name": "ws", "version": "1"}}});
    send(socket, &init).await;
    let answer = response(socket, 1, "").await;
    send(
        socket,
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    answer
}

/// BR-36: a session over one connection, and what is refused.
#[tokio::test]
async fn a_websocket_carries_a_session_and_refuses_bad_input() {
    let (mut server, port) = serve(&["--max-body-bytes", "2000"]).await;
    let url = format!("ws://127.0.0.1:{port}/ws");
    let mut socket = connect(&url, None).await.unwrap();
    let init = initialize(&mut socket).await;
    assert_eq!(init["result"]["serverInfo"]["name"], "mcp-http", "{init}");
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": "over ws"}}});
    send(&mut socket, &call).await;
    let echoed = response(&mut socket, 2, "").await;
    assert_eq!(
        echoed["result"]["content"][0]["text"], "over ws",
        "{echoed}"
    );
    // The server's sampling request comes on the same connection, our answer goes back on it.
    let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "sample_llm", "arguments": {"prompt": "hi"}}});
    send(&mut socket, &call).await;
    let sampled = response(&mut socket, 3, "sampled-over-ws").await;
    assert_eq!(
        sampled["result"]["content"][0]["text"],
        "LLM response: sampled-over-ws"
    );
    // Malformed JSON: a parse error, and the session goes on.
    socket.send(Frame::text("{not json")).await.unwrap();
    let error = receive(&mut socket).await.unwrap();
    assert_eq!(error["error"]["code"], -32700, "{error}");
    send(
        &mut socket,
        &json!({"jsonrpc": "2.0", "id": 4, "method": "ping"}),
    )
    .await;
    assert!(response(&mut socket, 4, "").await.get("result").is_some());
    // A frame over --max-body-bytes ends the connection.
    let big =
        json!({"jsonrpc": "2.0", "id": 5, "method": "ping", "params": {"pad": "x".repeat(4000)}});
    let _ = socket.send(Frame::text(big.to_string())).await;
    assert_eq!(receive(&mut socket).await, None, "the connection is closed");

    // A page of another site cannot open one: 403 before the upgrade.
    match connect(&url, Some("https://evil.example")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
        }
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    // A plain GET is told to upgrade.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/ws"))
        .await
        .unwrap();
    assert_eq!(plain.status(), 426);
    server.kill().unwrap();
    server.wait().unwrap();
}

/// BR-37: the bridge over WebSocket, a child per connection: the connection's close stops the
/// child, which is reaped.
#[tokio::test]
async fn the_bridge_over_websocket_stops_a_connections_child_when_it_closes() {
    let bridge = Bridged::start(&[
        "--websocket",
        "--child-per-session",
        "--",
        BIN,
        "serve",
        "--stdio",
    ])
    .await;
    let url = format!("ws://127.0.0.1:{}/ws", bridge.port);
    let mut a = connect(&url, None).await.unwrap();
    let mut b = connect(&url, None).await.unwrap();
    initialize(&mut a).await;
    initialize(&mut b).await;
    assert_eq!(children(bridge.pid()).len(), 2, "a child per connection");
    let call = |id: i64| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "sample_llm", "arguments": {"prompt": "hi"}}})
    };
    send(&mut a, &call(2)).await;
    send(&mut b, &call(2)).await;
    let (ra, rb) = tokio::join!(response(&mut a, 2, "alice"), response(&mut b, 2, "bob"));
    assert_eq!(ra["result"]["content"][0]["text"], "LLM response: alice");
    assert_eq!(rb["result"]["content"][0]["text"], "LLM response: bob");

    // `a` goes away abruptly (no close frame); `b` closes properly.
    drop(a);
    eventually(Duration::from_secs(10), "a's child stops", || {
        children(bridge.pid()).len() == 1
    })
    .await;
    b.close(None).await.unwrap();
    eventually(Duration::from_secs(10), "b's child stops", || {
        children(bridge.pid()).is_empty()
    })
    .await;
    all_reaped(bridge.pid()).await;
}
