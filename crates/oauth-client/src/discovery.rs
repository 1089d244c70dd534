//! Discovery: the protected resource metadata (RFC 9728) found from the challenge, the
//! path-inserted well-known URL, then the root one, its `resource` checked against the
//! server URL; then the authorization server metadata in the RFC 8414 / OIDC order (A-5,
//! A-5a, A-5b) with its `issuer` checked exactly; the 2025-03-26 fallbacks when the
//! server has no resource metadata.

use mcp_http_client_http::HttpClient;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::OAuthError;
use crate::fetch::{self, get_document};

/// The protected resource metadata the client uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceMetadata {
    /// `resource`: sent verbatim as the RFC 8707 `resource` parameter.
    pub resource: String,
    /// `authorization_servers`: issuers.
    pub authorization_servers: Vec<String>,
    /// `scopes_supported`.
    pub scopes_supported: Option<Vec<String>>,
    /// Where it was found.
    pub url: String,
}

/// The authorization server metadata the client uses (RFC 8414).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerMetadata {
    /// `issuer`, equal to the issuer the metadata URL was built from.
    pub issuer: String,
    /// `authorization_endpoint`.
    pub authorization_endpoint: String,
    /// `token_endpoint`.
    pub token_endpoint: String,
    /// `registration_endpoint`.
    pub registration_endpoint: Option<String>,
    /// `code_challenge_methods_supported` (`None`: absent).
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// `authorization_response_iss_parameter_supported` (RFC 9207).
    pub iss_parameter_supported: bool,
    /// `token_endpoint_auth_methods_supported`.
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// `scopes_supported`.
    pub scopes_supported: Option<Vec<String>>,
    /// `client_id_metadata_document_supported`.
    pub client_id_metadata_document_supported: bool,
    /// `dpop_signing_alg_values_supported` (RFC 9449).
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// Made up from the 2025-03-26 default endpoints (no metadata at all).
    pub fallback: bool,
}

impl ServerMetadata {
    /// Whether PKCE with S256 is advertised. The 2025-03-26 endpoint fallback has no
    /// metadata to ask, and PKCE is mandatory there.
    pub fn supports_s256(&self) -> bool {
        self.fallback
            || self
                .code_challenge_methods_supported
                .as_ref()
                .is_some_and(|m| m.iter().any(|m| m == "S256"))
    }

    /// Whether the server lists `scope` in `scopes_supported`.
    pub fn offers_scope(&self, scope: &str) -> bool {
        self.scopes_supported
            .as_ref()
            .is_some_and(|s| s.iter().any(|s| s == scope))
    }
}

/// The path-inserted and root protected resource metadata URLs of `server` (RFC 9728 §3.1).
pub fn resource_metadata_urls(server: &url::Url) -> Vec<String> {
    let origin = origin_of(server);
    let path = server.path().trim_end_matches('/');
    let root = format!("{origin}/.well-known/oauth-protected-resource");
    if path.is_empty() {
        vec![root]
    } else {
        vec![format!("{root}{path}"), root]
    }
}

/// `scheme://host[:port]`.
pub(crate) fn origin_of(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// Finds the protected resource metadata of `server`: the URL the challenge named, else
/// the path-inserted well-known URL, else the root one. A source that answered (even with a
/// document that cannot be used) ends the search: the root is never asked once a better source
/// answered. `Ok(None)`: no source has any.
pub async fn discover_resource(
    http: &HttpClient,
    server: &url::Url,
    from_challenge: Option<&str>,
) -> Result<Option<ResourceMetadata>, OAuthError> {
    let mut candidates = Vec::new();
    if let Some(url) = from_challenge {
        let parsed = fetch::check_endpoint("protected resource metadata", url)?;
        candidates.push(parsed.to_string());
    }
    candidates.extend(resource_metadata_urls(server));
    for url in candidates {
        let answer = get_document(http, "protected resource metadata", &url).await?;
        if answer.status.is_client_error() {
            continue;
        }
        if !answer.status.is_success() {
            return Err(OAuthError::BadDocument {
                what: "protected resource metadata",
                url,
                reason: format!("HTTP {}", answer.status.as_u16()),
            });
        }
        let json = answer.json("protected resource metadata")?;
        let metadata = parse_resource(&json, &url)?;
        check_resource(server, &metadata.resource)?;
        return Ok(Some(metadata));
    }
    Ok(None)
}

fn parse_resource(json: &Map<String, Value>, url: &str) -> Result<ResourceMetadata, OAuthError> {
    let bad = |reason: String| OAuthError::BadDocument {
        what: "protected resource metadata",
        url: url.to_owned(),
        reason,
    };
    let resource = string(json, "resource")
        .map_err(&bad)?
        .ok_or_else(|| bad("no \"resource\"".to_owned()))?;
    let authorization_servers = strings(json, "authorization_servers")
        .map_err(&bad)?
        .filter(|s| !s.is_empty())
        .ok_or_else(
            || bad("no \"authorization_servers\" (A-2 requires at least one)".to_owned()),
        )?;
    Ok(ResourceMetadata {
        resource,
        authorization_servers,
        scopes_supported: strings(json, "scopes_supported").map_err(&bad)?,
        url: url.to_owned(),
    })
}

/// The `resource` of the metadata must name the server: the same origin, and a path that is
/// the server's or a prefix of it at a segment boundary. The string itself is kept as
/// given and sent verbatim.
pub fn check_resource(server: &url::Url, resource: &str) -> Result<(), OAuthError> {
    let mismatch = || OAuthError::ResourceMismatch {
        server: server.to_string(),
        found: resource.to_owned(),
    };
    let parsed = url::Url::parse(resource).map_err(|_| mismatch())?;
    if parsed.origin() != server.origin() || parsed.fragment().is_some() {
        return Err(mismatch());
    }
    let prefix = parsed.path().trim_end_matches('/');
    let path = server.path();
    let covered = prefix.is_empty()
        || path == prefix
        || path.trim_end_matches('/') == prefix
        || path.starts_with(&format!("{prefix}/"));
    if covered { Ok(()) } else { Err(mismatch()) }
}

/// The metadata URLs of `issuer`, in the order A-5a (issuer with a path) or A-5b (without).
pub fn server_metadata_urls(issuer: &url::Url) -> Vec<String> {
    let origin = origin_of(issuer);
    let path = issuer.path().trim_end_matches('/');
    if path.is_empty() {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{origin}/.well-known/openid-configuration{path}"),
            format!("{origin}{path}/.well-known/openid-configuration"),
        ]
    }
}

/// Fetches the metadata of `issuer` in the A-5a/A-5b order. The first document found must name
/// exactly `issuer`, else it is refused and nothing of it used. `Ok(None)`: no URL had
/// one.
pub async fn discover_server(
    http: &HttpClient,
    issuer: &str,
) -> Result<Option<ServerMetadata>, OAuthError> {
    let parsed = fetch::check_endpoint("authorization server issuer", issuer)?;
    for url in server_metadata_urls(&parsed) {
        let answer = get_document(http, "authorization server metadata", &url).await?;
        if answer.status.is_client_error() {
            continue;
        }
        if !answer.status.is_success() {
            return Err(OAuthError::BadDocument {
                what: "authorization server metadata",
                url,
                reason: format!("HTTP {}", answer.status.as_u16()),
            });
        }
        let json = answer.json("authorization server metadata")?;
        let found = json.get("issuer").and_then(Value::as_str).unwrap_or("");
        if found != issuer {
            return Err(OAuthError::IssuerMismatch {
                url,
                expected: issuer.to_owned(),
                found: found.to_owned(),
            });
        }
        return parse_server(&json, &url).map(Some);
    }
    Ok(None)
}

/// The 2025-03-26 defaults for a server without any metadata: `/authorize`, `/token` and
/// `/register` on the MCP server's origin.
pub(crate) fn fallback_server(origin: &str) -> ServerMetadata {
    ServerMetadata {
        issuer: origin.to_owned(),
        authorization_endpoint: format!("{origin}/authorize"),
        token_endpoint: format!("{origin}/token"),
        registration_endpoint: Some(format!("{origin}/register")),
        code_challenge_methods_supported: None,
        iss_parameter_supported: false,
        token_endpoint_auth_methods_supported: None,
        scopes_supported: None,
        client_id_metadata_document_supported: false,
        dpop_signing_alg_values_supported: None,
        fallback: true,
    }
}

fn parse_server(json: &Map<String, Value>, url: &str) -> Result<ServerMetadata, OAuthError> {
    let bad = |reason: String| OAuthError::BadDocument {
        what: "authorization server metadata",
        url: url.to_owned(),
        reason,
    };
    let required = |name: &str| -> Result<String, OAuthError> {
        let value = string(json, name)
            .map_err(&bad)?
            .ok_or_else(|| bad(format!("no {name:?}")))?;
        fetch::check_endpoint("authorization server endpoint", &value)?;
        Ok(value)
    };
    let registration_endpoint = match string(json, "registration_endpoint").map_err(&bad)? {
        Some(url) => {
            fetch::check_endpoint("registration endpoint", &url)?;
            Some(url)
        }
        None => None,
    };
    Ok(ServerMetadata {
        issuer: string(json, "issuer").map_err(&bad)?.unwrap_or_default(),
        authorization_endpoint: required("authorization_endpoint")?,
        token_endpoint: required("token_endpoint")?,
        registration_endpoint,
        code_challenge_methods_supported: strings(json, "code_challenge_methods_supported")
            .map_err(&bad)?,
        iss_parameter_supported: json
            .get("authorization_response_iss_parameter_supported")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        token_endpoint_auth_methods_supported: strings(
            json,
            "token_endpoint_auth_methods_supported",
        )
        .map_err(&bad)?,
        scopes_supported: strings(json, "scopes_supported").map_err(&bad)?,
        client_id_metadata_document_supported: json
            .get("client_id_metadata_document_supported")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        dpop_signing_alg_values_supported: strings(json, "dpop_signing_alg_values_supported")
            .map_err(&bad)?,
        fallback: false,
    })
}

/// A string member: absent is `None`, another type an error naming it.
fn string(json: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match json.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{name:?} is not a string")),
    }
}

/// An array-of-strings member.
fn strings(json: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, String> {
    match json.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{name:?} holds a value that is not a string"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(format!("{name:?} is not an array")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn well_known_urls_in_the_spec_order() {
        assert_eq!(
            resource_metadata_urls(&u("http://a:1/mcp")),
            [
                "http://a:1/.well-known/oauth-protected-resource/mcp",
                "http://a:1/.well-known/oauth-protected-resource"
            ]
        );
        assert_eq!(
            server_metadata_urls(&u("https://a/t1")),
            [
                "https://a/.well-known/oauth-authorization-server/t1",
                "https://a/.well-known/openid-configuration/t1",
                "https://a/t1/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            server_metadata_urls(&u("https://a")),
            [
                "https://a/.well-known/oauth-authorization-server",
                "https://a/.well-known/openid-configuration"
            ]
        );
    }

    #[test]
    fn the_resource_must_cover_the_server_url() {
        let server = u("http://localhost:3000/mcp");
        for ok in [
            "http://localhost:3000/mcp",
            "http://localhost:3000",
            "http://localhost:3000/",
        ] {
            assert!(check_resource(&server, ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://evil.example.com/mcp",
            "http://localhost:3001/mcp",
            "http://localhost:3000/mc",
            "http://localhost:3000/other",
            "not a url",
        ] {
            assert!(
                matches!(
                    check_resource(&server, bad),
                    Err(OAuthError::ResourceMismatch { .. })
                ),
                "{bad}"
            );
        }
    }
}
