//! Hostile or broken authorization servers and metadata (AC-9): each gives a typed error that
//! names the problem, never a panic or a hang, and nothing past the failing step is used.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use mcp_http_client_http::HttpClient;
use mcp_http_oauth_client::{
    MemoryStore, NonFollowing, OAuthClient, OAuthConfig, OAuthError, Tokens,
};
use mcp_http_test_support::oauth::{AsOptions, OAuthHarness};
use mcp_http_test_support::server::tools;
use serde_json::json;

async fn login_with(
    options: AsOptions,
    config: OAuthConfig,
) -> (OAuthHarness, Result<Tokens, OAuthError>) {
    let h = OAuthHarness::start(tools(), options).await;
    let http = HttpClient::new().unwrap();
    let ua = Arc::new(NonFollowing::new(
        http.clone(),
        "http://127.0.0.1:9/callback",
    ));
    let client = OAuthClient::new(
        &h.mcp_url,
        http,
        config,
        Arc::new(MemoryStore::new()),
        Some(ua),
    )
    .unwrap();
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(20), client.login())
        .await
        .expect("no hang");
    (h, outcome)
}

async fn login(options: AsOptions) -> (OAuthHarness, Result<Tokens, OAuthError>) {
    login_with(options, OAuthConfig::default()).await
}

/// A server whose metadata URL answers `status`, `kind` and `body`.
fn metadata_answer(status: u16, kind: &str, body: Vec<u8>) -> AsOptions {
    AsOptions {
        metadata_override: Some((status, kind.to_owned(), body)),
        ..Default::default()
    }
}

/// A server whose token endpoint answers `status`, `kind` and `body`.
fn token_answer(status: u16, kind: &str, body: Vec<u8>) -> AsOptions {
    AsOptions {
        token_override: Some((status, kind.to_owned(), body)),
        ..Default::default()
    }
}

fn no_authorization_request(h: &OAuthHarness) {
    let seen = h.seen.lock().unwrap();
    assert!(seen.authorization_requests.is_empty() && seen.token_requests.is_empty());
}

#[tokio::test]
async fn a_metadata_issuer_that_is_not_the_servers_is_refused() {
    let (h, out) = login(AsOptions {
        issuer_override: Some("https://attacker.example.com".into()),
        ..Default::default()
    })
    .await;
    let err = out.unwrap_err();
    assert!(
        matches!(&err, OAuthError::IssuerMismatch { found, .. } if found == "https://attacker.example.com"),
        "{err}"
    );
    assert!(err.to_string().contains("expected exactly"), "{err}");
    no_authorization_request(&h);
}

#[tokio::test]
async fn a_resource_of_another_origin_is_refused_before_any_authorization() {
    let (h, out) = login(AsOptions {
        prm_resource: Some("https://evil.example.com/mcp".into()),
        ..Default::default()
    })
    .await;
    let err = out.unwrap_err();
    assert!(
        matches!(&err, OAuthError::ResourceMismatch { found, .. } if found == "https://evil.example.com/mcp"),
        "{err}"
    );
    no_authorization_request(&h);
    assert!(h.seen.lock().unwrap().metadata_requests.is_empty());
}

#[tokio::test]
async fn a_server_without_s256_is_refused_unless_overridden() {
    let (h, out) = login(AsOptions {
        pkce_methods: None,
        ..Default::default()
    })
    .await;
    let err = out.unwrap_err();
    assert!(
        matches!(&err, OAuthError::PkceUnsupported { found, .. } if found == "absent"),
        "{err}"
    );
    assert!(err.to_string().contains("--assume-pkce"), "{err}");
    no_authorization_request(&h);
    let (_, out) = login(AsOptions {
        pkce_methods: Some(vec!["plain".into()]),
        ..Default::default()
    })
    .await;
    assert!(matches!(out, Err(OAuthError::PkceUnsupported { .. })));
    // The explicit override: S256 all the same.
    let config = OAuthConfig::builder().assume_pkce(true).build();
    let (h, out) = login_with(
        AsOptions {
            pkce_methods: None,
            ..Default::default()
        },
        config,
    )
    .await;
    assert_eq!(out.unwrap().access_token, "at-1");
    assert_eq!(
        h.seen.lock().unwrap().authorization_requests[0]["code_challenge_method"],
        "S256"
    );
}

#[tokio::test]
async fn html_instead_of_metadata_is_named() {
    let page = b"<html><body>Sign in</body></html>".to_vec();
    let (h, out) = login(metadata_answer(200, "text/html", page)).await;
    let err = out.unwrap_err();
    assert!(
        matches!(
            &err,
            OAuthError::BadDocument {
                what: "authorization server metadata",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("\"text/html\", not JSON"), "{err}");
    no_authorization_request(&h);
}

#[tokio::test]
async fn an_oversized_metadata_document_is_refused() {
    let mut big = json!({"issuer": "x", "padding": "a".repeat(400 * 1024)})
        .to_string()
        .into_bytes();
    big.shrink_to_fit();
    let (_, out) = login(metadata_answer(200, "application/json", big)).await;
    let err = out.unwrap_err();
    assert!(
        err.to_string().contains("larger than 262144 bytes"),
        "{err}"
    );
}

#[tokio::test]
async fn metadata_that_is_not_an_object_or_lacks_endpoints_is_named() {
    let (_, out) = login(AsOptions {
        metadata_override: Some((200, "application/json".into(), b"[1,2]".to_vec())),
        ..Default::default()
    })
    .await;
    assert!(out.unwrap_err().to_string().contains("not an object"));
    let (_, out) = login(AsOptions {
        metadata_override: Some((200, "application/json".into(), b"{not json".to_vec())),
        ..Default::default()
    })
    .await;
    assert!(out.unwrap_err().to_string().contains("not valid JSON"));
}

#[tokio::test]
async fn a_redirect_to_another_origin_during_discovery_is_not_followed() {
    let (h, out) = login(AsOptions {
        metadata_redirect: Some("http://127.0.0.2:9/elsewhere".into()),
        ..Default::default()
    })
    .await;
    let err = out.unwrap_err();
    assert!(
        matches!(
            &err,
            OAuthError::Redirected {
                reason: "another origin",
                ..
            }
        ),
        "{err}"
    );
    no_authorization_request(&h);
}

#[tokio::test]
async fn expires_in_as_a_word_is_a_bad_token_response() {
    let (_, out) = login(AsOptions {
        expires_in: json!("soon"),
        ..Default::default()
    })
    .await;
    let err = out.unwrap_err();
    assert!(matches!(&err, OAuthError::BadTokenResponse { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("\"expires_in\" \"soon\" is not a number"),
        "{err}"
    );
}

#[tokio::test]
async fn html_or_an_oauth_error_from_the_token_endpoint_is_named() {
    let page = b"<html>Oops</html>".to_vec();
    let (_, out) = login(token_answer(200, "text/html", page)).await;
    let err = out.unwrap_err();
    assert!(
        matches!(&err, OAuthError::BadTokenResponse { .. }) && err.to_string().contains("not JSON"),
        "{err}"
    );
    let body = br#"{"error":"invalid_grant","error_description":"code expired"}"#.to_vec();
    let (_, out) = login(token_answer(400, "application/json", body)).await;
    let err = out.unwrap_err();
    assert!(
        matches!(&err, OAuthError::TokenError { error, status: 400, .. } if error == "invalid_grant"),
        "{err}"
    );
    assert!(err.to_string().contains("(code expired)"), "{err}");
    let (_, out) = login(AsOptions {
        token_override: Some((
            200,
            "application/json".into(),
            br#"{"token_type":"Bearer"}"#.to_vec(),
        )),
        ..Default::default()
    })
    .await;
    assert!(out.unwrap_err().to_string().contains("no \"access_token\""));
}

#[tokio::test]
async fn secrets_stay_out_of_debug_output() {
    let (_, out) = login(AsOptions::default()).await;
    let tokens = out.unwrap();
    let shown = format!("{tokens:?}");
    assert!(
        !shown.contains("at-1") && !shown.contains("rt-1"),
        "{shown}"
    );
}

#[tokio::test]
async fn endpoints_that_are_not_https_or_loopback_are_refused() {
    let h = OAuthHarness::start(tools(), AsOptions::default()).await;
    let http = HttpClient::new().unwrap();
    for (authorize, says) in [
        (
            "http://as.example.com/authorize",
            "plain http is allowed only for loopback hosts",
        ),
        (
            "javascript:alert(1)",
            "only http and https URLs are allowed",
        ),
    ] {
        let doc = json!({
            "issuer": h.issuer,
            "authorization_endpoint": authorize,
            "token_endpoint": format!("{}/token", h.issuer),
            "code_challenge_methods_supported": ["S256"],
        });
        h.set(|o| {
            o.metadata_override =
                Some((200, "application/json".into(), doc.to_string().into_bytes()))
        });
        let ua = Arc::new(NonFollowing::new(
            http.clone(),
            "http://127.0.0.1:9/callback",
        ));
        let client = OAuthClient::new(
            &h.mcp_url,
            http.clone(),
            OAuthConfig::default(),
            Arc::new(MemoryStore::new()),
            Some(ua),
        )
        .unwrap();
        let err = client.login().await.unwrap_err();
        assert!(
            matches!(&err, OAuthError::InsecureUrl { .. }) && err.to_string().contains(says),
            "{err}"
        );
    }
    no_authorization_request(&h);
}
