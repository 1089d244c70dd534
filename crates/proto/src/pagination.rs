//! Pagination: cursors and the params of paginated list requests (checklist TL-2).

use serde::{Deserialize, Serialize};

use crate::meta::Meta;

/// An opaque pagination token. Clients MUST NOT parse or modify it.
pub type Cursor = String;

/// Params of a paginated request (`tools/list`, `prompts/list`, `resources/list`,
/// `resources/templates/list`, `tasks/list`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaginatedRequestParams {
    /// Request metadata (required in 2026-07-28).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Where to continue listing from: the `nextCursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

impl PaginatedRequestParams {
    /// Params asking for the page after `cursor`.
    pub fn with_cursor(cursor: impl Into<Cursor>) -> Self {
        PaginatedRequestParams {
            meta: None,
            cursor: Some(cursor.into()),
        }
    }
}
