//! Types of the stateless 2026-07-28 version (checklist section 6): per-request `_meta` keys,
//! `server/discover`, `resultType`, caching hints, Multi Round-Trip Requests (MRTR:
//! `InputRequiredResult`, input requests and responses), `subscriptions/listen`, and the data of
//! errors -32020, -32021 and -32022.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::elicitation::{ElicitRequestParams, ElicitResult};
use crate::jsonrpc::RequestId;
use crate::lifecycle::{ClientCapabilities, Implementation, RequestParams, ServerCapabilities};
use crate::logging::LoggingLevel;
use crate::meta::{Meta, setters};
use crate::progress::ProgressToken;
use crate::roots::ListRootsResult;
use crate::sampling::{CreateMessageRequestParams, CreateMessageResult};

/// `_meta` key of every request: the protocol version of this request (M-1).
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key of every request: the client's capabilities for this request (M-1).
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key of a request: the client's implementation info (M-1a, SHOULD).
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
/// `_meta` key of a request: the log level wanted for this request (M-1b, LGm-1).
pub const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
/// `_meta` key of a result: the server's implementation info (M-4, SHOULD).
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// `_meta` key of a notification on a listen stream, and of the listen result: the
/// `subscriptions/listen` request id (SB-1).
pub const META_SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// `_meta` key of a legacy server-to-client request (sampling, elicitation, roots) that
/// `mcp-http`'s input engine sends for a handler's input: the handler's key of that input, so
/// that a bridge can put the request under the same key in a 2026-07-28 `InputRequiredResult`
/// (BR-73). A vendor key: other servers do not send it.
pub const META_INPUT_KEY: &str = "dev.mcp-http/inputKey";

/// The kind of a result (M-8). An absent `resultType` means [`ResultType::Complete`];
/// extensions may define more values, kept as [`ResultType::Other`] (a client MUST treat an
/// unrecognized one as invalid).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResultType {
    /// `"complete"`: the request finished and the result holds its final content.
    Complete,
    /// `"input_required"`: the result is an [`InputRequiredResult`].
    InputRequired,
    /// Any other value.
    Other(String),
}

impl ResultType {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            ResultType::Complete => "complete",
            ResultType::InputRequired => "input_required",
            ResultType::Other(s) => s,
        }
    }
}

impl fmt::Display for ResultType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ResultType {
    fn from(s: &str) -> Self {
        match s {
            "complete" => ResultType::Complete,
            "input_required" => ResultType::InputRequired,
            other => ResultType::Other(other.to_owned()),
        }
    }
}

impl Serialize for ResultType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResultType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(ResultType::from(&*s))
    }
}

/// Who may share a cached response (CA-1), like HTTP `Cache-Control: public/private`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CacheScope {
    /// Any client or intermediary may share it.
    Public,
    /// Only within one authorization context.
    Private,
}

/// The result of `server/discover` (M-7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DiscoverResult {
    /// Result metadata; SHOULD carry [`META_SERVER_INFO`].
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The protocol versions the server supports.
    pub supported_versions: Vec<String>,
    /// The server's capabilities.
    pub capabilities: ServerCapabilities,
    /// Natural-language guidance about the server and its features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// The kind of result (required; `"complete"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// How long the client may cache this, in milliseconds (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    /// Who may share the cached response (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_scope: Option<CacheScope>,
}

/// A request the server needs the client to fulfil before it can answer (MRTR): the
/// `{method, params}` of `sampling/createMessage`, `roots/list` or `elicitation/create`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum InputRequest {
    /// `sampling/createMessage`.
    CreateMessage(CreateMessageRequestParams),
    /// `roots/list` (params are optional).
    ListRoots(Option<RequestParams>),
    /// `elicitation/create`.
    Elicit(ElicitRequestParams),
}

impl InputRequest {
    /// The method name of the request.
    pub fn method(&self) -> &'static str {
        match self {
            InputRequest::CreateMessage(_) => crate::method::SAMPLING_CREATE_MESSAGE,
            InputRequest::ListRoots(_) => crate::method::ROOTS_LIST,
            InputRequest::Elicit(_) => crate::method::ELICITATION_CREATE,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct InputRequestWire<P> {
    method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    params: Option<P>,
}

impl Serialize for InputRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let method = self.method().to_owned();
        match self {
            InputRequest::CreateMessage(p) => InputRequestWire {
                method,
                params: Some(p),
            }
            .serialize(s),
            InputRequest::ListRoots(p) => InputRequestWire {
                method,
                params: p.as_ref(),
            }
            .serialize(s),
            InputRequest::Elicit(p) => InputRequestWire {
                method,
                params: Some(p),
            }
            .serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for InputRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = InputRequestWire::<Value>::deserialize(d)?;
        let params = |what: &str| {
            wire.params
                .clone()
                .ok_or_else(|| D::Error::custom(format!("{what} input request needs params")))
        };
        match wire.method.as_str() {
            crate::method::SAMPLING_CREATE_MESSAGE => {
                serde_json::from_value(params("sampling/createMessage")?)
                    .map(InputRequest::CreateMessage)
                    .map_err(D::Error::custom)
            }
            crate::method::ELICITATION_CREATE => {
                serde_json::from_value(params("elicitation/create")?)
                    .map(InputRequest::Elicit)
                    .map_err(D::Error::custom)
            }
            crate::method::ROOTS_LIST => match wire.params {
                None => Ok(InputRequest::ListRoots(None)),
                Some(p) => serde_json::from_value(p)
                    .map(|p| InputRequest::ListRoots(Some(p)))
                    .map_err(D::Error::custom),
            },
            other => Err(D::Error::custom(format!(
                "unknown input request method {other:?}"
            ))),
        }
    }
}

/// The client's answer to one [`InputRequest`], told apart by its members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum InputResponse {
    /// The answer to `sampling/createMessage`.
    CreateMessage(CreateMessageResult),
    /// The answer to `roots/list`.
    ListRoots(ListRootsResult),
    /// The answer to `elicitation/create`.
    Elicit(ElicitResult),
}

/// Input requests keyed by server-assigned identifiers.
pub type InputRequests = BTreeMap<String, InputRequest>;
/// Input responses keyed by the identifiers of the [`InputRequests`] they answer.
pub type InputResponses = BTreeMap<String, InputResponse>;

/// The answer "more input needed" to `tools/call`, `resources/read` or `prompts/get` (MR-1).
/// At least one of `inputRequests` and `requestState` MUST be present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InputRequiredResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// What the client must fulfil before retrying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<InputRequests>,
    /// Opaque state the client MUST echo exactly when retrying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Always `"input_required"`.
    pub result_type: ResultType,
}

impl InputRequiredResult {
    /// A result asking for inputs, with optional state.
    pub fn new(input_requests: InputRequests, request_state: Option<String>) -> Self {
        InputRequiredResult {
            meta: None,
            input_requests: Some(input_requests),
            request_state,
            result_type: ResultType::InputRequired,
        }
    }
}

/// The MRTR members of a retried request (the schema's `InputResponseRequestParams`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InputResponseRequestParams {
    /// Request metadata (required).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The answers to the server's input requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<InputResponses>,
    /// The state echoed from the `InputRequiredResult`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
}

/// The notification types a client opts in to on a `subscriptions/listen` stream (SB-1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscriptionFilter {
    /// Receive `notifications/tools/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools_list_changed: Option<bool>,
    /// Receive `notifications/prompts/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts_list_changed: Option<bool>,
    /// Receive `notifications/resources/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_list_changed: Option<bool>,
    /// Receive `notifications/resources/updated` for these resource URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_subscriptions: Option<Vec<String>>,
}

/// Parameters for a `subscriptions/listen` request.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionsListenRequestParams {
    /// Request metadata (required).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The notifications the client opts in to.
    pub notifications: SubscriptionFilter,
}

/// Parameters for `notifications/subscriptions/acknowledged`, the first message on a listen
/// stream.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionsAcknowledgedNotificationParams {
    /// Notification metadata, with [`META_SUBSCRIPTION_ID`].
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The subset of the requested notifications the server agreed to send.
    pub notifications: SubscriptionFilter,
}

/// The result ending a `subscriptions/listen` stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscriptionsListenResult {
    /// Result metadata; MUST carry [`META_SUBSCRIPTION_ID`].
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The kind of result (`"complete"`).
    pub result_type: ResultType,
}

impl SubscriptionsListenResult {
    /// The complete result of the listen request with this id.
    pub fn new(subscription_id: &RequestId) -> Self {
        let mut meta = Meta::new();
        meta.insert(
            META_SUBSCRIPTION_ID.into(),
            serde_json::to_value(subscription_id).unwrap_or(Value::Null),
        );
        SubscriptionsListenResult {
            meta: Some(meta),
            result_type: ResultType::Complete,
        }
    }
}

/// A typed view of a 2026-07-28 request's `_meta` (the schema's `RequestMetaObject`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestMetaObject {
    /// The protocol version of this request (required).
    #[serde(rename = "io.modelcontextprotocol/protocolVersion")]
    pub protocol_version: String,
    /// The client's capabilities for this request (required).
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities")]
    pub client_capabilities: ClientCapabilities,
    /// The client's implementation info, for display and logging only.
    #[serde(
        rename = "io.modelcontextprotocol/clientInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_info: Option<Implementation>,
    /// The log level wanted; absent means no log notifications for this request.
    #[serde(
        rename = "io.modelcontextprotocol/logLevel",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub log_level: Option<LoggingLevel>,
    /// Asks for progress notifications with this token.
    #[serde(
        rename = "progressToken",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub progress_token: Option<ProgressToken>,
    /// Every other key.
    #[serde(flatten)]
    pub other: Meta,
}

impl RequestMetaObject {
    /// The required members only.
    pub fn new(
        protocol_version: impl Into<String>,
        client_capabilities: ClientCapabilities,
    ) -> Self {
        RequestMetaObject {
            protocol_version: protocol_version.into(),
            client_capabilities,
            client_info: None,
            log_level: None,
            progress_token: None,
            other: Meta::new(),
        }
    }

    /// Reads a request's `_meta`; fails when a required key is missing or malformed (M-2).
    pub fn from_meta(meta: &Meta) -> Result<Self, serde_json::Error> {
        serde_json::from_value(Value::Object(meta.clone()))
    }

    /// Writes this as a `_meta` object.
    pub fn to_meta(&self) -> Meta {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Meta::new(),
        }
    }
}

/// A typed view of a 2026-07-28 result's `_meta` (the schema's `ResultMetaObject`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResultMetaObject {
    /// The server's implementation info, for display and logging only.
    #[serde(
        rename = "io.modelcontextprotocol/serverInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub server_info: Option<Implementation>,
    /// Every other key.
    #[serde(flatten)]
    pub other: Meta,
}

/// A typed view of a 2026-07-28 notification's `_meta` (the schema's `NotificationMetaObject`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NotificationMetaObject {
    /// The listen stream the notification was delivered on (required on listen streams).
    #[serde(
        rename = "io.modelcontextprotocol/subscriptionId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub subscription_id: Option<RequestId>,
    /// Every other key.
    #[serde(flatten)]
    pub other: Meta,
}

/// A typed view of the `_meta` of a [`SubscriptionsListenResult`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionsListenResultMetaObject {
    /// The server's implementation info.
    #[serde(
        rename = "io.modelcontextprotocol/serverInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub server_info: Option<Implementation>,
    /// The id of the listen request whose stream this result closes (required).
    #[serde(rename = "io.modelcontextprotocol/subscriptionId")]
    pub subscription_id: RequestId,
    /// Every other key.
    #[serde(flatten)]
    pub other: Meta,
}

/// The `data` of a -32021 `MissingRequiredClientCapabilityError` (M-3; HTTP 400).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MissingRequiredClientCapabilityData {
    /// The capabilities the request needs from the client.
    pub required_capabilities: ClientCapabilities,
}

impl MissingRequiredClientCapabilityData {
    /// The JSON-RPC error carrying this data.
    pub fn into_error(self, message: impl Into<String>) -> crate::ErrorObject {
        with_data(
            crate::ErrorObject::new(
                crate::error_code::MISSING_REQUIRED_CLIENT_CAPABILITY,
                message,
            ),
            &self,
        )
    }
}

/// The `data` of a -32022 `UnsupportedProtocolVersionError` (M-6; HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UnsupportedProtocolVersionData {
    /// The versions the server supports; the client should retry with one of them.
    pub supported: Vec<String>,
    /// The version the client asked for.
    pub requested: String,
}

impl UnsupportedProtocolVersionData {
    /// The JSON-RPC error carrying this data.
    pub fn into_error(self, message: impl Into<String>) -> crate::ErrorObject {
        with_data(
            crate::ErrorObject::new(crate::error_code::UNSUPPORTED_PROTOCOL_VERSION, message),
            &self,
        )
    }
}

/// A -32020 `HeaderMismatchError` (H-8; HTTP 400). It carries no typed data.
pub fn header_mismatch_error(message: impl Into<String>) -> crate::ErrorObject {
    crate::ErrorObject::new(crate::error_code::HEADER_MISMATCH, message)
}

fn with_data<T: Serialize>(err: crate::ErrorObject, data: &T) -> crate::ErrorObject {
    match serde_json::to_value(data) {
        Ok(v) => err.with_data(v),
        Err(_) => err,
    }
}

impl DiscoverResult {
    /// A result with the supported versions and the server's capabilities.
    pub fn new(supported_versions: Vec<String>, capabilities: ServerCapabilities) -> Self {
        DiscoverResult {
            meta: None,
            supported_versions,
            capabilities,
            instructions: None,
            result_type: None,
            ttl_ms: None,
            cache_scope: None,
        }
    }
}

setters!(DiscoverResult {
    with_meta => meta: Meta,
    with_instructions => instructions: String,
    with_result_type => result_type: ResultType,
    with_ttl_ms => ttl_ms = u64,
    with_cache_scope => cache_scope: CacheScope,
});

setters!(InputRequiredResult {
    with_meta => meta: Meta,
});

setters!(InputResponseRequestParams {
    with_meta => meta: Meta,
    with_input_responses => input_responses: InputResponses,
    with_request_state => request_state: String,
});

setters!(SubscriptionFilter {
    with_tools_list_changed => tools_list_changed = bool,
    with_prompts_list_changed => prompts_list_changed = bool,
    with_resources_list_changed => resources_list_changed = bool,
    with_resource_subscriptions => resource_subscriptions: Vec<String>,
});

impl SubscriptionsListenRequestParams {
    /// Params opting in to these notifications.
    pub fn new(notifications: SubscriptionFilter) -> Self {
        SubscriptionsListenRequestParams {
            meta: None,
            notifications,
        }
    }
}

setters!(SubscriptionsListenRequestParams {
    with_meta => meta: Meta,
});

impl SubscriptionsAcknowledgedNotificationParams {
    /// Params acknowledging these notifications.
    pub fn new(notifications: SubscriptionFilter) -> Self {
        SubscriptionsAcknowledgedNotificationParams {
            meta: None,
            notifications,
        }
    }
}

setters!(SubscriptionsAcknowledgedNotificationParams {
    with_meta => meta: Meta,
});

setters!(RequestMetaObject {
    with_client_info => client_info: Implementation,
    with_log_level => log_level: LoggingLevel,
    with_progress_token => progress_token: ProgressToken,
});

setters!(ResultMetaObject {
    with_server_info => server_info: Implementation,
});

setters!(NotificationMetaObject {
    with_subscription_id => subscription_id: RequestId,
});

impl SubscriptionsListenResultMetaObject {
    /// The `_meta` of the result closing the listen stream of this request id.
    pub fn new(subscription_id: RequestId) -> Self {
        SubscriptionsListenResultMetaObject {
            server_info: None,
            subscription_id,
            other: Meta::new(),
        }
    }
}

setters!(SubscriptionsListenResultMetaObject {
    with_server_info => server_info: Implementation,
});

impl MissingRequiredClientCapabilityData {
    /// Data naming the capabilities the request needs.
    pub fn new(required_capabilities: ClientCapabilities) -> Self {
        MissingRequiredClientCapabilityData {
            required_capabilities,
        }
    }
}

impl UnsupportedProtocolVersionData {
    /// Data with the supported versions and the requested one.
    pub fn new(supported: Vec<String>, requested: impl Into<String>) -> Self {
        UnsupportedProtocolVersionData {
            supported,
            requested: requested.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elicitation::ElicitRequestFormParams;
    use serde_json::json;

    #[test]
    fn result_type_values() {
        for (s, t) in [
            ("complete", ResultType::Complete),
            ("input_required", ResultType::InputRequired),
            ("x-ext", ResultType::Other("x-ext".into())),
        ] {
            assert_eq!(serde_json::to_value(&t).unwrap(), json!(s));
            assert_eq!(serde_json::from_value::<ResultType>(json!(s)).unwrap(), t);
        }
    }

    #[test]
    fn input_requests_round_trip() {
        let mut reqs = InputRequests::new();
        reqs.insert("roots".into(), InputRequest::ListRoots(None));
        reqs.insert(
            "ask".into(),
            InputRequest::Elicit(ElicitRequestParams::Form(ElicitRequestFormParams::new(
                "Name?",
                json!({"type": "object", "properties": {}}),
            ))),
        );
        let r = InputRequiredResult::new(reqs, Some("s".into()));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["inputRequests"]["roots"], json!({"method": "roots/list"}));
        assert_eq!(v["resultType"], json!("input_required"));
        assert_eq!(serde_json::from_value::<InputRequiredResult>(v).unwrap(), r);
        assert!(serde_json::from_value::<InputRequest>(json!({"method": "ping"})).is_err());
    }

    #[test]
    fn request_meta_view() {
        let meta: Meta = serde_json::from_value(json!({
            META_PROTOCOL_VERSION: "2026-07-28",
            META_CLIENT_CAPABILITIES: {"roots": {}},
            META_LOG_LEVEL: "warning",
            "progressToken": 3,
            "com.example/x": true
        }))
        .unwrap();
        let view = RequestMetaObject::from_meta(&meta).unwrap();
        assert_eq!(view.log_level, Some(LoggingLevel::Warning));
        assert_eq!(view.progress_token, Some(RequestId::Number(3)));
        assert_eq!(view.other.get("com.example/x"), Some(&json!(true)));
        assert_eq!(view.to_meta(), meta);
        let mut missing = meta.clone();
        missing.remove(META_PROTOCOL_VERSION);
        assert!(RequestMetaObject::from_meta(&missing).is_err());
    }

    #[test]
    fn error_data() {
        let e = UnsupportedProtocolVersionData {
            supported: vec!["2026-07-28".into()],
            requested: "1999-01-01".into(),
        }
        .into_error("Unsupported protocol version");
        assert_eq!(e.code, -32022);
        assert_eq!(
            e.data,
            Some(json!({"supported": ["2026-07-28"], "requested": "1999-01-01"}))
        );
    }
}
