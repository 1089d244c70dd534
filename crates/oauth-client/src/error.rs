//! What can go wrong in an authorization, each failure its own variant naming the problem
//! (AC-9): a hostile or broken server gets a typed error, never a panic or a hang. No variant
//! carries a secret (tokens, client secrets, codes and verifiers are never in a message).

use mcp_http_core::{TransportError, TransportErrorKind};

/// Why an authorization failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// A metadata document (protected resource or authorization server) or a registration
    /// answer that cannot be used: not JSON, HTML, too large, a required field missing.
    #[error("{what} at {url}: {reason}")]
    BadDocument {
        /// Which document.
        what: &'static str,
        /// Where it came from.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No protected resource metadata and no authorization server metadata could be found.
    #[error("no authorization metadata for {server}: {reason}")]
    NoMetadata {
        /// The MCP server.
        server: String,
        /// What was tried.
        reason: String,
    },
    /// The protected resource metadata names a resource that does not cover the server's URL
    /// (another origin, or a path that is not a prefix of it): no authorization request is made.
    #[error(
        "the protected resource metadata names resource {found:?}, which is not {server} or a prefix of it on its origin"
    )]
    ResourceMismatch {
        /// The server URL connected to.
        server: String,
        /// The metadata's `resource`.
        found: String,
    },
    /// The authorization server metadata names another issuer than the one its URL was built
    /// from: none of its endpoints is used.
    #[error(
        "the authorization server metadata at {url} names issuer {found:?}, expected exactly {expected:?}"
    )]
    IssuerMismatch {
        /// The metadata's URL.
        url: String,
        /// The issuer the URL was built from.
        expected: String,
        /// The metadata's `issuer`.
        found: String,
    },
    /// The authorization server does not advertise PKCE with S256.
    #[error(
        "the authorization server {issuer} does not advertise PKCE S256 (code_challenge_methods_supported: {found}); refusing to authorize (set assume_pkce / --assume-pkce if you know it supports S256)"
    )]
    PkceUnsupported {
        /// The issuer.
        issuer: String,
        /// What it advertises.
        found: String,
    },
    /// An endpoint that must not be used: not http(s), or plain http to a host that is not a
    /// loopback address.
    #[error("refusing {what} {url}: {reason}")]
    InsecureUrl {
        /// Which endpoint.
        what: &'static str,
        /// Its URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// A redirect during discovery to another origin, or too many redirects.
    #[error("{what} at {url}: redirected to {to}, which is not followed ({reason})")]
    Redirected {
        /// Which document.
        what: &'static str,
        /// Where it was asked for.
        url: String,
        /// Where the redirect pointed.
        to: String,
        /// Why it was not followed.
        reason: &'static str,
    },
    /// No client id could be obtained (no pre-registered client, no CIMD, no registration
    /// endpoint), or the registration was refused.
    #[error("client registration at {issuer}: {reason}")]
    Registration {
        /// The issuer.
        issuer: String,
        /// Why.
        reason: String,
    },
    /// The authorization callback was refused: wrong `state`, wrong or missing `iss`
    /// an `error` from the server, no `code`.
    #[error("authorization callback: {0}")]
    Callback(String),
    /// The token endpoint answered with an OAuth error (RFC 6749 §5.2).
    #[error("token endpoint {url}: HTTP {status}: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    TokenError {
        /// The token endpoint.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The `error` code (`invalid_grant`, `invalid_client`, ...).
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
    /// A token response that cannot be used (not JSON, no `access_token`, a bad `expires_in`,
    /// an unknown token type).
    #[error("token response from {url}: {reason}")]
    BadTokenResponse {
        /// The token endpoint.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Step-up gave up: the server still refused with `insufficient_scope` after the
    /// authorizations allowed.
    #[error(
        "the server still asks for scopes {scopes:?} after {attempts} authorizations; giving up"
    )]
    StepUpLimit {
        /// The scopes last asked for.
        scopes: String,
        /// The authorizations made.
        attempts: u32,
    },
    /// The user agent could not open the URL or receive the callback.
    #[error("user agent: {0}")]
    UserAgent(String),
    /// The token store could not be read or written.
    #[error("token store: {0}")]
    Store(String),
    /// A signing key that cannot be used.
    #[error("signing key: {0}")]
    Key(String),
    /// The HTTP request itself failed (connection, timeout).
    #[error("{what} at {url}: {source}")]
    Http {
        /// Which request.
        what: &'static str,
        /// Its URL.
        url: String,
        /// The transport's error.
        source: TransportError,
    },
    /// An interactive authorization would be needed, but this client is not allowed to start
    /// one (no user agent).
    #[error(
        "authorization required by {server}, and no way to ask the user (run `mcp-http login {server}`)"
    )]
    InteractionRequired {
        /// The MCP server.
        server: String,
    },
}

impl From<OAuthError> for TransportError {
    fn from(error: OAuthError) -> Self {
        let kind = match &error {
            OAuthError::Http { source, .. } => source.kind(),
            _ => TransportErrorKind::HttpStatus(401),
        };
        TransportError::new(kind, format!("authorization failed: {error}")).with_source(error)
    }
}
