//! A small, real OAuth authorization server and a protected MCP server on loopback ports, for
//! the OAuth client's tests: discovery documents, an authorization endpoint that redirects at
//! once (as the conformance suite's), a token endpoint that rotates refresh tokens and refuses
//! a reused one (as oidc-provider does), dynamic registration, and knobs for hostile answers.
//! Everything each endpoint saw is recorded for the tests to check.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mcp_http_server_http::{HttpConfig, StreamableHttpService};
use serde_json::{Value, json};

/// What the authorization server does.
#[derive(Debug, Clone)]
pub struct AsOptions {
    /// `code_challenge_methods_supported` (`None`: absent).
    pub pkce_methods: Option<Vec<String>>,
    /// `expires_in` of issued tokens, as sent.
    pub expires_in: Value,
    /// Issue refresh tokens, rotated on use.
    pub refresh: bool,
    /// How long the token endpoint takes.
    pub token_delay: Duration,
    /// The metadata's `issuer`, when not the real one.
    pub issuer_override: Option<String>,
    /// The metadata answer instead of the real one: status, content type and body.
    pub metadata_override: Option<(u16, String, Vec<u8>)>,
    /// The token answer instead of the real one: status, content type and body.
    pub token_override: Option<(u16, String, Vec<u8>)>,
    /// A `Location` the metadata URL redirects to instead.
    pub metadata_redirect: Option<String>,
    /// `scopes_supported` of the protected resource metadata.
    pub prm_scopes: Option<Vec<String>>,
    /// The PRM's `resource`, when not the MCP URL.
    pub prm_resource: Option<String>,
    /// A client id the token endpoint answers `invalid_client` to (a registration it forgot).
    pub forgotten_client: Option<String>,
}

impl Default for AsOptions {
    fn default() -> Self {
        AsOptions {
            pkce_methods: Some(vec!["S256".to_owned()]),
            expires_in: json!(3600),
            refresh: true,
            token_delay: Duration::ZERO,
            issuer_override: None,
            metadata_override: None,
            token_override: None,
            metadata_redirect: None,
            prm_scopes: None,
            prm_resource: None,
            forgotten_client: None,
        }
    }
}

/// What the servers saw and hold.
#[derive(Debug, Default)]
pub struct Seen {
    /// Every token request's form.
    pub token_requests: Vec<HashMap<String, String>>,
    /// Every authorization request's query.
    pub authorization_requests: Vec<HashMap<String, String>>,
    /// Registrations.
    pub registrations: Vec<Value>,
    /// Metadata requests (paths).
    pub metadata_requests: Vec<String>,
    /// Each MCP request's method and `Authorization` header.
    pub mcp_requests: Vec<(String, Option<String>)>,
    /// Refresh tokens presented after they were spent (reuse).
    pub reused_refresh_tokens: Vec<String>,
    /// Access tokens the MCP server accepts.
    pub valid_access: HashSet<String>,
    /// Refresh tokens not spent yet.
    pub live_refresh: HashSet<String>,
    /// Refresh tokens spent.
    pub spent_refresh: HashSet<String>,
    counter: u64,
}

impl Seen {
    /// The grant type of each token request, in order.
    pub fn grants(&self) -> Vec<&str> {
        self.token_requests
            .iter()
            .map(|r| r.get("grant_type").map(String::as_str).unwrap_or(""))
            .collect()
    }
}

/// An authorization server and a protected MCP server on loopback ports.
pub struct OAuthHarness {
    /// The MCP endpoint.
    pub mcp_url: String,
    /// The authorization server's issuer.
    pub issuer: String,
    /// What they saw.
    pub seen: Arc<Mutex<Seen>>,
    options: Arc<Mutex<AsOptions>>,
}

#[derive(Clone)]
struct Shared {
    seen: Arc<Mutex<Seen>>,
    options: Arc<Mutex<AsOptions>>,
    issuer: String,
    mcp_url: String,
}

impl OAuthHarness {
    /// Starts both servers (the MCP server serves `server`).
    pub async fn start(server: mcp_http_server::Server, options: AsOptions) -> OAuthHarness {
        let as_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let rs_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let issuer = format!("http://{}", as_listener.local_addr().expect("addr"));
        let mcp_origin = format!("http://{}", rs_listener.local_addr().expect("addr"));
        let shared = Shared {
            seen: Arc::new(Mutex::new(Seen::default())),
            options: Arc::new(Mutex::new(options)),
            issuer: issuer.clone(),
            mcp_url: format!("{mcp_origin}/mcp"),
        };
        let auth_app = axum::Router::new()
            .route("/.well-known/oauth-authorization-server", get(metadata))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/register", post(register))
            .route("/elsewhere", get(elsewhere))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(as_listener, auth_app).await });
        let service = StreamableHttpService::new(server, HttpConfig::default());
        let rs_app = mcp_http_server_http::axum_router(service)
            .layer(from_fn_with_state(shared.clone(), protect))
            .route("/.well-known/oauth-protected-resource/mcp", {
                let shared = shared.clone();
                get(move || prm(shared.clone()))
            });
        tokio::spawn(async move { axum::serve(rs_listener, rs_app).await });
        OAuthHarness {
            mcp_url: shared.mcp_url.clone(),
            issuer,
            seen: shared.seen,
            options: shared.options,
        }
    }

    /// Changes the options.
    pub fn set(&self, change: impl FnOnce(&mut AsOptions)) {
        change(&mut self.options.lock().expect("lock"));
    }

    /// Makes the MCP server refuse `access_token` from now on (revoked, or expired early).
    pub fn revoke(&self, access_token: &str) {
        self.seen
            .lock()
            .expect("lock")
            .valid_access
            .remove(access_token);
    }

    /// Issues a token pair directly (as a past authorization did): the access token, valid,
    /// and a live refresh token.
    pub fn issue(&self) -> (String, String) {
        let mut seen = self.seen.lock().expect("lock");
        issue_pair(&mut seen)
    }
}

fn issue_pair(seen: &mut Seen) -> (String, String) {
    seen.counter += 1;
    let access = format!("at-{}", seen.counter);
    let refresh = format!("rt-{}", seen.counter);
    seen.valid_access.insert(access.clone());
    seen.live_refresh.insert(refresh.clone());
    (access, refresh)
}

async fn protect(
    State(s): State<Shared>,
    request: Request<axum::body::Body>,
    next: Next,
) -> Response {
    let header = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ok = {
        let mut seen = s.seen.lock().expect("lock");
        seen.mcp_requests
            .push((request.method().to_string(), header.clone()));
        header
            .as_deref()
            .and_then(|h| h.strip_prefix("Bearer "))
            .is_some_and(|t| seen.valid_access.contains(t))
    };
    if ok {
        return next.run(request).await;
    }
    let origin = s.mcp_url.trim_end_matches("/mcp");
    let challenge =
        format!("Bearer resource_metadata=\"{origin}/.well-known/oauth-protected-resource/mcp\"");
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert("www-authenticate", v);
    }
    response
}

async fn prm(s: Shared) -> Response {
    let options = s.options.lock().expect("lock").clone();
    let mut doc = json!({
        "resource": options.prm_resource.unwrap_or_else(|| s.mcp_url.clone()),
        "authorization_servers": [s.issuer],
    });
    if let Some(scopes) = options.prm_scopes {
        doc["scopes_supported"] = json!(scopes);
    }
    axum::Json(doc).into_response()
}

fn raw(status: u16, kind: &str, body: Vec<u8>) -> Response {
    let mut response =
        (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
    if let Ok(v) = HeaderValue::from_str(kind) {
        response.headers_mut().insert("content-type", v);
    }
    response
}

async fn metadata(State(s): State<Shared>) -> Response {
    s.seen
        .lock()
        .expect("lock")
        .metadata_requests
        .push("/.well-known/oauth-authorization-server".to_owned());
    let options = s.options.lock().expect("lock").clone();
    if let Some(to) = options.metadata_redirect {
        let mut response = StatusCode::FOUND.into_response();
        if let Ok(v) = HeaderValue::from_str(&to) {
            response.headers_mut().insert("location", v);
        }
        return response;
    }
    if let Some((status, kind, body)) = options.metadata_override {
        return raw(status, &kind, body);
    }
    let mut doc = json!({
        "issuer": options.issuer_override.unwrap_or_else(|| s.issuer.clone()),
        "authorization_endpoint": format!("{}/authorize", s.issuer),
        "token_endpoint": format!("{}/token", s.issuer),
        "registration_endpoint": format!("{}/register", s.issuer),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "authorization_response_iss_parameter_supported": true,
    });
    if let Some(methods) = options.pkce_methods {
        doc["code_challenge_methods_supported"] = json!(methods);
    }
    axum::Json(doc).into_response()
}

async fn elsewhere() -> Response {
    axum::Json(json!({"issuer": "elsewhere"})).into_response()
}

async fn authorize(
    State(s): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    s.seen
        .lock()
        .expect("lock")
        .authorization_requests
        .push(query.clone());
    let Some(redirect) = query.get("redirect_uri") else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let mut target = match url::Url::parse(redirect) {
        Ok(u) => u,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    target
        .query_pairs_mut()
        .append_pair("code", "code-1")
        .append_pair(
            "state",
            query.get("state").map(String::as_str).unwrap_or(""),
        )
        .append_pair("iss", &s.issuer);
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(target.as_str()) {
        response.headers_mut().insert("location", v);
    }
    response
}

async fn token(
    State(s): State<Shared>,
    _headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let options = s.options.lock().expect("lock").clone();
    tokio::time::sleep(options.token_delay).await;
    let mut seen = s.seen.lock().expect("lock");
    seen.token_requests.push(form.clone());
    if let Some((status, kind, body)) = options.token_override {
        return raw(status, &kind, body);
    }
    let error =
        |code: &str| (StatusCode::BAD_REQUEST, axum::Json(json!({"error": code}))).into_response();
    if options.forgotten_client.is_some()
        && form.get("client_id") == options.forgotten_client.as_ref()
    {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {}
        Some("refresh_token") => {
            let presented = form.get("refresh_token").cloned().unwrap_or_default();
            if !seen.live_refresh.remove(&presented) {
                if seen.spent_refresh.contains(&presented) {
                    seen.reused_refresh_tokens.push(presented);
                }
                return error("invalid_grant");
            }
            seen.spent_refresh.insert(presented);
        }
        _ => return error("unsupported_grant_type"),
    }
    let (access, refresh) = issue_pair(&mut seen);
    let mut body =
        json!({"access_token": access, "token_type": "Bearer", "expires_in": options.expires_in});
    if options.refresh {
        body["refresh_token"] = json!(refresh);
    } else {
        seen.live_refresh.remove(&refresh);
    }
    axum::Json(body).into_response()
}

async fn register(State(s): State<Shared>, axum::Json(body): axum::Json<Value>) -> Response {
    let mut seen = s.seen.lock().expect("lock");
    seen.registrations.push(body.clone());
    let n = seen.registrations.len();
    (
        StatusCode::CREATED,
        axum::Json(
            json!({"client_id": format!("client-{n}"), "redirect_uris": body["redirect_uris"]}),
        ),
    )
        .into_response()
}
