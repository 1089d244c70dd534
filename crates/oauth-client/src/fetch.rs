//! The OAuth client's own HTTP requests (metadata, registration, token), through the MCP
//! client's [`HttpClient`] (its pool, proxies and TLS), each bounded in time and body size
//! (AC-9): a server that drips or floods cannot hold or bloat the client.

use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION};
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use mcp_http_client_http::HttpClient;
use serde_json::Value;

use crate::error::OAuthError;

/// The most bytes of a metadata document, registration or token answer.
pub(crate) const MAX_BODY: usize = 256 * 1024;
/// How long one OAuth request may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);
/// The most same-origin redirects discovery follows.
const MAX_REDIRECTS: u32 = 3;

/// An answer read whole.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// Where it came from (after redirects).
    pub(crate) url: String,
}

impl Answer {
    /// The body as a JSON object, when the answer says it is JSON (AC-9: an HTML page is an
    /// error that says so).
    pub(crate) fn json(
        &self,
        what: &'static str,
    ) -> Result<serde_json::Map<String, Value>, OAuthError> {
        let bad = |reason: String| OAuthError::BadDocument {
            what,
            url: self.url.clone(),
            reason,
        };
        let kind = self
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = kind
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !essence.is_empty() && essence != "application/json" && !essence.ends_with("+json") {
            return Err(bad(format!(
                "the answer is {essence:?}, not JSON (HTTP {})",
                self.status.as_u16()
            )));
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(bad("the answer is JSON but not an object".to_owned())),
            Err(e) => Err(bad(format!("the answer is not valid JSON: {e}"))),
        }
    }
}

/// Sends one request, bounded by [`TIMEOUT`] and [`MAX_BODY`]; redirects are not followed.
pub(crate) async fn send(
    http: &HttpClient,
    what: &'static str,
    method: Method,
    url: &str,
    headers: HeaderMap,
    body: Option<(&'static str, Vec<u8>)>,
) -> Result<Answer, OAuthError> {
    let http_error = |source| OAuthError::Http {
        what,
        url: url.to_owned(),
        source,
    };
    let mut builder = Request::builder().method(method).uri(url);
    if let Some(h) = builder.headers_mut() {
        *h = headers;
        h.entry(ACCEPT)
            .or_insert(HeaderValue::from_static("application/json"));
    }
    let content = match body {
        Some((kind, bytes)) => {
            builder = builder.header(CONTENT_TYPE, kind);
            Bytes::from(bytes)
        }
        None => Bytes::new(),
    };
    let request = builder
        .body(Full::new(content))
        .map_err(|e| OAuthError::InsecureUrl {
            what,
            url: url.to_owned(),
            reason: format!("not a valid request URL: {e}"),
        })?;
    let response = match tokio::time::timeout(TIMEOUT, http.fetch(request, MAX_BODY)).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) if e.is_protocol() => {
            return Err(OAuthError::BadDocument {
                what,
                url: url.to_owned(),
                reason: format!("the answer is larger than {MAX_BODY} bytes"),
            });
        }
        Ok(Err(e)) => return Err(http_error(e)),
        Err(_) => {
            return Err(http_error(mcp_http_core::TransportError::new(
                mcp_http_core::TransportErrorKind::Io,
                format!("no answer within {} s", TIMEOUT.as_secs()),
            )));
        }
    };
    let (parts, body) = response.into_parts();
    Ok(Answer {
        status: parts.status,
        headers: parts.headers,
        body,
        url: url.to_owned(),
    })
}

/// GETs a metadata document, following at most [`MAX_REDIRECTS`] redirects on the same origin;
/// a redirect to another origin is an error (AC-9).
pub(crate) async fn get_document(
    http: &HttpClient,
    what: &'static str,
    url: &str,
) -> Result<Answer, OAuthError> {
    let mut current = url.to_owned();
    for _ in 0..=MAX_REDIRECTS {
        let answer = send(http, what, Method::GET, &current, HeaderMap::new(), None).await?;
        if !answer.status.is_redirection() {
            return Ok(answer);
        }
        let Some(location) = answer.headers.get(LOCATION).and_then(|v| v.to_str().ok()) else {
            return Ok(answer);
        };
        let base = url::Url::parse(&current).map_err(|e| OAuthError::InsecureUrl {
            what,
            url: current.clone(),
            reason: e.to_string(),
        })?;
        let next = base.join(location).map_err(|_| OAuthError::Redirected {
            what,
            url: current.clone(),
            to: location.to_owned(),
            reason: "not a valid URL",
        })?;
        if next.origin() != base.origin() {
            return Err(OAuthError::Redirected {
                what,
                url: current,
                to: next.to_string(),
                reason: "another origin",
            });
        }
        current = next.to_string();
    }
    Err(OAuthError::Redirected {
        what,
        url: url.to_owned(),
        to: current,
        reason: "too many redirects",
    })
}

/// A URL the client may send credentials to or open: http(s) only, and https unless the host
/// is a loopback address or `localhost`.
pub(crate) fn check_endpoint(what: &'static str, url: &str) -> Result<url::Url, OAuthError> {
    let bad = |reason: &str| OAuthError::InsecureUrl {
        what,
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed = url::Url::parse(url).map_err(|e| bad(&format!("not a valid URL: {e}")))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => Err(bad(
            "plain http is allowed only for loopback hosts; use https",
        )),
        _ => Err(bad("only http and https URLs are allowed")),
    }
}

/// Whether the URL's host is a loopback address or `localhost`.
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `application/x-www-form-urlencoded` of `pairs`.
pub(crate) fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        serializer.append_pair(k, v);
    }
    serializer.finish().into_bytes()
}
