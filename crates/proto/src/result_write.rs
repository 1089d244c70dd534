//! A `tools/call` result written straight into a buffer (PF-81): the keys and a text block's
//! members copied as bytes, a string escaped in place, byte for byte what serde's derived
//! `Serialize` writes through `serde_json`, without its generic map (the tagged block) or a key
//! escaped per call. Values with shapes of their own (`_meta`, `structuredContent`, the other
//! kinds of block, a `resultType`) are serialized by serde.

use crate::content::{ContentBlock, TextContent};
use crate::tools::CallToolResult;

/// A text block's members before its text, as serde writes a [`ContentBlock::Text`], with its
/// text's opening quote.
const TEXT_BLOCK_QUOTE: &[u8] = b"{\"type\":\"text\",\"text\":\"";

/// How a result of one text block begins, up to its text ([`TEXT_BLOCK_QUOTE`] in its content).
const ONE_TEXT_QUOTE: &[u8] = b"{\"content\":[{\"type\":\"text\",\"text\":\"";

/// For each byte, what follows the backslash of its escape (`u` for `\u00XX`), or 0 for a byte
/// written as it is: `serde_json`'s table.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `text` as a JSON string, escaped as `serde_json` escapes it.
pub(crate) fn write_str(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    write_str_contents(text, out);
    out.push(b'"');
}

/// Appends `text` escaped as `serde_json` escapes a string, without the quotes: copied whole
/// when nothing in it needs an escape (the common case).
fn write_str_contents(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    if bytes.iter().all(|&byte| ESCAPE[usize::from(byte)] == 0) {
        out.extend_from_slice(bytes);
    } else {
        write_escaped(bytes, out);
    }
}

/// [`write_str_contents`] of a text with something to escape.
#[cold]
fn write_escaped(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len() + 8);
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape = ESCAPE[usize::from(byte)];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if escape == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        } else {
            out.push(b'\\');
            out.push(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends a text block with no members but its text: `{"type":"text","text":"..."}`.
fn write_plain_text(text: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(TEXT_BLOCK_QUOTE);
    write_str_contents(text, out);
    out.extend_from_slice(b"\"}");
}

/// Appends `content` as a JSON array of blocks: a text block written by its members, any other
/// block serialized by serde.
pub(crate) fn write_blocks(content: &[ContentBlock], out: &mut Vec<u8>) -> serde_json::Result<()> {
    out.push(b'[');
    for (i, block) in content.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_block(block, out)?;
    }
    out.push(b']');
    Ok(())
}

/// Appends one block: a text block by its members, another by serde.
fn write_block(block: &ContentBlock, out: &mut Vec<u8>) -> serde_json::Result<()> {
    match block {
        ContentBlock::Text(TextContent {
            meta: None,
            text,
            annotations: None,
        }) => write_plain_text(text, out),
        ContentBlock::Text(TextContent {
            meta,
            text,
            annotations,
        }) => {
            // The tag, then the members in their declared order.
            out.extend_from_slice(b"{\"type\":\"text\"");
            if let Some(meta) = meta {
                out.extend_from_slice(b",\"_meta\":");
                serde_json::to_writer(&mut *out, meta)?;
            }
            out.extend_from_slice(b",\"text\":");
            write_str(text, out);
            if let Some(annotations) = annotations {
                out.extend_from_slice(b",\"annotations\":");
                serde_json::to_writer(&mut *out, annotations)?;
            }
            out.push(b'}');
        }
        other => serde_json::to_writer(&mut *out, other)?,
    }
    Ok(())
}

/// Appends a result's members after its content: `structuredContent` (serialized by serde),
/// then `isError`, each when it is there.
pub(crate) fn write_structured_and_error(
    structured: Option<&serde_json::Value>,
    is_error: Option<bool>,
    out: &mut Vec<u8>,
) -> serde_json::Result<()> {
    if let Some(structured) = structured {
        out.extend_from_slice(b",\"structuredContent\":");
        serde_json::to_writer(&mut *out, structured)?;
    }
    match is_error {
        Some(true) => out.extend_from_slice(b",\"isError\":true"),
        Some(false) => out.extend_from_slice(b",\"isError\":false"),
        None => {}
    }
    Ok(())
}

impl CallToolResult {
    /// Appends this result's JSON to `out`: byte for byte what its `Serialize` writes through
    /// `serde_json`, with the keys and a text block's members copied rather than serialized
    /// (PF-81). On an error (a value serde cannot write), part of the result may have been
    /// appended.
    pub fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        // Every member named: a member added to the result must be written too.
        let CallToolResult {
            meta,
            content,
            structured_content,
            is_error,
            result_type,
        } = self;
        if let (None, [ContentBlock::Text(text)]) = (meta, content.as_slice())
            && text.meta.is_none()
            && text.annotations.is_none()
        {
            // The common result, one text block: what comes before its text as one piece.
            out.extend_from_slice(ONE_TEXT_QUOTE);
            write_str_contents(&text.text, out);
            out.extend_from_slice(b"\"}]");
        } else {
            out.push(b'{');
            if let Some(meta) = meta {
                out.extend_from_slice(b"\"_meta\":");
                serde_json::to_writer(&mut *out, meta)?;
                out.push(b',');
            }
            out.extend_from_slice(b"\"content\":");
            write_blocks(content, out)?;
        }
        write_structured_and_error(structured_content.as_ref(), *is_error, out)?;
        if let Some(result_type) = result_type {
            out.extend_from_slice(b",\"resultType\":");
            serde_json::to_writer(&mut *out, result_type)?;
        }
        out.push(b'}');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{Annotations, AudioContent, EmbeddedResource, ImageContent, Role};
    use crate::modern::ResultType;
    use crate::resources::{BlobResourceContents, ResourceLink, TextResourceContents};
    use serde_json::json;

    /// Every byte below 0x80 (each control character, the quote, the backslash, DEL), a
    /// character of two, three and four bytes, a lone escape at either end.
    fn strings() -> Vec<String> {
        let mut all: Vec<String> = (0u8..0x80).map(|b| char::from(b).to_string()).collect();
        all.push((0u8..0x80).map(char::from).collect());
        all.extend(
            [
                "",
                "hello",
                "hi \"there\"\n\u{1}é\\",
                "\\",
                "\"start",
                "end\n",
                "mixed \t tabs \r and \u{8}\u{c} feeds \u{1f}\u{7f}",
                "unicode: é ü ß 漢字 🎉 \u{2028}\u{2029}",
                "{\"n\":1}",
            ]
            .map(String::from),
        );
        all
    }

    #[test]
    fn a_string_is_escaped_as_serde_json_escapes_it() {
        for text in strings() {
            let mut written = b"x".to_vec();
            write_str(&text, &mut written);
            assert_eq!(
                written[1..],
                serde_json::to_vec(&text).unwrap()[..],
                "{text:?}"
            );
        }
    }

    fn blocks() -> Vec<ContentBlock> {
        let mut annotated = TextContent::new("a\"nnotated");
        annotated.annotations = Some(Annotations {
            audience: Some(vec![Role::User, Role::Assistant]),
            priority: Some(0.5),
            last_modified: Some("2025-01-01T00:00:00Z".into()),
        });
        let mut with_meta = TextContent::new("m\u{1}");
        with_meta.meta = Some(crate::Meta::new());
        let mut both = with_meta.clone();
        both.annotations = Some(Annotations::default());
        if let Some(meta) = both.meta.as_mut() {
            meta.insert("k\"".into(), json!({"nested": [1, null, "é"]}));
        }
        let mut image = ImageContent::new("AAAA", "image/png");
        image.meta = Some(crate::Meta::new());
        vec![
            ContentBlock::text("one"),
            ContentBlock::Text(annotated),
            ContentBlock::Text(with_meta),
            ContentBlock::Text(both),
            ContentBlock::Image(image),
            ContentBlock::Audio(AudioContent::new("BBBB", "audio/wav")),
            ContentBlock::ResourceLink(ResourceLink::new("file:///a", "a")),
            ContentBlock::Resource(EmbeddedResource::new(TextResourceContents::new(
                "file:///t",
                "text \"here\"",
            ))),
            ContentBlock::Resource(EmbeddedResource::new(BlobResourceContents::new(
                "file:///b",
                "CCCC",
            ))),
        ]
    }

    fn results() -> Vec<CallToolResult> {
        let mut results: Vec<CallToolResult> =
            strings().into_iter().map(CallToolResult::text).collect();
        results.push(CallToolResult::new(Vec::new()));
        results.push(CallToolResult::new(blocks()));
        results.extend(blocks().into_iter().map(|b| CallToolResult::new(vec![b])));
        results.push(CallToolResult::error("nope \"quoted\""));
        results.push(CallToolResult::structured(
            json!({"k": [1, "v", {"é": null}]}),
        ));
        let mut all = CallToolResult::new(blocks());
        let mut meta = crate::Meta::new();
        meta.insert("progressToken".into(), json!(7));
        meta.insert("x\n".into(), json!("y"));
        all.meta = Some(meta);
        all.structured_content = Some(json!("any value"));
        all.is_error = Some(false);
        all.result_type = Some(ResultType::Complete);
        results.push(all);
        for result_type in [
            ResultType::Complete,
            ResultType::InputRequired,
            ResultType::Other("x\"y".into()),
        ] {
            let mut typed = CallToolResult::text("t");
            typed.result_type = Some(result_type);
            results.push(typed);
        }
        let mut empty_meta = CallToolResult::text("m");
        empty_meta.meta = Some(crate::Meta::new());
        empty_meta.is_error = Some(true);
        results.push(empty_meta);
        results
    }

    #[test]
    fn a_result_is_written_as_serde_serializes_it_byte_for_byte() {
        let results = results();
        assert!(results.len() > 140);
        for result in &results {
            let serialized = serde_json::to_vec(result).unwrap();
            let mut written = b"prefix".to_vec();
            result.write_json(&mut written).unwrap();
            assert_eq!(
                String::from_utf8(written[6..].to_vec()).unwrap(),
                String::from_utf8(serialized).unwrap()
            );
        }
    }
}
