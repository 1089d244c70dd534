//! `mcp-http serve --auth-*` as an OAuth 2.1 resource server, with tokens from a real
//! authorization server (oidc-provider, `mcp_http_test_support::oidc`): JWTs checked against its
//! JWKS, opaque tokens by introspection, scopes, challenges, session binding, hostile input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use mcp_http_test_support::oidc::AuthServer;
use serde_json::{Value, json};
use support::dpop::{DpopKey, ath, now};
use support::{ACCEPT, challenge, client, read_answer, serve};

/// POSTs `body` with `auth` (a full Authorization value) and an optional session.
async fn post(
    url: &str,
    auth: Option<&str>,
    session: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    support::post_auth(url, auth, None, session, body).await
}

/// POSTs `initialize` with `Authorization: Bearer <token>`.
async fn initialize_as(url: &str, token: &str) -> reqwest::Response {
    post(url, Some(&format!("Bearer {token}")), None, &initialize()).await
}

fn initialize() -> Value {
    mcp_http_test_support::initialize_request("2025-11-25")
}

fn call(tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
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

    // A-2, A-3: the metadata, path-inserted and at the root.
    for path in [
        prm_url.clone(),
        format!("{origin}/.well-known/oauth-protected-resource"),
    ] {
        let prm = client().get(&path).send().await.unwrap().text().await;
        let prm: Value = serde_json::from_str(&prm.unwrap()).unwrap();
        assert_eq!(prm["resource"], url, "{path}");
        assert_eq!(prm["authorization_servers"], json!([auth.issuer]));
        assert_eq!(prm["scopes_supported"], json!(["mcp:read", "mcp:write"]));
    }

    // A-3, A-23: no token, 401 naming the metadata and the scope.
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

    // A-24: step-up, 403 listing every scope the call needs.
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
        (
            "a kid with quotes and non-ASCII",
            forged(
                &json!({"alg": "ES256", "typ": "at+jwt", "kid": "x\"\u{e9}\\"}),
                &claims,
                "AAAA",
            ),
        ),
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
    let response = initialize_as(&server.url, &token).await;
    assert_eq!(response.status(), 401);
    assert!(
        challenge(&response).contains("expired"),
        "{}",
        challenge(&response)
    );
}

/// `serve` at `/opaque`, checking tokens by introspection at `endpoint` ("discover": from the
/// issuer's metadata) as client `rs-introspector` with `secret`.
async fn serve_introspecting(issuer: &str, endpoint: &str, secret: &str) -> support::Serve {
    serve(&[
        "--path",
        "/opaque",
        "--auth-issuer",
        issuer,
        "--introspect",
        endpoint,
        "--introspect-client-id",
        "rs-introspector",
        "--introspect-client-secret",
        secret,
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opaque_tokens_are_checked_by_introspection() {
    let auth = AuthServer::start();
    let server = serve_introspecting(&auth.issuer, "discover", "rs-secret").await;
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
    let response = initialize_as(&server.url, &jwt).await;
    assert_eq!(response.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_authorization_server_gives_503_then_recovers() {
    let port = mcp_http_test_support::ports::free_port();
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
    let response = initialize_as(&server.url, &token).await;
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
    let response = initialize_as(&server.url, &token).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refreshed_token_keeps_the_session_and_another_user_does_not_get_it() {
    let auth = AuthServer::start();
    let server = serve(&["--auth-issuer", &auth.issuer, "--auth-scope", "mcp:read"]).await;
    let url = server.url.as_str();
    let client_id = auth.register_public_client("openid offline_access mcp:read");
    let first = auth.authorize(&client_id, "alice", "openid offline_access mcp:read", url);
    let refresh_token = first["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    let bearer = format!("Bearer {}", first["access_token"].as_str().unwrap());
    let session = open_session(url, &bearer).await;

    // AR-3: the refreshed token (rotated refresh token) keeps the session.
    let (status, refreshed) = auth.refresh(&client_id, &refresh_token, url);
    assert_eq!(status, 200, "{refreshed}");
    assert_ne!(
        refreshed["refresh_token"].as_str(),
        Some(refresh_token.as_str()),
        "rotated"
    );
    let bearer2 = format!("Bearer {}", refreshed["access_token"].as_str().unwrap());
    assert_ne!(bearer, bearer2);
    let (status, answer) = read_answer(
        post(
            url,
            Some(&bearer2),
            Some(&session),
            &call("echo", json!({"message": "r"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (status, _) = auth.refresh(&client_id, &refresh_token, url);
    assert_eq!(status, 400, "the old refresh token is spent");

    // Another user of the same client does not get alice's session.
    let bob = auth.authorize(&client_id, "bob", "openid offline_access mcp:read", url);
    let bob = format!("Bearer {}", bob["access_token"].as_str().unwrap());
    let response = post(
        url,
        Some(&bob),
        Some(&session),
        &call("echo", json!({"message": "b"})),
    )
    .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpop_bound_tokens_need_a_fresh_proof_by_their_key() {
    let auth = AuthServer::start();
    let server = serve(&["--auth-issuer", &auth.issuer]).await;
    let url = server.url.as_str();
    let key = DpopKey::new();
    let token = key.bound_token(&auth, url);
    let authorization = format!("DPoP {token}");
    let good = |jti: &str| {
        key.proof(json!({"jti": jti, "htm": "POST", "htu": url, "iat": now(), "ath": ath(&token)}))
    };

    let send = |proof: Option<String>, authorization: String| {
        let url = url.to_owned();
        async move {
            let mut request = client()
                .post(&url)
                .header("accept", ACCEPT)
                .header("content-type", "application/json")
                .header("authorization", authorization)
                .body(initialize().to_string());
            if let Some(proof) = proof {
                request = request.header("dpop", proof);
            }
            request.send().await.unwrap()
        }
    };
    // AR-6: a fresh proof by the token's key is accepted.
    let response = send(Some(good("p1")), authorization.clone()).await;
    assert_eq!(response.status(), 200);

    let other = DpopKey::new();
    let refused = [
        ("the same proof again (jti replay)", Some(good("p1")), authorization.clone()),
        ("no proof", None, authorization.clone()),
        ("the Bearer scheme for a bound token", Some(good("p2")), format!("Bearer {token}")),
        ("another method", Some(key.proof(json!({"jti": "p3", "htm": "GET", "htu": url, "iat": now(), "ath": ath(&token)}))), authorization.clone()),
        ("another URL", Some(key.proof(json!({"jti": "p4", "htm": "POST", "htu": "http://127.0.0.1:1/mcp", "iat": now(), "ath": ath(&token)}))), authorization.clone()),
        ("an old iat", Some(key.proof(json!({"jti": "p5", "htm": "POST", "htu": url, "iat": now() - 600, "ath": ath(&token)}))), authorization.clone()),
        ("no ath", Some(key.proof(json!({"jti": "p6", "htm": "POST", "htu": url, "iat": now()}))), authorization.clone()),
        ("another key", Some(other.proof(json!({"jti": "p7", "htm": "POST", "htu": url, "iat": now(), "ath": ath(&token)}))), authorization.clone()),
        ("garbage", Some("not.a.proof".to_owned()), authorization.clone()),
    ];
    for (what, proof, authorization) in refused {
        let response = send(proof, authorization).await;
        assert_eq!(response.status(), 401, "{what}");
        let header = challenge(&response);
        assert!(
            header.contains("DPoP ") && header.contains("algs=\""),
            "{what}: {header}"
        );
    }
    // An unbound token under the DPoP scheme is refused too.
    let plain = auth.client_credentials("cc-reader", "reader-secret", "mcp:read", url);
    let response = send(Some(good("p8")), format!("DPoP {plain}")).await;
    assert_eq!(response.status(), 401);
    let response = send(Some(good("p9")), authorization).await;
    assert_eq!(response.status(), 200, "still serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tower_layer_checks_modern_requests_by_their_headers() {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use mcp_http_oauth_server::{JwtVerifier, OAuthLayer, ResourceServer};
    use tower_layer::Layer;
    use tower_service::Service;

    let auth = AuthServer::start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let gate = ResourceServer::builder(url.clone())
        .authorization_server(auth.issuer.clone())
        .method_scopes("tools/list", ["mcp:read"])
        .tool_scopes("add", ["mcp:write"])
        .verifier(JwtVerifier::new(auth.issuer.clone()).unwrap())
        .build()
        .unwrap();
    let endpoint =
        mcp_http_server_http::StreamableHttpService::builder(mcp_http::builtin::server()).build();
    let service = OAuthLayer::new(gate).layer(endpoint);
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let service = service.clone();
            tokio::spawn(async move {
                let handler = hyper::service::service_fn(move |request| {
                    let mut service = service.clone();
                    async move { service.call(request).await }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), handler)
                    .await;
            });
        }
    });

    let reader = format!(
        "Bearer {}",
        auth.client_credentials("cc-reader", "reader-secret", "mcp:read", &url)
    );
    let modern = |body: Value, auth: Option<String>| {
        let url = url.clone();
        async move {
            let mut request = client()
                .post(&url)
                .header("accept", ACCEPT)
                .header("content-type", "application/json");
            for (name, value) in support::modern_headers(&body) {
                request = request.header(name, value);
            }
            if let Some(auth) = auth {
                request = request.header("authorization", auth);
            }
            request.body(body.to_string()).send().await.unwrap()
        }
    };
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}});
    let list =
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}});
    let add = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 2, "b": 3}, "_meta": meta}});
    let echo = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": "m"}, "_meta": meta}});

    // Unauthenticated: the 401 names the method's scope.
    let response = modern(list.clone(), None).await;
    assert_eq!(response.status(), 401);
    assert!(
        challenge(&response).contains("scope=\"mcp:read\""),
        "{}",
        challenge(&response)
    );
    let (status, answer) = read_answer(modern(list, Some(reader.clone())).await).await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["result"]["tools"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "{answer}"
    );
    // echo needs nothing beyond a valid token; add needs mcp:write (from Mcp-Name).
    let (status, answer) = read_answer(modern(echo, Some(reader.clone())).await).await;
    assert_eq!(
        (status, &answer["result"]["content"][0]["text"]),
        (200, &json!("m")),
        "{answer}"
    );
    let response = modern(add.clone(), Some(reader)).await;
    assert_eq!(response.status(), 403);
    assert!(
        challenge(&response).contains("scope=\"mcp:write\""),
        "{}",
        challenge(&response)
    );
    let writer = format!(
        "Bearer {}",
        auth.client_credentials("cc-client", "cc-secret", "mcp:write", &url)
    );
    let (status, answer) = read_answer(modern(add, Some(writer)).await).await;
    assert_eq!(
        (status, &answer["result"]["content"][0]["text"]),
        (200, &json!("5")),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_or_silent_key_endpoints_give_503_within_the_deadline() {
    let auth = AuthServer::start();
    // A JWKS URL that answers JSON without keys, one that answers HTML, one that never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}/jwks", silent.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        let mut held = Vec::new();
        if let Ok((tcp, _)) = silent.accept() {
            held.push(tcp);
            std::thread::sleep(Duration::from_secs(8));
        }
    });
    let token = forged(
        &json!({"alg": "ES256", "typ": "at+jwt", "kid": "as-key-1"}),
        &json!({}),
        "AAAA",
    );
    for jwks in [
        format!("{}/.well-known/openid-configuration", auth.issuer),
        format!("{}/no-such-page", auth.issuer),
        silent_url,
    ] {
        let server = serve(&["--auth-issuer", &auth.issuer, "--auth-jwks", &jwks]).await;
        let started = Instant::now();
        let response = initialize_as(&server.url, &token).await;
        assert_eq!(response.status(), 503, "{jwks}");
        assert!(response.headers().contains_key("retry-after"));
        assert!(
            started.elapsed() < Duration::from_secs(7),
            "{jwks}: {:?}",
            started.elapsed()
        );
    }
    let _ = held.join();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_introspection_endpoint_gives_503_and_no_token_passes() {
    let auth = AuthServer::start();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let endpoint = format!("http://{closed}/token/introspection");
    let server = serve_introspecting(&auth.issuer, &endpoint, "rs-secret").await;
    let token = auth.client_credentials("cc-reader", "reader-secret", "mcp:read", &server.url);
    let response = initialize_as(&server.url, &token).await;
    assert_eq!(response.status(), 503);
    // Wrong credentials for introspection: the server says it cannot check, it does not let in.
    let wrong = serve_introspecting(&auth.issuer, "discover", "wrong").await;
    let token = auth.client_credentials("cc-reader", "reader-secret", "mcp:read", &wrong.url);
    let response = initialize_as(&wrong.url, &token).await;
    assert_eq!(response.status(), 503);
}
