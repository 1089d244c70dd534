//! Content blocks carried by tool results, prompt messages and sampling messages.
//!
//! Versions: text, image and embedded resources exist since 2024-11-05; audio since 2025-03-26;
//! `resource_link` blocks and `_meta` on blocks since 2025-06-18; `Annotations.lastModified`
//! since 2025-06-18.
//!
//! The `type` member of a block is written and read by the enclosing tagged enum
//! ([`ContentBlock`], [`crate::sampling::SamplingMessageContentBlock`]): the block structs
//! themselves carry no `type` field.

use serde::{Deserialize, Deserializer, Serialize, de};

use crate::meta::{Meta, setters};
use crate::resources::{
    BlobResourceContents, ResourceContents, ResourceLink, TextResourceContents,
};

/// The sender or recipient of messages and data in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Role {
    /// The user.
    User,
    /// The assistant (the model).
    Assistant,
}

/// Optional hints telling the client how to use or display an object.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Annotations {
    /// Who the object is intended for: the user, the assistant, or both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<Role>>,
    /// How important the data is, from 0 (least) to 1 (most; effectively required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<f64>,
    /// When the resource was last modified, as an ISO 8601 string (2025-06-18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// Text provided to or from an LLM (`"type": "text"`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TextContent {
    /// Block metadata (2025-06-18+).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The text.
    pub text: String,
    /// Optional annotations for the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
}

impl TextContent {
    /// A text block.
    pub fn new(text: impl Into<String>) -> Self {
        TextContent {
            meta: None,
            text: text.into(),
            annotations: None,
        }
    }
}

/// An image provided to or from an LLM (`"type": "image"`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ImageContent {
    /// Block metadata (2025-06-18+).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The base64-encoded image data.
    pub data: String,
    /// The MIME type of the image.
    pub mime_type: String,
    /// Optional annotations for the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
}

impl ImageContent {
    /// An image block from base64 data and a MIME type.
    pub fn new(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        ImageContent {
            meta: None,
            data: data.into(),
            mime_type: mime_type.into(),
            annotations: None,
        }
    }
}

/// Audio provided to or from an LLM (`"type": "audio"`, 2025-03-26+).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AudioContent {
    /// Block metadata (2025-06-18+).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The base64-encoded audio data.
    pub data: String,
    /// The MIME type of the audio.
    pub mime_type: String,
    /// Optional annotations for the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
}

impl AudioContent {
    /// An audio block from base64 data and a MIME type.
    pub fn new(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        AudioContent {
            meta: None,
            data: data.into(),
            mime_type: mime_type.into(),
            annotations: None,
        }
    }
}

/// The contents of a resource embedded into a prompt or tool result (`"type": "resource"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EmbeddedResource {
    /// Block metadata (2025-06-18+).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The resource contents, text or blob.
    pub resource: ResourceContents,
    /// Optional annotations for the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
}

impl EmbeddedResource {
    /// Embeds resource contents.
    pub fn new(resource: impl Into<ResourceContents>) -> Self {
        EmbeddedResource {
            meta: None,
            resource: resource.into(),
            annotations: None,
        }
    }
}

/// A content block of a tool result or prompt message, tagged by `type`.
///
/// Read without buffering when `type` comes first, as every SDK writes it (see
/// [`ContentBlock`]'s `Deserialize`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ContentBlock {
    /// `"text"`.
    #[serde(rename = "text")]
    Text(TextContent),
    /// `"image"`.
    #[serde(rename = "image")]
    Image(ImageContent),
    /// `"audio"` (2025-03-26+).
    #[serde(rename = "audio")]
    Audio(AudioContent),
    /// `"resource_link"` (2025-06-18+): a link to a resource the client can read.
    #[serde(rename = "resource_link")]
    ResourceLink(ResourceLink),
    /// `"resource"`: embedded resource contents.
    #[serde(rename = "resource")]
    Resource(EmbeddedResource),
}

/// The `type` values of [`ContentBlock`].
const BLOCK_TYPES: &[&str] = &["text", "image", "audio", "resource_link", "resource"];

/// A `type` of [`ContentBlock`].
#[derive(Clone, Copy)]
enum BlockType {
    Text,
    Image,
    Audio,
    ResourceLink,
    Resource,
}

impl BlockType {
    fn of<E: de::Error>(tag: &str) -> Result<BlockType, E> {
        Ok(match tag {
            "text" => BlockType::Text,
            "image" => BlockType::Image,
            "audio" => BlockType::Audio,
            "resource_link" => BlockType::ResourceLink,
            "resource" => BlockType::Resource,
            other => return Err(E::unknown_variant(other, BLOCK_TYPES)),
        })
    }

    /// The block of this type whose other members `fields` holds.
    fn read<'de, D: Deserializer<'de>>(self, fields: D) -> Result<ContentBlock, D::Error> {
        Ok(match self {
            BlockType::Text => ContentBlock::Text(TextContent::deserialize(fields)?),
            BlockType::Image => ContentBlock::Image(ImageContent::deserialize(fields)?),
            BlockType::Audio => ContentBlock::Audio(AudioContent::deserialize(fields)?),
            BlockType::ResourceLink => {
                ContentBlock::ResourceLink(ResourceLink::deserialize(fields)?)
            }
            BlockType::Resource => ContentBlock::Resource(EmbeddedResource::deserialize(fields)?),
        })
    }
}

/// A key of a block: `type`, or another one (kept, for a `type` that comes later).
enum BlockKey {
    Type,
    Other(String),
}

impl<'de> Deserialize<'de> for BlockKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl de::Visitor<'_> for KeyVisitor {
            type Value = BlockKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<BlockKey, E> {
                Ok(match v {
                    "type" => BlockKey::Type,
                    other => BlockKey::Other(other.to_owned()),
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// The `type` value: a string, borrowed when it can be.
struct Tag(BlockType);

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TagVisitor;
        impl de::Visitor<'_> for TagVisitor {
            type Value = Tag;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a content block type")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Tag, E> {
                BlockType::of(v).map(Tag)
            }
        }
        d.deserialize_str(TagVisitor)
    }
}

/// The same blocks serde's internally tagged enums read, without first copying every block
/// into a buffer: when `type` is the first member (as serializers of tagged enums write it),
/// the rest of the object is read straight into the block's struct; a `type` further on
/// takes the buffered way, through a JSON object of the members before it.
impl<'de> Deserialize<'de> for ContentBlock {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct BlockVisitor;
        impl<'de> de::Visitor<'de> for BlockVisitor {
            type Value = ContentBlock;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a content block")
            }
            fn visit_map<A: de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ContentBlock, A::Error> {
                let mut before = serde_json::Map::new();
                while let Some(key) = map.next_key::<BlockKey>()? {
                    match key {
                        BlockKey::Type => {
                            let Tag(kind) = map.next_value()?;
                            let rest = de::value::MapAccessDeserializer::new(map);
                            if before.is_empty() {
                                return kind.read(rest);
                            }
                            let rest =
                                serde_json::Map::<String, serde_json::Value>::deserialize(rest)?;
                            before.extend(rest);
                            return kind
                                .read(serde_json::Value::Object(before))
                                .map_err(de::Error::custom);
                        }
                        BlockKey::Other(key) => {
                            let value: serde_json::Value = map.next_value()?;
                            before.insert(key, value);
                        }
                    }
                }
                Err(de::Error::missing_field("type"))
            }
        }
        d.deserialize_map(BlockVisitor)
    }
}

impl ContentBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        ContentBlock::Text(TextContent::new(text))
    }

    /// An image block from base64 data and a MIME type.
    pub fn image(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        ContentBlock::Image(ImageContent::new(data, mime_type))
    }

    /// An audio block from base64 data and a MIME type.
    pub fn audio(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        ContentBlock::Audio(AudioContent::new(data, mime_type))
    }

    /// A resource link block.
    pub fn resource_link(link: ResourceLink) -> Self {
        ContentBlock::ResourceLink(link)
    }

    /// An embedded resource block.
    pub fn embedded(resource: impl Into<ResourceContents>) -> Self {
        ContentBlock::Resource(EmbeddedResource::new(resource))
    }

    /// The text, if this is a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            ContentBlock::Text(t) => Some(&t.text),
            _ => None,
        }
    }
}

impl From<TextContent> for ContentBlock {
    fn from(c: TextContent) -> Self {
        ContentBlock::Text(c)
    }
}

impl From<ImageContent> for ContentBlock {
    fn from(c: ImageContent) -> Self {
        ContentBlock::Image(c)
    }
}

impl From<AudioContent> for ContentBlock {
    fn from(c: AudioContent) -> Self {
        ContentBlock::Audio(c)
    }
}

impl From<EmbeddedResource> for ContentBlock {
    fn from(c: EmbeddedResource) -> Self {
        ContentBlock::Resource(c)
    }
}

impl From<TextResourceContents> for ContentBlock {
    fn from(c: TextResourceContents) -> Self {
        ContentBlock::embedded(c)
    }
}

impl From<BlobResourceContents> for ContentBlock {
    fn from(c: BlobResourceContents) -> Self {
        ContentBlock::embedded(c)
    }
}

setters!(Annotations {
    with_audience => audience: Vec<Role>,
    with_priority => priority = f64,
    with_last_modified => last_modified: String,
});

setters!(TextContent {
    with_meta => meta: Meta,
    with_annotations => annotations: Annotations,
});

setters!(ImageContent {
    with_meta => meta: Meta,
    with_annotations => annotations: Annotations,
});

setters!(AudioContent {
    with_meta => meta: Meta,
    with_annotations => annotations: Annotations,
});

setters!(EmbeddedResource {
    with_meta => meta: Meta,
    with_annotations => annotations: Annotations,
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Resource;
    use serde_json::json;

    #[test]
    fn tags_every_block() {
        let cases = [
            (
                ContentBlock::text("hi"),
                json!({"type": "text", "text": "hi"}),
            ),
            (
                ContentBlock::image("AAA=", "image/png"),
                json!({"type": "image", "data": "AAA=", "mimeType": "image/png"}),
            ),
            (
                ContentBlock::audio("AAA=", "audio/wav"),
                json!({"type": "audio", "data": "AAA=", "mimeType": "audio/wav"}),
            ),
            (
                ContentBlock::resource_link(Resource::new("file:///a", "a")),
                json!({"type": "resource_link", "uri": "file:///a", "name": "a"}),
            ),
            (
                ContentBlock::embedded(TextResourceContents::new("file:///a", "x")),
                json!({"type": "resource", "resource": {"uri": "file:///a", "text": "x"}}),
            ),
        ];
        for (block, expected) in cases {
            assert_eq!(serde_json::to_value(&block).unwrap(), expected);
            assert_eq!(
                serde_json::from_value::<ContentBlock>(expected).unwrap(),
                block
            );
        }
    }

    #[test]
    fn rejects_unknown_or_missing_tag() {
        assert!(serde_json::from_value::<ContentBlock>(json!({"type": "video"})).is_err());
        assert!(serde_json::from_value::<ContentBlock>(json!({"text": "x"})).is_err());
        // Unknown members are ignored.
        let b: ContentBlock =
            serde_json::from_value(json!({"type": "text", "text": "x", "extra": 1})).unwrap();
        assert_eq!(b.as_text(), Some("x"));
    }

    #[test]
    fn reads_the_tag_first_or_later() {
        let first: ContentBlock =
            serde_json::from_str(r#"{"type":"text","text":"x","annotations":{"priority":1}}"#)
                .unwrap();
        let later: ContentBlock =
            serde_json::from_str(r#"{"text":"x","annotations":{"priority":1},"type":"text"}"#)
                .unwrap();
        assert_eq!(first, later);
        assert_eq!(first.as_text(), Some("x"));
        let image: ContentBlock =
            serde_json::from_str(r#"{"data":"AAA=","type":"image","mimeType":"image/png"}"#)
                .unwrap();
        assert_eq!(image, ContentBlock::image("AAA=", "image/png"));
        for bad in [
            r#"{"type":"video","text":"x"}"#,
            r#"{"text":"x","type":"video"}"#,
            r#"{"text":"x"}"#,
            r#"{"type":"text"}"#,
            r#"{"type":1,"text":"x"}"#,
            r#"["text","x"]"#,
        ] {
            assert!(serde_json::from_str::<ContentBlock>(bad).is_err(), "{bad}");
        }
    }
}
