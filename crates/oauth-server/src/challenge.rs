//! The answers of a refused request: 401 with a `WWW-Authenticate` challenge naming the
//! metadata and the scopes, 403 `insufficient_scope` with every scope the
//! operation needs, 400 for a malformed request, 503 when the authorization server is
//! unreachable (AR-7).

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use mcp_http_server_http::ResponseBody;

/// One `WWW-Authenticate` challenge's parameters.
pub(crate) struct Challenge<'a> {
    pub(crate) scheme: &'a str,
    pub(crate) metadata_url: &'a str,
    pub(crate) scopes: &'a [String],
    pub(crate) error: Option<&'a str>,
    pub(crate) description: Option<&'a str>,
    pub(crate) dpop_algs: Option<&'a str>,
}

/// A parameter value as an RFC 9110 quoted string: `"` and `\` escaped, anything but printable
/// ASCII dropped (a header value must stay valid whatever a token's `kid` says), at most 300
/// characters.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(300) + 2);
    out.push('"');
    let printable = |c: &char| c.is_ascii() && !c.is_ascii_control();
    for c in value.chars().filter(printable).take(300) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl Challenge<'_> {
    fn header(&self) -> String {
        let mut params = vec![format!("resource_metadata={}", quoted(self.metadata_url))];
        if !self.scopes.is_empty() {
            params.push(format!("scope={}", quoted(&self.scopes.join(" "))));
        }
        if let Some(error) = self.error {
            params.push(format!("error={}", quoted(error)));
        }
        if let Some(description) = self.description {
            params.push(format!("error_description={}", quoted(description)));
        }
        if let Some(algs) = self.dpop_algs {
            params.push(format!("algs={}", quoted(algs)));
        }
        format!("{} {}", self.scheme, params.join(", "))
    }
}

/// A JSON error body that says the same as the challenge.
fn body(error: &str, description: &str) -> ResponseBody {
    let json = serde_json::json!({"error": error, "error_description": description});
    ResponseBody::full(Bytes::from(json.to_string()))
}

/// The refusal `status` with `challenges` (one per accepted scheme).
pub(crate) fn refuse(status: StatusCode, challenges: &[Challenge<'_>]) -> Response<ResponseBody> {
    let first = challenges.first();
    let error = first.and_then(|c| c.error).unwrap_or("invalid_token");
    let description = first
        .and_then(|c| c.description)
        .unwrap_or("authorization is required");
    let mut response = Response::new(body(error, description));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for challenge in challenges {
        if let Ok(value) = HeaderValue::from_str(&challenge.header()) {
            headers.append(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

/// A 503: the authorization server could not be asked; the client may retry.
pub(crate) fn unavailable(description: &str) -> Response<ResponseBody> {
    let mut response = Response::new(body("temporarily_unavailable", description));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn quoted_escapes_quotes_and_drops_controls() {
        assert_eq!(quoted("a\"b\\c\r\n"), "\"a\\\"b\\\\c\"");
        assert_eq!(quoted("k\u{e9}y"), "\"ky\"");
        assert_eq!(quoted(&"x".repeat(1000)).len(), 302);
    }
}
