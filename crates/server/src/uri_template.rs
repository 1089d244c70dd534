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
#[derive(Debug, Clone)]
pub struct UriTemplate {
    parts: Vec<Part>,
    /// The template as an anchored regular expression, one group per variable: matching runs in
    /// time linear in the URI, whatever the template (a backtracking search was exponential in
    /// the URI's length for adjacent variables). `None` if it could not be built.
    pattern: Option<regex::Regex>,
}

impl PartialEq for UriTemplate {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
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
        let pattern = pattern(&parts);
        UriTemplate { parts, pattern }
    }

    /// The variables of `uri` if it matches the template. A value is never empty; a `{var}`
    /// value holds no `/`, a `{+var}` value may; earlier variables take the shortest values that
    /// let the rest match.
    pub fn matches(&self, uri: &str) -> Option<HashMap<String, String>> {
        let captures = self.pattern.as_ref()?.captures(uri)?;
        let mut vars = HashMap::new();
        let names = self.parts.iter().filter_map(|part| match part {
            Part::Var { name, .. } => Some(name),
            Part::Literal(_) => None,
        });
        for (n, name) in names.enumerate() {
            let value = captures.get(n + 1)?.as_str();
            vars.insert(name.clone(), value.to_owned());
        }
        Some(vars)
    }
}

/// `^literal(group)literal...$`, with lazy groups: `[^/]+?` for `{var}`, `.+?` for `{+var}`.
fn pattern(parts: &[Part]) -> Option<regex::Regex> {
    let mut pattern = String::from("^");
    for part in parts {
        match part {
            Part::Literal(lit) => pattern.push_str(&regex::escape(lit)),
            Part::Var {
                reserved: false, ..
            } => pattern.push_str("([^/]+?)"),
            Part::Var { reserved: true, .. } => pattern.push_str("(.+?)"),
        }
    }
    pattern.push('$');
    regex::RegexBuilder::new(&pattern)
        .dot_matches_new_line(true)
        .build()
        .ok()
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

    /// Regression (found by the `uri_template` fuzz target): adjacent variables made matching
    /// exponential in the URI's length (one input of 90 bytes took 36 s). With the old search
    /// this test does not finish.
    #[test]
    fn adjacent_variables_made_matching_exponential() {
        let t = UriTemplate::parse("{a}{b}{c}{d}{e}{f}{g}{h}!");
        assert!(t.matches(&"z".repeat(3000)).is_none());
        let v = t.matches("abcdefgh!").unwrap();
        assert_eq!((v["a"].as_str(), v["h"].as_str()), ("a", "h"));
        let reserved = UriTemplate::parse(&"{+a}".repeat(12));
        assert!(reserved.matches(&"y".repeat(4000)).is_some());
        assert!(
            reserved.matches(&"y".repeat(11)).is_none(),
            "a value is never empty"
        );
    }

    #[test]
    fn regex_characters_in_literals_are_literal() {
        let t = UriTemplate::parse("a.b+c://{x}?(y)");
        assert_eq!(t.matches("a.b+c://1?(y)").unwrap()["x"], "1");
        assert!(t.matches("aXb+c://1?(y)").is_none());
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
