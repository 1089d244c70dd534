//! Matching URIs against RFC 6570 templates (levels 1 and 2: `{var}` and `{+var}`), enough to
//! route `resources/read` to a resource template.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    /// A variable; `reserved` (`{+var}`) values may contain `/`.
    Var {
        name: String,
        reserved: bool,
    },
}

/// A parsed URI template.
///
/// ```
/// use mcp_http_server::UriTemplate;
/// let t = UriTemplate::parse("test://template/{id}/data");
/// assert_eq!(t.matches("test://template/123/data").unwrap()["id"], "123");
/// assert!(t.matches("test://template/1/2/data").is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct UriTemplate {
    parts: Vec<Part>,
}

impl UriTemplate {
    /// Parses a template. Text outside `{...}` is literal; an unclosed `{` is literal too.
    pub fn parse(template: &str) -> Self {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let expr = &rest[open + 1..open + close];
            let (reserved, name) = match expr.strip_prefix('+').or_else(|| expr.strip_prefix('#')) {
                Some(name) => (true, name),
                None => (false, expr),
            };
            parts.push(Part::Var {
                name: name.to_owned(),
                reserved,
            });
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        UriTemplate { parts }
    }

    /// The variables of `uri` if it matches the template.
    pub fn matches(&self, uri: &str) -> Option<HashMap<String, String>> {
        let mut vars = HashMap::new();
        match_parts(&self.parts, uri, &mut vars).then_some(vars)
    }
}

fn match_parts(parts: &[Part], uri: &str, vars: &mut HashMap<String, String>) -> bool {
    match parts.split_first() {
        None => uri.is_empty(),
        Some((Part::Literal(lit), rest)) => uri
            .strip_prefix(lit.as_str())
            .is_some_and(|tail| match_parts(rest, tail, vars)),
        Some((Part::Var { name, reserved }, rest)) => {
            // Try each possible end of the value, shortest first; a value is never empty.
            let limit = if *reserved {
                uri.len()
            } else {
                uri.find('/').unwrap_or(uri.len())
            };
            for end in (1..=limit).filter(|&i| uri.is_char_boundary(i)) {
                if match_parts(rest, &uri[end..], vars) {
                    vars.insert(name.clone(), uri[..end].to_owned());
                    return true;
                }
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_simple_and_reserved() {
        let t = UriTemplate::parse("file:///{+path}");
        assert_eq!(t.matches("file:///a/b.txt").unwrap()["path"], "a/b.txt");
        let t = UriTemplate::parse("users://{user}/posts/{post}");
        let v = t.matches("users://ann/posts/42").unwrap();
        assert_eq!((v["user"].as_str(), v["post"].as_str()), ("ann", "42"));
        assert!(t.matches("users://ann/posts/").is_none());
        assert!(t.matches("users://ann/comments/1").is_none());
        assert!(UriTemplate::parse("x://{a}").matches("x://").is_none());
    }

    #[test]
    fn tool_names_follow_tl6() {
        use crate::tool::is_valid_tool_name;
        assert!(is_valid_tool_name("get_weather.v2-beta"));
        assert!(!is_valid_tool_name(""));
        assert!(!is_valid_tool_name("has space"));
        assert!(!is_valid_tool_name(&"x".repeat(129)));
    }
}
