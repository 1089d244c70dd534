//! The OAuth client against a real authorization server and a protected MCP server on loopback
//! (crates/test-support/src/oauth.rs): the token on every request of both eras, refresh before
//! expiry, the user agents.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use mcp_http_client::{Client, Era};
use mcp_http_client_http::{HttpClient, HttpClientConfig, StreamableHttpClient};
use mcp_http_oauth_client::{
    Browser, MemoryStore, NonFollowing, OAuthClient, OAuthConfig, PasteBack, TokenStore, UserAgent,
};
use mcp_http_test_support::oauth::{AsOptions, OAuthHarness};
use mcp_http_test_support::server::tools;
use serde_json::json;

fn oauth(
    h: &OAuthHarness,
    http: &HttpClient,
    store: Arc<dyn TokenStore>,
    ua: Arc<dyn UserAgent>,
) -> Arc<OAuthClient> {
    OAuthClient::new(
        &h.mcp_url,
        http.clone(),
        OAuthConfig::default(),
        store,
        Some(ua),
    )
    .unwrap()
}

/// The servers, and an OAuth client of theirs whose user agent reads the callback from the
/// redirect, with its tokens in memory.
async fn started(options: AsOptions) -> (OAuthHarness, HttpClient, Arc<OAuthClient>) {
    let h = OAuthHarness::start(tools(), options).await;
    let http = HttpClient::new().unwrap();
    let ua = Arc::new(NonFollowing::new(
        http.clone(),
        "http://127.0.0.1:9/callback",
    ));
    let auth = oauth(&h, &http, Arc::new(MemoryStore::new()), ua);
    (h, http, auth)
}

async fn connect(h: &OAuthHarness, http: &HttpClient, auth: Arc<OAuthClient>, era: Era) -> Client {
    let config = HttpClientConfig::builder().authorizer(auth).build();
    let transport = StreamableHttpClient::with_client(&h.mcp_url, http.clone(), config).unwrap();
    Client::builder("t", "1")
        .era(era)
        .connect(transport)
        .await
        .unwrap()
}

async fn echo(client: &Client) -> String {
    let result: serde_json::Value = client
        .request(
            "tools/call",
            &json!({"name": "echo", "arguments": {"message": "hi"}}),
            Default::default(),
        )
        .await
        .unwrap();
    result["content"][0]["text"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_token_goes_on_every_request_of_both_eras() {
    let (h, http, auth) = started(AsOptions::default()).await;

    let client = connect(&h, &http, auth.clone(), Era::Legacy).await;
    assert_eq!(echo(&client).await, "hi");
    client.shutdown().await;
    // after the first refusal, every request (POSTs, the GET stream, the DELETE) carried
    // the token, and the refused one was sent again with it.
    let asked = {
        let seen = h.seen.lock().unwrap();
        let (first, rest) = seen.mcp_requests.split_first().unwrap();
        assert_eq!(first, &("POST".to_owned(), None));
        assert!(
            rest.iter()
                .all(|(_, a)| a.as_deref() == Some("Bearer at-1")),
            "{rest:?}"
        );
        for method in ["POST", "GET", "DELETE"] {
            assert!(
                rest.iter().any(|(m, _)| m == method),
                "no {method} in {rest:?}"
            );
        }
        // the resource verbatim in both requests; PKCE S256.
        let authz = &seen.authorization_requests[0];
        assert_eq!(authz["resource"], h.mcp_url);
        assert_eq!(authz["code_challenge_method"], "S256");
        assert_eq!(seen.token_requests[0]["resource"], h.mcp_url);
        assert_eq!(seen.registrations[0]["application_type"], "native");
        seen.mcp_requests.len()
    };

    // The 2026-07-28 era with the same authorization: no new one, the token on each request.
    let client = connect(&h, &http, auth, Era::Modern).await;
    assert_eq!(echo(&client).await, "hi");
    let seen = h.seen.lock().unwrap();
    assert_eq!(seen.token_requests.len(), 1);
    assert!(
        seen.mcp_requests[asked..]
            .iter()
            .all(|(_, a)| a.as_deref() == Some("Bearer at-1"))
    );
}

#[tokio::test]
async fn an_expiring_token_is_refreshed_before_use_with_the_resource() {
    // expires_in as a string of digits (as Entra v1 sends it), 3 s: a short-lived token is
    // refreshed past half its life (AC-13), so after 2 s.
    let options = AsOptions {
        expires_in: json!("3"),
        ..Default::default()
    };
    let h = OAuthHarness::start(tools(), options).await;
    let http = HttpClient::new().unwrap();
    let ua = Arc::new(NonFollowing::new(
        http.clone(),
        "http://127.0.0.1:9/callback",
    ));
    let store = Arc::new(MemoryStore::new());
    let auth = oauth(&h, &http, store.clone(), ua);
    let client = connect(&h, &http, auth.clone(), Era::Modern).await;
    assert_eq!(echo(&client).await, "hi");
    h.set(|o| o.expires_in = json!(3600));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(echo(&client).await, "hi");
    {
        let seen = h.seen.lock().unwrap();
        let grants = seen.grants();
        assert_eq!(grants, ["authorization_code", "refresh_token"]);
        // the resource on the refresh too; the refreshed token went out, before any 401.
        assert_eq!(seen.token_requests[1]["resource"], h.mcp_url);
        assert_eq!(seen.token_requests[1]["refresh_token"], "rt-1");
        let last = seen.mcp_requests.last().unwrap();
        assert_eq!(last.1.as_deref(), Some("Bearer at-2"));
        assert_eq!(
            seen.mcp_requests
                .iter()
                .filter(|(_, a)| a.is_none())
                .count(),
            1
        );
    }
    // The store has the rotated tokens, with an absolute expiry.
    let record = store.load(&h.mcp_url).await.unwrap().unwrap();
    let tokens = record.issuers[&h.issuer].tokens.clone().unwrap();
    assert_eq!(tokens.refresh_token.as_deref(), Some("rt-2"));
    assert!(tokens.expires_at.unwrap() > 3500);
}

#[tokio::test]
async fn the_browser_opens_the_url_and_the_loopback_listener_takes_the_callback() {
    let h = OAuthHarness::start(tools(), AsOptions::default()).await;
    let http = HttpClient::new().unwrap();
    // A headless "browser": curl follows the authorization server's redirect to our listener.
    let ua = Arc::new(
        Browser::new()
            .command("curl -s -L -o /dev/null")
            .timeout(Duration::from_secs(20)),
    );
    let auth = oauth(&h, &http, Arc::new(MemoryStore::new()), ua);
    let tokens = auth.login().await.unwrap();
    assert_eq!(tokens.access_token, "at-1");
    let seen = h.seen.lock().unwrap();
    let redirect = &seen.authorization_requests[0]["redirect_uri"];
    assert!(
        redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"),
        "{redirect}"
    );
    // The listener is closed once the callback came.
    let port = url::Url::parse(redirect).unwrap().port().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    // The registration carries that redirect URI.
    assert_eq!(seen.registrations[0]["redirect_uris"], json!([redirect]));
}

/// The user of a paste-back login: opens the URL shown (a browser that stops at the redirect),
/// and pastes where the browser was sent, its `state` replaced when `forge` is set.
async fn paste_back_login(
    forge: bool,
) -> (
    OAuthHarness,
    Result<mcp_http_oauth_client::Tokens, mcp_http_oauth_client::OAuthError>,
) {
    use tokio::io::AsyncWriteExt;
    let h = OAuthHarness::start(tools(), AsOptions::default()).await;
    let http = HttpClient::new().unwrap();
    let (mut typing, input) = tokio::io::duplex(4096);
    let (shown, mut show) = tokio::sync::mpsc::unbounded_channel::<String>();
    let ua = Arc::new(
        PasteBack::from_reader(tokio::io::BufReader::new(input))
            .show(move |url, _redirect| drop(shown.send(url.to_owned()))),
    );
    let auth = oauth(&h, &http, Arc::new(MemoryStore::new()), ua);
    let login = tokio::spawn(async move { auth.login().await });
    let url = show.recv().await.unwrap();
    let browser = reqwest_free_get(&url).await;
    let mut landed = url::Url::parse(&browser).unwrap();
    assert_eq!(landed.path(), "/callback");
    if forge {
        let pairs: Vec<(String, String)> = landed
            .query_pairs()
            .map(|(k, v)| {
                let forged = k == "state";
                (
                    k.into_owned(),
                    if forged {
                        "forged".to_owned()
                    } else {
                        v.into_owned()
                    },
                )
            })
            .collect();
        landed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    typing
        .write_all(format!("{landed}\n").as_bytes())
        .await
        .unwrap();
    (h, login.await.unwrap())
}

/// Where the authorization server sends the browser: its redirect's `Location`.
async fn reqwest_free_get(url: &str) -> String {
    let http = HttpClient::new().unwrap();
    let request = http::Request::get(url)
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let answer = http.fetch(request, 4096).await.unwrap();
    answer.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn paste_back_takes_the_callback_url_the_user_pastes() {
    let (h, tokens) = paste_back_login(false).await;
    assert_eq!(tokens.unwrap().access_token, "at-1");
    let seen = h.seen.lock().unwrap();
    assert_eq!(
        seen.authorization_requests[0]["redirect_uri"],
        "http://127.0.0.1/callback"
    );
    assert_eq!(
        seen.token_requests[0]["redirect_uri"],
        "http://127.0.0.1/callback"
    );
}

#[tokio::test]
async fn a_pasted_callback_with_another_state_is_refused() {
    let (h, tokens) = paste_back_login(true).await;
    let err = tokens.unwrap_err();
    assert!(err.to_string().contains("state does not match"), "{err}");
    // Its code was not spent.
    assert!(h.seen.lock().unwrap().token_requests.is_empty());
}

#[tokio::test]
async fn a_refused_token_is_refreshed_before_any_new_authorization() {
    let (h, http, auth) = started(AsOptions::default()).await;
    let client = connect(&h, &http, auth, Era::Modern).await;
    assert_eq!(echo(&client).await, "hi");
    // AC-4: the server stops taking the token before its expiry: a 401, then a refresh (not a
    // new authorization), and the call goes through.
    h.revoke("at-1");
    assert_eq!(echo(&client).await, "hi");
    let seen = h.seen.lock().unwrap();
    let grants = seen.grants();
    assert_eq!(grants, ["authorization_code", "refresh_token"]);
    assert_eq!(seen.authorization_requests.len(), 1);
    assert_eq!(
        seen.mcp_requests.last().unwrap().1.as_deref(),
        Some("Bearer at-2")
    );
}

#[tokio::test]
async fn a_registration_the_server_forgot_is_made_again_once() {
    let (h, _, auth) = started(AsOptions::default()).await;
    auth.login().await.unwrap();
    // AC-10: the server purged client-1; the next authorization's token request gets
    // invalid_client, and the client registers again and authorizes as client-2.
    h.set(|o| o.forgotten_client = Some("client-1".to_owned()));
    let tokens = auth.login().await.unwrap();
    assert_eq!(tokens.access_token, "at-2");
    let seen = h.seen.lock().unwrap();
    let clients: Vec<&str> = seen
        .token_requests
        .iter()
        .map(|r| r["client_id"].as_str())
        .collect();
    assert_eq!(clients, ["client-1", "client-1", "client-2"]);
    assert_eq!(seen.registrations.len(), 2);
}

#[tokio::test]
async fn requests_refused_together_share_one_refresh() {
    let (h, http, auth) = started(AsOptions {
        token_delay: Duration::from_millis(200),
        ..Default::default()
    })
    .await;
    let client = connect(&h, &http, auth, Era::Modern).await;
    h.revoke("at-1");
    // AC-8: four calls refused at once; one refresh serves them all.
    let (a, b, c, d) = tokio::join!(echo(&client), echo(&client), echo(&client), echo(&client));
    assert_eq!([a, b, c, d], ["hi", "hi", "hi", "hi"]);
    let seen = h.seen.lock().unwrap();
    let grants = seen.grants();
    assert_eq!(grants, ["authorization_code", "refresh_token"]);
    assert!(seen.reused_refresh_tokens.is_empty());
}

#[tokio::test]
async fn the_loopback_listener_closes_when_no_callback_comes() {
    // An opener that does not exist: the URL was printed, the wait ends at its timeout, and
    // the listener is gone afterwards (its port refuses connections).
    let browser = Browser::new()
        .command("/nonexistent/opener")
        .timeout(Duration::from_millis(300));
    let pending = browser.begin().await.unwrap();
    let redirect = pending.redirect_uri();
    let port = url::Url::parse(&redirect).unwrap().port().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    let err = pending
        .finish("http://127.0.0.1:9/authorize".to_owned())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no callback within"), "{err}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    // A URL that is not http(s) is never opened.
    let pending = browser.begin().await.unwrap();
    let err = pending
        .finish("file:///etc/passwd".to_owned())
        .await
        .unwrap_err();
    assert!(
        matches!(err, mcp_http_oauth_client::OAuthError::InsecureUrl { .. }),
        "{err}"
    );
}
