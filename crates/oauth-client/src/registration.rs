//! Obtaining a client id at an authorization server: pre-registered credentials, else a
//! Client ID Metadata Document URL when the server supports it, else Dynamic Client
//! Registration (A-11, with `application_type: native` and `refresh_token` among the grant
//! types), else a clear error. A registration is bound to its issuer and made again when
//! the redirect URI it was made with is no longer the one in use (AC-10).

use http::Method;
use http::header::HeaderMap;
use mcp_http_client_http::HttpClient;
use serde_json::{Value, json};

use crate::discovery::ServerMetadata;
use crate::error::OAuthError;
use crate::fetch::send;
use crate::store::ClientRecord;

/// What the client knows about itself.
pub(crate) struct ClientIdentity<'a> {
    pub(crate) client_id: Option<&'a str>,
    pub(crate) client_secret: Option<&'a str>,
    pub(crate) private_key: bool,
    pub(crate) metadata_url: Option<&'a str>,
    pub(crate) client_name: &'a str,
}

/// The token endpoint authentication method for a client with (or without) a secret, from
/// what the server supports (RFC 8414: `client_secret_basic` when it does not say).
pub(crate) fn auth_method(md: &ServerMetadata, has_secret: bool, private_key: bool) -> String {
    let supported = |m: &str| {
        md.token_endpoint_auth_methods_supported
            .as_ref()
            .is_none_or(|list| list.iter().any(|x| x == m))
    };
    if private_key {
        return "private_key_jwt".to_owned();
    }
    if !has_secret {
        return "none".to_owned();
    }
    if supported("client_secret_basic") {
        "client_secret_basic".to_owned()
    } else if supported("client_secret_post") {
        "client_secret_post".to_owned()
    } else {
        "client_secret_basic".to_owned()
    }
}

/// The client to use at `md`'s issuer with `redirect_uri`: `kept` when it still fits, else a
/// new one in the A-8 order.
pub(crate) async fn obtain(
    http: &HttpClient,
    me: &ClientIdentity<'_>,
    md: &ServerMetadata,
    redirect_uri: Option<&str>,
    kept: Option<&ClientRecord>,
) -> Result<ClientRecord, OAuthError> {
    if let Some(client_id) = me.client_id {
        return Ok(ClientRecord {
            client_id: client_id.to_owned(),
            client_secret: me.client_secret.map(str::to_owned),
            auth_method: auth_method(md, me.client_secret.is_some(), me.private_key),
            redirect_uris: redirect_uri.into_iter().map(str::to_owned).collect(),
            kind: "pre-registered".to_owned(),
        });
    }
    if let Some(kept) = kept
        && (kept.kind != "dynamic"
            || redirect_uri.is_none_or(|r| kept.redirect_uris.iter().any(|k| k == r)))
    {
        return Ok(kept.clone());
    }
    if md.client_id_metadata_document_supported
        && let Some(url) = me.metadata_url
    {
        return Ok(ClientRecord {
            client_id: url.to_owned(),
            client_secret: None,
            auth_method: "none".to_owned(),
            redirect_uris: redirect_uri.into_iter().map(str::to_owned).collect(),
            kind: "cimd".to_owned(),
        });
    }
    let Some(endpoint) = &md.registration_endpoint else {
        return Err(OAuthError::Registration {
            issuer: md.issuer.clone(),
            reason: "no pre-registered client id (--client-id), no client metadata document support and no registration endpoint".to_owned(),
        });
    };
    register(http, me, md, endpoint, redirect_uri).await
}

/// Dynamic Client Registration (RFC 7591).
async fn register(
    http: &HttpClient,
    me: &ClientIdentity<'_>,
    md: &ServerMetadata,
    endpoint: &str,
    redirect_uri: Option<&str>,
) -> Result<ClientRecord, OAuthError> {
    let bad = |reason: String| OAuthError::Registration {
        issuer: md.issuer.clone(),
        reason,
    };
    let supports_none = md
        .token_endpoint_auth_methods_supported
        .as_ref()
        .is_none_or(|l| l.iter().any(|m| m == "none"));
    let asked_method = if supports_none {
        "none".to_owned()
    } else {
        auth_method(md, true, false)
    };
    let body = json!({
        "client_name": me.client_name,
        "redirect_uris": redirect_uri.into_iter().collect::<Vec<_>>(),
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": asked_method,
        "application_type": "native",
    });
    let answer = send(
        http,
        "client registration",
        Method::POST,
        endpoint,
        HeaderMap::new(),
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await?;
    if !answer.status.is_success() {
        let json = serde_json::from_slice::<Value>(&answer.body).unwrap_or_default();
        let code = json["error"].as_str().unwrap_or("no OAuth error code");
        let description = json["error_description"].as_str().unwrap_or("");
        return Err(bad(format!(
            "the registration endpoint answered HTTP {}: {code} {}",
            answer.status.as_u16(),
            description.chars().take(200).collect::<String>()
        )));
    }
    let json = answer.json("client registration")?;
    let client_id = json
        .get("client_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("the registration answer has no \"client_id\"".to_owned()))?
        .to_owned();
    let client_secret = json
        .get("client_secret")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let auth_method = match json
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
    {
        Some(m) => m.to_owned(),
        // The server did not say: what was asked, unless a secret came back for a client that
        // asked for none at a server that cannot take none.
        None if client_secret.is_some() && !supports_none => auth_method(md, true, false),
        None => asked_method,
    };
    Ok(ClientRecord {
        client_id,
        client_secret,
        auth_method,
        redirect_uris: redirect_uri.into_iter().map(str::to_owned).collect(),
        kind: "dynamic".to_owned(),
    })
}
