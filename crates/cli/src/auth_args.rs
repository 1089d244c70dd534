//! `mcp-http serve --auth-*`: the OAuth resource server in front of the endpoint
//! (docs/auth-server.md; AR-9).

use mcp_http_oauth_server::{IntrospectionVerifier, JwtVerifier, ResourceServer};

/// The flags of `serve` that make it an OAuth 2.1 resource server.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AuthArgs {
    /// Require OAuth access tokens issued by this authorization server (its issuer URL); JWT
    /// access tokens are checked against its JWKS unless --introspect is given.
    #[arg(long, value_name = "URL")]
    pub auth_issuer: Option<String>,
    /// The canonical URL of this resource (the audience tokens must name). Default: the URL
    /// served (http://HOST:PORT/PATH).
    #[arg(long, value_name = "URL", requires = "auth_issuer")]
    pub auth_audience: Option<String>,
    /// A scope every request needs (repeatable).
    #[arg(long = "auth-scope", value_name = "SCOPE", requires = "auth_issuer")]
    pub auth_scopes: Vec<String>,
    /// A scope a tool needs, as TOOL=SCOPE (repeatable).
    #[arg(
        long = "auth-tool-scope",
        value_name = "TOOL=SCOPE",
        requires = "auth_issuer"
    )]
    pub auth_tool_scopes: Vec<String>,
    /// A scope a JSON-RPC method needs, as METHOD=SCOPE (repeatable).
    #[arg(
        long = "auth-method-scope",
        value_name = "METHOD=SCOPE",
        requires = "auth_issuer"
    )]
    pub auth_method_scopes: Vec<String>,
    /// The JWKS URL (default: the jwks_uri of the issuer's metadata).
    #[arg(long, value_name = "URL", requires = "auth_issuer")]
    pub auth_jwks: Option<String>,
    /// Check opaque tokens by RFC 7662 introspection at this URL (`discover` takes it from the
    /// issuer's metadata) instead of as JWTs.
    #[arg(long, value_name = "URL", requires_all = ["auth_issuer", "introspect_client_id"])]
    pub introspect: Option<String>,
    /// The client id this server introspects as.
    #[arg(long, value_name = "ID")]
    pub introspect_client_id: Option<String>,
    /// That client's secret.
    #[arg(
        long,
        value_name = "SECRET",
        env = "MCP_HTTP_INTROSPECT_SECRET",
        hide_env_values = true
    )]
    pub introspect_client_secret: Option<String>,
    /// Seconds of clock skew allowed on a JWT's exp/nbf (at most 300).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub auth_leeway: u64,
    /// Refuse DPoP (RFC 9449); accepted by default.
    #[arg(long, requires = "auth_issuer")]
    pub auth_no_dpop: bool,
    /// Require server-provided DPoP nonces (RFC 9449 §9), rotating every SECONDS (AR-10).
    #[arg(
        long,
        value_name = "SECONDS",
        requires = "auth_issuer",
        conflicts_with = "auth_no_dpop"
    )]
    pub auth_dpop_nonce: Option<u64>,
}

/// Splits `KEY=VALUE`.
fn pair<'a>(flag: &str, text: &'a str) -> Result<(&'a str, &'a str), String> {
    text.split_once('=')
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .ok_or_else(|| format!("{flag} takes NAME=SCOPE, not {text:?}"))
}

impl AuthArgs {
    /// The resource server these flags describe, for the endpoint served at `url`; `None`
    /// without `--auth-issuer`.
    ///
    /// The scopes the `server`'s tools declare (`ToolDef::scopes`) are required too (AR-11);
    /// a bridge, whose tools are its child's, passes `None`.
    pub fn resource_server(
        &self,
        url: &str,
        server: Option<&mcp_http_server::Server>,
    ) -> Result<Option<ResourceServer>, String> {
        let Some(issuer) = &self.auth_issuer else {
            return Ok(None);
        };
        let audience = self.auth_audience.clone().unwrap_or_else(|| url.to_owned());
        let mut builder = ResourceServer::builder(audience)
            .authorization_server(issuer.clone())
            .dpop(!self.auth_no_dpop)
            .dpop_nonce(self.auth_dpop_nonce.map(std::time::Duration::from_secs));
        for scope in &self.auth_scopes {
            builder = builder.require_scope(scope.clone());
        }
        if let Some(server) = server {
            let tools = server.downgrade();
            builder = builder
                .scopes_supported(server.declared_scopes())
                .tool_scopes_from(move |name| {
                    tools
                        .upgrade()
                        .map(|server| server.tool_scopes(name))
                        .unwrap_or_default()
                });
        }
        for text in &self.auth_tool_scopes {
            let (tool, scope) = pair("--auth-tool-scope", text)?;
            builder = builder.tool_scopes(tool, [scope]);
        }
        for text in &self.auth_method_scopes {
            let (method, scope) = pair("--auth-method-scope", text)?;
            builder = builder.method_scopes(method, [scope]);
        }
        builder = match &self.introspect {
            Some(endpoint) => {
                let id = self.introspect_client_id.clone().unwrap_or_default();
                let secret = self.introspect_client_secret.clone().unwrap_or_default();
                let verifier = IntrospectionVerifier::new(issuer.clone(), id, secret)?;
                builder.verifier(match endpoint.as_str() {
                    "discover" => verifier,
                    _ => verifier.endpoint(endpoint.clone()),
                })
            }
            None => {
                let verifier = JwtVerifier::new(issuer.clone())?
                    .leeway(std::time::Duration::from_secs(self.auth_leeway));
                builder.verifier(match &self.auth_jwks {
                    Some(jwks) => verifier.jwks_uri(jwks.clone()),
                    None => verifier,
                })
            }
        };
        builder
            .build()
            .map(Some)
            .map_err(|e| format!("--auth-*: {e}"))
    }
}
