//! Human-readable renderings of results, built from the raw JSON so that nothing a server sends
//! is lost or rejected: lists with descriptions, text printed plainly, structured content as
//! pretty JSON, binary content summarized.

use std::fmt::Write as _;

use serde_json::Value;

/// What `list` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ListKind {
    /// Tools, with their arguments.
    Tools,
    /// Resources.
    Resources,
    /// Resource templates.
    Templates,
    /// Prompts, with their arguments.
    Prompts,
}

impl ListKind {
    /// The list method and the member of its result that holds the items.
    pub(crate) fn method(self) -> (&'static str, &'static str) {
        match self {
            ListKind::Tools => ("tools/list", "tools"),
            ListKind::Resources => ("resources/list", "resources"),
            ListKind::Templates => ("resources/templates/list", "resourceTemplates"),
            ListKind::Prompts => ("prompts/list", "prompts"),
        }
    }
}

fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn indented(out: &mut String, text: &str) {
    for line in text.trim_end().lines() {
        let _ = writeln!(out, "    {line}");
    }
}

/// A one-word type for a schema property.
fn type_name(property: &Value) -> String {
    match property.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("|"),
        _ if property.get("enum").is_some() => "enum".to_owned(),
        _ => "any".to_owned(),
    }
}

/// `name(a: number, b?: string)` from a tool's input schema.
fn signature(tool: &Value) -> String {
    let name = str_of(tool, "name").unwrap_or("?");
    let schema = tool.get("inputSchema");
    let required: Vec<&str> = schema
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let params: Vec<String> = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(key, property)| {
                    let optional = if required.contains(&key.as_str()) {
                        ""
                    } else {
                        "?"
                    };
                    format!("{key}{optional}: {}", type_name(property))
                })
                .collect()
        })
        .unwrap_or_default();
    format!("{name}({})", params.join(", "))
}

/// The items of a list, one entry each.
pub(crate) fn list(kind: ListKind, items: &[Value]) -> String {
    let mut out = String::new();
    if items.is_empty() {
        let (_, what) = kind.method();
        let _ = writeln!(out, "(no {what})");
        return out;
    }
    for item in items {
        let heading = match kind {
            ListKind::Tools => signature(item),
            ListKind::Resources | ListKind::Templates => {
                let uri = str_of(item, "uri")
                    .or_else(|| str_of(item, "uriTemplate"))
                    .unwrap_or("?");
                let mut heading = format!("{uri}  {}", str_of(item, "name").unwrap_or(""));
                if let Some(mime) = str_of(item, "mimeType") {
                    let _ = write!(heading, " ({mime})");
                }
                heading.trim_end().to_owned()
            }
            ListKind::Prompts => {
                let arguments: Vec<String> = item
                    .get("arguments")
                    .and_then(Value::as_array)
                    .map(|args| {
                        args.iter()
                            .map(|a| {
                                let required = a.get("required") == Some(&Value::Bool(true));
                                format!(
                                    "{}{}",
                                    str_of(a, "name").unwrap_or("?"),
                                    if required { "" } else { "?" }
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                format!(
                    "{}({})",
                    str_of(item, "name").unwrap_or("?"),
                    arguments.join(", ")
                )
            }
        };
        let _ = writeln!(out, "{heading}");
        if let Some(title) = str_of(item, "title") {
            indented(&mut out, title);
        }
        if let Some(description) = str_of(item, "description") {
            indented(&mut out, description);
        }
    }
    out
}

/// The size in bytes of base64 data.
fn decoded_len(base64: &str) -> usize {
    let padding = base64.bytes().rev().take_while(|b| *b == b'=').count();
    (base64.len() / 4 * 3).saturating_sub(padding)
}

/// One content block: text as is, other kinds as a one-line summary.
fn content_block(out: &mut String, block: &Value) {
    let kind = str_of(block, "type").unwrap_or("");
    match kind {
        "text" => line(out, str_of(block, "text").unwrap_or("")),
        "image" | "audio" => {
            let _ = writeln!(
                out,
                "[{kind}: {}, {} bytes]",
                str_of(block, "mimeType").unwrap_or("?"),
                decoded_len(str_of(block, "data").unwrap_or(""))
            );
        }
        "resource_link" => {
            let _ = writeln!(
                out,
                "[resource link: {} {}]",
                str_of(block, "uri").unwrap_or("?"),
                str_of(block, "name").unwrap_or("")
            );
        }
        "resource" => match block.get("resource") {
            Some(resource) => resource_contents(out, resource, true),
            None => line(out, &block.to_string()),
        },
        _ => line(out, &block.to_string()),
    }
}

fn line(out: &mut String, text: &str) {
    out.push_str(text);
    if !text.ends_with('\n') {
        out.push('\n');
    }
}

/// Resource contents: the text, or a summary of a blob; with a heading when `heading`.
fn resource_contents(out: &mut String, contents: &Value, heading: bool) {
    let uri = str_of(contents, "uri").unwrap_or("?");
    let mime = str_of(contents, "mimeType")
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    if let Some(text) = str_of(contents, "text") {
        if heading {
            let _ = writeln!(out, "[resource: {uri}{mime}]");
        }
        line(out, text);
    } else if let Some(blob) = str_of(contents, "blob") {
        let _ = writeln!(
            out,
            "[resource: {uri}{mime}, {} bytes of binary data; --json shows them in base64]",
            decoded_len(blob)
        );
    } else {
        line(out, &contents.to_string());
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// A `tools/call` result: its content, and structured content as pretty JSON (text blocks that
/// only repeat the structured content as JSON are left out).
pub(crate) fn call_result(result: &Value) -> String {
    let mut out = String::new();
    let structured = result.get("structuredContent");
    for block in result
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let repeats_structured = structured.is_some()
            && str_of(block, "type") == Some("text")
            && str_of(block, "text").and_then(|t| serde_json::from_str::<Value>(t).ok())
                == structured.cloned();
        if !repeats_structured {
            content_block(&mut out, block);
        }
    }
    if let Some(structured) = structured {
        line(&mut out, &pretty(structured));
    }
    out
}

/// The text of an `isError` result on one line, for the error message.
pub(crate) fn error_text(result: &Value) -> String {
    let texts: Vec<String> = result
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| str_of(b, "text"))
        .map(super::progress::one_line)
        .collect();
    if texts.is_empty() {
        "(no message)".to_owned()
    } else {
        texts.join(" ")
    }
}

/// A `resources/read` result.
pub(crate) fn read_result(result: &Value) -> String {
    let mut out = String::new();
    let contents: Vec<&Value> = result
        .get("contents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let many = contents.len() > 1;
    for item in contents {
        resource_contents(&mut out, item, many);
    }
    out
}

/// A `prompts/get` result: its description, then each message under its role.
pub(crate) fn prompt_result(result: &Value) -> String {
    let mut out = String::new();
    if let Some(description) = str_of(result, "description") {
        let _ = writeln!(out, "# {}", super::progress::one_line(description));
    }
    for (i, message) in result
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if i > 0 || !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "[{}]", str_of(message, "role").unwrap_or("?"));
        match message.get("content") {
            Some(Value::Array(blocks)) => blocks.iter().for_each(|b| content_block(&mut out, b)),
            Some(block) => content_block(&mut out, block),
            None => {}
        }
    }
    out
}

/// Any value as pretty JSON with a final newline (`--json`).
pub(crate) fn json(value: &Value) -> String {
    let mut out = pretty(value);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tools_show_their_signature_and_description() {
        let tools = [
            json!({"name": "add", "description": "Adds", "inputSchema": {"type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "number"}, "c": {}}, "required": ["a", "b"]}}),
        ];
        assert_eq!(
            list(ListKind::Tools, &tools),
            "add(a: number, b: number, c?: any)\n    Adds\n"
        );
        assert_eq!(list(ListKind::Prompts, &[]), "(no prompts)\n");
    }

    #[test]
    fn content_is_printed_plainly_and_binary_summarized() {
        let result = json!({"content": [
            {"type": "text", "text": "hello"},
            {"type": "image", "data": "AAAA", "mimeType": "image/png"},
            {"type": "resource", "resource": {"uri": "x://y", "text": "inner"}}]});
        assert_eq!(
            call_result(&result),
            "hello\n[image: image/png, 3 bytes]\n[resource: x://y]\ninner\n"
        );
    }

    #[test]
    fn structured_content_is_pretty_and_not_repeated() {
        let result = json!({"content": [{"type": "text", "text": "{\"n\":1}"}], "structuredContent": {"n": 1}});
        assert_eq!(call_result(&result), "{\n  \"n\": 1\n}\n");
    }
}
