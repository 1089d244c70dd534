//! The JSON Schemas (2020-12) of tool arguments (`inputSchema`) and structured output
//! (`outputSchema`), generated from Rust types with schemars.
//!
//! An optional field is described the way MCP clients expect: left out of `required`, with the
//! schema of the inner type. schemars alone makes an `Option<T>` field nullable too
//! (`"type": ["integer", "null"]`, or `anyOf` with `{"type": "null"}`), which clients such as the
//! MCP Inspector flag as less portable and some model providers reject.

use mcp_http_proto::JsonObject;
use schemars::generate::SchemaSettings;
use schemars::transform::{Transform, transform_subschemas};
use schemars::{JsonSchema, Schema};
use serde_json::Value;

/// The JSON Schema (2020-12) of the arguments `T` takes, as an object, without the Rust type's
/// name as `title`: used as a tool's `inputSchema` (TL-6: always an object schema).
///
/// A field that may be left out (an `Option`, or a field with `#[serde(default)]`) is not in
/// `required`, and its schema is that of the inner type, without `null`.
///
/// ```
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Args {
///     query: String,
///     limit: Option<u32>,
/// }
/// let schema = mcp_http_server::schema_of::<Args>();
/// assert_eq!(schema["required"], serde_json::json!(["query"]));
/// assert_eq!(schema["properties"]["limit"]["type"], "integer");
/// ```
pub fn schema_of<T: JsonSchema>() -> JsonObject {
    generate::<T>(SchemaSettings::draft2020_12().for_deserialize())
}

/// The JSON Schema (2020-12) of the values `T` serializes to, as an object, without the Rust
/// type's name as `title`: used as a tool's `outputSchema`.
///
/// It describes `structuredContent` as sent, so that what the tool returns conforms to it (TL-5):
/// an `Option` field that is always serialized (`null` when `None`) is required and nullable; one
/// skipped when `None` (`#[serde(skip_serializing_if = "Option::is_none")]`) is not required and
/// not nullable.
pub fn output_schema_of<T: JsonSchema>() -> JsonObject {
    generate::<T>(SchemaSettings::draft2020_12().for_serialize())
}

fn generate<T: JsonSchema>(settings: SchemaSettings) -> JsonObject {
    let schema = settings
        .with_transform(OptionalIsNotNullable)
        .into_generator()
        .into_root_schema_for::<T>();
    let mut object = match Value::from(schema) {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    };
    // The tool has its own name and description; the Rust type's are noise.
    object.remove("title");
    object.remove("description");
    // Tool.inputSchema and Tool.outputSchema are objects with "type": "object".
    if !object.contains_key("type") {
        object.insert("type".into(), "object".into());
    }
    if object.get("type").and_then(Value::as_str) == Some("object")
        && !object.contains_key("properties")
    {
        object.insert("properties".into(), Value::Object(JsonObject::new()));
    }
    object
}

/// Takes `null` out of the schema of every property that is not required, in the schema and all
/// its subschemas: a field that may be omitted is simply omitted, not sent as `null`.
#[derive(Debug, Clone, Copy)]
struct OptionalIsNotNullable;

impl Transform for OptionalIsNotNullable {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(object) = schema.as_object_mut() {
            let required: Vec<String> = object
                .get("required")
                .and_then(Value::as_array)
                .map(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            if let Some(Value::Object(properties)) = object.get_mut("properties") {
                for (name, property) in properties.iter_mut() {
                    if !required.contains(name) {
                        remove_null(property);
                    }
                }
            }
        }
        transform_subschemas(self, schema);
    }
}

/// Removes what schemars adds to make a schema nullable: `"null"` in `type`, `null` in `enum`,
/// an `anyOf` branch `{"type": "null"}`, `nullable`, and the `"default": null` of a
/// `#[serde(default)]` `Option` (a default the schema would no longer accept). A schema that
/// allows only `null` is left alone.
fn remove_null(schema: &mut Value) {
    let Value::Object(object) = schema else {
        return;
    };
    if object.get("nullable") == Some(&Value::Bool(true)) {
        object.remove("nullable");
    }
    if object.get("default") == Some(&Value::Null) {
        object.remove("default");
    }
    if let Some(Value::Array(types)) = object.get_mut("type")
        && types.len() > 1
    {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            object.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(values)) = object.get_mut("enum")
        && values.len() > 1
    {
        values.retain(|v| !v.is_null());
    }
    let Some(Value::Array(mut branches)) = object.remove("anyOf") else {
        return;
    };
    let before = branches.len();
    branches.retain(|b| !is_null_schema(b));
    match branches.as_slice() {
        // `{"anyOf": [T, {"type": "null"}], ...}` becomes T with the other keywords beside it.
        [Value::Object(only)] if before > 1 && only.keys().all(|k| !object.contains_key(k)) => {
            let only = only.clone();
            object.extend(only);
        }
        [] => {
            // Only null was allowed: keep it so.
            object.insert("anyOf".into(), Value::Array(vec![null_schema()]));
        }
        _ => {
            object.insert("anyOf".into(), Value::Array(branches));
        }
    }
}

fn null_schema() -> Value {
    let mut object = JsonObject::new();
    object.insert("type".into(), "null".into());
    Value::Object(object)
}

fn is_null_schema(schema: &Value) -> bool {
    *schema == null_schema()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn remove_null_unwraps_any_of_and_keeps_sibling_keywords() {
        let mut schema = json!({
            "anyOf": [{ "$ref": "#/$defs/Point" }, { "type": "null" }],
            "description": "Where"
        });
        remove_null(&mut schema);
        assert_eq!(
            schema,
            json!({ "$ref": "#/$defs/Point", "description": "Where" })
        );
    }

    #[test]
    fn remove_null_leaves_a_null_only_schema() {
        for original in [
            json!({ "type": "null" }),
            json!({ "anyOf": [{ "type": "null" }] }),
        ] {
            let mut schema = original.clone();
            remove_null(&mut schema);
            assert_eq!(schema, original);
        }
    }

    #[test]
    fn remove_null_keeps_other_any_of_branches() {
        let mut schema = json!({
            "anyOf": [{ "type": "string" }, { "type": "integer" }, { "type": "null" }]
        });
        remove_null(&mut schema);
        assert_eq!(
            schema,
            json!({ "anyOf": [{ "type": "string" }, { "type": "integer" }] })
        );
    }
}
