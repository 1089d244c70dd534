//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1, RFC 6750 §3, RFC 9449 §7.1): the scheme and
//! its parameters (`resource_metadata`, `scope`, `error`), as the MCP server sends them on 401
//! and 403 (A-4, A-15, A-25).

use http::header::{HeaderMap, WWW_AUTHENTICATE};

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme, lowercased (`bearer`, `dpop`).
    pub scheme: String,
    /// The parameters, names lowercased, in order.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the client takes from the challenges of one answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChallengeInfo {
    /// `resource_metadata`: where the protected resource metadata is (A-4).
    pub resource_metadata: Option<String>,
    /// `scope`: the scopes the request needs (A-15).
    pub scope: Option<String>,
    /// `error` (`invalid_token`, `insufficient_scope`, `use_dpop_nonce`).
    pub error: Option<String>,
    /// The schemes challenged, lowercased (`bearer`, `dpop`), in order.
    pub schemes: Vec<String>,
}

impl ChallengeInfo {
    /// The information of every challenge in the `WWW-Authenticate` headers of `headers`
    /// (the first value of each parameter wins). Headers that do not parse give what could be
    /// read, never an error: a hostile header costs the client nothing.
    pub fn from_headers(headers: &HeaderMap) -> ChallengeInfo {
        let mut info = ChallengeInfo::default();
        for value in headers.get_all(WWW_AUTHENTICATE) {
            let Ok(text) = value.to_str() else { continue };
            for challenge in parse(text) {
                if !info.schemes.contains(&challenge.scheme) {
                    info.schemes.push(challenge.scheme.clone());
                }
                if info.resource_metadata.is_none() {
                    info.resource_metadata =
                        challenge.param("resource_metadata").map(str::to_owned);
                }
                if info.scope.is_none() {
                    info.scope = challenge.param("scope").map(str::to_owned);
                }
                if info.error.is_none() {
                    info.error = challenge.param("error").map(str::to_owned);
                }
            }
        }
        info
    }
}

/// Parses a `WWW-Authenticate` value into its challenges. Tolerant: a malformed part ends the
/// parse with what was read; at most 64 challenges and 64 parameters each are kept.
pub(crate) fn parse(text: &str) -> Vec<Challenge> {
    let mut lexer = Lexer {
        s: text.as_bytes(),
        i: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        lexer.skip_ws_commas();
        let Some(scheme) = lexer.token() else { break };
        let mut challenge = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params: Vec::new(),
        };
        loop {
            lexer.skip_ws_commas();
            let start = lexer.i;
            let Some(name) = lexer.token() else { break };
            lexer.skip_ws();
            if lexer.peek() != Some(b'=') {
                // The next challenge's scheme (or a token68 without '='): rewind.
                lexer.i = start;
                break;
            }
            lexer.i += 1;
            // token68 values end with '='s: `Basic abc==` has no name=value.
            lexer.skip_ws();
            let value = if lexer.peek() == Some(b'"') {
                lexer.quoted()
            } else {
                lexer.token()
            };
            let Some(value) = value else {
                // token68 padding or garbage: skip to the next comma.
                lexer.skip_to_comma();
                continue;
            };
            if challenge.params.len() < 64 {
                challenge.params.push((name.to_ascii_lowercase(), value));
            }
        }
        if out.len() < 64 {
            out.push(challenge);
        }
        if lexer.i >= lexer.s.len() {
            break;
        }
    }
    out
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }
    fn skip_ws_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
    }
    fn skip_to_comma(&mut self) {
        while let Some(c) = self.peek() {
            if c == b',' {
                break;
            }
            self.i += 1;
        }
    }
    /// An RFC 9110 token (with the token68 characters `/` `+` allowed).
    fn token(&mut self) -> Option<String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            let ok = c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/".contains(&c);
            if !ok {
                break;
            }
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }
    fn quoted(&mut self) -> Option<String> {
        self.i += 1; // the opening quote
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'"' => return Some(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                _ => out.push(c),
            }
        }
        None // unterminated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_and_dpop_challenges_parse() {
        let c = parse(
            r#"Bearer resource_metadata="http://a/.well-known/oauth-protected-resource/mcp", scope="mcp:basic mcp:write", error="insufficient_scope", DPoP algs="ES256", error=use_dpop_nonce"#,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].param("scope"), Some("mcp:basic mcp:write"));
        assert_eq!(c[0].param("error"), Some("insufficient_scope"));
        assert_eq!(c[1].scheme, "dpop");
        assert_eq!(c[1].param("error"), Some("use_dpop_nonce"));
    }

    #[test]
    fn hostile_headers_give_what_can_be_read() {
        assert!(parse("").is_empty());
        let c = parse(r#"Bearer scope="unterminated"#);
        assert_eq!(c[0].param("scope"), None);
        let c = parse(r#"Basic YWxhZGRpbjpvcGVuc2VzYW1l==, Bearer realm="x""#);
        assert_eq!(c.last().map(|c| c.scheme.as_str()), Some("bearer"));
        let long = "Bearer ".to_owned() + &"a=b, ".repeat(10_000);
        assert_eq!(parse(&long)[0].params.len(), 64);
        let c = parse(r#"Bearer error="a\"b""#);
        assert_eq!(c[0].param("error"), Some("a\"b"));
    }
}
