//! The `inputSchema` and `outputSchema` generated from Rust types, as `tools/list` shows them:
//! optional fields are left out of `required` and are not nullable; required fields stay
//! required; every schema is a valid JSON Schema 2020-12 document that accepts the values the
//! tool takes or sends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use mcp_http_server::{NoArgs, RequestContext, ToolDef, ToolError, output_schema_of, schema_of};
use serde_json::{Value, json};

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Place {
    /// The city.
    city: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct SearchArgs {
    /// What to look for.
    query: String,
    /// The most results to return.
    limit: Option<u32>,
    /// A language code.
    #[serde(default)]
    language: Option<String>,
    /// Where to look.
    near: Option<Place>,
    /// How many pages to skip.
    #[serde(default)]
    skip: u32,
}

fn search_tool() -> ToolDef {
    ToolDef::new(
        "search",
        "Searches",
        |_: SearchArgs, _: RequestContext| async { "found" },
    )
}

fn required(schema: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = schema["required"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    names.sort_unstable();
    names
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::meta::validate(schema).expect("a valid JSON Schema document");
    jsonschema::validator_for(schema).expect("a usable JSON Schema")
}

#[test]
fn optional_argument_is_not_required_and_not_nullable() {
    let tool = search_tool();
    let schema = Value::Object(tool.tool().input_schema.clone());

    assert_eq!(schema["type"], "object");
    assert_eq!(required(&schema), ["query"], "{schema:#}");
    let properties = &schema["properties"];
    assert_eq!(properties["query"]["type"], "string");
    assert_eq!(properties["limit"]["type"], "integer", "{schema:#}");
    assert_eq!(properties["language"]["type"], "string", "{schema:#}");
    assert_eq!(properties["skip"]["type"], "integer", "{schema:#}");
    assert_eq!(properties["near"]["$ref"], "#/$defs/Place", "{schema:#}");
    // Field docs survive the unwrapping of `anyOf: [T, null]`.
    assert_eq!(properties["near"]["description"], "Where to look.");
    for (name, property) in properties.as_object().unwrap() {
        let text = property.to_string();
        assert!(
            !text.contains("null") && !text.contains("anyOf") && !text.contains("nullable"),
            "{name} is nullable: {text}"
        );
    }
    assert_eq!(schema["$defs"]["Place"]["required"], json!(["city"]));

    let validator = validator(&schema);
    assert!(validator.is_valid(&json!({ "query": "rust" })));
    assert!(validator.is_valid(&json!({
        "query": "rust", "limit": 5, "language": "en", "near": { "city": "Oslo" }, "skip": 2
    })));
    assert!(
        !validator.is_valid(&json!({ "limit": 5 })),
        "query is required"
    );
    assert!(!validator.is_valid(&json!({ "query": "rust", "limit": "five" })));
    assert!(!validator.is_valid(&json!({ "query": "rust", "near": {} })));
}

#[test]
fn a_tool_without_arguments_has_an_empty_object_schema() {
    let tool = ToolDef::new("noop", "Does nothing", |_: NoArgs, _| async { "ok" });
    let schema = &tool.tool().input_schema;
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["properties"], json!({}));
    assert!(schema.get("required").is_none_or(|r| r == &json!([])));
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Report {
    /// Always sent.
    total: u32,
    /// Sent as `null` when unknown.
    average: Option<f64>,
    /// Left out when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[test]
fn output_schema_describes_the_structured_content_as_sent() {
    let tool = ToolDef::structured("report", "Reports", |_: NoArgs, _| async {
        Ok::<_, ToolError>(Report {
            total: 1,
            average: None,
            note: None,
        })
    });
    let schema = Value::Object(tool.tool().output_schema.clone().unwrap());
    assert_eq!(schema, Value::Object(output_schema_of::<Report>()));
    assert_eq!(schema["type"], "object");
    // `average` is always serialized, as `null` when `None`: required and nullable.
    assert_eq!(required(&schema), ["average", "total"], "{schema:#}");
    assert_eq!(
        schema["properties"]["average"]["type"],
        json!(["number", "null"])
    );
    // `note` is skipped when `None`: optional, and a string when present.
    assert_eq!(schema["properties"]["note"]["type"], "string", "{schema:#}");

    let validator = validator(&schema);
    for report in [
        Report {
            total: 1,
            average: None,
            note: None,
        },
        Report {
            total: 2,
            average: Some(1.5),
            note: Some("fine".into()),
        },
    ] {
        let sent = serde_json::to_value(&report).unwrap();
        assert!(
            validator.is_valid(&sent),
            "{sent} does not match {schema:#}"
        );
    }
}

#[test]
fn schema_of_is_the_input_schema_of_tool_def_new() {
    assert_eq!(
        Value::Object(schema_of::<SearchArgs>()),
        Value::Object(search_tool().tool().input_schema.clone())
    );
}
