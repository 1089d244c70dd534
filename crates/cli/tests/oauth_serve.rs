//! `mcp-http serve --auth-*` as an OAuth 2.1 resource server, with tokens from a real
//! authorization server (oidc-provider, `mcp_http_test_support::oauth`): JWTs checked against its
//! JWKS, opaque tokens by introspection, scopes, challenges, session binding, hostile input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use mcp_http_test_support::oauth::AuthServer;
use serde_json::{Value, json};
use support::{ACCEPT, BIN, client, read_answer};
use tokio::io::{AsyncBufReadExt, BufReader};

/// A running `mcp-http serve`; killed when dropped.
struct Serve {
    child: tokio::process::Child,
    url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts `mcp-http serve --port 0 ARGS` and waits for its URL.
async fn serve(args: &[&str]) -> Serve {
    let mut child = tokio::process::Command::new(BIN)
        .args(["serve", "--port", "0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("mcp-http: serving MCP on ") {
                return url.to_owned();
            }
        }
        panic!("mcp-http serve exited before serving");
    })
    .await
    .expect("mcp-http serve did not start in 20 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Serve { child, url }
}

/// POSTs `body` with `token` (a full Authorization value) and an optional session.
async fn post(
    url: &str,
    auth: Option<&str>,
    session: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = client()
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    request.send().await.unwrap()
}

fn initialize() -> Value {
    mcp_http_test_support::initialize_request("2025-11-25")
}

fn call(tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
}

/// The `WWW-Authenticate` values of a response, joined.
fn challenge(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Opens a session with `auth`; its id.
async fn open_session(url: &str, auth: &str) -> String {
    let response = post(url, Some(auth), None, &initialize()).await;
    assert_eq!(response.status(), 200, "initialize with a valid token");
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let response = post(url, Some(auth), Some(&session), &initialized).await;
    assert_eq!(response.status(), 202);
    session
}

/// A JWT with `header` and `claims`, signed with HMAC `secret` (never a valid signature here).
fn forged(header: &Value, claims: &Value, signature: &str) -> String {
    use base64::Engine;
    let e = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.{signature}", e(header), e(claims))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_resource_server_accepts_real_tokens_and_refuses_the_rest() {
    let auth = AuthServer::start();
    let server = serve(&[
        "--auth-issuer",
        &auth.issuer,
        "--auth-scope",
        "mcp:read",
        "--auth-tool-scope",
        "add=mcp:write",
    ])
    .await;
    let url = server.url.as_str();
    let origin = url.trim_end_matches("/mcp");
    let prm_url = format!("{origin}/.well-known/oauth-protected-resource/mcp");

    // the metadata, path-inserted and at the root.
    for path in [
        prm_url.clone(),
        format!("{origin}/.well-known/oauth-protected-resource"),
    ] {
        let prm: Value = serde_json::from_str(
            &client()
                .get(&path)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(prm["resource"], url, "{path}");
        assert_eq!(prm["authorization_servers"], json!([auth.issuer]));
        assert_eq!(prm["scopes_supported"], json!(["mcp:read", "mcp:write"]));
    }

    // no token, 401 naming the metadata and the scope.
    let response = post(url, None, None, &initialize()).await;
    assert_eq!(response.status(), 401);
    let header = challenge(&response);
    assert!(
        header.starts_with(&format!(
            "Bearer resource_metadata=\"{prm_url}\", scope=\"mcp:read\""
        )),
        "{header}"
    );
    assert!(header.contains("DPoP "), "{header}");

    // A valid token for this resource: a session and a tool call.
    let reader = auth.client_credentials("cc-reader", "reader-secret", "mcp:read", url);
    let bearer = format!("Bearer {reader}");
    let session = open_session(url, &bearer).await;
    let (status, answer) = read_answer(
        post(
            url,
            Some(&bearer),
            Some(&session),
            &call("echo", json!({"message": "hi"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["result"]["content"][0]["text"], "hi", "{answer}");

    // step-up, 403 listing every scope the call needs.
    let response = post(
        url,
        Some(&bearer),
        Some(&session),
        &call("add", json!({"a": 1, "b": 2})),
    )
    .await;
    assert_eq!(response.status(), 403);
    let header = challenge(&response);
    assert!(header.contains("scope=\"mcp:read mcp:write\""), "{header}");
    assert!(header.contains("error=\"insufficient_scope\""), "{header}");

    // AR-3: a new token for the same principal keeps the session; another principal gets 404.
    let again = format!(
        "Bearer {}",
        auth.client_credentials("cc-reader", "reader-secret", "mcp:read", url)
    );
    assert_ne!(again, bearer);
    let (status, _) = read_answer(
        post(
            url,
            Some(&again),
            Some(&session),
            &call("echo", json!({"message": "x"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        status, 200,
        "a new token of the same client and subject keeps the session"
    );
    let writer = format!(
        "Bearer {}",
        auth.client_credentials("cc-client", "cc-secret", "mcp:read mcp:write", url)
    );
    let response = post(
        url,
        Some(&writer),
        Some(&session),
        &call("echo", json!({"message": "x"})),
    )
    .await;
    assert_eq!(
        response.status(),
        404,
        "another principal does not get the session"
    );
    let writer_session = open_session(url, &writer).await;
    let (status, answer) = read_answer(
        post(
            url,
            Some(&writer),
            Some(&writer_session),
            &call("add", json!({"a": 1, "b": 2})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, &answer["result"]["content"][0]["text"]),
        (200, &json!("3")),
        "{answer}"
    );

    // A-21, AR-4: refused tokens, each a 401 with a challenge.
    let other = auth.client_credentials(
        "cc-reader",
        "reader-secret",
        "mcp:read",
        "http://127.0.0.1:1/mcp",
    );
    let claims = json!({"iss": auth.issuer, "sub": "mallory", "aud": url, "scope": "mcp:read", "exp": 4_000_000_000u64, "client_id": "cc-reader"});
    let parts: Vec<&str> = reader.split('.').collect();
    let unknown_kid = {
        use base64::Engine;
        let e = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.{}",
            e(&json!({"alg": "ES256", "typ": "at+jwt", "kid": "nope"})),
            parts[1],
            parts[2]
        )
    };
    let refused = [
        ("another audience", other),
        (
            "alg none",
            forged(
                &json!({"alg": "none", "typ": "at+jwt", "kid": "as-key-1"}),
                &claims,
                "",
            ),
        ),
        (
            "HS256",
            forged(
                &json!({"alg": "HS256", "typ": "at+jwt", "kid": "as-key-1"}),
                &claims,
                "c2lnbmF0dXJl",
            ),
        ),
        (
            "a tampered payload",
            format!(
                "{}.{}.{}",
                parts[0],
                forged(&json!({}), &claims, "").split('.').nth(1).unwrap(),
                parts[2]
            ),
        ),
        ("an unknown kid", unknown_kid),
        ("garbage", "not-a-token".to_owned()),
    ];
    for (what, token) in refused {
        let response = post(url, Some(&format!("Bearer {token}")), None, &initialize()).await;
        assert_eq!(response.status(), 401, "{what}");
        assert!(
            challenge(&response).contains("error=\"invalid_token\""),
            "{what}: {}",
            challenge(&response)
        );
    }

    // AR-8: hostile headers get a clear 400/401.
    let huge = format!("Bearer {}", "a".repeat(9000));
    let response = post(url, Some(&huge), None, &initialize()).await;
    assert_eq!(response.status(), 400, "oversized Authorization");
    let response = client()
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .header("authorization", &bearer)
        .header("authorization", &bearer)
        .body(initialize().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "two Authorization headers");
    for value in ["Basic Y2M6eA==", "Bearer", "Bearer a b", "DPoP abc"] {
        let response = post(url, Some(value), None, &initialize()).await;
        assert_eq!(response.status(), 401, "{value}");
    }

    // And it keeps serving.
    let (status, _) = read_answer(
        post(
            url,
            Some(&bearer),
            Some(&session),
            &call("echo", json!({"message": "still"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_jwt_gets_401() {
    let auth = AuthServer::start_with_ttl(1);
    let server = serve(&["--auth-issuer", &auth.issuer, "--auth-leeway", "0"]).await;
    let token = auth.client_credentials("cc-reader", "reader-secret", "mcp:read", &server.url);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let response = post(
        &server.url,
        Some(&format!("Bearer {token}")),
        None,
        &initialize(),
    )
    .await;
    assert_eq!(response.status(), 401);
    assert!(
        challenge(&response).contains("expired"),
        "{}",
        challenge(&response)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opaque_tokens_are_checked_by_introspection() {
    let auth = AuthServer::start();
    let server = serve(&[
        "--path",
        "/opaque",
        "--auth-issuer",
        &auth.issuer,
        "--introspect",
        "discover",
        "--introspect-client-id",
        "rs-introspector",
        "--introspect-client-secret",
        "rs-secret",
    ])
    .await;
    let token = auth.client_credentials("cc-reader", "reader-secret", "mcp:read", &server.url);
    assert_eq!(token.split('.').count(), 1, "an opaque token, not a JWT");
    let bearer = format!("Bearer {token}");
    let session = open_session(&server.url, &bearer).await;
    let (status, answer) = read_answer(
        post(
            &server.url,
            Some(&bearer),
            Some(&session),
            &call("echo", json!({"message": "o"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let response = post(
        &server.url,
        Some("Bearer unknown-opaque-token"),
        None,
        &initialize(),
    )
    .await;
    assert_eq!(response.status(), 401);
    // A JWT for another resource is not active for this one either.
    let jwt = auth.client_credentials(
        "cc-reader",
        "reader-secret",
        "mcp:read",
        "http://127.0.0.1:1/mcp",
    );
    let response = post(
        &server.url,
        Some(&format!("Bearer {jwt}")),
        None,
        &initialize(),
    )
    .await;
    assert_eq!(response.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_authorization_server_gives_503_then_recovers() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let issuer = format!("http://127.0.0.1:{port}");
    let server = serve(&["--auth-issuer", &issuer]).await;
    let started = Instant::now();
    let response = post(&server.url, Some("Bearer abc.def.ghi"), None, &initialize()).await;
    // A garbage token is refused without asking the authorization server.
    assert_eq!(response.status(), 401);
    let token = forged(
        &json!({"alg": "ES256", "typ": "at+jwt", "kid": "as-key-1"}),
        &json!({}),
        "AAAA",
    );
    let response = post(
        &server.url,
        Some(&format!("Bearer {token}")),
        None,
        &initialize(),
    )
    .await;
    assert_eq!(response.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "bounded: {:?}",
        started.elapsed()
    );
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    // The authorization server comes up on that port: real tokens are accepted.
    let auth = AuthServer::start_on(port, 300);
    let token = auth.client_credentials("cc-reader", "reader-secret", "mcp:read", &server.url);
    let response = post(
        &server.url,
        Some(&format!("Bearer {token}")),
        None,
        &initialize(),
    )
    .await;
    assert_eq!(response.status(), 200);
}
