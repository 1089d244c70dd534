//! Elicitation: `elicitation/create` and `notifications/elicitation/complete`
//! (checklist EL-1..EL-6; 2025-06-18+).
//!
//! Versions: form mode (no `mode` member) from 2025-06-18; URL mode, the `mode` member,
//! `notifications/elicitation/complete`, titled and multi-select enums and defaults from
//! 2025-11-25. In 2026-07-28 `elicitation/create` is only an input request of an
//! `InputRequiredResult` (MRTR); `elicitationId` becomes optional there and the completion
//! notification is removed.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::meta::{JsonObject, Meta, const_tag, setters};
use crate::tasks::TaskMetadata;

mod schema;
pub use schema::*;

/// Parameters of a form-mode elicitation: a message and a flat schema of primitive fields.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ElicitRequestFormParams {
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `"form"` (2025-11-25+, optional); absent in 2025-06-18, where form was the only mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FormModeTag>,
    /// The message describing what information is requested.
    pub message: String,
    /// A restricted JSON Schema: an object with top-level primitive `properties` only
    /// (`{"type": "object", "properties": {..}, "required": [..]}`). Kept as raw JSON so that
    /// every member survives; [`ElicitRequestFormParams::typed_properties`] gives a typed view.
    pub requested_schema: JsonObject,
    /// 2025-11-25 only: asks for task-augmented execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
}

impl ElicitRequestFormParams {
    /// Form params from a message and a requested schema (non-objects become an empty form).
    pub fn new(message: impl Into<String>, requested_schema: Value) -> Self {
        let requested_schema = match requested_schema {
            Value::Object(map) => map,
            _ => {
                let mut map = JsonObject::new();
                map.insert("type".into(), "object".into());
                map.insert("properties".into(), Value::Object(JsonObject::new()));
                map
            }
        };
        ElicitRequestFormParams {
            meta: None,
            mode: None,
            message: message.into(),
            requested_schema,
            task: None,
        }
    }

    /// The requested schema's `properties`, each decoded as a [`PrimitiveSchemaDefinition`].
    pub fn typed_properties(
        &self,
    ) -> Result<BTreeMap<String, PrimitiveSchemaDefinition>, serde_json::Error> {
        match self.requested_schema.get("properties") {
            None => Ok(BTreeMap::new()),
            Some(p) => serde_json::from_value(p.clone()),
        }
    }
}

/// Parameters of a URL-mode elicitation (2025-11-25+): the user is sent to a URL out of band.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ElicitRequestURLParams {
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Always `"url"` (required).
    pub mode: UrlModeTag,
    /// The message explaining why the interaction is needed.
    pub message: String,
    /// The URL the user should navigate to.
    pub url: String,
    /// The id of the elicitation, unique within the server; opaque to the client. Required in
    /// 2025-11-25, absent from the 2026-07-28 schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elicitation_id: Option<String>,
    /// 2025-11-25 only: asks for task-augmented execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
}

impl ElicitRequestURLParams {
    /// URL params with a message, a URL and an elicitation id.
    pub fn new(
        message: impl Into<String>,
        url: impl Into<String>,
        elicitation_id: impl Into<String>,
    ) -> Self {
        ElicitRequestURLParams {
            message: message.into(),
            url: url.into(),
            elicitation_id: Some(elicitation_id.into()),
            ..Self::default()
        }
    }
}

setters!(ElicitRequestFormParams {
    with_meta => meta: Meta,
    with_mode => mode: FormModeTag,
    with_task => task: TaskMetadata,
});

/// Parameters of `elicitation/create`: form or URL mode, told apart by `mode`. A request
/// without `mode` is a form request (EL-3). Each variant's struct carries its own `mode`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ElicitRequestParams {
    /// `"form"` (or no `mode`).
    Form(ElicitRequestFormParams),
    /// `"url"` (2025-11-25+).
    Url(ElicitRequestURLParams),
}

impl<'de> Deserialize<'de> for ElicitRequestParams {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = JsonObject::deserialize(d)?;
        let mode = match map.get("mode") {
            None | Some(Value::Null) => "form".to_owned(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(D::Error::custom("elicitation mode must be a string")),
        };
        let value = Value::Object(map);
        match mode.as_str() {
            "form" => serde_json::from_value(value)
                .map(ElicitRequestParams::Form)
                .map_err(D::Error::custom),
            "url" => serde_json::from_value(value)
                .map(ElicitRequestParams::Url)
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "unknown elicitation mode {other:?}"
            ))),
        }
    }
}

impl ElicitRequestParams {
    /// The message shown to the user.
    pub fn message(&self) -> &str {
        match self {
            ElicitRequestParams::Form(f) => &f.message,
            ElicitRequestParams::Url(u) => &u.message,
        }
    }
}

setters!(ElicitRequestURLParams {
    with_meta => meta: Meta,
    with_task => task: TaskMetadata,
});

impl From<ElicitRequestFormParams> for ElicitRequestParams {
    fn from(p: ElicitRequestFormParams) -> Self {
        ElicitRequestParams::Form(p)
    }
}

impl From<ElicitRequestURLParams> for ElicitRequestParams {
    fn from(p: ElicitRequestURLParams) -> Self {
        ElicitRequestParams::Url(p)
    }
}

/// The user's action in answer to an elicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ElicitAction {
    /// The user submitted the form or confirmed the action.
    Accept,
    /// The user explicitly declined.
    Decline,
    /// The user dismissed without an explicit choice.
    Cancel,
}

/// The client's answer to `elicitation/create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ElicitResult {
    /// Result metadata (legacy versions; 2026-07-28 input responses carry none).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// What the user did.
    pub action: ElicitAction,
    /// The submitted form data, only with `accept` in form mode. Values are strings, integers,
    /// booleans or (2025-11-25+) arrays of strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<JsonObject>,
}

impl ElicitResult {
    /// A result with an action and no content.
    pub fn new(action: ElicitAction) -> Self {
        ElicitResult {
            meta: None,
            action,
            content: None,
        }
    }

    /// An accepted form with its content.
    pub fn accept(content: JsonObject) -> Self {
        ElicitResult {
            meta: None,
            action: ElicitAction::Accept,
            content: Some(content),
        }
    }

    /// A declined elicitation.
    pub fn decline() -> Self {
        ElicitResult {
            meta: None,
            action: ElicitAction::Decline,
            content: None,
        }
    }

    /// A cancelled elicitation.
    pub fn cancel() -> Self {
        ElicitResult {
            meta: None,
            action: ElicitAction::Cancel,
            content: None,
        }
    }
}

/// Parameters of `notifications/elicitation/complete` (2025-11-25 only).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ElicitationCompleteNotificationParams {
    /// The id of the URL-mode elicitation that completed.
    pub elicitation_id: String,
}

/// The `data` of a -32042 `URLElicitationRequiredError` (2025-11-25 only).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UrlElicitationRequiredData {
    /// The URL elicitations the client must complete before retrying.
    pub elicitations: Vec<ElicitRequestURLParams>,
}

impl UrlElicitationRequiredData {
    /// Data listing the URL elicitations to complete.
    pub fn new(elicitations: Vec<ElicitRequestURLParams>) -> Self {
        UrlElicitationRequiredData { elicitations }
    }

    /// The JSON-RPC error carrying this data.
    pub fn into_error(self, message: impl Into<String>) -> crate::ErrorObject {
        let err = crate::ErrorObject::new(crate::error_code::URL_ELICITATION_REQUIRED, message);
        match serde_json::to_value(self) {
            Ok(data) => err.with_data(data),
            Err(_) => err,
        }
    }
}

const_tag!(
    /// The constant `"mode": "form"` of a form-mode elicitation.
    FormModeTag = "form"
);
const_tag!(
    /// The constant `"mode": "url"` of a URL-mode elicitation.
    UrlModeTag = "url"
);

setters!(ElicitResult {
    with_meta => meta: Meta,
    with_content => content: JsonObject,
});

impl ElicitationCompleteNotificationParams {
    /// Params telling that the URL-mode elicitation with this id completed.
    pub fn new(elicitation_id: impl Into<String>) -> Self {
        ElicitationCompleteNotificationParams {
            elicitation_id: elicitation_id.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_mode_is_form() {
        let p: ElicitRequestParams = serde_json::from_value(json!({
            "message": "Name?",
            "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}
        }))
        .unwrap();
        let ElicitRequestParams::Form(form) = &p else {
            panic!("expected form: {p:?}")
        };
        assert_eq!(form.message, "Name?");
        assert_eq!(form.mode, None);
        // Serializing keeps the mode absent, as received.
        assert!(serde_json::to_value(&p).unwrap().get("mode").is_none());
        let explicit: ElicitRequestParams = serde_json::from_value(json!({
            "mode": "form", "message": "m", "requestedSchema": {"type": "object", "properties": {}}
        }))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&explicit).unwrap()["mode"],
            json!("form")
        );
        let url: ElicitRequestParams = serde_json::from_value(json!({
            "mode": "url", "message": "Log in", "url": "https://x.example/a",
            "elicitationId": "e1"
        }))
        .unwrap();
        assert!(
            matches!(url, ElicitRequestParams::Url(ref u) if u.elicitation_id.as_deref() == Some("e1"))
        );
        assert!(
            serde_json::from_value::<ElicitRequestParams>(json!({"mode": "voice", "message": "x"}))
                .is_err()
        );
        // URL mode without a url is an error, not silently a form.
        assert!(
            serde_json::from_value::<ElicitRequestParams>(json!({"mode": "url", "message": "x"}))
                .is_err()
        );
    }

    #[test]
    fn requested_schema_keeps_every_member() {
        let schema = json!({"type": "object", "properties": {
            "s": {"type": "string", "format": "email", "default": "a@b.c", "pattern": "x"},
            "n": {"type": "integer", "minimum": 1, "default": 2},
            "b": {"type": "boolean", "default": true},
            "e": {"type": "string", "enum": ["a", "b"], "default": "a"},
            "t": {"type": "string", "oneOf": [{"const": "a", "title": "A"}]},
            "l": {"type": "string", "enum": ["a"], "enumNames": ["A"]},
            "m": {"type": "array", "items": {"type": "string", "enum": ["a"]}, "default": ["a"]},
            "mt": {"type": "array", "items": {"anyOf": [{"const": "a", "title": "A"}]}}
        }, "required": ["s"]});
        let p = ElicitRequestFormParams::new("m", schema.clone());
        assert_eq!(Value::Object(p.requested_schema.clone()), schema);
        let props = p.typed_properties().unwrap();
        assert!(
            matches!(props["s"], PrimitiveSchemaDefinition::String(ref s) if s.default.as_deref() == Some("a@b.c"))
        );
        assert!(
            matches!(props["n"], PrimitiveSchemaDefinition::Number(ref n) if n.type_ == NumberType::Integer)
        );
        assert!(matches!(props["b"], PrimitiveSchemaDefinition::Boolean(_)));
        assert!(matches!(
            props["e"],
            PrimitiveSchemaDefinition::Enum(EnumSchema::UntitledSingleSelect(_))
        ));
        assert!(matches!(
            props["t"],
            PrimitiveSchemaDefinition::Enum(EnumSchema::TitledSingleSelect(_))
        ));
        assert!(matches!(
            props["l"],
            PrimitiveSchemaDefinition::Enum(EnumSchema::LegacyTitled(_))
        ));
        assert!(matches!(
            props["m"],
            PrimitiveSchemaDefinition::Enum(EnumSchema::UntitledMultiSelect(_))
        ));
        assert!(matches!(
            props["mt"],
            PrimitiveSchemaDefinition::Enum(EnumSchema::TitledMultiSelect(_))
        ));
        // Typed values serialize back to the same JSON (apart from unknown members).
        assert_eq!(
            serde_json::to_value(&props["n"]).unwrap(),
            json!({"type": "integer", "minimum": 1, "default": 2})
        );
    }
}
