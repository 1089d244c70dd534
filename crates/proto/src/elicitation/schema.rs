//! The restricted JSON Schema of an elicitation form: primitive fields without nesting.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::meta::{JsonObject, const_tag, setters};

const_tag!(
    /// The constant `"type": "string"` of a string or single-select schema.
    StringTypeTag = "string"
);
const_tag!(
    /// The constant `"type": "boolean"` of a boolean schema.
    BooleanTypeTag = "boolean"
);
const_tag!(
    /// The constant `"type": "array"` of a multi-select schema.
    ArrayTypeTag = "array"
);

/// The `format` of a [`StringSchema`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StringFormat {
    /// An email address.
    Email,
    /// A URI.
    Uri,
    /// A date.
    Date,
    /// A date and time.
    DateTime,
}

/// A string field of an elicitation form.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StringSchema {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub type_: StringTypeTag,
    /// The field's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The field's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The minimum length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// The maximum length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// The expected format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<StringFormat>,
    /// The default value (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// Whether a [`NumberSchema`] accepts any number or only integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberType {
    /// Any number.
    #[default]
    Number,
    /// Integers only.
    Integer,
}

/// A number or integer field of an elicitation form.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NumberSchema {
    /// `"number"` or `"integer"`.
    #[serde(rename = "type")]
    pub type_: NumberType,
    /// The field's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The field's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The minimum value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<serde_json::Number>,
    /// The maximum value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<serde_json::Number>,
    /// The default value (2025-11-25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Number>,
}

/// A boolean field of an elicitation form.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BooleanSchema {
    /// Always `"boolean"`.
    #[serde(rename = "type")]
    pub type_: BooleanTypeTag,
    /// The field's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The field's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
}

/// One option of a titled enum: a value and its display label.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnumOption {
    /// The value.
    #[serde(rename = "const")]
    pub value: String,
    /// The display label.
    pub title: String,
}

/// A single-select enum without display titles (2025-11-25+).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UntitledSingleSelectEnumSchema {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub type_: StringTypeTag,
    /// The field's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The field's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The values to choose from.
    #[serde(rename = "enum")]
    pub values: Vec<String>,
    /// The default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A single-select enum with display titles (2025-11-25+).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TitledSingleSelectEnumSchema {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub type_: StringTypeTag,
    /// The field's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The field's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The options, each a value with a label.
    pub one_of: Vec<EnumOption>,
    /// The default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// The `items` of an [`UntitledMultiSelectEnumSchema`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UntitledEnumItems {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub type_: StringTypeTag,
    /// The values to choose from.
    #[serde(rename = "enum")]
    pub values: Vec<String>,
}

/// The `items` of a [`TitledMultiSelectEnumSchema`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TitledEnumItems {
    /// The options, each a value with a label.
    pub any_of: Vec<EnumOption>,
}

/// A multi-select enum without display titles (2025-11-25+).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UntitledMultiSelectEnumSchema {
    /// Always `"array"`.
    #[serde(rename = "type")]
    pub type_: ArrayTypeTag,
    /// The field's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The field's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The minimum number of selections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// The maximum number of selections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// The item schema listing the values.
    pub items: UntitledEnumItems,
    /// The default selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
}

/// A multi-select enum with display titles (2025-11-25+).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TitledMultiSelectEnumSchema {
    /// Always `"array"`.
    #[serde(rename = "type")]
    pub type_: ArrayTypeTag,
    /// The field's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The field's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The minimum number of selections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// The maximum number of selections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// The item schema listing the options.
    pub items: TitledEnumItems,
    /// The default selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
}

/// The 2025-06-18 enum with non-standard `enumNames` labels; deprecated in favour of
/// [`TitledSingleSelectEnumSchema`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LegacyTitledEnumSchema {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub type_: StringTypeTag,
    /// The field's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The field's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The values to choose from.
    #[serde(rename = "enum")]
    pub values: Vec<String>,
    /// Display names for the values, in the same order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enum_names: Option<Vec<String>>,
    /// The default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// Any enum field of an elicitation form (the schema's `EnumSchema`; its
/// `SingleSelectEnumSchema` and `MultiSelectEnumSchema` are the obvious subsets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum EnumSchema {
    /// A single-select enum without titles.
    UntitledSingleSelect(UntitledSingleSelectEnumSchema),
    /// A single-select enum with titles.
    TitledSingleSelect(TitledSingleSelectEnumSchema),
    /// A multi-select enum without titles.
    UntitledMultiSelect(UntitledMultiSelectEnumSchema),
    /// A multi-select enum with titles.
    TitledMultiSelect(TitledMultiSelectEnumSchema),
    /// The legacy enum with `enumNames`.
    LegacyTitled(LegacyTitledEnumSchema),
}

/// A field of an elicitation form: a primitive type without nesting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum PrimitiveSchemaDefinition {
    /// A string field.
    String(StringSchema),
    /// A number or integer field.
    Number(NumberSchema),
    /// A boolean field.
    Boolean(BooleanSchema),
    /// An enum field.
    Enum(EnumSchema),
}

fn decode<T: serde::de::DeserializeOwned, E: serde::de::Error>(map: JsonObject) -> Result<T, E> {
    serde_json::from_value(Value::Object(map)).map_err(E::custom)
}

fn decode_enum<E: serde::de::Error>(map: JsonObject) -> Result<EnumSchema, E> {
    let ty = map.get("type").and_then(Value::as_str).unwrap_or_default();
    if ty == "array" {
        let titled = map
            .get("items")
            .and_then(Value::as_object)
            .is_some_and(|i| i.contains_key("anyOf"));
        return if titled {
            decode(map).map(EnumSchema::TitledMultiSelect)
        } else {
            decode(map).map(EnumSchema::UntitledMultiSelect)
        };
    }
    if map.contains_key("oneOf") {
        decode(map).map(EnumSchema::TitledSingleSelect)
    } else if map.contains_key("enumNames") {
        decode(map).map(EnumSchema::LegacyTitled)
    } else {
        decode(map).map(EnumSchema::UntitledSingleSelect)
    }
}

impl<'de> Deserialize<'de> for EnumSchema {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        decode_enum(JsonObject::deserialize(d)?)
    }
}

impl<'de> Deserialize<'de> for PrimitiveSchemaDefinition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = JsonObject::deserialize(d)?;
        let ty = map.get("type").and_then(Value::as_str).unwrap_or_default();
        match ty {
            "string" if !map.contains_key("enum") && !map.contains_key("oneOf") => {
                decode(map).map(PrimitiveSchemaDefinition::String)
            }
            "number" | "integer" => decode(map).map(PrimitiveSchemaDefinition::Number),
            "boolean" => decode(map).map(PrimitiveSchemaDefinition::Boolean),
            "string" | "array" => decode_enum(map).map(PrimitiveSchemaDefinition::Enum),
            other => Err(D::Error::custom(format!(
                "unsupported elicitation field type {other:?}"
            ))),
        }
    }
}

setters!(StringSchema {
    with_title => title: String,
    with_description => description: String,
    with_min_length => min_length = u64,
    with_max_length => max_length = u64,
    with_format => format: StringFormat,
    with_default => default: String,
});

impl NumberSchema {
    /// A number field (`"number"`) or an integer field (`"integer"`).
    pub fn new(type_: NumberType) -> Self {
        NumberSchema {
            type_,
            ..Self::default()
        }
    }
}

setters!(NumberSchema {
    with_title => title: String,
    with_description => description: String,
    with_minimum => minimum: serde_json::Number,
    with_maximum => maximum: serde_json::Number,
    with_default => default: serde_json::Number,
});

setters!(BooleanSchema {
    with_title => title: String,
    with_description => description: String,
    with_default => default = bool,
});

impl EnumOption {
    /// An option with a value and its display label.
    pub fn new(value: impl Into<String>, title: impl Into<String>) -> Self {
        EnumOption {
            value: value.into(),
            title: title.into(),
        }
    }
}

impl UntitledSingleSelectEnumSchema {
    /// A single-select of these values.
    pub fn new(values: Vec<String>) -> Self {
        UntitledSingleSelectEnumSchema {
            values,
            ..Self::default()
        }
    }
}

setters!(UntitledSingleSelectEnumSchema {
    with_title => title: String,
    with_description => description: String,
    with_default => default: String,
});

impl TitledSingleSelectEnumSchema {
    /// A single-select of these labelled options.
    pub fn new(one_of: Vec<EnumOption>) -> Self {
        TitledSingleSelectEnumSchema {
            one_of,
            ..Self::default()
        }
    }
}

setters!(TitledSingleSelectEnumSchema {
    with_title => title: String,
    with_description => description: String,
    with_default => default: String,
});

impl UntitledEnumItems {
    /// Items listing these values.
    pub fn new(values: Vec<String>) -> Self {
        UntitledEnumItems {
            type_: StringTypeTag::Value,
            values,
        }
    }
}

impl TitledEnumItems {
    /// Items listing these labelled options.
    pub fn new(any_of: Vec<EnumOption>) -> Self {
        TitledEnumItems { any_of }
    }
}

impl UntitledMultiSelectEnumSchema {
    /// A multi-select of these values.
    pub fn new(values: Vec<String>) -> Self {
        UntitledMultiSelectEnumSchema {
            items: UntitledEnumItems::new(values),
            ..Self::default()
        }
    }
}

setters!(UntitledMultiSelectEnumSchema {
    with_title => title: String,
    with_description => description: String,
    with_min_items => min_items = u64,
    with_max_items => max_items = u64,
    with_default => default: Vec<String>,
});

impl TitledMultiSelectEnumSchema {
    /// A multi-select of these labelled options.
    pub fn new(any_of: Vec<EnumOption>) -> Self {
        TitledMultiSelectEnumSchema {
            items: TitledEnumItems::new(any_of),
            ..Self::default()
        }
    }
}

setters!(TitledMultiSelectEnumSchema {
    with_title => title: String,
    with_description => description: String,
    with_min_items => min_items = u64,
    with_max_items => max_items = u64,
    with_default => default: Vec<String>,
});

impl LegacyTitledEnumSchema {
    /// A legacy enum of these values.
    pub fn new(values: Vec<String>) -> Self {
        LegacyTitledEnumSchema {
            values,
            ..Self::default()
        }
    }
}

setters!(LegacyTitledEnumSchema {
    with_title => title: String,
    with_description => description: String,
    with_enum_names => enum_names: Vec<String>,
    with_default => default: String,
});
