//! Resources: `resources/list`, `resources/templates/list`, `resources/read`,
//! `resources/subscribe`, `resources/unsubscribe` and their notifications.
//!
//! `resources/subscribe`, `resources/unsubscribe` exist only in the legacy versions; in
//! 2026-07-28 a client subscribes through `subscriptions/listen` ([`crate::modern`]).
//! 2026-07-28 adds `resultType`, `ttlMs` and `cacheScope` to the list and read results, and
//! `inputResponses`/`requestState` to `resources/read` (MRTR).

use serde::{Deserialize, Serialize};

use crate::content::Annotations;
use crate::lifecycle::Icon;
use crate::meta::{Meta, setters};
use crate::modern::{CacheScope, InputResponses, ResultType};
use crate::pagination::Cursor;

/// A resource the server can read (as listed by `resources/list`).
///
/// `title` from 2025-06-18, `size` from 2025-03-26 in the schema, `icons` from 2025-11-25.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Resource {
    /// Resource metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The URI of this resource.
    pub uri: String,
    /// Programmatic name, also the display fallback when `title` is absent.
    pub name: String,
    /// Human-readable display name (2025-06-18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description of what this resource represents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The MIME type of this resource, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The size of the raw content in bytes (before base64 encoding), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Optional annotations for the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Icons the client can display (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
}

impl Resource {
    /// A resource with a URI and a name.
    pub fn new(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Resource {
            uri: uri.into(),
            name: name.into(),
            ..Resource::default()
        }
    }

    /// Sets the MIME type.
    pub fn with_mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }
}

/// A resource link inside a prompt or tool result (`"type": "resource_link"`, 2025-06-18+).
///
/// It has exactly the members of a [`Resource`]; the `type` tag is written by
/// [`crate::ContentBlock`]. Resource links need not appear in `resources/list`.
pub type ResourceLink = Resource;

/// A template for resources available on the server (`resources/templates/list`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceTemplate {
    /// Template metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// An RFC 6570 URI template for constructing resource URIs.
    pub uri_template: String,
    /// Programmatic name, also the display fallback when `title` is absent.
    pub name: String,
    /// Human-readable display name (2025-06-18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description of what this template is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The MIME type of every resource matching this template, if they all share one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Optional annotations for the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Icons the client can display (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
}

impl ResourceTemplate {
    /// A template with a URI template and a name.
    pub fn new(uri_template: impl Into<String>, name: impl Into<String>) -> Self {
        ResourceTemplate {
            uri_template: uri_template.into(),
            name: name.into(),
            ..ResourceTemplate::default()
        }
    }
}

/// The text contents of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TextResourceContents {
    /// Contents metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The URI of this resource.
    pub uri: String,
    /// The MIME type of this resource, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The text (only for content that can be represented as text).
    pub text: String,
}

impl TextResourceContents {
    /// Text contents for a URI.
    pub fn new(uri: impl Into<String>, text: impl Into<String>) -> Self {
        TextResourceContents {
            meta: None,
            uri: uri.into(),
            mime_type: None,
            text: text.into(),
        }
    }

    /// Sets the MIME type.
    pub fn with_mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }
}

/// The binary contents of a resource, base64-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BlobResourceContents {
    /// Contents metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The URI of this resource.
    pub uri: String,
    /// The MIME type of this resource, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The base64-encoded binary data.
    pub blob: String,
}

impl BlobResourceContents {
    /// Blob contents for a URI from already base64-encoded data.
    pub fn new(uri: impl Into<String>, blob_base64: impl Into<String>) -> Self {
        BlobResourceContents {
            meta: None,
            uri: uri.into(),
            mime_type: None,
            blob: blob_base64.into(),
        }
    }

    /// Sets the MIME type.
    pub fn with_mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }
}

/// The contents of a resource: text or blob, told apart by which member is present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ResourceContents {
    /// Contents with `text`.
    Text(TextResourceContents),
    /// Contents with `blob`.
    Blob(BlobResourceContents),
}

impl ResourceContents {
    /// The URI of the contents.
    pub fn uri(&self) -> &str {
        match self {
            ResourceContents::Text(t) => &t.uri,
            ResourceContents::Blob(b) => &b.uri,
        }
    }

    /// The MIME type of the contents, if known.
    pub fn mime_type(&self) -> Option<&str> {
        match self {
            ResourceContents::Text(t) => t.mime_type.as_deref(),
            ResourceContents::Blob(b) => b.mime_type.as_deref(),
        }
    }
}

impl From<TextResourceContents> for ResourceContents {
    fn from(c: TextResourceContents) -> Self {
        ResourceContents::Text(c)
    }
}

impl From<BlobResourceContents> for ResourceContents {
    fn from(c: BlobResourceContents) -> Self {
        ResourceContents::Blob(c)
    }
}

/// The result of `resources/list`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ListResourcesResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The resources.
    pub resources: Vec<Resource>,
    /// The cursor after the last result; present if there may be more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Cursor>,
    /// 2026-07-28 (required there): the kind of result; absent means `"complete"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// 2026-07-28 (required there): how long the client may cache this, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    /// 2026-07-28 (required there): who may share the cached response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_scope: Option<CacheScope>,
}

/// The result of `resources/templates/list`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ListResourceTemplatesResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The resource templates.
    pub resource_templates: Vec<ResourceTemplate>,
    /// The cursor after the last result; present if there may be more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Cursor>,
    /// 2026-07-28 (required there): the kind of result; absent means `"complete"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// 2026-07-28 (required there): how long the client may cache this, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    /// 2026-07-28 (required there): who may share the cached response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_scope: Option<CacheScope>,
}

/// Common params of requests about one resource (the schema's `ResourceRequestParams`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResourceRequestParams {
    /// Request metadata (required in 2026-07-28).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The URI of the resource.
    pub uri: String,
}

/// Parameters for a `resources/read` request.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ReadResourceRequestParams {
    /// Request metadata (required in 2026-07-28).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The URI of the resource to read.
    pub uri: String,
    /// 2026-07-28 (MRTR): the client's answers to the server's input requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<InputResponses>,
    /// 2026-07-28 (MRTR): the opaque state echoed from an `InputRequiredResult`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
}

impl ReadResourceRequestParams {
    /// Params reading a URI.
    pub fn new(uri: impl Into<String>) -> Self {
        ReadResourceRequestParams {
            uri: uri.into(),
            ..Self::default()
        }
    }
}

/// The result of `resources/read`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ReadResourceResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The contents read (a resource may have several sub-resources).
    pub contents: Vec<ResourceContents>,
    /// 2026-07-28 (required there): the kind of result; absent means `"complete"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// 2026-07-28 (required there): how long the client may cache this, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    /// 2026-07-28 (required there): who may share the cached response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_scope: Option<CacheScope>,
}

impl ReadResourceResult {
    /// A result with the given contents.
    pub fn new(contents: Vec<ResourceContents>) -> Self {
        ReadResourceResult {
            contents,
            ..Self::default()
        }
    }

    /// A result with one text item.
    pub fn text(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Self::new(vec![
            TextResourceContents::new(uri, text)
                .with_mime_type(mime_type)
                .into(),
        ])
    }

    /// A result with one blob item, from already base64-encoded data.
    pub fn blob(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        blob_base64: impl Into<String>,
    ) -> Self {
        Self::new(vec![
            BlobResourceContents::new(uri, blob_base64)
                .with_mime_type(mime_type)
                .into(),
        ])
    }
}

/// Parameters for a `resources/subscribe` request (legacy versions only).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscribeRequestParams {
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The URI of the resource to watch.
    pub uri: String,
}

/// Parameters for a `resources/unsubscribe` request (legacy versions only).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UnsubscribeRequestParams {
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The URI of the resource to stop watching.
    pub uri: String,
}

/// Parameters for a `notifications/resources/updated` notification.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResourceUpdatedNotificationParams {
    /// Notification metadata (2026-07-28: carries the subscription id on a listen stream).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The URI of the updated resource (possibly a sub-resource of the one subscribed to).
    pub uri: String,
}

setters!(Resource {
    with_meta => meta: Meta,
    with_title => title: String,
    with_description => description: String,
    with_size => size = u64,
    with_annotations => annotations: Annotations,
    with_icons => icons: Vec<Icon>,
});

setters!(ResourceTemplate {
    with_meta => meta: Meta,
    with_title => title: String,
    with_description => description: String,
    with_mime_type => mime_type: String,
    with_annotations => annotations: Annotations,
    with_icons => icons: Vec<Icon>,
});

setters!(TextResourceContents {
    with_meta => meta: Meta,
});

setters!(BlobResourceContents {
    with_meta => meta: Meta,
});

impl ListResourcesResult {
    /// A result listing these resources.
    pub fn new(resources: Vec<Resource>) -> Self {
        ListResourcesResult {
            resources,
            ..Self::default()
        }
    }
}

setters!(ListResourcesResult {
    with_meta => meta: Meta,
    with_next_cursor => next_cursor: Cursor,
    with_result_type => result_type: ResultType,
    with_ttl_ms => ttl_ms = u64,
    with_cache_scope => cache_scope: CacheScope,
});

impl ListResourceTemplatesResult {
    /// A result listing these templates.
    pub fn new(resource_templates: Vec<ResourceTemplate>) -> Self {
        ListResourceTemplatesResult {
            resource_templates,
            ..Self::default()
        }
    }
}

setters!(ListResourceTemplatesResult {
    with_meta => meta: Meta,
    with_next_cursor => next_cursor: Cursor,
    with_result_type => result_type: ResultType,
    with_ttl_ms => ttl_ms = u64,
    with_cache_scope => cache_scope: CacheScope,
});

impl ResourceRequestParams {
    /// Params about a URI.
    pub fn new(uri: impl Into<String>) -> Self {
        ResourceRequestParams {
            meta: None,
            uri: uri.into(),
        }
    }
}

setters!(ResourceRequestParams {
    with_meta => meta: Meta,
});

setters!(ReadResourceRequestParams {
    with_meta => meta: Meta,
    with_input_responses => input_responses: InputResponses,
    with_request_state => request_state: String,
});

setters!(ReadResourceResult {
    with_meta => meta: Meta,
    with_result_type => result_type: ResultType,
    with_ttl_ms => ttl_ms = u64,
    with_cache_scope => cache_scope: CacheScope,
});

impl SubscribeRequestParams {
    /// Params watching a URI.
    pub fn new(uri: impl Into<String>) -> Self {
        SubscribeRequestParams {
            meta: None,
            uri: uri.into(),
        }
    }
}

setters!(SubscribeRequestParams {
    with_meta => meta: Meta,
});

impl UnsubscribeRequestParams {
    /// Params no longer watching a URI.
    pub fn new(uri: impl Into<String>) -> Self {
        UnsubscribeRequestParams {
            meta: None,
            uri: uri.into(),
        }
    }
}

setters!(UnsubscribeRequestParams {
    with_meta => meta: Meta,
});

impl ResourceUpdatedNotificationParams {
    /// Params telling that the resource at a URI changed.
    pub fn new(uri: impl Into<String>) -> Self {
        ResourceUpdatedNotificationParams {
            meta: None,
            uri: uri.into(),
        }
    }
}

setters!(ResourceUpdatedNotificationParams {
    with_meta => meta: Meta,
});

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contents_text_vs_blob() {
        let text: ResourceContents =
            serde_json::from_value(json!({"uri": "a://x", "text": "hi", "mimeType": "text/plain"}))
                .unwrap();
        assert!(matches!(&text, ResourceContents::Text(t) if t.text == "hi"));
        assert_eq!(text.mime_type(), Some("text/plain"));
        let blob: ResourceContents =
            serde_json::from_value(json!({"uri": "a://y", "blob": "AAE="})).unwrap();
        assert!(matches!(&blob, ResourceContents::Blob(b) if b.blob == "AAE="));
        assert_eq!(blob.uri(), "a://y");
        assert!(serde_json::from_value::<ResourceContents>(json!({"uri": "a://z"})).is_err());
    }

    #[test]
    fn read_result_helpers() {
        let r = ReadResourceResult::text("a://x", "text/plain", "hi");
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"contents": [{"uri": "a://x", "mimeType": "text/plain", "text": "hi"}]})
        );
    }
}
