//! The token endpoint (OAuth 2.1 §3.2): the authorization-code, refresh and
//! client-credentials grants with the RFC 8707 `resource` verbatim, client
//! authentication (`client_secret_basic`, `client_secret_post`, `none`, `private_key_jwt`),
//! DPoP proofs with the `use_dpop_nonce` retry, and a strict reading of the answer: RFC 6749
//! §5.2 errors, `expires_in` as a number or a numeric string, made an absolute expiry.

use base64::Engine;
use http::Method;
use http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use mcp_http_client_http::HttpClient;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::dpop::Dpop;
use crate::error::OAuthError;
use crate::fetch::{self, send};
use crate::jws::{SigningKey, now, random_token};

/// Tokens of one authorization.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// The access token.
    pub access_token: String,
    /// `Bearer` or `DPoP`.
    pub token_type: String,
    /// The refresh token, if one was issued.
    pub refresh_token: Option<String>,
    /// When the access token expires, in seconds since the epoch (absolute, so a token read
    /// back later is known to be expired).
    pub expires_at: Option<u64>,
    /// When the access token was issued, in seconds since the epoch: a short-lived token is
    /// refreshed at half its life rather than a fixed margin before expiry (AC-13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<u64>,
    /// The scopes granted (or asked for, when the answer does not say).
    pub scope: Option<String>,
    /// For DPoP-bound tokens: the private key they are bound to (PKCS#8 DER, base64url), kept
    /// with them so a later process can prove possession and refresh (AC-14). A secret, like
    /// the tokens: never printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_key: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach a log (AC-11).
        f.debug_struct("Tokens")
            .field("token_type", &self.token_type)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "…"))
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Whether the access token expires within `margin` seconds.
    pub fn expires_within(&self, margin: u64) -> bool {
        self.expires_at
            .is_some_and(|at| at <= now().saturating_add(margin))
    }

    /// Whether the access token should be refreshed now: `margin` seconds before it expires, or
    /// past half its life when it lives less than twice `margin` (AC-13: a 30 s token is not
    /// refreshed before every request).
    pub fn is_stale(&self, margin: u64) -> bool {
        let margin = match (self.issued_at, self.expires_at) {
            (Some(issued), Some(expires)) => margin.min(expires.saturating_sub(issued) / 2),
            _ => margin,
        };
        self.expires_within(margin)
    }

    /// Whether the token is DPoP-bound.
    pub fn is_dpop(&self) -> bool {
        self.token_type.eq_ignore_ascii_case("dpop")
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Clone)]
pub enum ClientAuth {
    /// A public client: `client_id` in the body.
    None,
    /// `client_secret_basic`: HTTP Basic with the URL-encoded id and secret.
    Basic(String),
    /// `client_secret_post`: the secret in the body.
    Post(String),
    /// `private_key_jwt`: an ES256 client assertion (RFC 7523) with `aud` the issuer.
    PrivateKeyJwt(std::sync::Arc<SigningKey>),
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ClientAuth::None => "none",
            ClientAuth::Basic(_) => "client_secret_basic",
            ClientAuth::Post(_) => "client_secret_post",
            ClientAuth::PrivateKeyJwt(_) => "private_key_jwt",
        })
    }
}

/// One token request.
pub(crate) struct TokenRequest<'a> {
    pub(crate) http: &'a HttpClient,
    pub(crate) endpoint: &'a str,
    pub(crate) issuer: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) auth: &'a ClientAuth,
    pub(crate) resource: Option<&'a str>,
    pub(crate) dpop: Option<&'a Dpop>,
}

impl TokenRequest<'_> {
    /// Sends the grant `params` (with `resource`, and the client's authentication); reads the
    /// tokens. A `use_dpop_nonce` answer is retried once with the nonce it gave.
    pub(crate) async fn send(
        &self,
        params: &[(&str, &str)],
        asked_scope: Option<&str>,
    ) -> Result<Tokens, OAuthError> {
        for attempt in 0..2 {
            let mut pairs: Vec<(&str, String)> =
                params.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
            if let Some(resource) = self.resource {
                pairs.push(("resource", resource.to_owned()));
            }
            let mut headers = HeaderMap::new();
            match self.auth {
                ClientAuth::None => pairs.push(("client_id", self.client_id.to_owned())),
                ClientAuth::Basic(secret) => {
                    let enc = |s: &str| {
                        url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                    };
                    let raw = format!("{}:{}", enc(self.client_id), enc(secret));
                    let value = format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(raw)
                    );
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        headers.insert(AUTHORIZATION, value);
                    }
                }
                ClientAuth::Post(secret) => {
                    pairs.push(("client_id", self.client_id.to_owned()));
                    pairs.push(("client_secret", secret.clone()));
                }
                ClientAuth::PrivateKeyJwt(key) => {
                    pairs.push(("client_id", self.client_id.to_owned()));
                    pairs.push((
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
                    ));
                    pairs.push(("client_assertion", self.assertion(key)?));
                }
            }
            if let Some(dpop) = self.dpop {
                let proof = dpop.proof("POST", self.endpoint, None)?;
                if let Ok(value) = HeaderValue::from_str(&proof) {
                    headers.insert("dpop", value);
                }
            }
            let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let body = fetch::form(&borrowed);
            let answer = send(
                self.http,
                "token request",
                Method::POST,
                self.endpoint,
                headers,
                Some(("application/x-www-form-urlencoded", body)),
            )
            .await?;
            if answer.status.is_success() {
                let mut tokens = parse_tokens(
                    &answer
                        .json("token response")
                        .map_err(|e| self.bad(e.to_string()))?,
                    self.endpoint,
                    asked_scope,
                )?;
                if let Some(dpop) = self.dpop
                    && tokens.is_dpop()
                {
                    tokens.dpop_key = dpop.export();
                }
                return Ok(tokens);
            }
            let error = token_error(&answer, self.endpoint);
            if attempt == 0
                && let Some(dpop) = self.dpop
                && matches!(&error, OAuthError::TokenError { error, .. } if error == "use_dpop_nonce")
                && dpop.take_nonce(self.endpoint, &answer.headers)
            {
                continue;
            }
            return Err(error);
        }
        Err(self.bad("the server kept asking for a new DPoP nonce".to_owned()))
    }

    fn bad(&self, reason: String) -> OAuthError {
        OAuthError::BadTokenResponse {
            url: self.endpoint.to_owned(),
            reason,
        }
    }

    /// The RFC 7523 client assertion: `iss` = `sub` = client id, `aud` = the issuer.
    fn assertion(&self, key: &SigningKey) -> Result<String, OAuthError> {
        let issued = now();
        key.sign(
            json!({"typ": "JWT"}),
            &json!({
                "iss": self.client_id,
                "sub": self.client_id,
                "aud": self.issuer,
                "iat": issued,
                "exp": issued + 300,
                "jti": random_token()?,
            }),
        )
    }
}

/// An error answer of the token endpoint as a typed error (RFC 6749 §5.2).
fn token_error(answer: &fetch::Answer, endpoint: &str) -> OAuthError {
    let json = serde_json::from_slice::<Value>(&answer.body).unwrap_or_default();
    let text = |name: &str| {
        json.get(name)
            .and_then(Value::as_str)
            .map(|s| s.chars().take(200).collect::<String>())
    };
    OAuthError::TokenError {
        url: endpoint.to_owned(),
        status: answer.status.as_u16(),
        error: text("error").unwrap_or_else(|| "no OAuth error code in the answer".to_owned()),
        description: text("error_description"),
    }
}

/// Reads a successful token answer.
pub(crate) fn parse_tokens(
    json: &serde_json::Map<String, Value>,
    endpoint: &str,
    asked_scope: Option<&str>,
) -> Result<Tokens, OAuthError> {
    let bad = |reason: String| OAuthError::BadTokenResponse {
        url: endpoint.to_owned(),
        reason,
    };
    let access_token = match json.get("access_token") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        Some(_) => return Err(bad("\"access_token\" is not a non-empty string".to_owned())),
        None => return Err(bad("no \"access_token\"".to_owned())),
    };
    if HeaderValue::from_str(&access_token).is_err() {
        return Err(bad("the access token cannot be sent in a header".to_owned()));
    }
    let token_type = match json.get("token_type").and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case("bearer") => "Bearer".to_owned(),
        Some(t) if t.eq_ignore_ascii_case("dpop") => "DPoP".to_owned(),
        Some(t) => {
            return Err(bad(format!(
                "unsupported token_type {:?}",
                t.chars().take(40).collect::<String>()
            )));
        }
        None => return Err(bad("no \"token_type\"".to_owned())),
    };
    // Some servers (Entra v1) send expires_in as a string of digits.
    let expires_in = match json.get("expires_in") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_u64().ok_or_else(|| {
            bad(format!(
                "\"expires_in\" {n} is not a whole number of seconds"
            ))
        })?),
        Some(Value::String(s)) => Some(s.trim().parse::<u64>().map_err(|_| {
            bad(format!(
                "\"expires_in\" {:?} is not a number",
                s.chars().take(40).collect::<String>()
            ))
        })?),
        Some(_) => {
            return Err(bad(
                "\"expires_in\" is neither a number nor a string".to_owned()
            ));
        }
    };
    let refresh_token = match json.get("refresh_token") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => Some(t.clone()),
        Some(_) => return Err(bad("\"refresh_token\" is not a string".to_owned())),
    };
    let scope = match json.get("scope") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => asked_scope.map(str::to_owned),
    };
    Ok(Tokens {
        access_token,
        token_type,
        refresh_token,
        expires_at: expires_in.map(|s| now().saturating_add(s.min(10 * 365 * 86_400))),
        issued_at: Some(now()),
        scope,
        dpop_key: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<Tokens, OAuthError> {
        parse_tokens(v.as_object().unwrap(), "http://as/token", None)
    }

    #[test]
    fn short_lived_tokens_are_stale_at_half_their_life_long_lived_ones_60_s_before() {
        let t = |life: u64, age: u64| Tokens {
            access_token: "a".into(),
            token_type: "Bearer".into(),
            refresh_token: None,
            expires_at: Some(now() + life - age),
            issued_at: Some(now() - age),
            scope: None,
            dpop_key: None,
        };
        assert!(!t(3600, 0).is_stale(60));
        assert!(t(3600, 3541).is_stale(60));
        assert!(
            !t(10, 0).is_stale(60),
            "a 10 s token is usable when it arrives"
        );
        assert!(!t(10, 4).is_stale(60));
        assert!(t(10, 6).is_stale(60));
        let legacy = Tokens {
            issued_at: None,
            ..t(3600, 3541)
        };
        assert!(
            legacy.is_stale(60),
            "tokens stored before issued_at: the fixed margin"
        );
    }

    #[test]
    fn expires_in_as_a_number_or_a_string_of_digits() {
        let t = parse(json!({"access_token": "a", "token_type": "bearer", "expires_in": "3600"}))
            .unwrap();
        assert!(t.expires_at.unwrap() >= now() + 3599);
        assert!(
            parse(json!({"access_token": "a", "token_type": "Bearer", "expires_in": 60})).is_ok()
        );
        let e = parse(json!({"access_token": "a", "token_type": "Bearer", "expires_in": "soon"}))
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("\"expires_in\" \"soon\" is not a number"),
            "{e}"
        );
    }

    #[test]
    fn unusable_answers_name_the_problem() {
        for (v, says) in [
            (json!({"token_type": "Bearer"}), "no \"access_token\""),
            (
                json!({"access_token": 5, "token_type": "Bearer"}),
                "not a non-empty string",
            ),
            (json!({"access_token": "a"}), "no \"token_type\""),
            (
                json!({"access_token": "a", "token_type": "mac"}),
                "unsupported token_type",
            ),
            (
                json!({"access_token": "a\nb", "token_type": "Bearer"}),
                "cannot be sent in a header",
            ),
            (
                json!({"access_token": "a", "token_type": "Bearer", "expires_in": -5}),
                "not a whole number",
            ),
        ] {
            let e = parse(v).unwrap_err();
            assert!(e.to_string().contains(says), "{e} should say {says}");
        }
    }
}
