//! A user name and password as the transport's [`Authorizer`] (BR-39): HTTP Basic, sent with
//! every request, or HTTP Digest (RFC 7616: MD5 and SHA-256, `qop=auth`, the nonce count kept
//! per challenge), answering the server's challenge and taking a new one when the server says
//! its nonce is stale. The challenge parsing and the digests are the `http-auth` crate's.

use std::sync::Mutex;

use futures::future::BoxFuture;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use http_auth::{PasswordClient, PasswordParams};
use mcp_http_core::sync::lock;
use mcp_http_core::{TransportError, TransportErrorKind};

use crate::config::{AuthRefusal, Authorizer};

/// Which scheme a [`PasswordAuth`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordScheme {
    /// `Authorization: Basic`, sent with every request before any challenge.
    Basic,
    /// `Authorization: Digest`, computed for each request from the server's last challenge
    /// (nothing is sent before the first one; the password itself never is).
    Digest,
}

/// Authenticates the transport's requests with a user name and password (BR-39). Give it to
/// [`HttpClientConfigBuilder::authorizer`](crate::HttpClientConfigBuilder::authorizer).
///
/// ```
/// use std::sync::Arc;
/// use mcp_http_client_http::{HttpClientConfig, PasswordAuth};
/// let config = HttpClientConfig::builder()
///     .authorizer(Arc::new(PasswordAuth::digest("alice", "secret")))
///     .build();
/// # drop(config);
/// ```
pub struct PasswordAuth {
    username: String,
    password: String,
    scheme: PasswordScheme,
    /// The server's last Digest challenge, with its nonce count.
    challenge: Mutex<Option<PasswordClient>>,
}

impl std::fmt::Debug for PasswordAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordAuth")
            .field("username", &self.username)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

/// The most challenges answered for one request: a first one and a stale nonce's.
const MAX_CHALLENGES: u32 = 3;

impl PasswordAuth {
    /// HTTP Basic with `username` and `password`.
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::new(username, password, PasswordScheme::Basic)
    }

    /// HTTP Digest with `username` and `password`.
    pub fn digest(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::new(username, password, PasswordScheme::Digest)
    }

    fn new(
        username: impl Into<String>,
        password: impl Into<String>,
        scheme: PasswordScheme,
    ) -> Self {
        PasswordAuth {
            username: username.into(),
            password: password.into(),
            scheme,
            challenge: Mutex::new(None),
        }
    }

    /// The `Authorization` value for a request, if there is one to send.
    fn authorization(&self, method: &Method, uri: &Uri) -> Result<Option<String>, TransportError> {
        match self.scheme {
            PasswordScheme::Basic => Ok(Some(http_auth::basic::encode_credentials(
                &self.username,
                &self.password,
            ))),
            PasswordScheme::Digest => {
                let mut challenge = lock(&self.challenge);
                let Some(client) = challenge.as_mut() else {
                    return Ok(None);
                };
                let target = uri.path_and_query().map_or("/", |p| p.as_str());
                let params = PasswordParams {
                    username: &self.username,
                    password: &self.password,
                    uri: target,
                    method: method.as_str(),
                    body: None,
                };
                client
                    .respond(&params)
                    .map(Some)
                    .map_err(|e| auth_error(format!("cannot answer the Digest challenge: {e}")))
            }
        }
    }
}

fn auth_error(message: String) -> TransportError {
    TransportError::new(TransportErrorKind::Protocol, message)
}

impl Authorizer for PasswordAuth {
    fn headers<'a>(
        &'a self,
        method: &'a Method,
        uri: &'a Uri,
    ) -> BoxFuture<'a, Result<HeaderMap, TransportError>> {
        let answer = self.authorization(method, uri).and_then(|value| {
            let mut headers = HeaderMap::new();
            if let Some(value) = value {
                let value = HeaderValue::try_from(value).map_err(|_| {
                    auth_error("the user name or password is not a valid header value".into())
                })?;
                headers.insert(AUTHORIZATION, value);
            }
            Ok(headers)
        });
        Box::pin(std::future::ready(answer))
    }

    fn refused<'a>(
        &'a self,
        refusal: AuthRefusal<'a>,
    ) -> BoxFuture<'a, Result<bool, TransportError>> {
        Box::pin(std::future::ready(self.take_challenge(&refusal)))
    }
}

impl PasswordAuth {
    /// Whether to send the refused request again, with an answer to the new challenge.
    fn take_challenge(&self, refusal: &AuthRefusal<'_>) -> Result<bool, TransportError> {
        // Basic sent the credentials already: a 401 means they are wrong, and that is the
        // caller's answer; so is a 403.
        if self.scheme == PasswordScheme::Basic
            || refusal.status != StatusCode::UNAUTHORIZED
            || refusal.retries >= MAX_CHALLENGES
        {
            return Ok(false);
        }
        let mut builder = PasswordClient::builder();
        for value in refusal.headers.get_all(WWW_AUTHENTICATE) {
            if let Ok(value) = value.to_str() {
                builder = builder.challenges(value);
            }
        }
        let client = match builder.build() {
            Ok(client @ PasswordClient::Digest(_)) => client,
            Ok(_) => {
                return Err(auth_error(
                    "the server asks for Basic authentication, not Digest (drop --digest)".into(),
                ));
            }
            // No challenge at all (another kind of 401): the caller's answer.
            Err(_) => return Ok(false),
        };
        let stale = matches!(&client, PasswordClient::Digest(d) if d.stale());
        let answered = refusal
            .sent_authorization
            .is_some_and(|sent| sent.starts_with("Digest "));
        *lock(&self.challenge) = Some(client);
        // An answer refused without `stale=true`: the user name or password is wrong.
        Ok(!answered || stale)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn refusal<'a>(headers: &'a HeaderMap, sent: Option<&'a str>, uri: &'a Uri) -> AuthRefusal<'a> {
        AuthRefusal {
            method: &Method::POST,
            uri,
            status: StatusCode::UNAUTHORIZED,
            headers,
            retries: 0,
            sent_authorization: sent,
        }
    }

    fn challenge(stale: bool) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!(
            r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", stale={stale}"#
        );
        headers.append(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Basic realm="x""#),
        );
        headers.append(WWW_AUTHENTICATE, HeaderValue::try_from(value).unwrap());
        headers
    }

    fn authorization(auth: &PasswordAuth, uri: &Uri) -> Option<String> {
        auth.authorization(&Method::POST, uri).unwrap()
    }

    /// BR-39: nothing before the challenge; then SHA-256 answers with qop=auth, the request's
    /// path, and a nonce count that goes up; a stale challenge is taken, a refused answer is
    /// the caller's.
    #[test]
    fn digest_answers_the_challenge_and_counts_its_nonces() {
        let auth = PasswordAuth::digest("Mufasa", "Circle of Life");
        let uri: Uri = "http://example.org/mcp?x=1".parse().unwrap();
        assert_eq!(authorization(&auth, &uri), None);
        let headers = challenge(false);
        assert!(auth.take_challenge(&refusal(&headers, None, &uri)).unwrap());
        let first = authorization(&auth, &uri).unwrap();
        for part in [
            "Digest ",
            r#"username="Mufasa""#,
            r#"uri="/mcp?x=1""#,
            "algorithm=SHA-256",
            "qop=auth",
            "nc=00000001",
        ] {
            assert!(first.contains(part), "{part} in {first}");
        }
        let second = authorization(&auth, &uri).unwrap();
        assert!(second.contains("nc=00000002"), "{second}");
        // Our answer refused without stale: wrong credentials, not retried.
        assert!(
            !auth
                .take_challenge(&refusal(&headers, Some(&second), &uri))
                .unwrap()
        );
        // Refused as stale: a new nonce, retried, counting from 1 again.
        let stale = challenge(true);
        assert!(
            auth.take_challenge(&refusal(&stale, Some(&second), &uri))
                .unwrap()
        );
        assert!(authorization(&auth, &uri).unwrap().contains("nc=00000001"));
    }

    #[test]
    fn basic_is_sent_at_once_and_a_refusal_is_final() {
        let auth = PasswordAuth::basic("alice", "wonderland");
        let uri: Uri = "http://example.org/mcp".parse().unwrap();
        // base64("alice:wonderland")
        assert_eq!(
            authorization(&auth, &uri).unwrap(),
            "Basic YWxpY2U6d29uZGVybGFuZA=="
        );
        let headers = challenge(false);
        assert!(!auth.take_challenge(&refusal(&headers, None, &uri)).unwrap());
        // Digest asked for a server that only speaks Basic: a clear error.
        let digest = PasswordAuth::digest("alice", "wonderland");
        let mut basic_only = HeaderMap::new();
        basic_only.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Basic realm="x""#),
        );
        let error = digest
            .take_challenge(&refusal(&basic_only, None, &uri))
            .unwrap_err();
        assert!(error.to_string().contains("Basic"), "{error}");
    }
}
