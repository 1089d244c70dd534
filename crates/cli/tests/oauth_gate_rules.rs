//! The resource server's rules beyond the token itself, with tokens from a real authorization
//! server (oidc-provider): server-provided DPoP nonces (AR-10), scopes declared on the tools
//! (AR-11), CORS headers on refusals (AR-12), and `mcp-http bench -H` through the gate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use mcp_http_oauth_server::{JwtVerifier, ResourceServer};
use mcp_http_server::{RequestContext, Server, ToolDef};
use mcp_http_server_http::StreamableHttpService;
use mcp_http_test_support::oidc::AuthServer;
use serde_json::{Value, json};
use support::dpop::{DpopKey, ath, now};
use support::{ACCEPT, challenge, client, get_text, read_answer, run_cli, serve};

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

/// POSTs `body` with `authorization`, an optional DPoP proof and session.
async fn post(
    url: &str,
    authorization: &str,
    proof: Option<&str>,
    session: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    support::post_auth(url, Some(authorization), proof, session, body).await
}

fn initialize() -> Value {
    mcp_http_test_support::initialize_request("2025-11-25")
}

fn call(tool: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": tool, "arguments": {}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpop_nonces_are_required_handed_out_and_rotated() {
    let auth = AuthServer::start();
    // Nonces rotate every 2 s and are good for two periods.
    let server = serve(&["--auth-issuer", &auth.issuer, "--auth-dpop-nonce", "2"]).await;
    let url = server.url.as_str();
    let key = DpopKey::new();
    let token = key.bound_token(&auth, url);
    let authorization = format!("DPoP {token}");
    let proof = |jti: &str, nonce: Option<&str>| {
        let mut claims =
            json!({"jti": jti, "htm": "POST", "htu": url, "iat": now(), "ath": ath(&token)});
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        key.proof(claims)
    };

    // AR-10: a proof without a nonce: 401 use_dpop_nonce and a nonce to use.
    let response = post(
        url,
        &authorization,
        Some(&proof("p1", None)),
        None,
        &initialize(),
    )
    .await;
    assert_eq!(response.status(), 401);
    let header_text = challenge(&response);
    assert!(
        header_text.contains("error=\"use_dpop_nonce\""),
        "{header_text}"
    );
    let nonce = header(&response, "dpop-nonce").expect("a DPoP-Nonce header");
    // With it: accepted.
    let response = post(
        url,
        &authorization,
        Some(&proof("p2", Some(&nonce))),
        None,
        &initialize(),
    )
    .await;
    assert_eq!(response.status(), 200);
    // A nonce this server did not issue: refused, with a fresh one.
    let response = post(
        url,
        &authorization,
        Some(&proof("p3", Some("1.forged"))),
        None,
        &initialize(),
    )
    .await;
    assert_eq!(response.status(), 401);
    assert!(challenge(&response).contains("use_dpop_nonce"));
    // Rotation: after two periods the nonce is stale; the answer hands out another one.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let response = post(
        url,
        &authorization,
        Some(&proof("p4", Some(&nonce))),
        None,
        &initialize(),
    )
    .await;
    assert_eq!(response.status(), 401, "a rotated-out nonce");
    let rotated = header(&response, "dpop-nonce").expect("a new DPoP-Nonce");
    assert_ne!(rotated, nonce);
    let response = post(
        url,
        &authorization,
        Some(&proof("p5", Some(&rotated))),
        None,
        &initialize(),
    )
    .await;
    assert_eq!(response.status(), 200);

    // Our client (DPoP with oidc-provider) follows the use_dpop_nonce answer by itself.
    let dir = std::env::temp_dir().join(format!("mcp-http-nonce-{}", std::process::id()));
    let dir_text = dir.to_string_lossy().into_owned();
    let run = run_cli(
        &[
            "call",
            url,
            "echo",
            "message=nonce",
            "--client-credentials",
            "--client-id",
            "cc-reader",
            "--client-secret",
            "reader-secret",
        ],
        &[("MCP_HTTP_AUTH_DIR", Some(&dir_text))],
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("nonce"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_declared_on_tools_are_required_by_the_resource_server() {
    let auth = AuthServer::start();
    let wipe = ToolDef::new(
        "wipe",
        "Needs mcp:admin",
        |_: Value, _: RequestContext| async { "wiped".to_owned() },
    )
    .scopes(["mcp:admin"]);
    let echo = ToolDef::new(
        "echo",
        "Needs nothing more",
        |_: Value, _: RequestContext| async { "echoed".to_owned() },
    );
    let server = Server::builder("scoped", "1.0")
        .tool(wipe)
        .tool(echo)
        .build();
    assert_eq!(server.tool_scopes("wipe"), ["mcp:admin"]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let tools = server.clone();
    let gate = ResourceServer::builder(url.clone())
        .authorization_server(auth.issuer.clone())
        .require_scope("mcp:read")
        .scopes_supported(server.declared_scopes())
        .tool_scopes_from(move |name| tools.tool_scopes(name))
        .verifier(JwtVerifier::new(auth.issuer.clone()).unwrap())
        .build()
        .unwrap();
    let service = StreamableHttpService::builder(server.clone())
        .front(gate.front())
        .build();
    tokio::spawn(mcp_http_server_http::serve(
        listener,
        service,
        std::future::pending::<()>(),
    ));

    // The metadata lists the declared scope.
    let origin = url.trim_end_matches("/mcp");
    let (_, prm) = get_text(&format!(
        "{origin}/.well-known/oauth-protected-resource/mcp"
    ))
    .await;
    let prm: Value = serde_json::from_str(&prm).unwrap();
    assert_eq!(
        prm["scopes_supported"],
        json!(["mcp:admin", "mcp:read"]),
        "{prm}"
    );

    let session = |token: String| {
        let url = url.clone();
        async move {
            let bearer = format!("Bearer {token}");
            let response = post(&url, &bearer, None, None, &initialize()).await;
            assert_eq!(response.status(), 200);
            let id = header(&response, "mcp-session-id").unwrap();
            let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
            assert_eq!(
                post(&url, &bearer, None, Some(&id), &note).await.status(),
                202
            );
            (bearer, id)
        }
    };
    let (reader, reader_session) =
        session(auth.client_credentials("cc-reader", "reader-secret", "mcp:read", &url)).await;
    let (status, answer) =
        read_answer(post(&url, &reader, None, Some(&reader_session), &call("echo")).await).await;
    assert_eq!(status, 200, "{answer}");
    // AR-11: the tool's declared scope is needed: 403 naming every scope the call needs.
    let response = post(&url, &reader, None, Some(&reader_session), &call("wipe")).await;
    assert_eq!(response.status(), 403);
    let header_text = challenge(&response);
    assert!(
        header_text.contains("scope=\"mcp:admin mcp:read\""),
        "{header_text}"
    );
    assert!(header_text.contains("insufficient_scope"), "{header_text}");

    let (admin, admin_session) =
        session(auth.client_credentials("cc-client", "cc-secret", "mcp:read mcp:admin", &url))
            .await;
    let (status, answer) =
        read_answer(post(&url, &admin, None, Some(&admin_session), &call("wipe")).await).await;
    assert_eq!(status, 200);
    assert_eq!(answer["result"]["content"][0]["text"], "wiped", "{answer}");

    // A tool added later with a scope counts at once; replacing it without scopes frees it.
    server.add_tool(
        ToolDef::new(
            "echo",
            "Now needs mcp:write",
            |_: Value, _: RequestContext| async { "echoed".to_owned() },
        )
        .scopes(["mcp:write"]),
    );
    let response = post(&url, &reader, None, Some(&reader_session), &call("echo")).await;
    assert_eq!(response.status(), 403);
    assert!(challenge(&response).contains("mcp:write"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_cors_headers_when_cors_is_on() {
    // The token is never verified here (no token, or a malformed one): any issuer URL does.
    let issuer = "http://127.0.0.1:9";
    let origin = "http://localhost:5173";
    let with = serve(&["--auth-issuer", issuer, "--cors"]).await;
    let without = serve(&["--auth-issuer", issuer]).await;
    for (auth, status) in [(None, 401), (Some("Bearer not a token"), 401)] {
        let mut request = client()
            .post(&with.url)
            .header("accept", ACCEPT)
            .header("content-type", "application/json")
            .header("origin", origin)
            .body(initialize().to_string());
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status);
        // AR-12: a page on that origin can read the status and the challenge.
        assert_eq!(
            header(&response, "access-control-allow-origin").as_deref(),
            Some(origin)
        );
        let exposed = header(&response, "access-control-expose-headers").unwrap_or_default();
        assert!(exposed.contains("www-authenticate"), "{exposed}");
        assert!(!challenge(&response).is_empty());
    }
    // The preflight allows the headers an authorized request sends.
    let response = client()
        .request(reqwest::Method::OPTIONS, &with.url)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let allowed = header(&response, "access-control-allow-headers").unwrap_or_default();
    assert!(
        allowed.contains("authorization") && allowed.contains("dpop"),
        "{allowed}"
    );
    // Without --cors, no CORS headers on the refusal.
    let response = client()
        .post(&without.url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .header("origin", origin)
        .body(initialize().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(header(&response, "access-control-allow-origin"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_sends_headers_and_measures_through_the_gate() {
    let auth = AuthServer::start();
    let server = serve(&["--auth-issuer", &auth.issuer, "--auth-scope", "mcp:read"]).await;
    let token = auth.client_credentials("cc-reader", "reader-secret", "mcp:read", &server.url);
    let bench = |extra: Vec<String>| {
        let url = server.url.clone();
        async move {
            let mut args: Vec<String> = [
                "bench",
                &url,
                "--requests",
                "50",
                "--concurrency",
                "2",
                "--warmup",
                "0",
                "--json",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            args.extend(extra);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_cli(&args, &[]).await
        }
    };
    let run = bench(vec!["-H".into(), format!("Authorization: Bearer {token}")]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["errors"]["total"], 0, "{report}");
    // Without the header every call is refused by the gate.
    let run = bench(vec![]).await;
    assert_ne!(run.code, 0, "{run:?}");
    let run = bench(vec!["-H".into(), "no colon".into()]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("invalid --header"), "{run:?}");
}
