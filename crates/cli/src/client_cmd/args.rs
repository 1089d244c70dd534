//! `key=value` arguments: a value is JSON when it parses as JSON (`1`, `true`, `{..}`) and a
//! string otherwise, unless the tool's input schema says which type the property has: then
//! `name=1` stays the string "1" for a string property and `a=1` is the number 1 for a number one.

use serde_json::{Map, Value};

use super::CliError;

/// Splits `key=value` words (the first `=` separates them).
pub(crate) fn pairs(words: &[String]) -> Result<Vec<(String, String)>, CliError> {
    words
        .iter()
        .map(|word| match word.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
            _ => Err(CliError::usage(format!(
                "expected an argument as key=value, got {word:?}"
            ))),
        })
        .collect()
}

/// A tool's arguments: the `key=value` pairs, coerced by `schema` (the tool's `inputSchema`)
/// when known, then the members of `--args` (a JSON object), which win over pairs.
pub(crate) fn tool_arguments(
    pairs: &[(String, String)],
    args_json: Option<&str>,
    schema: Option<&Value>,
) -> Result<Map<String, Value>, CliError> {
    let mut arguments = Map::new();
    for (key, raw) in pairs {
        let property = schema
            .and_then(|s| s.get("properties"))
            .and_then(|p| p.get(key));
        arguments.insert(key.clone(), coerce(key, raw, property)?);
    }
    if let Some(json) = args_json {
        match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(extra)) => arguments.extend(extra),
            Ok(_) => return Err(CliError::usage("--args must be a JSON object")),
            Err(e) => return Err(CliError::usage(format!("--args is not valid JSON: {e}"))),
        }
    }
    Ok(arguments)
}

/// The JSON Schema types a property allows (`type` as a string or a list; an `enum` of strings
/// means a string); empty when the schema does not say.
fn allowed_types(property: Option<&Value>) -> Vec<&str> {
    let Some(property) = property else {
        return Vec::new();
    };
    match property.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect(),
        _ => match property.get("enum").and_then(Value::as_array) {
            Some(values) if !values.is_empty() && values.iter().all(Value::is_string) => {
                vec!["string"]
            }
            _ => Vec::new(),
        },
    }
}

fn matches(value: &Value, ty: &str) -> bool {
    match ty {
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => false,
    }
}

/// One value, by the property's schema when there is one.
fn coerce(key: &str, raw: &str, property: Option<&Value>) -> Result<Value, CliError> {
    let types = allowed_types(property);
    let parsed = serde_json::from_str::<Value>(raw).ok();
    if types.is_empty() {
        return Ok(parsed.unwrap_or_else(|| Value::String(raw.to_owned())));
    }
    if let Some(value) = parsed.filter(|v| !v.is_string() && types.iter().any(|t| matches(v, t))) {
        return Ok(value);
    }
    if types.contains(&"string") {
        return Ok(Value::String(raw.to_owned()));
    }
    Err(CliError::usage(format!(
        "argument {key}: expected {}, got {raw:?}",
        types.join(" or ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(words: &[&str], json: Option<&str>, schema: Option<Value>) -> Result<Value, CliError> {
        let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        tool_arguments(&pairs(&words)?, json, schema.as_ref()).map(Value::Object)
    }

    #[test]
    fn without_a_schema_json_values_parse_and_the_rest_are_strings() {
        let got = args(
            &["a=1", "b=true", "c={\"x\":[1]}", "d=hello", "e=", "f=a=b"],
            None,
            None,
        );
        assert_eq!(
            got.unwrap(),
            json!({"a": 1, "b": true, "c": {"x": [1]}, "d": "hello", "e": "", "f": "a=b"})
        );
    }

    #[test]
    fn the_schema_decides_the_type() {
        let schema = json!({"type": "object", "properties": {
            "a": {"type": "number"}, "name": {"type": "string"}, "n": {"type": "integer"},
            "flag": {"type": "boolean"}, "tags": {"type": "array"}, "either": {"type": ["integer", "string"]},
            "color": {"enum": ["red", "1"]}}});
        let got = args(
            &[
                "a=1.5",
                "name=1",
                "n=3",
                "flag=false",
                "tags=[\"x\"]",
                "either=7",
                "color=1",
            ],
            None,
            Some(schema.clone()),
        );
        assert_eq!(
            got.unwrap(),
            json!({"a": 1.5, "name": "1", "n": 3, "flag": false, "tags": ["x"], "either": 7, "color": "1"})
        );
        let got = args(&["either=seven"], None, Some(schema.clone()));
        assert_eq!(got.unwrap(), json!({"either": "seven"}));
        let err = args(&["a=abc"], None, Some(schema.clone())).unwrap_err();
        assert_eq!(err.to_string(), "argument a: expected number, got \"abc\"");
        let err = args(&["n=1.5"], None, Some(schema)).unwrap_err();
        assert_eq!(err.to_string(), "argument n: expected integer, got \"1.5\"");
    }

    #[test]
    fn args_json_merges_and_wins() {
        let got = args(
            &["a=1", "b=2"],
            Some(r#"{"b": 20, "c": {"d": null}}"#),
            None,
        );
        assert_eq!(got.unwrap(), json!({"a": 1, "b": 20, "c": {"d": null}}));
        assert!(args(&[], Some("[1]"), None).is_err());
        assert!(args(&[], Some("{"), None).is_err());
    }

    #[test]
    fn a_word_without_equals_is_a_usage_error() {
        let err = args(&["oops"], None, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected an argument as key=value, got \"oops\""
        );
        assert!(args(&["=1"], None, None).is_err());
    }
}
