//! Tools hidden from the local client on the connect side (`bridge URL --ignore-tool`, BR-21):
//! they are left out of `tools/list` results, and a `tools/call` naming one is refused before it
//! reaches the remote, so a client cannot call what it was never shown.

use std::sync::Arc;

use mcp_http_proto::{ErrorObject, error_code};
use serde_json::Value;
use serde_json::value::RawValue;

/// Name patterns of hidden tools: `*` matches any run of characters, everything else itself.
#[derive(Debug, Clone, Default)]
pub struct ToolFilter {
    patterns: Arc<[String]>,
}

impl ToolFilter {
    /// A filter hiding every tool whose name matches one of `patterns`.
    pub fn new(patterns: impl IntoIterator<Item = String>) -> Self {
        ToolFilter {
            patterns: patterns.into_iter().collect(),
        }
    }

    /// Whether nothing is hidden.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether the tool `name` is hidden.
    pub fn hides(&self, name: &str) -> bool {
        self.patterns
            .iter()
            .any(|p| glob(p.as_bytes(), name.as_bytes()))
    }

    /// The refusal of a `tools/call` whose params name a hidden tool; `None` to relay it.
    pub(crate) fn refuse_call(&self, params: Option<&str>) -> Option<ErrorObject> {
        #[derive(serde::Deserialize)]
        struct Call<'a> {
            #[serde(borrow)]
            name: std::borrow::Cow<'a, str>,
        }
        let call: Call<'_> = serde_json::from_str(params?).ok()?;
        self.hides(&call.name).then(|| {
            ErrorObject::new(
                error_code::INVALID_PARAMS,
                format!("unknown tool: {}", call.name),
            )
        })
    }

    /// A `tools/list` result without the hidden tools (a result that is not an object with a
    /// `tools` array is passed on as it came).
    pub(crate) fn filter_list(&self, result: Box<RawValue>) -> Box<RawValue> {
        let Ok(mut value) = serde_json::from_str::<Value>(result.get()) else {
            return result;
        };
        let Some(tools) = value.get_mut("tools").and_then(Value::as_array_mut) else {
            return result;
        };
        tools.retain(|tool| {
            tool.get("name")
                .and_then(Value::as_str)
                .is_none_or(|name| !self.hides(name))
        });
        serde_json::value::to_raw_value(&value).unwrap_or(result)
    }
}

/// `*`-only glob matching, iterative with one backtrack point (linear in practice).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_hide_lists_and_calls() {
        let filter = ToolFilter::new(["test_*".to_owned(), "add".to_owned(), "*_llm".to_owned()]);
        for hidden in ["test_sampling", "test_", "add", "sample_llm"] {
            assert!(filter.hides(hidden), "{hidden}");
        }
        for shown in ["echo", "adder", "ask_user", "llm_x", "a_test_b"] {
            assert!(!filter.hides(shown), "{shown}");
        }
        let list = serde_json::value::to_raw_value(&serde_json::json!({
            "tools": [{"name": "echo"}, {"name": "add"}, {"name": "test_x"}],
            "nextCursor": "c"
        }))
        .unwrap_or_else(|_| unreachable!());
        let filtered: Value =
            serde_json::from_str(filter.filter_list(list).get()).unwrap_or_default();
        assert_eq!(
            filtered,
            serde_json::json!({"tools": [{"name": "echo"}], "nextCursor": "c"})
        );
        let call = serde_json::value::to_raw_value(&serde_json::json!({"name": "add"}))
            .unwrap_or_else(|_| unreachable!());
        let refused = filter.refuse_call(Some(call.get())).map(|e| e.code);
        assert_eq!(refused, Some(error_code::INVALID_PARAMS));
        let echo = serde_json::value::to_raw_value(&serde_json::json!({"name": "echo"}))
            .unwrap_or_else(|_| unreachable!());
        assert!(filter.refuse_call(Some(echo.get())).is_none());
        assert!(ToolFilter::default().is_empty());
    }
}
