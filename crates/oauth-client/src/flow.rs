//! One new authorization: discovery, registration, scope selection, then the authorization
//! code grant with PKCE S256, `state` and the RFC 9207 `iss` check (A-13..A-16), or the client
//! credentials grant (AC-3); the tokens stored under the issuer.

use std::collections::HashMap;

use crate::client::OAuthClient;
use crate::discovery::{self, ServerMetadata};
use crate::error::OAuthError;
use crate::jws::{random_token, s256};
use crate::registration::{self, ClientIdentity};
use crate::store::{ClientRecord, IssuerRecord, ServerRecord};
use crate::token::{TokenRequest, Tokens};

/// Where the resource's authorization lives.
struct Target {
    metadata: ServerMetadata,
    /// The PRM's `resource` verbatim, or the server URL for 2025-03-26 servers.
    resource: String,
    scopes_supported: Option<Vec<String>>,
}

async fn discover(
    client: &OAuthClient,
    resource_metadata: Option<&str>,
) -> Result<Target, OAuthError> {
    let http = &client.http;
    match discovery::discover_resource(http, &client.server, resource_metadata).await? {
        Some(prm) => {
            // RFC 9728 §7.6: the client chooses; the first is the server's preference.
            let issuer = prm.authorization_servers[0].clone();
            let metadata = discovery::discover_server(http, &issuer).await?.ok_or_else(|| OAuthError::NoMetadata {
                server: client.server.to_string(),
                reason: format!("no authorization server metadata for issuer {issuer} (RFC 8414 and OIDC URLs tried)"),
            })?;
            Ok(Target {
                metadata,
                resource: prm.resource,
                scopes_supported: prm.scopes_supported,
            })
        }
        None => {
            // 2025-03-26: the MCP server's origin is the authorization server.
            let origin = discovery::origin_of(&client.server);
            let metadata = match discovery::discover_server(http, &origin).await? {
                Some(md) => md,
                None => discovery::fallback_server(&origin),
            };
            Ok(Target {
                metadata,
                resource: client.server.to_string(),
                scopes_supported: None,
            })
        }
    }
}

/// The scopes to ask for.
fn select_scope(
    client: &OAuthClient,
    target: &Target,
    challenge_scope: Option<&str>,
    step_up: bool,
) -> Option<String> {
    fn add(scopes: &mut Vec<String>, s: &str) {
        for one in s.split_whitespace() {
            if !scopes.iter().any(|x| x == one) {
                scopes.push(one.to_owned());
            }
        }
    }
    let mut scopes: Vec<String> = Vec::new();
    // What was asked before: in this process, else what the stored tokens were granted.
    let previous = client
        .requested()
        .or_else(|| client.tokens().and_then(|t| t.scope));
    if step_up && let Some(previous) = previous {
        add(&mut scopes, &previous);
    }
    if let Some(explicit) = &client.config.scope {
        add(&mut scopes, explicit);
    } else if let Some(challenged) = challenge_scope {
        add(&mut scopes, challenged);
    } else if !step_up && let Some(supported) = &target.scopes_supported {
        add(&mut scopes, &supported.join(" "));
    }
    if !scopes.is_empty()
        && target.metadata.offers_scope("offline_access")
        && !client.config.client_credentials
    {
        add(&mut scopes, "offline_access");
    }
    (!scopes.is_empty()).then(|| scopes.join(" "))
}

/// Runs a new authorization for `client` and stores its tokens.
pub(crate) async fn authorize(
    client: &OAuthClient,
    resource_metadata: Option<&str>,
    challenge_scope: Option<&str>,
    step_up: bool,
) -> Result<Tokens, OAuthError> {
    let target = discover(client, resource_metadata).await?;
    let outcome = authorize_at(client, &target, challenge_scope, step_up).await;
    match outcome {
        // Nothing says this server uses OAuth: say that rather than the fallback's failure.
        Err(OAuthError::Registration { reason, .. }) if target.metadata.fallback => {
            Err(OAuthError::NoMetadata {
                server: client.server.to_string(),
                reason: format!(
                    "the server refused the request (401) but publishes no protected resource or authorization server metadata, and its 2025-03-26 default endpoints failed ({reason})"
                ),
            })
        }
        other => other,
    }
}

async fn authorize_at(
    client: &OAuthClient,
    target: &Target,
    challenge_scope: Option<&str>,
    step_up: bool,
) -> Result<Tokens, OAuthError> {
    let md = &target.metadata;
    if !client.config.client_credentials && !md.supports_s256() && !client.config.assume_pkce {
        // refuse an authorization server that does not advertise S256.
        return Err(OAuthError::PkceUnsupported {
            issuer: md.issuer.clone(),
            found: match &md.code_challenge_methods_supported {
                Some(list) => format!("{list:?}"),
                None => "absent".to_owned(),
            },
        });
    }
    let scope = select_scope(client, target, challenge_scope, step_up);
    client.set_requested(scope.clone());
    let mut record = client.record().unwrap_or_else(|| ServerRecord {
        server: client.key().to_owned(),
        ..Default::default()
    });
    let kept = record
        .issuers
        .get(&md.issuer)
        .and_then(|i| i.client.clone());
    let mut registered_again = false;
    let mut kept = kept;
    loop {
        let outcome = if client.config.client_credentials {
            grant_client_credentials(client, target, scope.as_deref(), kept.as_ref()).await
        } else {
            grant_code(client, target, scope.as_deref(), kept.as_ref()).await
        };
        match outcome {
            Ok((tokens, registration)) => {
                record.server = client.key().to_owned();
                record.current = Some(md.issuer.clone());
                record.issuers.insert(
                    md.issuer.clone(),
                    IssuerRecord {
                        metadata: md.clone(),
                        resource: Some(target.resource.clone()),
                        client: Some(registration),
                        tokens: Some(tokens.clone()),
                    },
                );
                client.keep(record).await?;
                return Ok(tokens);
            }
            // A registration the server no longer knows: register again, once (AC-10).
            Err(OAuthError::TokenError { ref error, .. })
                if error == "invalid_client"
                    && !registered_again
                    && kept.as_ref().is_some_and(|k| k.kind == "dynamic") =>
            {
                registered_again = true;
                kept = None;
            }
            Err(e) => return Err(e),
        }
    }
}

fn identity(client: &OAuthClient) -> ClientIdentity<'_> {
    ClientIdentity {
        client_id: client.config.client_id.as_deref(),
        client_secret: client.config.client_secret.as_deref(),
        private_key: client.config.private_key.is_some(),
        metadata_url: client.config.client_metadata_url.as_deref(),
        client_name: &client.config.client_name,
    }
}

fn resource_param<'a>(client: &OAuthClient, target: &'a Target) -> Option<&'a str> {
    client
        .config
        .resource_parameter
        .then_some(target.resource.as_str())
}

/// Sends the grant `params` to the token endpoint as `registration` authenticates there.
async fn grant(
    client: &OAuthClient,
    target: &Target,
    registration: &ClientRecord,
    params: &[(&str, &str)],
    scope: Option<&str>,
) -> Result<Tokens, OAuthError> {
    let md = &target.metadata;
    let auth = client.client_auth(
        &registration.auth_method,
        registration.client_secret.as_deref(),
    );
    let request = TokenRequest {
        http: &client.http,
        endpoint: &md.token_endpoint,
        issuer: &md.issuer,
        client_id: &registration.client_id,
        auth: &auth,
        resource: resource_param(client, target),
        dpop: client.dpop_for(md),
    };
    request.send(params, scope).await
}

async fn grant_client_credentials(
    client: &OAuthClient,
    target: &Target,
    scope: Option<&str>,
    kept: Option<&ClientRecord>,
) -> Result<(Tokens, ClientRecord), OAuthError> {
    let md = &target.metadata;
    let registration =
        registration::obtain(&client.http, &identity(client), md, None, kept).await?;
    let mut params = vec![("grant_type", "client_credentials")];
    if let Some(scope) = scope {
        params.push(("scope", scope));
    }
    let tokens = grant(client, target, &registration, &params, scope).await?;
    Ok((tokens, registration))
}

async fn grant_code(
    client: &OAuthClient,
    target: &Target,
    scope: Option<&str>,
    kept: Option<&ClientRecord>,
) -> Result<(Tokens, ClientRecord), OAuthError> {
    let md = &target.metadata;
    let Some(user_agent) = &client.user_agent else {
        return Err(OAuthError::InteractionRequired {
            server: client.server.to_string(),
        });
    };
    let pending = user_agent.begin().await?;
    let redirect_uri = pending.redirect_uri();
    let registration = registration::obtain(
        &client.http,
        &identity(client),
        md,
        Some(&redirect_uri),
        kept,
    )
    .await?;
    let verifier = random_token()?;
    let state = random_token()?;
    let mut url =
        crate::fetch::check_endpoint("authorization endpoint", &md.authorization_endpoint)?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &registration.client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("code_challenge", &s256(&verifier))
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", &state);
        if let Some(resource) = resource_param(client, target) {
            query.append_pair("resource", resource);
        }
        if let Some(scope) = scope {
            query.append_pair("scope", scope);
        }
    }
    let callback = pending.finish(url.to_string()).await?;
    let code = check_callback(&callback, &state, md)?;
    let params = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let tokens = grant(client, target, &registration, &params, scope).await?;
    Ok((tokens, registration))
}

/// The code of a callback, after the RFC 9207 `iss` check (A-16, before anything else of the
/// callback is looked at, its `error` included) and the `state` check.
pub(crate) fn check_callback(
    callback: &url::Url,
    state: &str,
    md: &ServerMetadata,
) -> Result<String, OAuthError> {
    let params: HashMap<String, String> = callback.query_pairs().into_owned().collect();
    match params.get("iss") {
        Some(iss) if *iss != md.issuer => {
            return Err(OAuthError::Callback(format!(
                "the callback's iss {iss:?} is not the authorization server's issuer {:?} (RFC 9207); ignoring it",
                md.issuer
            )));
        }
        None if md.iss_parameter_supported => {
            return Err(OAuthError::Callback(format!(
                "the callback has no iss, though {} advertises authorization_response_iss_parameter_supported (RFC 9207)",
                md.issuer
            )));
        }
        _ => {}
    }
    if params.get("state").map(String::as_str) != Some(state) {
        return Err(OAuthError::Callback(
            "the callback's state does not match the request's".to_owned(),
        ));
    }
    if let Some(error) = params.get("error") {
        let description = params
            .get("error_description")
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        return Err(OAuthError::Callback(format!(
            "the authorization server refused: {error}{description}"
        )));
    }
    params
        .get("code")
        .filter(|c| !c.is_empty())
        .cloned()
        .ok_or_else(|| OAuthError::Callback("the callback carries no code".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(iss_supported: bool) -> ServerMetadata {
        let mut md = discovery::fallback_server("https://as.example");
        md.iss_parameter_supported = iss_supported;
        md
    }

    fn callback(query: &str) -> url::Url {
        url::Url::parse(&format!("http://127.0.0.1/callback?{query}")).unwrap()
    }

    #[test]
    fn the_rfc_9207_table_and_state_decide_the_callback() {
        let ok = "code=c&state=s&iss=https%3A%2F%2Fas.example";
        assert_eq!(check_callback(&callback(ok), "s", &md(true)).unwrap(), "c");
        // Present: a plain string comparison, no normalization.
        for iss in ["https%3A%2F%2Fas.example%2F", "https%3A%2F%2Fevil.example"] {
            let q = format!("code=c&state=s&iss={iss}");
            let e = check_callback(&callback(&q), "s", &md(false)).unwrap_err();
            assert!(e.to_string().contains("RFC 9207"), "{e}");
        }
        // Absent: refused only when advertised.
        assert!(check_callback(&callback("code=c&state=s"), "s", &md(true)).is_err());
        assert_eq!(
            check_callback(&callback("code=c&state=s"), "s", &md(false)).unwrap(),
            "c"
        );
        // A wrong iss is refused before its error is looked at.
        let e = check_callback(
            &callback("error=access_denied&state=s&iss=x"),
            "s",
            &md(true),
        )
        .unwrap_err();
        assert!(!e.to_string().contains("access_denied"), "{e}");
        let e =
            check_callback(&callback("error=access_denied&state=s"), "s", &md(false)).unwrap_err();
        assert!(e.to_string().contains("refused: access_denied"), "{e}");
        assert!(check_callback(&callback("code=c&state=t"), "s", &md(false)).is_err());
        assert!(check_callback(&callback("state=s"), "s", &md(false)).is_err());
    }
}
