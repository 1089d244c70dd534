//! `mcp-http bridge` with OAuth, against a real authorization server (oidc-provider,
//! `mcp_http_test_support::oidc`): `bridge URL` in front of `mcp-http serve --auth-issuer`
//! authorizes with the CLI's own flow (dynamic registration, a headless browser, the per-user
//! token store) while its stdout stays pure JSON-RPC (BR-18); the serving side with `serve`'s
//! `--auth-*` flags refuses a request without a token and serves one with a token from that
//! authorization server (BR-19).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_support;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_support::*;
use mcp_http_client_http::{HttpClient, HttpClientConfig, StreamableHttpClient};
use mcp_http_test_support::oidc::AuthServer;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Starts `mcp-http ARGS` (a server printing `PREFIX URL` on stderr) and waits for that URL.
async fn started(args: &[&str], prefix: &str) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(BIN)
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
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.to_owned();
            }
        }
        panic!("mcp-http {args:?} exited before serving");
    })
    .await
    .expect("not serving within 20 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_url_authorizes_with_the_cli_flow_and_keeps_stdout_for_json_rpc() {
    let auth = AuthServer::start();
    let (_serve, url) = started(
        &[
            "serve",
            "--port",
            "0",
            "--auth-issuer",
            &auth.issuer,
            "--auth-scope",
            "mcp:read",
        ],
        "mcp-http: serving MCP on ",
    )
    .await;
    let dir = std::env::temp_dir().join(format!("mcp-bridge-oauth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let jar = dir.with_extension("cookies");
    // A headless "browser" that logs each use, so the second process can be shown not to need it.
    let uses = dir.with_extension("uses");
    let script = dir.with_extension("browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho used >> {uses}\nexec curl -s -L -c {jar} -b {jar} -o /dev/null \"$1\"\n",
            uses = uses.display(),
            jar = jar.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let browser = script.display().to_string();

    for (round, message) in ["authorized", "from the store"].into_iter().enumerate() {
        let mut bridge = tokio::process::Command::new(BIN);
        bridge
            .args(["bridge", &url, "--browser-command", &browser])
            .env("MCP_HTTP_AUTH_DIR", &dir)
            .env_remove("BROWSER");
        let transport = mcp_http_transport::stdio::child(bridge).unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        // The first POST gets 401; the bridge registers, sends the "browser", takes the code and
        // retries, all before the stdio client's initialize is answered. A second bridge process
        // uses the tokens the first one stored (and their DPoP key, AC-14): no browser again.
        let client = client_builder("stdio", logs)
            .connect(transport)
            .await
            .unwrap();
        assert_eq!(client.server_info().unwrap().name, "mcp-http");
        let echoed = client
            .call_tool("echo", json!({"message": message}))
            .await
            .unwrap();
        assert_eq!(text(&echoed), message);
        client.shutdown().await;
        let used = std::fs::read_to_string(&uses)
            .unwrap_or_default()
            .lines()
            .count();
        assert_eq!(used, 1, "browser uses after bridge process {}", round + 1);
    }
    // The tokens went to the CLI's per-user store (the directory given), not to stdout.
    let stored = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.path().extension().is_some_and(|x| x == "json"));
    assert!(stored, "no token file in {}", dir.display());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&jar);
    let _ = std::fs::remove_file(&uses);
    let _ = std::fs::remove_file(&script);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_serving_bridge_takes_the_authorization_flags_of_serve() {
    let auth = AuthServer::start();
    let bridge = Bridged::start(&[
        "--auth-issuer",
        &auth.issuer,
        "--auth-scope",
        "mcp:read",
        "--",
        BIN,
        "serve",
        "--stdio",
    ])
    .await;
    let url = bridge.url("/mcp");

    // No token: 401 with a challenge naming the resource metadata.
    let refused = reqwest::Client::new()
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(mcp_http_test_support::initialize_request("2025-11-25").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("resource_metadata="), "{challenge}");

    // A token of that authorization server, for this resource: the child serves.
    let client_id = auth.register_public_client("openid offline_access mcp:read");
    let tokens = auth.authorize(&client_id, "alice", "openid offline_access mcp:read", &url);
    let token = tokens["access_token"].as_str().unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    let transport = StreamableHttpClient::with_client(
        &url,
        HttpClient::new().unwrap(),
        HttpClientConfig::builder().headers(headers).build(),
    )
    .unwrap();
    let client = client_builder("holder", Arc::new(Mutex::new(Vec::new())))
        .connect(transport)
        .await
        .unwrap();
    let echoed = client
        .call_tool("echo", json!({"message": "behind the gate"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "behind the gate");
    client.shutdown().await;
}
