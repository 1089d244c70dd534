//! The JSON-RPC 2.0 envelope (checklist B-1..B-5).
//!
//! A message is parsed once into [`Message`]; `params` and `result` stay raw JSON until a handler
//! decodes them into its own type with [`Request::params_as`] or [`Response::result_as`].

use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::error_code;
pub use crate::params::Params;

/// A JSON-RPC request id: a string or an integer, never null (B-2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestId {
    /// An integer id.
    Number(i64),
    /// A string id.
    String(Arc<str>),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => f.write_str(s),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        RequestId::Number(n)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        RequestId::String(s.into())
    }
}

impl From<String> for RequestId {
    fn from(s: String) -> Self {
        RequestId::String(s.into())
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RequestId::Number(n) => s.serialize_i64(*n),
            RequestId::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = RequestId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RequestId, E> {
                Ok(RequestId::Number(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RequestId, E> {
                i64::try_from(v)
                    .map(RequestId::Number)
                    .map_err(|_| E::custom("request id out of range"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RequestId, E> {
                Ok(RequestId::String(v.into()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// The `error` member of an error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The error code (see [`crate::error_code`]).
    pub code: i32,
    /// A short description a person can read.
    pub message: String,
    /// Additional information about the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

impl ErrorObject {
    /// An error with a code and a message.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Adds `data`.
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }

    /// -32700 Parse error.
    pub fn parse_error(message: impl Into<String>) -> Self {
        Self::new(error_code::PARSE_ERROR, message)
    }

    /// -32600 Invalid Request.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(error_code::INVALID_REQUEST, message)
    }

    /// -32601 Method not found, naming the method.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            error_code::METHOD_NOT_FOUND,
            format!("Method not found: {method}"),
        )
    }

    /// -32602 Invalid params.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(error_code::INVALID_PARAMS, message)
    }

    /// -32603 Internal error, with a message that leaks nothing internal.
    pub fn internal() -> Self {
        Self::new(error_code::INTERNAL_ERROR, "Internal error")
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for ErrorObject {}

/// A JSON-RPC request: it expects a response.
#[derive(Debug, Clone)]
pub struct Request {
    /// The request id.
    pub id: RequestId,
    /// The method name.
    pub method: String,
    /// The raw `params`, if any.
    pub params: Option<Params>,
}

/// A JSON-RPC notification: no id, no response.
#[derive(Debug, Clone)]
pub struct Notification {
    /// The method name.
    pub method: String,
    /// The raw `params`, if any.
    pub params: Option<Params>,
}

/// A JSON-RPC response: a result or an error.
#[derive(Debug, Clone)]
pub struct Response {
    /// The id of the request answered; `None` only for an error about an unreadable request.
    pub id: Option<RequestId>,
    /// The result or the error.
    pub outcome: Result<Box<RawValue>, ErrorObject>,
}

/// Any JSON-RPC message.
#[derive(Debug, Clone)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A response (result or error).
    Response(Response),
}

/// Why bytes could not be read as a JSON-RPC message: the JSON-RPC error to answer with.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct InvalidMessage {
    /// The id of the offending request, when it could be read (B-4).
    pub id: Option<RequestId>,
    /// The error to send back: -32700 for bad JSON, -32600 for bad JSON-RPC.
    pub error: ErrorObject,
}

impl InvalidMessage {
    /// The error to answer an unreadable message with, and the offending request's id if known.
    pub fn new(id: Option<RequestId>, error: ErrorObject) -> Self {
        InvalidMessage { id, error }
    }
}

impl fmt::Display for InvalidMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for InvalidMessage {}

/// A body that is a JSON array (a batch) rather than a single message.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// One message.
    Single(Message),
    /// A batch of raw elements, each to be parsed with [`Message::parse`].
    Batch(Vec<Box<RawValue>>),
}

/// Keeps a present `null` distinct from an absent member.
pub(crate) fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// The `id` member as read in one pass: any JSON value is accepted here and judged later, so a
/// bad id gets its own error (and a null one is told from an absent one).
pub(crate) enum IdField {
    Null,
    Id(RequestId),
    Invalid,
}

impl<'de> Deserialize<'de> for IdField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = IdField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<IdField, E> {
                Ok(IdField::Null)
            }
            fn visit_i64<E>(self, v: i64) -> Result<IdField, E> {
                Ok(IdField::Id(RequestId::Number(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<IdField, E> {
                Ok(
                    i64::try_from(v)
                        .map_or(IdField::Invalid, |v| IdField::Id(RequestId::Number(v))),
                )
            }
            fn visit_str<E>(self, v: &str) -> Result<IdField, E> {
                Ok(IdField::Id(RequestId::String(v.into())))
            }
            fn visit_f64<E>(self, _: f64) -> Result<IdField, E> {
                Ok(IdField::Invalid)
            }
            fn visit_bool<E>(self, _: bool) -> Result<IdField, E> {
                Ok(IdField::Invalid)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<IdField, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(IdField::Invalid)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<IdField, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(IdField::Invalid)
            }
        }
        d.deserialize_any(Visitor)
    }
}

fn present_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IdField>, D::Error> {
    IdField::deserialize(d).map(Some)
}

/// The members of a message, borrowed from the body: only `method` and `params` (or `result`)
/// are copied out, once the message is known to be valid.
#[derive(Deserialize, Default)]
pub(crate) struct Envelope<'a> {
    #[serde(default, borrow)]
    pub(crate) jsonrpc: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "present_id")]
    pub(crate) id: Option<IdField>,
    #[serde(default)]
    pub(crate) method: Option<String>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(crate) params: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(crate) result: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(crate) error: Option<&'a RawValue>,
}

fn invalid(id: Option<RequestId>, message: impl Into<String>) -> InvalidMessage {
    InvalidMessage {
        id,
        error: ErrorObject::invalid_request(message),
    }
}

pub(crate) fn first_byte(bytes: &[u8]) -> Option<u8> {
    bytes.iter().copied().find(|b| !b.is_ascii_whitespace())
}

fn json_error(e: &serde_json::Error) -> InvalidMessage {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => invalid(None, "Invalid Request: not a JSON-RPC 2.0 message"),
        _ => InvalidMessage {
            id: None,
            error: ErrorObject::parse_error(format!("Parse error: {e}")),
        },
    }
}

impl Parsed {
    /// Parses a body that may be one message or a batch array.
    pub fn parse(bytes: &[u8]) -> Result<Parsed, InvalidMessage> {
        if first_byte(bytes) == Some(b'[') {
            let items: Vec<Box<RawValue>> =
                serde_json::from_slice(bytes).map_err(|e| json_error(&e))?;
            if items.is_empty() {
                return Err(invalid(None, "Invalid Request: empty batch"));
            }
            return Ok(Parsed::Batch(items));
        }
        Message::parse(bytes).map(Parsed::Single)
    }

    /// [`Parsed::parse`] of a received body whose params stay ranges of it (PF-50): a single
    /// message's params are not copied.
    pub fn parse_shared(body: &bytes::Bytes) -> Result<Parsed, InvalidMessage> {
        if first_byte(body) == Some(b'[') {
            return Self::parse(body);
        }
        Message::parse_shared(body).map(Parsed::Single)
    }
}

impl Message {
    /// Parses one JSON-RPC message. A batch array is rejected with -32600; use [`Parsed::parse`]
    /// where batches are allowed.
    pub fn parse(bytes: &[u8]) -> Result<Message, InvalidMessage> {
        let text = Self::text(bytes)?;
        let env: Envelope = serde_json::from_str(text).map_err(|e| json_error(&e))?;
        let params = env.params.map(|raw| Params::from_raw(raw.to_owned()));
        Self::classify(env, params)
    }

    /// [`Message::parse`] of a received body, whose params become a range of it: shared, not
    /// copied (PF-50).
    pub fn parse_shared(body: &bytes::Bytes) -> Result<Message, InvalidMessage> {
        let text = Self::text(body)?;
        let env: Envelope = serde_json::from_str(text).map_err(|e| json_error(&e))?;
        let params = env
            .params
            .map(|raw| Params::shared(body.slice_ref(raw.get().as_bytes())));
        Self::classify(env, params)
    }

    /// The body as text, or why it is no JSON-RPC message: not an object, not UTF-8.
    pub(crate) fn text(bytes: &[u8]) -> Result<&str, InvalidMessage> {
        if first_byte(bytes) != Some(b'{') {
            // Tell bad JSON (-32700) from JSON that is not an object (-32600).
            return match serde_json::from_slice::<IgnoredAny>(bytes) {
                Err(e) => Err(json_error(&e)),
                Ok(_) if first_byte(bytes) == Some(b'[') => {
                    Err(invalid(None, "Invalid Request: batches are not supported"))
                }
                Ok(_) => Err(invalid(
                    None,
                    "Invalid Request: a message must be a JSON object",
                )),
            };
        }
        // UTF-8 checked once for the whole body: reading from a `str`, serde_json checks no string
        // or raw value again (from bytes it validates each of them).
        std::str::from_utf8(bytes).map_err(|_| InvalidMessage {
            id: None,
            error: ErrorObject::parse_error("Parse error: the body is not UTF-8"),
        })
    }

    /// The message `env` holds, its params (`env.params` as the reader keeps them) given apart.
    pub(crate) fn classify(
        env: Envelope<'_>,
        params: Option<Params>,
    ) -> Result<Message, InvalidMessage> {
        let id = match &env.id {
            None | Some(IdField::Null) => None,
            Some(IdField::Id(id)) => Some(id.clone()),
            Some(IdField::Invalid) => {
                return Err(invalid(
                    None,
                    "Invalid Request: id must be a string or an integer",
                ));
            }
        };
        if env.jsonrpc.map(RawValue::get) != Some("\"2.0\"") {
            return Err(invalid(id, "Invalid Request: jsonrpc must be \"2.0\""));
        }
        if let Some(p) = &params
            && !matches!(first_byte(p.as_bytes()), Some(b'{') | Some(b'['))
        {
            return Err(invalid(id, "Invalid Request: params must be an object"));
        }
        if let Some(method) = env.method {
            if env.result.is_some() || env.error.is_some() {
                return Err(invalid(
                    id,
                    "Invalid Request: a request cannot carry result or error",
                ));
            }
            return match (env.id, id) {
                (None, _) => Ok(Message::Notification(Notification { method, params })),
                (Some(_), None) => Err(invalid(None, "Invalid Request: id must not be null")),
                (Some(_), Some(id)) => Ok(Message::Request(Request { id, method, params })),
            };
        }
        match (env.result, env.error) {
            (Some(result), None) => match id {
                Some(id) => Ok(Message::Response(Response {
                    id: Some(id),
                    outcome: Ok(result.to_owned()),
                })),
                None => Err(invalid(None, "Invalid Request: a result needs an id")),
            },
            (None, Some(error)) => {
                let error: ErrorObject = serde_json::from_str(error.get())
                    .map_err(|_| invalid(id.clone(), "Invalid Request: malformed error object"))?;
                Ok(Message::Response(Response {
                    id,
                    outcome: Err(error),
                }))
            }
            (Some(_), Some(_)) => Err(invalid(id, "Invalid Request: both result and error")),
            (None, None) => Err(invalid(
                id,
                "Invalid Request: a message needs a method, a result or an error",
            )),
        }
    }

    /// Serializes the message as one line of JSON.
    pub fn to_json(&self) -> String {
        String::from_utf8(self.to_json_bytes()).unwrap_or_default()
    }

    /// The same JSON as [`Message::to_json`], as bytes (what transports send: no UTF-8 check of
    /// what serde_json just wrote).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // Sized up front: the raw params or result are most of the message, and growing the
        // buffer would copy them again.
        let raw = match self {
            Message::Request(r) => r.params.as_ref().map_or(0, |p| p.as_bytes().len()),
            Message::Notification(n) => n.params.as_ref().map_or(0, |p| p.as_bytes().len()),
            Message::Response(r) => r.outcome.as_ref().map_or(64, |v| v.get().len()),
        };
        if let Message::Response(Response {
            id: Some(id),
            outcome: Ok(result),
        }) = self
        {
            // The most common message, written without the serializer's state machine: the
            // envelope's constant parts as they are, the id, then the result copied once, into
            // a buffer of exactly its size (a `Bytes` made from it then needs no allocation of
            // its own; PF-5).
            const PREFIX: &[u8] = b"{\"jsonrpc\":\"2.0\",\"id\":";
            const RESULT: &[u8] = b",\"result\":";
            let mut number = itoa::Buffer::new();
            let (quoted, id_text) = match id {
                RequestId::Number(n) => (false, number.format(*n).as_bytes()),
                // A string that needs no escaping is written as it is, between quotes.
                RequestId::String(text)
                    if !text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') =>
                {
                    (true, text.as_bytes())
                }
                RequestId::String(_) => return self.to_json_bytes_with(raw + 96),
            };
            let result = result.get().as_bytes();
            let quotes = if quoted { 2 } else { 0 };
            let size = PREFIX.len() + id_text.len() + quotes + RESULT.len() + result.len() + 1;
            let mut out = Vec::with_capacity(size);
            out.extend_from_slice(PREFIX);
            if quoted {
                out.push(b'"');
            }
            out.extend_from_slice(id_text);
            if quoted {
                out.push(b'"');
            }
            out.extend_from_slice(RESULT);
            out.extend_from_slice(result);
            out.push(b'}');
            return out;
        }
        self.to_json_bytes_with(raw + 96)
    }

    /// Serializes the message through serde into a buffer of `capacity`.
    fn to_json_bytes_with(&self, capacity: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(capacity);
        // Serializing these types cannot fail: every field is a string, a number or valid raw JSON.
        if serde_json::to_writer(&mut out, self).is_err() {
            out.clear();
        }
        out
    }
}

/// Decodes raw params into `T`, naming the offending field in the error (-32602).
pub fn decode_params<T: DeserializeOwned>(params: Option<&str>) -> Result<T, ErrorObject> {
    decode_naming_field(params.unwrap_or("{}"))
        .map_err(|e| ErrorObject::invalid_params(format!("Invalid params: {e}")))
}

/// Decodes JSON text into `T`; the error names the offending field (`a.b: invalid type ...`),
/// or only the reason when the whole value is wrong.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Add { a: f64 }
/// let e = mcp_http_proto::jsonrpc::decode_naming_field::<Add>(r#"{"a":"x"}"#).err().unwrap();
/// assert!(e.starts_with("a: invalid type"), "{e}");
/// ```
pub fn decode_naming_field<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        }
    })
}

impl Request {
    /// A request with typed params.
    pub fn new(
        id: impl Into<RequestId>,
        method: impl Into<String>,
        params: Option<Box<RawValue>>,
    ) -> Self {
        Request {
            id: id.into(),
            method: method.into(),
            params: params.map(Params::from_raw),
        }
    }

    /// Decodes `params` into `T` (missing params decode from `{}`); -32602 when they do not fit.
    pub fn params_as<T: DeserializeOwned>(&self) -> Result<T, ErrorObject> {
        decode_params(self.params.as_deref())
    }
}

impl Notification {
    /// Decodes `params` into `T` (missing params decode from `{}`); -32602 when they do not fit.
    pub fn params_as<T: DeserializeOwned>(&self) -> Result<T, ErrorObject> {
        decode_params(self.params.as_deref())
    }
}

impl Response {
    /// Decodes the result into `T`, or returns the error response's error.
    pub fn result_as<T: DeserializeOwned>(&self) -> Result<T, ErrorObject> {
        match &self.outcome {
            Ok(raw) => serde_json::from_str(raw.get())
                .map_err(|e| ErrorObject::invalid_params(format!("Invalid result: {e}"))),
            Err(e) => Err(e.clone()),
        }
    }
}

/// Serializes any value to raw JSON, for `params` and `result`.
pub fn to_raw<T: Serialize + ?Sized>(value: &T) -> Result<Box<RawValue>, serde_json::Error> {
    serde_json::value::to_raw_value(value)
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Message::Request(r) => {
                let mut st = s.serialize_struct("Request", 4)?;
                st.serialize_field("jsonrpc", "2.0")?;
                st.serialize_field("id", &r.id)?;
                st.serialize_field("method", &r.method)?;
                if let Some(p) = &r.params {
                    st.serialize_field("params", p)?;
                }
                st.end()
            }
            Message::Notification(n) => {
                let mut st = s.serialize_struct("Notification", 3)?;
                st.serialize_field("jsonrpc", "2.0")?;
                st.serialize_field("method", &n.method)?;
                if let Some(p) = &n.params {
                    st.serialize_field("params", p)?;
                }
                st.end()
            }
            Message::Response(r) => {
                let mut st = s.serialize_struct("Response", 3)?;
                st.serialize_field("jsonrpc", "2.0")?;
                match &r.outcome {
                    Ok(result) => {
                        st.serialize_field("id", &r.id)?;
                        st.serialize_field("result", result)?;
                    }
                    Err(error) => {
                        // B-4: an unreadable request's error carries `"id": null`.
                        st.serialize_field("id", &r.id)?;
                        st.serialize_field("error", error)?;
                    }
                }
                st.end()
            }
        }
    }
}

#[cfg(test)]
mod tests;
