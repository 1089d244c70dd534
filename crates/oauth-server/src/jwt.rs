//! JWT access tokens (RFC 9068) checked against the authorization server's JWKS (A-21, AR-4):
//! asymmetric algorithms only, issuer and expiry checked with a bounded clock skew, keys
//! refetched on an unknown `kid` at most once per interval.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::Jwk};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::fetch::{AsClient, discover};
use crate::token::{TokenVerifier, VerifiedToken, VerifyError};

/// The algorithms accepted: asymmetric only (`none` and HS* are refused, AR-4).
pub(crate) const ASYMMETRIC: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Verifies JWT access tokens with the keys the authorization server publishes.
///
/// The metadata (for `jwks_uri`) and the keys are fetched on first use, so a server starts
/// while its authorization server is down and recovers when it is back (AR-7).
pub struct JwtVerifier {
    issuer: String,
    jwks_uri: Option<String>,
    client: AsClient,
    leeway: Duration,
    refetch_after: Duration,
    keys: Mutex<Keys>,
}

#[derive(Default)]
struct Keys {
    jwks_uri: Option<String>,
    by_kid: HashMap<String, (DecodingKey, Option<String>)>,
    fetched: Option<Instant>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// Tokens of `issuer`; `jwks_uri` found in its metadata (RFC 8414, else OIDC discovery).
    pub fn new(issuer: impl Into<String>) -> Result<Self, String> {
        Ok(JwtVerifier {
            issuer: issuer.into(),
            jwks_uri: None,
            client: AsClient::new(Duration::from_secs(5))?,
            leeway: Duration::from_secs(30),
            refetch_after: Duration::from_secs(30),
            keys: Mutex::new(Keys::default()),
        })
    }

    /// Uses this JWKS URL instead of discovering it.
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(uri.into());
        self
    }

    /// The clock skew allowed on `exp`, `nbf` and `iat` (default 30 s, at most 5 minutes).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.min(Duration::from_secs(300));
        self
    }

    /// The least time between two JWKS fetches caused by unknown `kid`s (default 30 s).
    pub fn refetch_after(mut self, interval: Duration) -> Self {
        self.refetch_after = interval;
        self
    }

    /// The deadline of each request to the authorization server (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Result<Self, String> {
        self.client = AsClient::new(timeout)?;
        Ok(self)
    }

    /// The key for `kid`, fetching the JWKS when it is unknown and the last fetch is old enough.
    async fn key(&self, kid: &str) -> Result<(DecodingKey, Option<String>), VerifyError> {
        let mut keys = self.keys.lock().await;
        if let Some(key) = keys.by_kid.get(kid) {
            return Ok(key.clone());
        }
        if keys
            .fetched
            .is_some_and(|at| at.elapsed() < self.refetch_after)
        {
            return Err(VerifyError::Invalid(format!("unknown signing key {kid:?}")));
        }
        let uri = match (&self.jwks_uri, &keys.jwks_uri) {
            (Some(uri), _) | (None, Some(uri)) => uri.clone(),
            (None, None) => {
                let meta = discover(&self.client, &self.issuer).await?;
                let uri = meta
                    .get("jwks_uri")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        VerifyError::Unavailable(format!("{} publishes no jwks_uri", self.issuer))
                    })?
                    .to_owned();
                keys.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let (status, jwks) = self.client.get_json(&uri).await?;
        if !status.is_success() {
            return Err(VerifyError::Unavailable(format!("{uri} answered {status}")));
        }
        let Some(list) = jwks.get("keys").and_then(Value::as_array) else {
            return Err(VerifyError::Unavailable(format!(
                "{uri} holds no \"keys\" array"
            )));
        };
        keys.by_kid.clear();
        for jwk in list {
            // Keys of unknown types and private or symmetric keys are skipped, not fatal.
            let (Some(kid), Ok(parsed)) = (
                jwk.get("kid").and_then(Value::as_str),
                serde_json::from_value::<Jwk>(jwk.clone()),
            ) else {
                continue;
            };
            if jwk.get("kty").and_then(Value::as_str) == Some("oct") {
                continue;
            }
            if let Ok(key) = DecodingKey::from_jwk(&parsed) {
                let alg = jwk.get("alg").and_then(Value::as_str).map(str::to_owned);
                keys.by_kid.insert(kid.to_owned(), (key, alg));
            }
        }
        keys.fetched = Some(Instant::now());
        keys.by_kid
            .get(kid)
            .cloned()
            .ok_or_else(|| VerifyError::Invalid(format!("unknown signing key {kid:?}")))
    }

    async fn check(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| VerifyError::Invalid("not a JWT with a known algorithm".into()))?;
        if !ASYMMETRIC.contains(&header.alg) {
            return Err(VerifyError::Invalid(format!(
                "algorithm {:?} is not accepted (asymmetric only)",
                header.alg
            )));
        }
        match header
            .typ
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("at+jwt" | "application/at+jwt") => {}
            _ => {
                return Err(VerifyError::Invalid(
                    "not an access token (typ must be at+jwt)".into(),
                ));
            }
        }
        let kid = header
            .kid
            .ok_or_else(|| VerifyError::Invalid("the token names no key (kid)".into()))?;
        let (key, key_alg) = self.key(&kid).await?;
        if key_alg.is_some_and(|alg| format!("{:?}", header.alg) != alg) {
            return Err(VerifyError::Invalid(
                "the algorithm does not match the key".into(),
            ));
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.leeway.as_secs();
        validation.set_issuer(&[&self.issuer]);
        validation.validate_aud = false; // checked by the layer against the resource
        validation.set_required_spec_claims(&["exp", "iss"]);
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|e| VerifyError::Invalid(describe(&e)))?;
        crate::claims::read(&data.claims)
    }
}

/// A short reason for a rejected JWT (no token content in it).
fn describe(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet".into(),
        ErrorKind::InvalidIssuer => "the token is from another issuer".into(),
        ErrorKind::InvalidSignature => "the signature does not verify".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("the token has no {c} claim"),
        _ => "the token is malformed".into(),
    }
}

impl TokenVerifier for JwtVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<VerifiedToken, VerifyError>> {
        Box::pin(self.check(token))
    }

    fn cache_for(&self) -> Duration {
        // A JWT cannot be revoked before it expires: keep it until then.
        Duration::from_secs(24 * 3600)
    }
}
