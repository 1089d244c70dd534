//! Cookies the server sets, sent back on later requests to it (off by default; `mcp-http
//! bridge URL` turns it on, BR-22). Load balancers that pin a session to an instance with a
//! cookie (nginx `sticky`, cloud balancers' affinity cookies) see it on every request.
//!
//! One jar per transport, which speaks to one origin: a cookie's `Domain` and `Path` are not
//! needed to choose where it goes. `Max-Age=0` (or less) removes one; other attributes are
//! ignored. The jar is bounded, so a server cannot make it grow without end.

use std::sync::Mutex;

use http::HeaderValue;
use http::header::{COOKIE, SET_COOKIE};

/// The most cookies kept; a new one past it is dropped.
const MAX_COOKIES: usize = 32;
/// The longest `name=value` kept.
const MAX_COOKIE_LEN: usize = 4096;

/// The cookies of one origin, in the order first set.
#[derive(Debug, Default)]
pub(crate) struct CookieJar {
    cookies: Mutex<Vec<(String, String)>>,
}

impl CookieJar {
    /// The `Cookie` header to send, if any cookie is kept.
    pub(crate) fn header(&self) -> Option<HeaderValue> {
        let cookies = self.cookies.lock().ok()?;
        if cookies.is_empty() {
            return None;
        }
        let joined = cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        HeaderValue::from_str(&joined).ok()
    }

    /// Takes the `Set-Cookie` headers of a response.
    pub(crate) fn store(&self, headers: &http::HeaderMap) {
        let mut set = headers.get_all(SET_COOKIE).iter().peekable();
        if set.peek().is_none() {
            return;
        }
        let Ok(mut cookies) = self.cookies.lock() else {
            return;
        };
        for value in set {
            let Ok(text) = value.to_str() else { continue };
            let mut parts = text.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            if name.is_empty() || name.len() + value.len() > MAX_COOKIE_LEN {
                continue;
            }
            let expired = parts.any(|attribute| {
                attribute
                    .split_once('=')
                    .filter(|(key, _)| key.trim().eq_ignore_ascii_case("max-age"))
                    .and_then(|(_, age)| age.trim().parse::<i64>().ok())
                    .is_some_and(|age| age <= 0)
            });
            let at = cookies.iter().position(|(n, _)| n == name);
            match (at, expired) {
                (Some(at), true) => {
                    cookies.remove(at);
                }
                (Some(at), false) => cookies[at].1 = value.to_owned(),
                (None, false) if cookies.len() < MAX_COOKIES => {
                    cookies.push((name.to_owned(), value.to_owned()));
                }
                _ => {}
            }
        }
    }

    /// Puts the `Cookie` header on `request`, unless the caller's headers set one.
    pub(crate) fn apply(&self, headers: &mut http::HeaderMap) {
        if !headers.contains_key(COOKIE)
            && let Some(value) = self.header()
        {
            headers.insert(COOKIE, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(values: &[&str]) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        for v in values {
            headers.append(
                SET_COOKIE,
                HeaderValue::from_str(v).unwrap_or_else(|_| unreachable!()),
            );
        }
        headers
    }

    #[test]
    fn cookies_are_kept_replaced_expired_and_bounded() {
        let jar = CookieJar::default();
        assert!(jar.header().is_none());
        jar.store(&set(&["lb=a; Path=/; HttpOnly", "other=1"]));
        assert_eq!(
            jar.header().as_ref().and_then(|v| v.to_str().ok()),
            Some("lb=a; other=1")
        );
        jar.store(&set(&["lb=b", "other=; Max-Age=0", "junk", "=x"]));
        assert_eq!(
            jar.header().as_ref().and_then(|v| v.to_str().ok()),
            Some("lb=b")
        );
        for i in 0..100 {
            jar.store(&set(&[&format!("c{i}=v")]));
        }
        let count = jar
            .header()
            .map(|v| v.to_str().unwrap_or("").split("; ").count());
        assert_eq!(count, Some(MAX_COOKIES));
        let mut mine = http::HeaderMap::new();
        mine.insert(COOKIE, HeaderValue::from_static("mine=1"));
        jar.apply(&mut mine);
        assert_eq!(mine[COOKIE], "mine=1");
    }
}
