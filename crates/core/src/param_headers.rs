//! The `Mcp-Param-*` headers of a 2026-07-28 `tools/call` (H-10): the transport hands them to
//! the role in the request's extensions, and the role, which knows the tool's `x-mcp-header`
//! annotations, checks them against the arguments.

/// The `Mcp-Param-{Name}` headers of one request, as received (values not yet decoded; see
/// `mcp_http_proto::header_value`). Present in a modern request's extensions even when empty,
/// so a missing header can be told from a transport that has none.
#[derive(Debug, Clone, Default)]
pub struct ParamHeaders {
    /// `(Name, value)`: the name after `Mcp-Param-`, as sent.
    headers: Vec<(String, String)>,
}

impl ParamHeaders {
    /// Records one header: `name` is what follows `Mcp-Param-`.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.headers.push((name.into(), value.into()));
    }

    /// The raw value of `Mcp-Param-{name}` (names compare case-insensitively, H-7). `Err` when
    /// the header came more than once.
    pub fn get(&self, name: &str) -> Result<Option<&str>, RepeatedHeader> {
        let mut found = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        let first = found.next().map(|(_, v)| v.as_str());
        match found.next() {
            Some(_) => Err(RepeatedHeader),
            None => Ok(first),
        }
    }

    /// Every header, in the order received.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// An `Mcp-Param-*` header that came more than once: which value counts is unknowable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatedHeader;

impl std::fmt::Display for RepeatedHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the header appears more than once")
    }
}

impl std::error::Error for RepeatedHeader {}
