//! `HttpClient::fetch`, the way non-MCP requests (OAuth discovery, token requests) go out over
//! the transport's own connections: a JSON document read whole, the body cap, and a refused
//! connection reported as a connect error with its cause.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::error::Error;

use bytes::Bytes;
use http_body_util::Full;
use mcp_http_client_http::HttpClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const DOCUMENT: &str = r#"{"issuer":"http://127.0.0.1","token_endpoint":"http://127.0.0.1/token"}"#;

/// A server on 127.0.0.1 that answers every request with `DOCUMENT`, one connection at a time.
async fn serve_document() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                loop {
                    let n = socket.read(&mut buffer).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..n]);
                    if request.windows(4).any(|w| w == b"\r\n\r\n") {
                        request.clear();
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                             content-length: {}\r\n\r\n{DOCUMENT}",
                            DOCUMENT.len()
                        );
                        socket.write_all(answer.as_bytes()).await.unwrap();
                    }
                }
            });
        }
    });
    format!("http://{addr}/.well-known/oauth-authorization-server")
}

fn get(url: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(url)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

fn client() -> HttpClient {
    HttpClient::builder()
        .proxies_from_env(false)
        .build()
        .unwrap()
}

#[tokio::test]
async fn fetch_reads_a_json_document() {
    let url = serve_document().await;
    let http = client();
    for _ in 0..2 {
        let response = http.fetch(get(&url), 64 * 1024).await.unwrap();
        assert_eq!(response.status(), http::StatusCode::OK);
        let document: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(document["token_endpoint"], "http://127.0.0.1/token");
    }
}

#[tokio::test]
async fn fetch_refuses_a_body_over_the_cap() {
    let url = serve_document().await;
    let err = client().fetch(get(&url), 8).await.unwrap_err();
    assert!(err.is_protocol(), "{err}");
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error_with_its_cause() {
    // A port nobody listens on: bound, then released.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = client()
        .fetch(get(&format!("http://{addr}/")), 1024)
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err}");
    assert!(!err.is_status() && !err.is_closed(), "{err}");
    assert!(err.source().is_some(), "{err:?}");
}
