//! End to end, real processes only: oidc-provider as the authorization server
//! (`mcp_http_test_support::oidc`), `mcp-http serve` as the resource server (JWTs checked
//! against the AS's JWKS; opaque tokens by introspection on another instance), and the
//! `mcp-http call` binary as the client, with its file token store in a temporary directory and
//! a headless "browser" (`--browser-command`: a script that logs each use and follows the AS's
//! redirects with curl and a cookie jar up to the CLI's loopback listener).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;
use std::time::Duration;

use mcp_http_test_support::oidc::AuthServer;
use serde_json::Value;
use support::{ACCEPT, client, run_cli, serve};

/// A temporary directory with the token store and the logging browser.
struct Desk {
    dir: PathBuf,
    browser: String,
}

impl Desk {
    fn new(name: &str) -> Desk {
        let dir = std::env::temp_dir().join(format!("mcp-http-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("store")).unwrap();
        let browser = dir.join("browser.sh");
        let script = format!(
            "#!/bin/sh\necho \"$1\" >> '{log}'\nexec curl -s -L --max-redirs 20 -m 20 -b '{jar}' -c '{jar}' -o /dev/null \"$1\"\n",
            log = dir.join("browser.log").display(),
            jar = dir.join("cookies.txt").display(),
        );
        std::fs::write(&browser, script).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Desk {
            browser: browser.to_string_lossy().into_owned(),
            dir,
        }
    }

    /// The URLs the browser was asked to open, in order.
    fn opened(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("browser.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn store(&self) -> String {
        self.dir.join("store").to_string_lossy().into_owned()
    }

    /// `mcp-http ARGS` with this desk's store, no `$BROWSER`, the OAuth client's debug log.
    async fn cli(&self, args: &[&str]) -> support::Run {
        let store = self.store();
        run_cli(
            args,
            &[
                ("MCP_HTTP_AUTH_DIR", Some(&store)),
                ("BROWSER", None),
                // The client's refresh and authorization decisions in the run's stderr, which
                // the assertions print.
                ("MCP_HTTP_LOG", Some("mcp_http_oauth_client=debug")),
            ],
        )
        .await
    }

    /// The access token kept in the store (the one JSON file).
    fn stored_access_token(&self) -> String {
        self.stored("access_token")
            .expect("an access token in the store")
    }

    /// The first string under `key` in the store's JSON file.
    fn stored(&self, key: &str) -> Option<String> {
        let file = std::fs::read_dir(self.dir.join("store"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "json"))
            .expect("a token file in the store");
        let text = std::fs::read_to_string(&file).unwrap();
        find_key(&serde_json::from_str(&text).unwrap(), key)
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The first string value under `key` anywhere in `v`.
fn find_key(v: &Value, key: &str) -> Option<String> {
    match v {
        Value::Object(map) => map
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| map.values().find_map(|v| find_key(v, key))),
        Value::Array(items) => items.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}

/// The status and `WWW-Authenticate` of an `initialize` POSTed with `Authorization: Bearer token`.
async fn initialize_with(url: &str, token: &str) -> (u16, String) {
    let response = client()
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(mcp_http_test_support::initialize_request("2025-11-25").to_string())
        .send()
        .await
        .unwrap();
    let challenge = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .collect::<Vec<_>>()
        .join(" | ");
    (response.status().as_u16(), challenge)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dcr_authorize_call_step_up_silent_refresh_and_one_refresh_for_two_processes() {
    // Access tokens live 6 s: the client refreshes them at half their life (AC-13).
    let auth = AuthServer::start_with_ttl(6);
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
    let desk = Desk::new("journey");

    // DCR -> authorization (the browser, once) -> the call.
    let run = desk
        .cli(&[
            "call",
            url,
            "echo",
            "message=hello",
            "--browser-command",
            &desk.browser,
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("hello"), "{run:?}");
    // The tokens are DPoP-bound (oidc-provider offers DPoP): the next processes need the key.
    assert_eq!(desk.stored("token_type").as_deref(), Some("DPoP"));
    assert_eq!(desk.opened().len(), 1, "{:?}", desk.opened());
    assert!(desk.opened()[0].starts_with(&format!("{}/auth?", auth.issuer)));
    assert_eq!(auth.counter("registrations"), 1);
    assert_eq!(auth.counter("authorization_code"), 1);

    // `add` needs mcp:write; the 403 leads to a second authorization asking for both.
    let run = desk
        .cli(&[
            "call",
            url,
            "add",
            "a=2",
            "b=3",
            "--browser-command",
            &desk.browser,
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains('5'), "{run:?}");
    let opened = desk.opened();
    assert_eq!(opened.len(), 2, "{opened:?} {} {run:?}", auth.counters());
    assert!(
        opened[1].contains("mcp%3Awrite") || opened[1].contains("mcp:write"),
        "{opened:?}"
    );
    assert_eq!(auth.counter("authorization_code"), 2);
    // The loopback listener has a new port, so a new redirect URI: registered again (AC-10).
    assert_eq!(auth.counter("registrations"), 2);
    assert_eq!(
        auth.counter("refresh_token_error"),
        0,
        "{}",
        auth.counters()
    );

    // Expiry: the stored token is now refused by the server; the next call refreshes silently.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let (status, challenge) = initialize_with(url, &desk.stored_access_token()).await;
    assert_eq!(status, 401, "an expired token: {challenge}");
    let refreshed = auth.counter("refresh_token");
    let run = desk
        .cli(&[
            "call",
            url,
            "add",
            "a=1",
            "b=1",
            "--browser-command",
            &desk.browser,
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains('2'), "{run:?}");
    // What the run said and what the AS counted, should a browser open after all.
    assert_eq!(
        desk.opened().len(),
        2,
        "no browser for a refresh: {:?} {} {run:?}",
        desk.opened(),
        auth.counters()
    );
    assert_eq!(
        auth.counter("refresh_token"),
        refreshed + 1,
        "{} {run:?}",
        auth.counters()
    );

    // AC-8: two processes find the token expired at once; exactly one refresh token is spent
    // (a second use of a rotated refresh token would fail at the AS and revoke the grant).
    tokio::time::sleep(Duration::from_secs(7)).await;
    let refreshed = auth.counter("refresh_token");
    let first = ["call", url, "echo", "message=first", "--no-browser"];
    let second = ["call", url, "echo", "message=second", "--no-browser"];
    let (a, b) = tokio::join!(desk.cli(&first), desk.cli(&second));
    assert_eq!(a.code, 0, "{a:?}");
    assert_eq!(b.code, 0, "{b:?}");
    assert!(a.stdout.contains("first") && b.stdout.contains("second"));
    assert_eq!(
        auth.counter("refresh_token"),
        refreshed + 1,
        "{}",
        auth.counters()
    );
    assert_eq!(
        auth.counter("refresh_token_error"),
        0,
        "{}",
        auth.counters()
    );
    assert_eq!(desk.opened().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opaque_tokens_through_introspection_and_tokens_for_other_resources_refused() {
    let auth = AuthServer::start();
    let jwt_server = serve(&["--auth-issuer", &auth.issuer, "--auth-scope", "mcp:read"]).await;
    let opaque = serve(&[
        "--path",
        "/opaque",
        "--auth-issuer",
        &auth.issuer,
        "--auth-scope",
        "mcp:read",
        "--introspect",
        "discover",
        "--introspect-client-id",
        "rs-introspector",
        "--introspect-client-secret",
        "rs-secret",
    ])
    .await;
    assert!(opaque.url.ends_with("/opaque"), "{}", opaque.url);

    // The CLI through the whole flow against the introspecting server.
    let desk = Desk::new("opaque");
    let run = desk
        .cli(&[
            "call",
            &opaque.url,
            "echo",
            "message=opaque",
            "--browser-command",
            &desk.browser,
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("opaque"), "{run:?}");
    assert_eq!(desk.opened().len(), 1);
    let token = desk.stored_access_token();
    assert_eq!(token.split('.').count(), 1, "an opaque token, not a JWT");

    // a token for another resource is refused, 401 invalid_token, by both servers.
    let (status, challenge) = initialize_with(&jwt_server.url, &token).await;
    assert_eq!(status, 401, "{challenge}");
    let other = auth.client_credentials(
        "cc-reader",
        "reader-secret",
        "mcp:read",
        &format!("{}/other", jwt_server.url),
    );
    let (status, challenge) = initialize_with(&jwt_server.url, &other).await;
    assert_eq!(status, 401, "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    // The same kind of token for this resource is accepted (the refusal is the audience).
    let mine = auth.client_credentials("cc-reader", "reader-secret", "mcp:read", &jwt_server.url);
    assert_eq!(initialize_with(&jwt_server.url, &mine).await.0, 200);
}
