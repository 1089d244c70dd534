//! One HTTP exchange with the server: the request built from the headers its caller starts
//! from, the bearer token of the auth hook (refreshed once after a 401), same-origin 307/308
//! redirects followed, and the answer's failures turned into typed errors.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use mcp_http_core::{Outbound, TransportError, TransportErrorKind};

use crate::client::HttpClient;
use crate::config::{AuthRefusal, Authorizer, TokenProvider};
use crate::endpoint::same_origin_redirect;
use crate::pool::ResponseBody;

/// A request as the transport builds it.
pub(crate) type Outgoing = Request<Full<Bytes>>;
/// A response as the pool hands it over: the body still to read.
pub(crate) type Answer = http::Response<ResponseBody>;

/// `text/event-stream`, the Accept of a GET.
pub(crate) const EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream");
/// `application/json`, the Content-Type of a POST.
pub(crate) const JSON: HeaderValue = HeaderValue::from_static("application/json");
/// The Accept of a POST: both answer types (T-2).
const JSON_OR_EVENT_STREAM: HeaderValue =
    HeaderValue::from_static("application/json, text/event-stream");

/// The most of an error answer's body read for its reason, and how long it may take: the
/// reason is a courtesy, and a server must not make the client wait or buffer for it (RL-25).
const ERROR_BODY_LIMIT: usize = 64 * 1024;
const ERROR_BODY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Sets a protocol header, unless the configured headers already set it.
pub(crate) fn default_header(request: &mut Outgoing, name: HeaderName, value: HeaderValue) {
    request.headers_mut().entry(name).or_insert(value);
}

/// `headers` with the Accept and Content-Type of a POST of a message, unless set already.
pub(crate) fn with_post_headers(mut headers: HeaderMap) -> HeaderMap {
    headers.entry(ACCEPT).or_insert(JSON_OR_EVENT_STREAM);
    headers.entry(CONTENT_TYPE).or_insert(JSON);
    headers
}

/// How many headers a request adds to those it starts from: `Host` (the pool, where PF-112 has
/// not put it there already), and `Authorization` or a cookie.
const ADDED_HEADERS: usize = 2;

/// `headers` made again with room for the ones a request adds (PF-73), to be cloned per
/// request. A clone keeps the size of the index it copies, which is what `HeaderMap` counts as
/// its capacity: a header added to the clone is put in without growing the index (a new index
/// and every entry hashed again), where a map built by inserting had no room to spare. (The
/// clone's entries are copied at their length, so adding one still grows that vector.)
pub(crate) fn with_room(headers: HeaderMap) -> HeaderMap {
    let mut roomy = HeaderMap::with_capacity(headers.len() + ADDED_HEADERS);
    for (name, value) in &headers {
        roomy.append(name.clone(), value.clone());
    }
    roomy
}

/// The response's content type, or "" when it has none.
pub(crate) fn content_type(response: &Answer) -> &str {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Whether the response is an SSE stream.
pub(crate) fn is_event_stream(response: &Answer) -> bool {
    content_type(response).starts_with("text/event-stream")
}

/// The whole body of a response, at most `limit` bytes: a larger one is a protocol error as
/// soon as it passes the limit (RL-21). A body that came in one piece (the usual answer) is
/// that piece, with no copy and no list of pieces.
pub(crate) async fn body_bytes(response: Answer, limit: usize) -> Result<Bytes, TransportError> {
    let too_large = || {
        TransportError::new(
            TransportErrorKind::Protocol,
            format!("the server's answer is larger than {limit} bytes"),
        )
    };
    // A length announced up front (hyper has parsed `Content-Length` already) fails at once.
    if hyper::body::Body::size_hint(response.body()).lower() > limit as u64 {
        return Err(too_large());
    }
    let mut body = response.into_body();
    let mut read = 0usize;
    let mut first: Option<Bytes> = None;
    let mut more: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            TransportError::new(
                TransportErrorKind::Io,
                format!("reading the HTTP response failed: {e}"),
            )
            .with_source(e)
        })?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if data.is_empty() {
            continue;
        }
        read = read.saturating_add(data.len());
        if read > limit {
            return Err(too_large());
        }
        match first.take() {
            None if more.is_empty() => first = Some(data),
            earlier => {
                if let Some(earlier) = earlier {
                    more.extend_from_slice(&earlier);
                }
                more.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(more)))
}

/// The server's reason for an error answer: the JSON-RPC error message of its body, or the
/// status's canonical reason.
pub(crate) async fn error_detail(response: Answer) -> String {
    let status = response.status();
    let body = error_body(response).await;
    serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned())
}

/// The body of an error answer, for its reason: empty when it is larger than
/// [`ERROR_BODY_LIMIT`] or slower than [`ERROR_BODY_WAIT`].
pub(crate) async fn error_body(response: Answer) -> Bytes {
    tokio::time::timeout(ERROR_BODY_WAIT, body_bytes(response, ERROR_BODY_LIMIT))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default()
}

/// An HTTP status error with the server's reason.
pub(crate) fn status_error(status: StatusCode, detail: &str) -> TransportError {
    TransportError::new(
        TransportErrorKind::HttpStatus(status.as_u16()),
        format!("HTTP {status}: {detail}"),
    )
}

/// An error answer as a typed error, with the server's reason.
pub(crate) async fn refused(response: Answer) -> TransportError {
    let status = response.status();
    status_error(status, &error_detail(response).await)
}

/// Sends the requests of one transport: what every exchange with its server shares.
pub(crate) struct Exchange {
    http: HttpClient,
    /// The `Proxy-Authorization` of a plain-HTTP proxy the endpoint is reached through.
    proxy_authorization: Option<HeaderValue>,
    auth: Option<Arc<dyn TokenProvider>>,
    authorizer: Option<Arc<dyn Authorizer>>,
    max_redirects: u32,
    /// The server's cookies, sent back (BR-22); `None` when off.
    cookies: Option<crate::cookies::CookieJar>,
}

/// The most times one request is sent again after a refusal its authorizer handled: a token
/// obtained, then up to three step-ups, and a DPoP nonce taken.
const MAX_AUTH_RETRIES: u32 = 5;

impl Exchange {
    /// Exchanges with the server of `endpoint` over `http`, with the bearer tokens of `auth`,
    /// following at most `max_redirects` redirects per request.
    pub(crate) fn new(
        http: HttpClient,
        endpoint: &Uri,
        auth: Option<Arc<dyn TokenProvider>>,
        authorizer: Option<Arc<dyn Authorizer>>,
        max_redirects: u32,
        cookies: bool,
    ) -> Exchange {
        let proxy_authorization = http.proxy_authorization(endpoint);
        Exchange {
            http,
            proxy_authorization,
            auth,
            authorizer,
            max_redirects,
            cookies: cookies.then(crate::cookies::CookieJar::default),
        }
    }

    /// POSTs one JSON-RPC message to `uri`, its request starting from `headers()`.
    pub(crate) async fn post(
        &self,
        uri: &Uri,
        message: &Outbound,
        headers: impl Fn() -> HeaderMap,
    ) -> Result<Answer, TransportError> {
        self.send(Method::POST, uri, headers, |request| {
            // The 2026-07-28 revision's `Mcp-Method` and `Mcp-Name` headers go here, from
            // `message.method` and `message.name`: known without parsing `message.json`.
            *request.body_mut() = message.json.clone().into();
        })
        .await
    }

    /// Sends a `method` request to `uri` with the headers `headers()` starts it from, what
    /// `fill` adds (protocol headers give way to configured ones of the same name), and a
    /// bearer token from the auth hook, refreshed once after a 401. A 307 or 308 to the same
    /// origin is followed (method, body and headers kept), up to `max_redirects` times; one more
    /// is an HTTP status error (RL-23).
    pub(crate) async fn send(
        &self,
        method: Method,
        uri: &Uri,
        headers: impl Fn() -> HeaderMap,
        fill: impl Fn(&mut Outgoing),
    ) -> Result<Answer, TransportError> {
        let mut rejected: Option<String> = None;
        // The endpoint's URI is only borrowed until a redirect names another (one clone a
        // request, not two).
        let mut redirected: Option<Uri> = None;
        let mut redirects = 0;
        let mut auth_retries = 0;
        loop {
            let mut request = Request::new(Full::new(Bytes::new()));
            *request.method_mut() = method.clone();
            let target = redirected.as_ref().unwrap_or(uri);
            *request.uri_mut() = target.clone();
            *request.headers_mut() = headers();
            fill(&mut request);
            if let Some(jar) = &self.cookies {
                jar.apply(request.headers_mut());
            }
            if let Some(value) = &self.proxy_authorization {
                default_header(
                    &mut request,
                    http::header::PROXY_AUTHORIZATION,
                    value.clone(),
                );
            }
            let token = self.authorize(&mut request, rejected.as_deref()).await?;
            let sent_authorization = self
                .authorizer
                .as_ref()
                .and_then(|_| request.headers().get(AUTHORIZATION).cloned());
            let response = self.http.send(request).await?;
            if let Some(jar) = &self.cookies {
                jar.store(response.headers());
            }
            if let Some(authorizer) = &self.authorizer
                && matches!(
                    response.status(),
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                )
                && auth_retries < MAX_AUTH_RETRIES
            {
                let refusal = AuthRefusal {
                    method: &method,
                    uri: target,
                    status: response.status(),
                    headers: response.headers(),
                    retries: auth_retries,
                    sent_authorization: sent_authorization.as_ref().and_then(|v| v.to_str().ok()),
                };
                if authorizer.refused(refusal).await? {
                    auth_retries += 1;
                    continue;
                }
                return Ok(response);
            }
            if response.status() == StatusCode::UNAUTHORIZED
                && rejected.is_none()
                && let Some(token) = token
            {
                rejected = Some(token);
                continue;
            }
            if matches!(
                response.status(),
                StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
            ) && let Some(next) = redirect_target(target, &response)
            {
                if redirects >= self.max_redirects {
                    // RL-23: a redirect loop ends here.
                    return Err(status_error(
                        response.status(),
                        &format!("too many redirects ({redirects} followed)"),
                    ));
                }
                redirects += 1;
                redirected = Some(next);
                continue;
            }
            return Ok(response);
        }
    }

    /// Puts the authorizer's headers, or the auth hook's bearer token, on `request`; returns
    /// the hook's token sent.
    async fn authorize(
        &self,
        request: &mut Outgoing,
        rejected: Option<&str>,
    ) -> Result<Option<String>, TransportError> {
        if let Some(authorizer) = &self.authorizer {
            let headers = authorizer.headers(request.method(), request.uri()).await?;
            for (name, value) in &headers {
                request.headers_mut().insert(name, value.clone());
            }
            return Ok(None);
        }
        let Some(auth) = &self.auth else {
            return Ok(None);
        };
        let token = auth.token(rejected).await?;
        if let Some(token) = &token {
            let value = HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
                TransportError::new(
                    TransportErrorKind::Protocol,
                    "the auth hook gave a token that cannot be sent in a header",
                )
            })?;
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        Ok(token)
    }
}

/// Where a redirect answer points, when it may be followed.
fn redirect_target(from: &Uri, response: &Answer) -> Option<Uri> {
    let location = response
        .headers()
        .get(http::header::LOCATION)?
        .to_str()
        .ok()?;
    same_origin_redirect(from, location)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PF-73: the map with room is the same, header for header and in order (repeated names
    /// too), and its clone takes the headers a request adds without growing its table.
    #[test]
    fn headers_with_room_are_the_same_headers() {
        let mut headers = with_post_headers(HeaderMap::new());
        headers.insert(
            "mcp-protocol-version",
            HeaderValue::from_static("2026-07-28"),
        );
        headers.append("x-repeated", HeaderValue::from_static("one"));
        headers.append("x-repeated", HeaderValue::from_static("two"));
        headers.insert("mcp-method", HeaderValue::from_static("tools/call"));
        let copy = with_room(headers.clone()).clone();
        assert_eq!(copy, headers);
        let pairs = |h: &HeaderMap| {
            h.iter()
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(pairs(&copy), pairs(&headers));
        assert!(copy.capacity() >= headers.len() + ADDED_HEADERS);
        assert_eq!(with_room(HeaderMap::new()), HeaderMap::new());
    }
}
