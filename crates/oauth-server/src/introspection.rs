//! Opaque access tokens checked by RFC 7662 introspection (A-21, AR-5). The layer's cache keeps
//! an answer for at most [`IntrospectionVerifier::cache_for`] and never past the token's expiry.

use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::Full;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::fetch::{AsClient, discover};
use crate::token::{TokenVerifier, VerifiedToken, VerifyError};

/// Asks the authorization server's introspection endpoint about each token, authenticated as
/// a client with `client_secret_basic`.
pub struct IntrospectionVerifier {
    issuer: String,
    endpoint: OnceCell<String>,
    client_id: String,
    client_secret: String,
    client: AsClient,
    cache_for: Duration,
}

impl std::fmt::Debug for IntrospectionVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret stays out of logs.
        f.debug_struct("IntrospectionVerifier")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl IntrospectionVerifier {
    /// Introspects at `issuer`'s `introspection_endpoint` (from its metadata) as `client_id`.
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Result<Self, String> {
        Ok(IntrospectionVerifier {
            issuer: issuer.into(),
            endpoint: OnceCell::new(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            client: AsClient::new(Duration::from_secs(5))?,
            cache_for: Duration::from_secs(30),
        })
    }

    /// Uses this endpoint instead of the one in the metadata.
    pub fn endpoint(self, url: impl Into<String>) -> Self {
        let endpoint = OnceCell::new();
        let _ = endpoint.set(url.into());
        IntrospectionVerifier { endpoint, ..self }
    }

    /// How long an active answer is reused (default 30 s; never past the token's expiry).
    pub fn cache(mut self, ttl: Duration) -> Self {
        self.cache_for = ttl;
        self
    }

    /// The deadline of each request to the authorization server (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Result<Self, String> {
        self.client = AsClient::new(timeout)?;
        Ok(self)
    }

    async fn endpoint_url(&self) -> Result<&str, VerifyError> {
        self.endpoint
            .get_or_try_init(|| async {
                let meta = discover(&self.client, &self.issuer).await?;
                meta.get("introspection_endpoint")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        VerifyError::Unavailable(format!(
                            "{} publishes no introspection_endpoint",
                            self.issuer
                        ))
                    })
            })
            .await
            .map(String::as_str)
    }

    async fn check(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        let endpoint = self.endpoint_url().await?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .append_pair("token_type_hint", "access_token")
            .finish();
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            enc(&self.client_id),
            enc(&self.client_secret)
        ));
        let request = http::Request::post(endpoint)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::AUTHORIZATION, format!("Basic {basic}"))
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| VerifyError::Unavailable(format!("bad introspection URL: {e}")))?;
        let (status, answer) = self.client.json(request).await?;
        if answer.get("error").and_then(Value::as_str) == Some("unsupported_token_type") {
            // oidc-provider will not introspect a JWT: not a token of this kind, so not valid here.
            return Err(VerifyError::Invalid(
                "the token is not an introspectable access token".into(),
            ));
        }
        if !status.is_success() {
            return Err(VerifyError::Unavailable(format!(
                "introspection answered {status} (are the resource server's client credentials right?)"
            )));
        }
        if answer.get("active").and_then(Value::as_bool) != Some(true) {
            return Err(VerifyError::Invalid("the token is not active".into()));
        }
        let token = crate::claims::read(&answer)?;
        if token
            .issuer
            .as_deref()
            .is_some_and(|iss| iss != self.issuer)
        {
            return Err(VerifyError::Invalid(
                "the token is from another issuer".into(),
            ));
        }
        if token
            .expires_at
            .is_some_and(|exp| exp <= std::time::SystemTime::now())
        {
            return Err(VerifyError::Invalid("the token has expired".into()));
        }
        Ok(token)
    }
}

impl TokenVerifier for IntrospectionVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<VerifiedToken, VerifyError>> {
        Box::pin(self.check(token))
    }

    fn cache_for(&self) -> Duration {
        self.cache_for
    }
}
