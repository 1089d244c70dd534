//! `mcp-http login`, `logout` and authorization on demand in the client commands, against a
//! real authorization server and protected MCP server on loopback
//! (crates/test-support/src/oauth.rs), with real `mcp-http` processes sharing the file store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use mcp_http_test_support::oauth::{AsOptions, OAuthHarness};
use mcp_http_test_support::server::tools;
use serde_json::json;
use support::run_cli;

/// A fresh store directory for one test.
fn store_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mcp-http-oauth-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn login_then_two_processes_refresh_at_once_and_spend_one_refresh_token() {
    // Tokens that expire at once, and a slow token endpoint: both processes find the token
    // stale at the same moment and race to refresh it.
    let options = AsOptions {
        expires_in: json!(1),
        token_delay: Duration::from_millis(300),
        ..Default::default()
    };
    let h = OAuthHarness::start(tools(), options).await;
    let dir = store_dir("race");
    let dir_text = dir.to_string_lossy().into_owned();
    let env = [
        ("MCP_HTTP_AUTH_DIR", Some(dir_text.as_str())),
        ("BROWSER", None),
    ];

    // login: the browser is a headless fetcher that follows the redirect to our listener.
    let run = run_cli(
        &[
            "login",
            &h.mcp_url,
            "--browser-command",
            "curl -s -L -o /dev/null",
        ],
        &env,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with(&format!("logged in to {}: Bearer token", h.mcp_url)),
        "{run:?}"
    );
    assert!(
        !run.stderr.contains("at-1") && !run.stdout.contains("at-1"),
        "a token was printed: {run:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        let json = files
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "json"))
            .unwrap();
        assert_eq!(mode(json), 0o600);
    }
    h.set(|o| o.expires_in = json!(3600));
    // A 1 s token is used for its life (AC-13: a short-lived token is refreshed at half its
    // life, not before every request): wait until it is stale.
    tokio::time::sleep(Duration::from_millis(2100)).await;

    // Two processes at once; neither may ask the user (stdin is empty, --no-browser).
    let a = ["call", &h.mcp_url, "echo", "message=first", "--no-browser"];
    let b = ["call", &h.mcp_url, "echo", "message=second", "--no-browser"];
    let (ra, rb) = tokio::join!(run_cli(&a, &env), run_cli(&b, &env));
    assert_eq!((ra.code, rb.code), (0, 0), "{ra:?} {rb:?}");
    assert!(ra.stdout.contains("first") && rb.stdout.contains("second"));
    {
        let seen = h.seen.lock().unwrap();
        let grants = seen.grants();
        // AC-8: exactly one refresh, and no refresh token presented twice.
        assert_eq!(
            grants,
            ["authorization_code", "refresh_token"],
            "{grants:?}"
        );
        assert!(seen.reused_refresh_tokens.is_empty());
    }

    // logout forgets; afterwards a call cannot authorize without the user.
    let run = run_cli(&["logout", &h.mcp_url], &env).await;
    assert_eq!(
        run.stdout,
        format!("forgot the authorization of {}\n", h.mcp_url)
    );
    let run = run_cli(
        &["call", &h.mcp_url, "echo", "message=x", "--no-browser"],
        &env,
    )
    .await;
    // The URL is always printed (paste-back), then the one error line.
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("/authorize?response_type=code"),
        "{run:?}"
    );
    let last = run.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("mcp-http: error: ") && last.contains("no callback URL was pasted"),
        "{last}"
    );
    // A new redirect URI (paste-back's instead of the loopback listener's): registered again.
    assert_eq!(h.seen.lock().unwrap().registrations.len(), 2);
    let run = run_cli(
        &["call", &h.mcp_url, "echo", "message=x", "--no-auth"],
        &env,
    )
    .await;
    assert!(run.one_line_error(1).contains("401"), "{run:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_authorization_server_without_s256_is_refused_by_the_cli_unless_assumed() {
    let h = OAuthHarness::start(
        tools(),
        AsOptions {
            pkce_methods: None,
            ..Default::default()
        },
    )
    .await;
    let dir = store_dir("pkce");
    let dir_text = dir.to_string_lossy().into_owned();
    let env = [
        ("MCP_HTTP_AUTH_DIR", Some(dir_text.as_str())),
        ("BROWSER", None),
    ];
    let browser = ["--browser-command", "curl -s -L -o /dev/null"];
    let run = run_cli(&[&["list", &h.mcp_url][..], &browser].concat(), &env).await;
    let line = run.one_line_error(1);
    assert!(
        line.contains("does not advertise PKCE S256") && line.contains("--assume-pkce"),
        "{line}"
    );
    assert!(h.seen.lock().unwrap().authorization_requests.is_empty());
    let run = run_cli(
        &[&["list", &h.mcp_url, "--assume-pkce"][..], &browser].concat(),
        &env,
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("echo"), "{run:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
