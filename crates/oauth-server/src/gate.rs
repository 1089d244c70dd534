//! The resource server: serves the protected resource metadata, checks each request's token,
//! scopes and DPoP proof, and names the principal (A-2, A-3, A-21..A-24, AR-1..AR-8).

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, Method, Response, StatusCode, header};
use mcp_http_server_http::ResponseBody;
use serde_json::{Value, json};

use crate::cache::TokenCache;
use crate::challenge::{Challenge, refuse, unavailable};
use crate::dpop::{DpopChecker, Nonces, ProofError, ProofTarget};
use crate::policy::ScopePolicy;
use crate::token::{TokenVerifier, VerifiedToken, VerifyError};

/// The largest `Authorization` header accepted (400 above it).
const MAX_AUTHORIZATION: usize = 8 * 1024;
/// The DPoP signing algorithms advertised.
const DPOP_ALGS: &str = "ES256 ES384 RS256 PS256 EdDSA";

/// An OAuth 2.1 resource server in front of an MCP endpoint. Build it with
/// [`ResourceServer::builder`]; put it in front of the endpoint with [`crate::OAuthLayer`] (tower)
/// or [`ResourceServer::front`] (for `mcp_http_server_http::serve`).
#[derive(Clone)]
pub struct ResourceServer {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    resource: String,
    /// The endpoint's path, from `resource`.
    pub(crate) path: String,
    /// The path-inserted metadata path, and its absolute URL.
    metadata_path: String,
    metadata_url: String,
    metadata: bytes::Bytes,
    pub(crate) policy: ScopePolicy,
    verifier: Arc<dyn TokenVerifier>,
    cache: TokenCache,
    dpop: Option<DpopChecker>,
    /// The largest body read to find a legacy request's method.
    pub(crate) max_body: usize,
}

impl std::fmt::Debug for ResourceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceServer")
            .field("resource", &self.inner.resource)
            .finish_non_exhaustive()
    }
}

/// Builds a [`ResourceServer`].
#[must_use]
pub struct ResourceServerBuilder {
    resource: String,
    issuers: Vec<String>,
    scopes_supported: Vec<String>,
    policy: ScopePolicy,
    verifier: Option<Arc<dyn TokenVerifier>>,
    resource_name: Option<String>,
    dpop: bool,
    dpop_window: Duration,
    dpop_nonce: Option<Duration>,
    cache_entries: usize,
    max_body: usize,
}

impl std::fmt::Debug for ResourceServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceServerBuilder")
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

/// Why a [`ResourceServer`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The resource URL is not an absolute http(s) URL without a fragment.
    #[error("the resource must be an absolute http(s) URL without a fragment: {0}")]
    Resource(String),
    /// No authorization server was named.
    #[error("name at least one authorization server (its issuer URL)")]
    NoIssuer,
    /// No token verifier was set.
    #[error("set a token verifier (JWT or introspection)")]
    NoVerifier,
    /// The system gave no randomness for the DPoP nonce key.
    #[error("{0}")]
    Random(String),
}

impl ResourceServer {
    /// A resource server for the MCP endpoint at `resource` (its canonical URL, the audience
    /// tokens must be issued for, e.g. `https://mcp.example.com/mcp`).
    pub fn builder(resource: impl Into<String>) -> ResourceServerBuilder {
        ResourceServerBuilder {
            resource: resource.into(),
            issuers: Vec::new(),
            scopes_supported: Vec::new(),
            policy: ScopePolicy::default(),
            verifier: None,
            resource_name: None,
            dpop: true,
            dpop_window: Duration::from_secs(60),
            dpop_nonce: None,
            cache_entries: 10_000,
            max_body: 4 * 1024 * 1024,
        }
    }

    /// The canonical resource URL.
    pub fn resource(&self) -> &str {
        &self.inner.resource
    }

    /// The URL of the protected resource metadata (path-inserted).
    pub fn metadata_url(&self) -> &str {
        &self.inner.metadata_url
    }
}

impl ResourceServerBuilder {
    /// An authorization server whose tokens are accepted (listed in the metadata, A-2).
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// Scopes listed in the metadata's `scopes_supported` (the scopes of the policy are added).
    pub fn scopes_supported(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes_supported
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// A scope every request needs.
    pub fn require_scope(mut self, scope: impl Into<String>) -> Self {
        self.policy.always.push(scope.into());
        self
    }

    /// Scopes a JSON-RPC method needs (`tools/list`, `resources/read`, ...).
    pub fn method_scopes(
        mut self,
        method: impl Into<String>,
        scopes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let entry = self.policy.methods.entry(method.into()).or_default();
        entry.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Scopes a call of the tool `name` needs (on top of those of `tools/call`).
    pub fn tool_scopes(
        mut self,
        name: impl Into<String>,
        scopes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let entry = self.policy.tools.entry(name.into()).or_default();
        entry.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// How tokens are checked: [`crate::JwtVerifier`], [`crate::IntrospectionVerifier`] or yours.
    pub fn verifier(mut self, verifier: impl TokenVerifier) -> Self {
        self.verifier = Some(Arc::new(verifier));
        self
    }

    /// A human-readable name in the metadata (`resource_name`).
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// Whether DPoP-bound tokens and the `DPoP` scheme are accepted (default: yes; AR-6).
    pub fn dpop(mut self, enabled: bool) -> Self {
        self.dpop = enabled;
        self
    }

    /// How far a DPoP proof's `iat` may be from now (default 60 s).
    pub fn dpop_window(mut self, window: Duration) -> Self {
        self.dpop_window = window;
        self
    }

    /// Reads the scopes a tool call needs from where tools are registered (AR-11), in addition
    /// to [`tool_scopes`](Self::tool_scopes): `scopes_of(tool_name)` is asked at each call,
    /// e.g. `move |name| server.tool_scopes(name)` with an `mcp_http_server::Server` whose
    /// tools declare `ToolDef::scopes`. Give the declared scopes to
    /// [`scopes_supported`](Self::scopes_supported) too, for the metadata.
    pub fn tool_scopes_from(
        mut self,
        scopes_of: impl Fn(&str) -> Vec<String> + Send + Sync + 'static,
    ) -> Self {
        self.policy.declared = Some(crate::policy::Declared(Arc::new(scopes_of)));
        self
    }

    /// Requires server-provided nonces in DPoP proofs (AR-10, RFC 9449 §9): a proof without
    /// a current one is answered 401 `use_dpop_nonce` with a fresh nonce in `DPoP-Nonce`.
    /// Nonces rotate every `every` (rounded to whole seconds, at least 1 s) and are accepted
    /// for two periods. They are stateless (an HMAC under a key made at build), so instances
    /// behind a balancer each issue their own: keep a client on one instance. Default: off.
    pub fn dpop_nonce(mut self, every: Option<Duration>) -> Self {
        self.dpop_nonce = every;
        self
    }

    /// The most verified tokens kept in the cache (default 10 000).
    pub fn cache_entries(mut self, entries: usize) -> Self {
        self.cache_entries = entries;
        self
    }

    /// The largest body read to find a legacy request's method when scopes depend on it
    /// (default 4 MiB, 413 above).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Builds the resource server.
    pub fn build(self) -> Result<ResourceServer, BuildError> {
        let url = url::Url::parse(&self.resource)
            .map_err(|e| BuildError::Resource(format!("{}: {e}", self.resource)))?;
        if !matches!(url.scheme(), "http" | "https") || url.fragment().is_some() {
            return Err(BuildError::Resource(self.resource));
        }
        if self.issuers.is_empty() {
            return Err(BuildError::NoIssuer);
        }
        let verifier = self.verifier.ok_or(BuildError::NoVerifier)?;
        let path = match url.path() {
            "" => "/".to_owned(),
            p => p.to_owned(),
        };
        let origin = url.origin().ascii_serialization();
        let suffix = path.trim_end_matches('/');
        let metadata_path = format!("/.well-known/oauth-protected-resource{suffix}");
        let metadata_url = format!("{origin}{metadata_path}");
        let mut scopes = self.scopes_supported;
        scopes.extend(self.policy.always.iter().cloned());
        scopes.extend(self.policy.methods.values().flatten().cloned());
        scopes.extend(self.policy.tools.values().flatten().cloned());
        scopes.sort();
        scopes.dedup();
        let mut doc = json!({
            "resource": self.resource,
            "authorization_servers": self.issuers,
            "bearer_methods_supported": ["header"],
        });
        if !scopes.is_empty() {
            doc["scopes_supported"] = json!(scopes);
        }
        if let Some(name) = self.resource_name {
            doc["resource_name"] = Value::String(name);
        }
        if self.dpop {
            doc["dpop_signing_alg_values_supported"] =
                json!(DPOP_ALGS.split(' ').collect::<Vec<_>>());
        }
        let nonces = match self.dpop_nonce {
            Some(every) => Some(Nonces::new(every.as_secs()).map_err(BuildError::Random)?),
            None => None,
        };
        Ok(ResourceServer {
            inner: Arc::new(Inner {
                resource: self.resource,
                path,
                metadata_path,
                metadata_url,
                metadata: bytes::Bytes::from(doc.to_string()),
                policy: self.policy,
                verifier,
                cache: TokenCache::new(self.cache_entries),
                dpop: self
                    .dpop
                    .then(|| DpopChecker::new(self.dpop_window.as_secs(), 100_000, nonces)),
                max_body: self.max_body,
            }),
        })
    }
}

/// A refusal as a verdict.
fn answer(response: Response<ResponseBody>) -> Verdict {
    Verdict::Answer(Box::new(response))
}

/// What the gate decided about a request.
pub(crate) enum Verdict {
    /// Pass it on, with these to put in its extensions.
    Pass(Box<(VerifiedToken, mcp_http_core::Principal)>),
    /// Answer this.
    Answer(Box<Response<ResponseBody>>),
}

impl ResourceServer {
    /// The metadata document, if `path` asks for it (path-inserted or root, A-3).
    pub(crate) fn metadata(&self, method: &Method, path: &str) -> Option<Response<ResponseBody>> {
        let inner = &self.inner;
        if path != inner.metadata_path && path != "/.well-known/oauth-protected-resource" {
            return None;
        }
        let mut response = match *method {
            Method::GET | Method::HEAD => Response::new(ResponseBody::full(inner.metadata.clone())),
            _ => {
                let mut r = Response::new(ResponseBody::empty());
                *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
                r.headers_mut()
                    .insert(header::ALLOW, http::HeaderValue::from_static("GET, HEAD"));
                return Some(r);
            }
        };
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::CACHE_CONTROL,
            http::HeaderValue::from_static("max-age=300"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            http::HeaderValue::from_static("*"),
        );
        Some(response)
    }

    /// The challenges for a refusal: `Bearer`, and `DPoP` when accepted.
    fn refusal(
        &self,
        status: StatusCode,
        scopes: &[String],
        error: Option<&str>,
        description: Option<&str>,
    ) -> Response<ResponseBody> {
        let url = self.inner.metadata_url.as_str();
        let challenge = |scheme, dpop_algs| Challenge {
            scheme,
            metadata_url: url,
            scopes,
            error,
            description,
            dpop_algs,
        };
        match self.inner.dpop.is_some() {
            true => refuse(
                status,
                &[
                    challenge("Bearer", None),
                    challenge("DPoP", Some(DPOP_ALGS)),
                ],
            ),
            false => refuse(status, &[challenge("Bearer", None)]),
        }
    }

    /// Decides about a request to the endpoint whose operations are `ops` and that needs
    /// `needed` scopes.
    pub(crate) async fn check(
        &self,
        method: &Method,
        url: &str,
        headers: &HeaderMap,
        needed: &[String],
    ) -> Verdict {
        let mut values = headers.get_all(header::AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return match headers.contains_key(header::AUTHORIZATION) {
                true => answer(self.refusal(
                    StatusCode::BAD_REQUEST,
                    needed,
                    Some("invalid_request"),
                    Some("send one Authorization header"),
                )),
                false => answer(self.refusal(StatusCode::UNAUTHORIZED, needed, None, None)),
            };
        };
        if value.len() > MAX_AUTHORIZATION {
            return answer(self.refusal(
                StatusCode::BAD_REQUEST,
                needed,
                Some("invalid_request"),
                Some("the Authorization header is too large"),
            ));
        }
        let Some((scheme, token)) = value.to_str().ok().and_then(|v| v.split_once(' ')) else {
            return answer(self.refusal(
                StatusCode::UNAUTHORIZED,
                needed,
                Some("invalid_token"),
                Some("the Authorization header is not `Bearer <token>`"),
            ));
        };
        let token = token.trim();
        let dpop_scheme = scheme.eq_ignore_ascii_case("dpop");
        if !(scheme.eq_ignore_ascii_case("bearer") || dpop_scheme && self.inner.dpop.is_some()) {
            return answer(self.refusal(
                StatusCode::UNAUTHORIZED,
                needed,
                Some("invalid_token"),
                Some("unsupported authorization scheme"),
            ));
        }
        if token.is_empty() || !token.bytes().all(is_b64token) {
            return answer(self.refusal(
                StatusCode::UNAUTHORIZED,
                needed,
                Some("invalid_token"),
                Some("the token is malformed"),
            ));
        }
        let (verified, principal) = match self.verified(token).await {
            Ok(verified) => verified,
            Err(VerifyError::Invalid(reason)) => {
                tracing::debug!(%reason, "access token refused");
                return answer(self.refusal(
                    StatusCode::UNAUTHORIZED,
                    needed,
                    Some("invalid_token"),
                    Some(&reason),
                ));
            }
            Err(VerifyError::Unavailable(reason)) => {
                tracing::warn!(%reason, "cannot verify access tokens");
                return answer(unavailable(
                    "the authorization server cannot be reached to verify the token; retry later",
                ));
            }
        };
        // DPoP (AR-6): a bound token needs the DPoP scheme and a proof by its key.
        if let Some(refusal) =
            self.dpop_check(method, url, headers, token, dpop_scheme, &verified, needed)
        {
            return answer(refusal);
        }
        if !verified.has_scopes(needed) {
            return answer(self.refusal(
                StatusCode::FORBIDDEN,
                needed,
                Some("insufficient_scope"),
                Some("the token lacks a scope this operation needs"),
            ));
        }
        Verdict::Pass(Box::new((verified, principal)))
    }

    #[allow(clippy::too_many_arguments)]
    fn dpop_check(
        &self,
        method: &Method,
        url: &str,
        headers: &HeaderMap,
        token: &str,
        dpop_scheme: bool,
        verified: &VerifiedToken,
        needed: &[String],
    ) -> Option<Response<ResponseBody>> {
        let refuse = |reason: &str| {
            Some(self.refusal(
                StatusCode::UNAUTHORIZED,
                needed,
                Some("invalid_dpop_proof"),
                Some(reason),
            ))
        };
        match (&verified.jkt, dpop_scheme, &self.inner.dpop) {
            (None, false, _) => None,
            (Some(_), false, _) => {
                refuse("this token is DPoP-bound: use the DPoP scheme with a proof")
            }
            (None, true, _) => refuse("this token is not DPoP-bound: use the Bearer scheme"),
            (Some(_), true, None) => refuse("DPoP is not accepted here"),
            (Some(jkt), true, Some(checker)) => {
                let mut proofs = headers.get_all("dpop").iter();
                let proof = match (proofs.next(), proofs.next()) {
                    (Some(p), None) => p.to_str().ok(),
                    _ => None,
                };
                let Some(proof) = proof else {
                    return refuse("send exactly one DPoP proof header");
                };
                let target = ProofTarget {
                    method: method.as_str(),
                    url,
                    token,
                    jkt,
                };
                match checker.check(proof, &target) {
                    Ok(()) => None,
                    Err(ProofError::Invalid(reason)) => refuse(&reason),
                    Err(ProofError::UseNonce) => {
                        // AR-10: RFC 9449 §9, a fresh nonce to sign the next proof with.
                        let mut answer = self.refusal(
                            StatusCode::UNAUTHORIZED,
                            needed,
                            Some("use_dpop_nonce"),
                            Some("the DPoP proof needs the nonce this server provides"),
                        );
                        if let Some(nonce) = checker
                            .fresh_nonce()
                            .and_then(|n| http::HeaderValue::from_str(&n).ok())
                        {
                            answer.headers_mut().insert("dpop-nonce", nonce);
                        }
                        Some(answer)
                    }
                }
            }
        }
    }

    /// `token` verified, from the cache or the verifier; audience checked.
    async fn verified(
        &self,
        token: &str,
    ) -> Result<(VerifiedToken, mcp_http_core::Principal), VerifyError> {
        let inner = &self.inner;
        if let Some(hit) = inner.cache.get(token) {
            return Ok(hit);
        }
        let verified = inner.verifier.verify(token).await?;
        if !verified.audience.iter().any(|aud| *aud == inner.resource) {
            return Err(VerifyError::Invalid(
                "the token was issued for another resource".into(),
            ));
        }
        let principal = verified.principal();
        let ttl = inner.verifier.cache_for();
        inner.cache.put(token, &verified, &principal, ttl);
        Ok((verified, principal))
    }
}

/// RFC 6750 `b64token` characters.
fn is_b64token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}
