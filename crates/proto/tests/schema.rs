//! Validates the Rust types against the official JSON schemas of 2025-11-25 and 2026-07-28.
//!
//! For each schema file, a representative value of every message definition (every `*Request`,
//! `*Notification`, `*Result` and `*ResultResponse`, plus the JSON-RPC envelope kinds and the
//! typed errors) is built from the Rust types with its optional fields filled, serialized,
//! wrapped in the JSON-RPC envelope where the definition is one, and validated against
//! `{"$ref": "#/$defs/<Name>"}` resolved inside the whole schema document. The list of message
//! definitions is computed from the schema file, so a definition without a value fails the test.
//! Every typed value is also checked to round-trip (serialize, deserialize, serialize again gives
//! the same JSON).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};

use mcp_http_proto::completion::{CompletionArgument, CompletionContext};
use mcp_http_proto::elicitation::{
    BooleanSchema, ElicitationCompleteNotificationParams, EnumOption, EnumSchema, FormModeTag,
    LegacyTitledEnumSchema, NumberSchema, NumberType, StringFormat, StringSchema,
    TitledMultiSelectEnumSchema, TitledSingleSelectEnumSchema, UntitledMultiSelectEnumSchema,
    UntitledSingleSelectEnumSchema, UrlElicitationRequiredData,
};
use mcp_http_proto::jsonrpc::{Message, Notification, Request, Response, to_raw};
use mcp_http_proto::lifecycle::{
    ElicitationCapability, IconTheme, PromptsCapability, ResourcesCapability, RootsCapability,
    SamplingCapability, ToolsCapability,
};
use mcp_http_proto::modern::{
    InputResponseRequestParams, MissingRequiredClientCapabilityData, NotificationMetaObject,
    ResultMetaObject, UnsupportedProtocolVersionData, header_mismatch_error,
};
use mcp_http_proto::sampling::{
    IncludeContext, ModelHint, ModelPreferences, ToolChoice, ToolChoiceMode, ToolResultContent,
    ToolUseContent,
};
use mcp_http_proto::tasks::{
    CancelTaskResult, ClientTaskElicitationRequests, ClientTaskRequests,
    ClientTaskSamplingRequests, ClientTasksCapability, CreateTaskResult, GetTaskPayloadResult,
    GetTaskResult, ListTasksResult, ServerTaskRequests, ServerTaskToolsRequests,
    ServerTasksCapability, TaskIdParams, TaskStatusNotificationParams, TaskSupport, ToolExecution,
};
use mcp_http_proto::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

#[path = "schema/fixtures.rs"]
mod fixtures;
#[path = "schema/instances.rs"]
mod instances;

use fixtures::{Era, Fx};
use instances::{Instances, NULL_ID_ERRORS, envelopes, instances};

const SCHEMA_2025: &str = include_str!("schema/schema-2025-11-25.json");
const SCHEMA_2026: &str = include_str!("schema/schema-2026-07-28.json");

// ---------------------------------------------------------------------------------------------
// Validation helpers

struct Schema {
    root: Value,
    name: &'static str,
}

impl Schema {
    fn load(text: &str, name: &'static str) -> Schema {
        Schema {
            root: serde_json::from_str(text).unwrap(),
            name,
        }
    }

    fn defs(&self) -> &serde_json::Map<String, Value> {
        self.root["$defs"].as_object().unwrap()
    }

    fn validator(&self, def: &str) -> jsonschema::Validator {
        assert!(
            self.defs().contains_key(def),
            "{}: no definition {def}",
            self.name
        );
        let mut root = self.root.clone();
        root.as_object_mut()
            .unwrap()
            .insert("$ref".into(), json!(format!("#/$defs/{def}")));
        jsonschema::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("{}: cannot compile {def}: {e}", self.name))
    }

    fn errors(&self, def: &str, instance: &Value) -> Vec<String> {
        let v = self.validator(def);
        v.iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect()
    }

    fn assert_valid(&self, def: &str, instance: &Value) {
        let errors = self.errors(def, instance);
        assert!(
            errors.is_empty(),
            "{}: {def} rejects\n{}\nerrors: {errors:#?}",
            self.name,
            serde_json::to_string_pretty(instance).unwrap()
        );
    }

    fn assert_invalid(&self, def: &str, instance: &Value) {
        assert!(
            !self.errors(def, instance).is_empty(),
            "{}: {def} unexpectedly accepts {instance}",
            self.name
        );
    }

    /// Definitions that are messages: `*Request`, `*Notification`, `*Result`, `*ResultResponse`,
    /// except the abstract bases.
    fn message_defs(&self) -> BTreeSet<String> {
        const ABSTRACT: [&str; 5] = [
            "Request",
            "Notification",
            "Result",
            "PaginatedRequest",
            "PaginatedResult",
        ];
        self.defs()
            .keys()
            .filter(|n| {
                (n.ends_with("Request") || n.ends_with("Notification") || n.ends_with("Result"))
                    || n.ends_with("ResultResponse")
            })
            .filter(|n| !n.starts_with("JSONRPC") && !ABSTRACT.contains(&n.as_str()))
            .cloned()
            .collect()
    }

    /// The member definitions of a definition that is a pure `anyOf` of `$ref`s.
    fn union_members(&self, def: &str) -> Option<Vec<String>> {
        let any_of = self.defs()[def].get("anyOf")?.as_array()?;
        any_of
            .iter()
            .map(|m| {
                m.get("$ref")?
                    .as_str()?
                    .strip_prefix("#/$defs/")
                    .map(str::to_owned)
            })
            .collect()
    }
}

/// Serializes, deserializes back, serializes again, and checks the two JSON texts are equal.
fn rt<T: Serialize + DeserializeOwned>(value: &T) -> Value {
    let first = serde_json::to_value(value).unwrap();
    let back: T = serde_json::from_value(first.clone()).unwrap_or_else(|e| {
        panic!(
            "{} does not deserialize back: {e}\n{first:#}",
            std::any::type_name::<T>()
        )
    });
    let second = serde_json::to_value(&back).unwrap();
    assert_eq!(
        first,
        second,
        "{} does not round-trip",
        std::any::type_name::<T>()
    );
    first
}

fn request<P: Serialize + DeserializeOwned>(method: &str, params: Option<&P>) -> Value {
    let params = params.map(|p| to_raw(&rt(p)).unwrap());
    let msg = Message::Request(Request::new(7, method, params));
    envelope(&msg)
}

fn notification<P: Serialize + DeserializeOwned>(method: &str, params: Option<&P>) -> Value {
    let params = params.map(|p| to_raw(&rt(p)).unwrap().into());
    let msg = Message::Notification(Notification {
        method: method.into(),
        params,
    });
    envelope(&msg)
}

fn response<R: Serialize + DeserializeOwned>(result: &R) -> Value {
    let msg = Message::Response(Response {
        id: Some(RequestId::from("r-1")),
        outcome: Ok(to_raw(&rt(result)).unwrap()),
    });
    envelope(&msg)
}

fn error_response(id: Option<RequestId>, error: ErrorObject) -> Value {
    envelope(&Message::Response(Response {
        id,
        outcome: Err(error),
    }))
}

/// Serializes an envelope, and checks it parses back into the same JSON.
fn envelope(msg: &Message) -> Value {
    let text = msg.to_json();
    let reparsed = Message::parse(text.as_bytes()).unwrap().to_json();
    assert_eq!(text, reparsed);
    serde_json::from_str(&text).unwrap()
}

/// Fills in union definitions (`anyOf` of `$ref`s) from their members' instances, and checks
/// every message definition of the schema has at least one instance.
fn check_schema(schema: &Schema, era: Era) {
    let fx = Fx { era };
    let mut m = instances(&fx);
    let messages = schema.message_defs();
    for name in &messages {
        if m.contains_key(name) {
            continue;
        }
        if let Some(members) = schema.union_members(name) {
            let mut values = Vec::new();
            for member in &members {
                let got = m.get(member).unwrap_or_else(|| {
                    panic!(
                        "{}: union {name}: no instance of member {member}",
                        schema.name
                    )
                });
                values.extend(got.iter().cloned());
            }
            m.insert(name.clone(), values);
        }
    }
    let missing: Vec<_> = messages.iter().filter(|n| !m.contains_key(*n)).collect();
    assert!(
        missing.is_empty(),
        "{}: message definitions without a value: {missing:?}",
        schema.name
    );
    let mut checked = 0;
    for (name, values) in &m {
        assert!(!values.is_empty(), "{name}");
        for v in values {
            schema.assert_valid(name, v);
            checked += 1;
        }
    }
    // Envelope kinds are covered too.
    for kind in [
        "JSONRPCRequest",
        "JSONRPCNotification",
        "JSONRPCResultResponse",
        "JSONRPCErrorResponse",
        "JSONRPCResponse",
        "JSONRPCMessage",
    ] {
        assert!(m.contains_key(kind), "{kind}");
    }
    eprintln!(
        "{}: {} message definitions, {} definitions checked with {checked} values",
        schema.name,
        messages.len(),
        m.len()
    );
}

#[test]
fn every_message_of_2025_11_25_validates() {
    check_schema(&Schema::load(SCHEMA_2025, "2025-11-25"), Era::Legacy);
}

#[test]
fn every_message_of_2026_07_28_validates() {
    check_schema(&Schema::load(SCHEMA_2026, "2026-07-28"), Era::Modern);
}

#[test]
fn message_definition_lists_are_what_we_expect() {
    let old = Schema::load(SCHEMA_2025, "2025-11-25").message_defs();
    let new = Schema::load(SCHEMA_2026, "2026-07-28").message_defs();
    // Sanity: the computed lists are not trivially small, and contain known names.
    assert!(old.len() >= 50, "{}", old.len());
    assert!(new.len() >= 50, "{}", new.len());
    assert!(old.contains("InitializeRequest") && !new.contains("InitializeRequest"));
    assert!(new.contains("DiscoverResultResponse") && new.contains("InputRequest"));
}

#[test]
fn validator_is_live() {
    for (schema, era) in [
        (Schema::load(SCHEMA_2025, "2025-11-25"), Era::Legacy),
        (Schema::load(SCHEMA_2026, "2026-07-28"), Era::Modern),
    ] {
        let fx = Fx { era };
        // A CallToolResult without content.
        let mut r = rt(&fx.call_tool_results()[0]);
        r.as_object_mut().unwrap().remove("content");
        schema.assert_invalid("CallToolResult", &r);
        // A content block with an unknown type.
        schema.assert_invalid("ContentBlock", &json!({"type": "video", "text": "x"}));
        // An unknown logging level.
        schema.assert_invalid("LoggingLevel", &json!("verbose"));
        // A request with the wrong method.
        let mut call = request(method::TOOLS_CALL, Some(&fx.call_tool_params()));
        call["method"] = json!("tools/run");
        schema.assert_invalid("CallToolRequest", &call);
        // A notification envelope with an id is still accepted by JSON Schema (no
        // additionalProperties: false), but one without jsonrpc is not.
        let mut note = notification::<NotificationParams>(method::NOTIFICATION_PROGRESS, None);
        note.as_object_mut().unwrap().remove("jsonrpc");
        schema.assert_invalid("JSONRPCNotification", &note);
        // Formats are checked: an icon src that is not a URI.
        let mut imp = rt(&fx.implementation("x"));
        imp["icons"][0]["src"] = json!("not a uri");
        schema.assert_invalid("Implementation", &imp);
    }
    let legacy = Schema::load(SCHEMA_2025, "2025-11-25");
    legacy.assert_invalid(
        "InitializeRequest",
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {}}}),
    );
    let modern = Schema::load(SCHEMA_2026, "2026-07-28");
    // 2026-07-28 requires resultType and the per-request _meta: the Rust types leave them
    // optional (the superset), so the caller must fill them for that version.
    modern.assert_invalid("CallToolResult", &rt(&CallToolResult::text("x")));
    modern.assert_invalid(
        "CallToolRequest",
        &request(
            method::TOOLS_CALL,
            Some(&CallToolRequestParams::new("t", json!({}))),
        ),
    );
    // 2026-07-28 JSONObject values exclude floats and null.
    modern.assert_invalid(
        "ClientCapabilities",
        &json!({"experimental": {"x": {"f": 1.5}}}),
    );
}

#[test]
fn schemas_have_no_examples() {
    fn count(v: &Value) -> usize {
        match v {
            Value::Object(m) => {
                usize::from(m.contains_key("examples") || m.contains_key("example"))
                    + m.values().map(count).sum::<usize>()
            }
            Value::Array(a) => a.iter().map(count).sum(),
            _ => 0,
        }
    }
    for text in [SCHEMA_2025, SCHEMA_2026] {
        let root: Value = serde_json::from_str(text).unwrap();
        // If a future schema ships `examples`, parse them into the Rust types here.
        assert_eq!(count(&root), 0, "the schema now has examples: parse them");
    }
}

#[test]
fn null_error_id_is_outside_the_schema() {
    // Documents a known difference: `Message` serializes `"id": null` (SDK convention), which
    // neither schema's JSONRPCErrorResponse accepts; the member must be absent instead.
    for (schema, era) in [
        (Schema::load(SCHEMA_2025, "2025-11-25"), Era::Legacy),
        (Schema::load(SCHEMA_2026, "2026-07-28"), Era::Modern),
    ] {
        let mut m = Instances::new();
        envelopes(&Fx { era }, &mut m);
        let nulls = NULL_ID_ERRORS.with(|c| c.borrow().clone());
        assert!(!nulls.is_empty());
        for v in &nulls {
            schema.assert_invalid("JSONRPCErrorResponse", v);
        }
    }
}
