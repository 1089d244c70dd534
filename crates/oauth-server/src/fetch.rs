//! Requests to the authorization server: bounded in time and size, errors a person reads
//! (AR-7), and RFC 8414 / OIDC discovery of its metadata (AR-4).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use mcp_http_client_http::HttpClient;
use serde_json::Value;

use crate::token::VerifyError;

/// The largest document read from the authorization server.
const MAX_BODY: usize = 256 * 1024;

/// An HTTP client for the authorization server, with a deadline per request.
#[derive(Clone, Debug)]
pub(crate) struct AsClient {
    http: HttpClient,
    timeout: Duration,
}

impl AsClient {
    pub(crate) fn new(timeout: Duration) -> Result<Self, String> {
        let http = HttpClient::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(AsClient { http, timeout })
    }

    /// Sends `request`; answers the status and the JSON body (an object).
    pub(crate) async fn json(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<(http::StatusCode, Value), VerifyError> {
        let uri = request.uri().clone();
        let answer = tokio::time::timeout(self.timeout, self.http.fetch(request, MAX_BODY))
            .await
            .map_err(|_| VerifyError::Unavailable(format!("{uri} did not answer in time")))?
            .map_err(|e| VerifyError::Unavailable(format!("{uri}: {e}")))?;
        let status = answer.status();
        match serde_json::from_slice::<Value>(answer.body()) {
            Ok(value @ Value::Object(_)) => Ok((status, value)),
            _ => Err(VerifyError::Unavailable(format!(
                "{uri} answered {status} without a JSON object"
            ))),
        }
    }

    pub(crate) async fn get_json(
        &self,
        url: &str,
    ) -> Result<(http::StatusCode, Value), VerifyError> {
        let request = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| VerifyError::Unavailable(format!("bad URL {url}: {e}")))?;
        self.json(request).await
    }
}

/// The metadata URLs to try for `issuer`: RFC 8414, then OIDC, path-inserted first.
fn metadata_urls(issuer: &str) -> Result<Vec<String>, String> {
    let url = url::Url::parse(issuer).map_err(|e| format!("bad issuer URL {issuer}: {e}"))?;
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    Ok(match path.is_empty() {
        true => vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ],
        false => vec![
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{origin}/.well-known/openid-configuration{path}"),
            format!("{origin}{path}/.well-known/openid-configuration"),
        ],
    })
}

/// The authorization server's metadata: the first document found whose `issuer` is exactly
/// `issuer` exactly (AR-4).
pub(crate) async fn discover(client: &AsClient, issuer: &str) -> Result<Value, VerifyError> {
    let urls = metadata_urls(issuer).map_err(VerifyError::Unavailable)?;
    let mut last = String::new();
    for url in urls {
        match client.get_json(&url).await {
            Ok((status, doc)) if status.is_success() => {
                if doc.get("issuer").and_then(Value::as_str) == Some(issuer) {
                    return Ok(doc);
                }
                last = format!("{url} names another issuer than {issuer}");
            }
            Ok((status, _)) => last = format!("{url} answered {status}"),
            Err(e) => last = e.to_string(),
        }
    }
    Err(VerifyError::Unavailable(format!(
        "no authorization server metadata for {issuer} ({last})"
    )))
}

#[cfg(test)]
mod tests {
    use super::metadata_urls;

    #[test]
    fn metadata_urls_follow_the_probe_order() {
        assert_eq!(
            metadata_urls("https://a.example/t1").ok(),
            Some(vec![
                "https://a.example/.well-known/oauth-authorization-server/t1".to_owned(),
                "https://a.example/.well-known/openid-configuration/t1".to_owned(),
                "https://a.example/t1/.well-known/openid-configuration".to_owned(),
            ])
        );
        assert_eq!(
            metadata_urls("http://127.0.0.1:9/").ok().map(|v| v.len()),
            Some(2)
        );
    }
}
