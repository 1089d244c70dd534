//! What a verified access token says: the principal the request acts for (AR-3).

use std::time::SystemTime;

use futures::future::BoxFuture;
use mcp_http_core::Principal;

/// A verified access token: who it is for, which client holds it, what it allows, until when.
/// The layer puts it in the request's extensions, next to the [`Principal`] built from it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedToken {
    /// The `sub` claim: the resource owner (for `client_credentials`, the client itself).
    pub subject: String,
    /// The `client_id` claim (empty when the token has none).
    pub client_id: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// The `aud` claim (one or more resource URLs).
    pub audience: Vec<String>,
    /// The `iss` claim, when the token carries one.
    pub issuer: Option<String>,
    /// When the token expires (`exp`).
    pub expires_at: Option<SystemTime>,
    /// The SHA-256 JWK thumbprint the token is bound to (`cnf.jkt`, RFC 9449), if any.
    pub jkt: Option<String>,
}

impl VerifiedToken {
    /// A token for `subject`, held by `client_id`, with nothing else known yet.
    pub fn new(subject: impl Into<String>, client_id: impl Into<String>) -> Self {
        VerifiedToken {
            subject: subject.into(),
            client_id: client_id.into(),
            scopes: Vec::new(),
            audience: Vec::new(),
            issuer: None,
            expires_at: None,
            jkt: None,
        }
    }

    /// The principal a session is bound to: subject and client, never the token bytes, so a
    /// refreshed token keeps the session and another user or client does not get it (AR-3).
    pub fn principal(&self) -> Principal {
        Principal::new(format!("{} (client {})", self.subject, self.client_id))
    }

    /// Whether every scope of `needed` was granted, compared exactly: no scope implies another
    /// (AR-15, A-24: the authorization servers define no hierarchy).
    pub fn has_scopes<'a>(&self, needed: impl IntoIterator<Item = &'a String>) -> bool {
        needed.into_iter().all(|s| self.scopes.contains(s))
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token is malformed, expired, for another audience, badly signed or revoked: 401.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The authorization server (JWKS, metadata, introspection) could not be asked: 503.
    #[error("the authorization server is unavailable: {0}")]
    Unavailable(String),
}

/// Checks an access token. Two built-ins: [`crate::JwtVerifier`] (RFC 9068, against the
/// authorization server's JWKS) and [`crate::IntrospectionVerifier`] (RFC 7662).
pub trait TokenVerifier: Send + Sync + 'static {
    /// Verifies `token` (the bytes after `Bearer `/`DPoP `): signature or introspection,
    /// issuer and expiry. The layer checks audience, scopes and DPoP binding afterwards.
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<VerifiedToken, VerifyError>>;

    /// How long a verified token may be reused without asking again (never past its expiry).
    /// A JWT stays valid until it expires; an introspected token can be revoked, so keep it
    /// short.
    fn cache_for(&self) -> std::time::Duration {
        std::time::Duration::from_secs(60)
    }
}
