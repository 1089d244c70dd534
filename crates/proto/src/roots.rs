//! Roots: `roots/list` and `notifications/roots/list_changed` (checklist R-1..R-3).
//!
//! In the legacy versions `roots/list` is a server-to-client request. In 2026-07-28 it is only
//! an input request of an `InputRequiredResult` (MRTR), and roots are deprecated;
//! `notifications/roots/list_changed` is removed.

use serde::{Deserialize, Serialize};

use crate::meta::{Meta, setters};

/// A root directory or file the server may operate on.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Root {
    /// Root metadata (2025-06-18+).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The URI of the root; a `file://` URI for now.
    pub uri: String,
    /// A human-readable name for the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Root {
    /// A root with a URI and a name.
    pub fn new(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Root {
            meta: None,
            uri: uri.into(),
            name: Some(name.into()),
        }
    }

    /// A root with only a URI (no name).
    pub fn unnamed(uri: impl Into<String>) -> Self {
        Root {
            meta: None,
            uri: uri.into(),
            name: None,
        }
    }
}

setters!(Root {
    with_meta => meta: Meta,
});

/// The client's answer to `roots/list`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListRootsResult {
    /// Result metadata (legacy versions; 2026-07-28 input responses carry none).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The roots.
    pub roots: Vec<Root>,
}

impl ListRootsResult {
    /// A result listing these roots.
    pub fn new(roots: Vec<Root>) -> Self {
        ListRootsResult { meta: None, roots }
    }
}

setters!(ListRootsResult {
    with_meta => meta: Meta,
});
