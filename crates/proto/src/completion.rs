//! Argument completion: `completion/complete` (2025-03-26+).
//!
//! `context` from 2025-06-18; `PromptReference.title` from 2025-06-18. The resource reference
//! was named `ResourceReference` before 2025-06-18, with the same `"ref/resource"` tag.
//! 2026-07-28 adds `resultType` to the result.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::meta::{Meta, setters};
use crate::modern::ResultType;

/// Identifies a prompt (`"type": "ref/prompt"`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PromptReference {
    /// The prompt's name.
    pub name: String,
    /// Human-readable display name (2025-06-18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Identifies a resource or resource template (`"type": "ref/resource"`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResourceTemplateReference {
    /// The URI or URI template of the resource.
    pub uri: String,
}

/// What a completion request is about: a prompt or a resource template, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum Reference {
    /// `"ref/prompt"`.
    #[serde(rename = "ref/prompt")]
    Prompt(PromptReference),
    /// `"ref/resource"`.
    #[serde(rename = "ref/resource")]
    Resource(ResourceTemplateReference),
}

/// The argument being completed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionArgument {
    /// The name of the argument.
    pub name: String,
    /// The value typed so far, to match completions against.
    pub value: String,
}

/// Additional context for a completion (2025-06-18+).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionContext {
    /// Previously-resolved variables of the URI template or prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<BTreeMap<String, String>>,
}

/// Parameters for a `completion/complete` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompleteRequestParams {
    /// Request metadata (required in 2026-07-28).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The prompt or resource template being completed (`ref` on the wire).
    #[serde(rename = "ref")]
    pub reference: Reference,
    /// The argument being completed.
    pub argument: CompletionArgument,
    /// Additional context (2025-06-18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<CompletionContext>,
}

/// The completion values of a [`CompleteResult`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Completion {
    /// The completion values, at most 100.
    pub values: Vec<String>,
    /// The total number of options available, possibly more than sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Whether there are more options than those sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
}

/// The result of `completion/complete`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CompleteResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The completions.
    pub completion: Completion,
    /// 2026-07-28 (required there): the kind of result; absent means `"complete"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
}

impl CompleteResult {
    /// The maximum number of values one result may carry.
    pub const MAX_VALUES: usize = 100;

    /// A result from candidate values: keeps the first 100, and sets `total` and `hasMore`.
    pub fn new(values: Vec<String>) -> Self {
        let total = values.len();
        let mut values = values;
        values.truncate(Self::MAX_VALUES);
        CompleteResult {
            completion: Completion {
                has_more: Some(total > values.len()),
                total: u64::try_from(total).ok(),
                values,
            },
            ..Self::default()
        }
    }
}

impl PromptReference {
    /// A reference to the prompt with this name.
    pub fn new(name: impl Into<String>) -> Self {
        PromptReference {
            name: name.into(),
            title: None,
        }
    }
}

setters!(PromptReference {
    with_title => title: String,
});

impl ResourceTemplateReference {
    /// A reference to the resource or resource template with this URI (template).
    pub fn new(uri: impl Into<String>) -> Self {
        ResourceTemplateReference { uri: uri.into() }
    }
}

impl Reference {
    /// A reference to the prompt with this name.
    pub fn prompt(name: impl Into<String>) -> Self {
        Reference::Prompt(PromptReference::new(name))
    }

    /// A reference to the resource or resource template with this URI (template).
    pub fn resource(uri: impl Into<String>) -> Self {
        Reference::Resource(ResourceTemplateReference::new(uri))
    }
}

impl CompletionArgument {
    /// The argument with this name, and the value typed so far.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        CompletionArgument {
            name: name.into(),
            value: value.into(),
        }
    }
}

setters!(CompletionContext {
    with_arguments => arguments: BTreeMap<String, String>,
});

impl CompleteRequestParams {
    /// Params completing an argument of a prompt or resource template.
    pub fn new(reference: Reference, argument: CompletionArgument) -> Self {
        CompleteRequestParams {
            meta: None,
            reference,
            argument,
            context: None,
        }
    }
}

setters!(CompleteRequestParams {
    with_meta => meta: Meta,
    with_context => context: CompletionContext,
});

impl Completion {
    /// Completion values as given (no truncation; see [`CompleteResult::new`]).
    pub fn new(values: Vec<String>) -> Self {
        Completion {
            values,
            ..Self::default()
        }
    }
}

setters!(Completion {
    with_total => total = u64,
    with_has_more => has_more = bool,
});

setters!(CompleteResult {
    with_meta => meta: Meta,
    with_result_type => result_type: ResultType,
});

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reference_tags() {
        let p: CompleteRequestParams = serde_json::from_value(json!({
            "ref": {"type": "ref/resource", "uri": "file:///{path}"},
            "argument": {"name": "path", "value": "sr"}
        }))
        .unwrap();
        assert!(matches!(p.reference, Reference::Resource(ref r) if r.uri == "file:///{path}"));
        let v = serde_json::to_value(Reference::Prompt(PromptReference {
            name: "p".into(),
            title: None,
        }))
        .unwrap();
        assert_eq!(v, json!({"type": "ref/prompt", "name": "p"}));
    }

    #[test]
    fn result_truncates_to_100() {
        let r = CompleteResult::new((0..150).map(|i| i.to_string()).collect());
        assert_eq!(r.completion.values.len(), 100);
        assert_eq!(r.completion.total, Some(150));
        assert_eq!(r.completion.has_more, Some(true));
    }
}
