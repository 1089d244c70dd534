//! The endpoint's URLs: the one the user named, checked and parsed once, the `Uri` every
//! request carries (built once, cloned per request), and the URLs a server names (a redirect's
//! `Location`), resolved against it and kept on its origin.

use http::Uri;
use mcp_http_core::{TransportError, TransportErrorKind};

/// The MCP endpoint a transport talks to.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// As the user named it: what the 2024-11-05 message endpoint is resolved against.
    url: url::Url,
    /// As requests carry it.
    uri: Uri,
}

impl Endpoint {
    /// Parses `url`: an http URL, or an https one when TLS is compiled in.
    pub(crate) fn parse(url: &str) -> Result<Endpoint, TransportError> {
        let parsed =
            url::Url::parse(url).map_err(|e| invalid(format!("invalid URL {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "invalid URL {url:?}: the scheme must be http or https"
            )));
        }
        if parsed.scheme() == "https" && !cfg!(feature = "rustls") {
            return Err(invalid(format!(
                "invalid URL {:?}: https needs the rustls feature of mcp-http-client-http",
                parsed.as_str()
            )));
        }
        let uri = request_uri(&parsed)?;
        Ok(Endpoint { url: parsed, uri })
    }

    /// The endpoint as the user named it.
    pub(crate) fn url(&self) -> &url::Url {
        &self.url
    }

    /// The endpoint as requests carry it.
    pub(crate) fn uri(&self) -> &Uri {
        &self.uri
    }
}

fn invalid(message: String) -> TransportError {
    TransportError::new(TransportErrorKind::Protocol, message)
}

/// The URL as a request carries it: only the parts a request line and Host carry (a fragment
/// is never sent).
pub(crate) fn request_uri(url: &url::Url) -> Result<Uri, TransportError> {
    let without_fragment = &url[..url::Position::AfterQuery];
    Uri::try_from(without_fragment)
        .map_err(|e| invalid(format!("invalid URL {without_fragment:?}: {e}")))
}

/// Where a redirect from `from` to `location` points, when that is on the same origin (the
/// session id and credentials must not go to another server).
pub(crate) fn same_origin_redirect(from: &Uri, location: &str) -> Option<Uri> {
    let base = url::Url::parse(&from.to_string()).ok()?;
    let next = base.join(location).ok()?;
    if next.origin() != base.origin() {
        tracing::debug!(%next, "a redirect to another origin is not followed");
        return None;
    }
    request_uri(&next).ok()
}
