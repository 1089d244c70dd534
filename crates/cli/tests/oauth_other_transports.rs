//! `mcp-http serve --auth-issuer ... --legacy-sse --websocket`: the OAuth resource server gates
//! the transports served beside the endpoint as it gates the endpoint (BR-38), with tokens from a
//! real authorization server (oidc-provider, `mcp_http_test_support::oidc`); the health path
//! needs none (RL-54).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use mcp_http_test_support::oidc::AuthServer;
use serde_json::json;
use support::{client, serve};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_sse_and_websocket_paths_need_a_token_too() {
    let auth = AuthServer::start();
    let server = serve(&[
        "--auth-issuer",
        &auth.issuer,
        "--auth-scope",
        "mcp:read",
        "--legacy-sse",
        "--websocket",
    ])
    .await;
    let url = server.url.as_str();
    let origin = url.trim_end_matches("/mcp");
    let token = auth.client_credentials("cc-reader", "reader-secret", "mcp:read", url);
    let bearer = format!("Bearer {token}");
    let http = client();

    // A balancer's health check carries no token: the health path is not gated.
    let health = http.get(format!("{origin}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), r#"{"status":"ok"}"#);

    // The 2024-11-05 stream: 401 with the challenge without a token, the stream with one.
    let refused = http
        .get(format!("{origin}/sse"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().contains_key("www-authenticate"));
    let mut stream = http
        .get(format!("{origin}/sse"))
        .header("accept", "text/event-stream")
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let first = String::from_utf8(stream.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    let endpoint = first
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap()
        .to_owned();
    // Its POSTs: 401 without the token, 202 with it.
    let note = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();
    let post = |auth: Option<&str>| {
        let mut request = http
            .post(format!("{origin}{endpoint}"))
            .header("content-type", "application/json")
            .body(note.clone());
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };
    assert_eq!(post(None).await.unwrap().status(), 401);
    assert_eq!(post(Some(&bearer)).await.unwrap().status(), 202);

    // WebSocket: the upgrade is refused with 401 without a token, made with one.
    let ws = format!("{}/ws", origin.replace("http:", "ws:"));
    match tokio_tungstenite::connect_async(ws.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
        }
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    let mut request = ws.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", bearer.parse().unwrap());
    let (_socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.status(), 101);
}
