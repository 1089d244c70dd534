//! [`OAuthClient`]: the authorizer the HTTP transport asks for every request's headers and
//! hands every 401 and 403 to. It finds the metadata, registers, runs the authorization (code
//! with PKCE, or client credentials), refreshes before expiry and on 401, steps up on 403
//! `insufficient_scope`, and keeps what it got in a [`TokenStore`].

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use http::{Method, StatusCode, Uri};
use mcp_http_client_http::{AuthRefusal, Authorizer, HttpClient};
use mcp_http_core::TransportError;

use crate::challenge::ChallengeInfo;
use crate::discovery::{self, ServerMetadata};
use crate::dpop::Dpop;
use crate::error::OAuthError;
use crate::flow;
use crate::jws::SigningKey;
use crate::store::{ServerRecord, TokenStore};
use crate::token::{ClientAuth, TokenRequest, Tokens};
use crate::user_agent::UserAgent;

/// Refresh this many seconds before the access token expires.
const REFRESH_MARGIN: u64 = 60;
/// The most authorizations one request may cause.
pub(crate) const MAX_AUTHORIZATIONS: u32 = 3;

/// Settings of an [`OAuthClient`], built with [`OAuthConfig::builder`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OAuthConfig {
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<String>,
    pub(crate) private_key: Option<Arc<SigningKey>>,
    pub(crate) client_credentials: bool,
    pub(crate) client_metadata_url: Option<String>,
    pub(crate) client_name: String,
    pub(crate) scope: Option<String>,
    pub(crate) assume_pkce: bool,
    pub(crate) dpop: bool,
    pub(crate) resource_parameter: bool,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            client_id: None,
            client_secret: None,
            private_key: None,
            client_credentials: false,
            client_metadata_url: None,
            client_name: "mcp-http".to_owned(),
            scope: None,
            assume_pkce: false,
            dpop: true,
            resource_parameter: true,
        }
    }
}

impl OAuthConfig {
    /// The defaults, to change.
    pub fn builder() -> OAuthConfigBuilder {
        OAuthConfigBuilder(OAuthConfig::default())
    }
}

/// Builds an [`OAuthConfig`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until built"]
pub struct OAuthConfigBuilder(OAuthConfig);

impl OAuthConfigBuilder {
    /// A pre-registered client id.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.0.client_id = Some(id.into());
        self
    }
    /// The pre-registered client's secret.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.0.client_secret = Some(secret.into());
        self
    }
    /// Authenticate with a private-key JWT (RFC 7523, ES256) signed by `key`.
    pub fn private_key(mut self, key: SigningKey) -> Self {
        self.0.private_key = Some(Arc::new(key));
        self
    }
    /// Use the client credentials grant (a machine client, no user and no browser).
    pub fn client_credentials(mut self, enabled: bool) -> Self {
        self.0.client_credentials = enabled;
        self
    }
    /// The client's Client ID Metadata Document URL, used where the server supports CIMD.
    pub fn client_metadata_url(mut self, url: impl Into<String>) -> Self {
        self.0.client_metadata_url = Some(url.into());
        self
    }
    /// The `client_name` registered (default `mcp-http`).
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.0.client_name = name.into();
        self
    }
    /// Scopes to ask for instead of choosing them.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.0.scope = Some(scope.into());
        self
    }
    /// Proceed with S256 although the server does not advertise it (default: refuse, A-13).
    pub fn assume_pkce(mut self, enabled: bool) -> Self {
        self.0.assume_pkce = enabled;
        self
    }
    /// Use DPoP when the server advertises ES256 for it (default: yes).
    pub fn dpop(mut self, enabled: bool) -> Self {
        self.0.dpop = enabled;
        self
    }
    /// Send the RFC 8707 `resource` parameter (default: yes; off only for broken servers).
    pub fn resource_parameter(mut self, enabled: bool) -> Self {
        self.0.resource_parameter = enabled;
        self
    }
    /// The settings.
    pub fn build(self) -> OAuthConfig {
        self.0
    }
}

/// The OAuth 2.1 client of one MCP server: an [`Authorizer`] for its transport.
pub struct OAuthClient {
    pub(crate) server: url::Url,
    pub(crate) http: HttpClient,
    pub(crate) config: OAuthConfig,
    pub(crate) user_agent: Option<Arc<dyn UserAgent>>,
    pub(crate) store: Arc<dyn TokenStore>,
    /// The record in use (loaded from the store once).
    record: Mutex<Option<ServerRecord>>,
    loaded: tokio::sync::OnceCell<()>,
    /// One authorization or refresh at a time in this process.
    flight: tokio::sync::Mutex<()>,
    /// The scopes asked for last (step-up unions with them, A-25).
    requested: Mutex<Option<String>>,
    pub(crate) dpop: Dpop,
    /// The MCP server refused a DPoP-bound token and challenges only `Bearer`: it cannot take
    /// DPoP, so tokens are asked for unbound from then on (AC-15).
    bearer_only: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("server", &self.server.as_str())
            .finish_non_exhaustive()
    }
}

impl OAuthClient {
    /// The client of the MCP server at `server`, sending its OAuth requests through `http`,
    /// keeping authorizations in `store`, and asking the user through `user_agent` (none: only
    /// stored tokens, refreshes and client credentials).
    pub fn new(
        server: &str,
        http: HttpClient,
        config: OAuthConfig,
        store: Arc<dyn TokenStore>,
        user_agent: Option<Arc<dyn UserAgent>>,
    ) -> Result<Arc<Self>, OAuthError> {
        let parsed = url::Url::parse(server).map_err(|e| OAuthError::InsecureUrl {
            what: "MCP server URL",
            url: server.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Arc::new(OAuthClient {
            server: parsed,
            http,
            config,
            user_agent,
            store,
            record: Mutex::new(None),
            loaded: tokio::sync::OnceCell::new(),
            flight: tokio::sync::Mutex::new(()),
            requested: Mutex::new(None),
            dpop: Dpop::new()?,
            bearer_only: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    /// The key of this server in the store.
    pub(crate) fn key(&self) -> &str {
        self.server.as_str()
    }

    /// Authorizes now (`mcp-http login`): discovery, registration and a new authorization,
    /// whatever is stored.
    pub async fn login(&self) -> Result<Tokens, OAuthError> {
        let _one = self.flight.lock().await;
        self.authorize(None, None, None).await
    }

    /// The tokens in use, if any.
    pub fn tokens(&self) -> Option<Tokens> {
        let record = self.record.lock().ok()?;
        let record = record.as_ref()?;
        record.issuers.get(record.current.as_ref()?)?.tokens.clone()
    }

    /// Replaces the record in use and stores it.
    pub(crate) async fn keep(&self, record: ServerRecord) -> Result<(), OAuthError> {
        if let Ok(mut r) = self.record.lock() {
            *r = Some(record.clone());
        }
        self.store.save(record).await
    }

    /// The record in use, a copy.
    pub(crate) fn record(&self) -> Option<ServerRecord> {
        self.record.lock().ok()?.clone()
    }

    fn set_record(&self, record: Option<ServerRecord>) {
        if let Ok(mut r) = self.record.lock() {
            *r = record;
        }
    }

    async fn load_once(&self) -> Result<(), OAuthError> {
        self.loaded
            .get_or_try_init(|| async {
                let stored = self.store.load(self.key()).await?;
                self.set_record(stored);
                Ok::<(), OAuthError>(())
            })
            .await
            .map(|_| ())
    }

    /// The tokens and metadata in use.
    fn current(&self) -> Option<(Tokens, ServerMetadata, Option<String>)> {
        let record = self.record()?;
        let issuer = record.issuers.get(record.current.as_ref()?)?;
        Some((
            issuer.tokens.clone()?,
            issuer.metadata.clone(),
            issuer.resource.clone(),
        ))
    }

    /// The headers of a request with `tokens`.
    fn headers_for(
        &self,
        tokens: &Tokens,
        method: &Method,
        uri: &Uri,
    ) -> Result<HeaderMap, OAuthError> {
        let mut headers = HeaderMap::new();
        let scheme = if tokens.is_dpop() { "DPoP" } else { "Bearer" };
        let value =
            HeaderValue::from_str(&format!("{scheme} {}", tokens.access_token)).map_err(|_| {
                OAuthError::BadTokenResponse {
                    url: String::new(),
                    reason: "the access token cannot be sent in a header".to_owned(),
                }
            })?;
        headers.insert(AUTHORIZATION, value);
        if tokens.is_dpop() {
            if let Some(key) = &tokens.dpop_key {
                self.dpop.adopt(key)?;
            }
            let proof = self.dpop.proof(
                method.as_str(),
                &uri.to_string(),
                Some(&tokens.access_token),
            )?;
            if let Ok(value) = HeaderValue::from_str(&proof) {
                headers.insert("dpop", value);
            }
        }
        Ok(headers)
    }

    /// Refreshes the tokens in use with their refresh token, under the store's lock: the record
    /// is read again first, and if another process already replaced the tokens, those are
    /// taken instead (a rotating refresh token is spent once, AC-8). `Ok(false)`: no refresh
    /// token, or the server refused it. Before expiry and on a 401, before any new
    /// authorization (AC-4).
    pub(crate) async fn refresh(&self, stale: &Tokens) -> Result<bool, OAuthError> {
        let _lock = self.store.lock(self.key()).await?;
        let fresh = self.store.load(self.key()).await?;
        if let Some(fresh) = fresh {
            let cur = fresh
                .current
                .as_ref()
                .and_then(|i| fresh.issuers.get(i))
                .and_then(|i| i.tokens.clone());
            self.set_record(Some(fresh));
            if let Some(cur) = cur
                && cur.access_token != stale.access_token
                && !cur.is_stale(REFRESH_MARGIN)
            {
                tracing::debug!("tokens were refreshed elsewhere; using those");
                return Ok(true);
            }
        }
        let Some(mut record) = self.record() else {
            return Ok(false);
        };
        let Some(issuer) = record.current.clone() else {
            return Ok(false);
        };
        let Some(entry) = record.issuers.get_mut(&issuer) else {
            return Ok(false);
        };
        let (Some(tokens), Some(client)) = (entry.tokens.clone(), entry.client.clone()) else {
            return Ok(false);
        };
        let Some(refresh_token) = tokens.refresh_token.clone() else {
            return Ok(false);
        };
        // A DPoP-bound refresh token is refreshed with the key it is bound to (AC-14).
        if let Some(key) = &tokens.dpop_key {
            self.dpop.adopt(key)?;
        }
        let auth = self.client_auth(&client.auth_method, client.client_secret.as_deref());
        let request = TokenRequest {
            http: &self.http,
            endpoint: &entry.metadata.token_endpoint,
            issuer: &entry.metadata.issuer,
            client_id: &client.client_id,
            auth: &auth,
            resource: entry
                .resource
                .as_deref()
                .filter(|_| self.config.resource_parameter),
            // A token issued unbound stays unbound when refreshed (AC-15).
            dpop: self.dpop_for(&entry.metadata).filter(|_| tokens.is_dpop()),
        };
        match request
            .send(
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &refresh_token),
                ],
                tokens.scope.as_deref(),
            )
            .await
        {
            Ok(mut new) => {
                tracing::debug!("tokens refreshed");
                // A server that does not rotate keeps the old refresh token valid.
                if new.refresh_token.is_none() {
                    new.refresh_token = Some(refresh_token);
                }
                entry.tokens = Some(new);
                self.keep(record).await?;
                Ok(true)
            }
            Err(OAuthError::TokenError { error, .. })
                if error == "invalid_grant" || error == "invalid_client" =>
            {
                tracing::info!(%error, "the refresh token was refused; authorizing again");
                entry.tokens = None;
                if error == "invalid_client" && client.kind == "dynamic" {
                    entry.client = None;
                }
                self.keep(record).await?;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// How the client authenticates at the token endpoint.
    pub(crate) fn client_auth(&self, method: &str, secret: Option<&str>) -> ClientAuth {
        match (method, secret, &self.config.private_key) {
            ("private_key_jwt", _, Some(key)) => ClientAuth::PrivateKeyJwt(key.clone()),
            ("client_secret_post", Some(s), _) => ClientAuth::Post(s.to_owned()),
            (_, Some(s), _) => ClientAuth::Basic(s.to_owned()),
            _ => ClientAuth::None,
        }
    }

    /// The DPoP key, when the server takes DPoP proofs with ES256 (and DPoP is on).
    pub(crate) fn dpop_for(&self, md: &ServerMetadata) -> Option<&Dpop> {
        let offered = md
            .dpop_signing_alg_values_supported
            .as_ref()
            .is_some_and(|algs| algs.iter().any(|a| a == "ES256"));
        let bearer_only = self.bearer_only.load(std::sync::atomic::Ordering::Relaxed);
        (self.config.dpop && offered && !bearer_only).then_some(&self.dpop)
    }

    /// Scopes asked for last.
    pub(crate) fn requested(&self) -> Option<String> {
        self.requested.lock().ok()?.clone()
    }

    pub(crate) fn set_requested(&self, scope: Option<String>) {
        if let Ok(mut r) = self.requested.lock() {
            *r = scope;
        }
    }

    /// A new authorization (discovery, registration, grant). `challenge_scope`: the scopes a
    /// challenge named; `step_up`: union them with the scopes asked for before.
    pub(crate) async fn authorize(
        &self,
        resource_metadata: Option<&str>,
        challenge_scope: Option<&str>,
        step_up: Option<()>,
    ) -> Result<Tokens, OAuthError> {
        flow::authorize(self, resource_metadata, challenge_scope, step_up.is_some()).await
    }

    async fn on_refused(&self, refusal: &AuthRefusal<'_>) -> Result<bool, OAuthError> {
        let info = ChallengeInfo::from_headers(refusal.headers);
        let uri = refusal.uri.to_string();
        if info.error.as_deref() == Some("use_dpop_nonce") {
            // RFC 9449 §9: the resource server wants a nonce in the proof.
            return Ok(self.dpop.take_nonce(&uri, refusal.headers));
        }
        self.dpop.take_nonce(&uri, refusal.headers);
        // The token the refused request carried (none: it went out before any was obtained).
        let sent_token = refusal
            .sent_authorization
            .and_then(|h| h.split_once(' '))
            .map(|(_, token)| token.to_owned());
        let sent = self
            .current()
            .map(|(t, _, _)| t)
            .filter(|t| sent_token.as_deref() == Some(t.access_token.as_str()));
        tracing::debug!(
            status = %refusal.status,
            error = info.error.as_deref().unwrap_or(""),
            retries = refusal.retries,
            token_in_use = sent.is_some(),
            "the server refused a request"
        );
        let _one = self.flight.lock().await;
        if refusal.status == StatusCode::FORBIDDEN {
            if info.error.as_deref() != Some("insufficient_scope") {
                return Ok(false);
            }
            if refusal.retries >= MAX_AUTHORIZATIONS {
                return Err(OAuthError::StepUpLimit {
                    scopes: info.scope.unwrap_or_default(),
                    attempts: refusal.retries,
                });
            }
            // a new authorization (never a refresh) with the union of scopes.
            self.authorize(
                info.resource_metadata.as_deref(),
                info.scope.as_deref(),
                Some(()),
            )
            .await?;
            return Ok(true);
        }
        if refusal.retries >= MAX_AUTHORIZATIONS {
            return Ok(false);
        }
        // Another task may have obtained or replaced the token while this one waited (the POST
        // and the GET stream refused at once): one authorization serves both.
        if let Some((now, _, _)) = self.current()
            && sent_token.as_deref() != Some(now.access_token.as_str())
        {
            return Ok(true);
        }
        // AC-15: a DPoP-bound token refused by a server that challenges only Bearer (one that
        // cannot take DPoP, such as the TypeScript SDK's bearer middleware): authorize again
        // for an unbound token; refreshing would only bind the new one to the key again.
        let bearer_only = sent.as_ref().is_some_and(Tokens::is_dpop)
            && !info.schemes.is_empty()
            && !info.schemes.iter().any(|s| s == "dpop");
        if bearer_only {
            tracing::info!("the server takes no DPoP-bound tokens; asking for a Bearer token");
            self.bearer_only
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        // The metadata may have moved to another authorization server: look again, and
        // refresh only when the issuer is still the one that issued the tokens.
        if let Some(sent) = &sent
            && sent.refresh_token.is_some()
            && !bearer_only
        {
            let issuer_now = match discovery::discover_resource(
                &self.http,
                &self.server,
                info.resource_metadata.as_deref(),
            )
            .await
            {
                Ok(Some(prm)) => prm.authorization_servers.first().cloned(),
                _ => None,
            };
            let same = self.record().and_then(|r| r.current) == issuer_now || issuer_now.is_none();
            if same && self.refresh(sent).await? {
                return Ok(true);
            }
            tracing::debug!(same_issuer = same, "no refresh; authorizing again");
        }
        self.authorize(
            info.resource_metadata.as_deref(),
            info.scope.as_deref(),
            None,
        )
        .await?;
        Ok(true)
    }

    async fn headers_now(&self, method: &Method, uri: &Uri) -> Result<HeaderMap, OAuthError> {
        self.load_once().await?;
        let Some((tokens, _, _)) = self.current() else {
            return Ok(HeaderMap::new());
        };
        let tokens = if tokens.is_stale(REFRESH_MARGIN) && tokens.refresh_token.is_some() {
            let _one = self.flight.lock().await;
            match self.current() {
                Some((now, _, _)) if now.access_token != tokens.access_token => now,
                _ => {
                    tracing::debug!("the access token is near its expiry; refreshing it");
                    if !self.refresh(&tokens).await? {
                        return Ok(HeaderMap::new());
                    }
                    match self.current() {
                        Some((t, _, _)) => t,
                        None => return Ok(HeaderMap::new()),
                    }
                }
            }
        } else {
            tokens
        };
        self.headers_for(&tokens, method, uri)
    }
}

impl Authorizer for OAuthClient {
    fn headers<'a>(
        &'a self,
        method: &'a Method,
        uri: &'a Uri,
    ) -> BoxFuture<'a, Result<HeaderMap, TransportError>> {
        Box::pin(async move { self.headers_now(method, uri).await.map_err(Into::into) })
    }

    fn refused<'a>(
        &'a self,
        refusal: AuthRefusal<'a>,
    ) -> BoxFuture<'a, Result<bool, TransportError>> {
        Box::pin(async move { self.on_refused(&refusal).await.map_err(Into::into) })
    }
}
