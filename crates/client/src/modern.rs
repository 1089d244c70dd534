//! Requests in the 2026-07-28 era: each one stands alone, with the `_meta` envelope (M-1,
//! M-1a) and the per-request headers (set on [`ModernRequest`] for the transport: H-7, H-10);
//! one retry after -32022 with a version the server names (M-6) and one after -32020 with a
//! fresh `tools/list` (H-10); `resultType` checked (M-8); and the MRTR loop (MR-1): the inputs
//! of an `input_required` result collected through the same sampling, elicitation and roots
//! handlers as the legacy era's server-to-client requests, then the request sent again with a
//! new id, the answers and the exact `requestState`, for a bounded number of rounds.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use mcp_http_core::reply::{ReplyReader, result_text};
use mcp_http_core::sync::lock;
use mcp_http_core::{
    CancellationToken, Handler, ModernRequest, Peer, RequestContext, RequestError, RequestOptions,
};
use mcp_http_proto::jsonrpc::{Request, RequestId, to_raw};
use mcp_http_proto::modern::{
    META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_LOG_LEVEL, META_PROTOCOL_VERSION, ResultType,
};
use mcp_http_proto::{
    ClientCapabilities, Implementation, LoggingLevel, ProtocolVersion, error_code, method,
};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::era::{Verdict, classify};
use crate::handler::ClientHandler;
use crate::param_headers;

mod envelope;
mod result_type;
use envelope::Envelope;
use result_type::{result_type, result_type_of};

/// The most `input_required` rounds one request goes through before it fails.
pub(crate) const MAX_INPUT_ROUNDS: usize = 8;

/// What a `tools/call`'s params written straight into the message are expected to take: the
/// envelope's `_meta` (about 200 bytes) and a small call's name and arguments, so the
/// message's buffer does not grow while it is written (PF-105).
const TYPED_PARAMS_SIZE: usize = 512;

/// `(property, header name)` of each annotated parameter, by tool name.
type ToolHeaders = HashMap<String, Vec<(String, String)>>;

/// What every modern request of a client shares.
pub(crate) struct Modern {
    /// The version requests are sent under, the log level they ask for, and the `_meta`
    /// members that follow from them, as JSON text.
    envelope: Mutex<Envelope>,
    capabilities: Value,
    info: Value,
    /// The `x-mcp-header` annotations of each listed tool that has any; `None` until a
    /// `tools/list`.
    tools: Mutex<Option<ToolHeaders>>,
}

impl Modern {
    /// A client declaring `capabilities` and `info`, speaking `version`.
    pub(crate) fn new(
        version: ProtocolVersion,
        capabilities: &ClientCapabilities,
        info: &Implementation,
        log_level: Option<LoggingLevel>,
    ) -> Modern {
        let capabilities = serde_json::to_value(capabilities).unwrap_or_default();
        let info = serde_json::to_value(info).unwrap_or_default();
        Modern {
            envelope: Mutex::new(Envelope::new(version, log_level, &capabilities, &info)),
            capabilities,
            info,
            tools: Mutex::new(None),
        }
    }

    /// [`Modern::version`] and the request of that version without parameter headers (PF-89).
    fn version_and_request(&self) -> (ProtocolVersion, Arc<ModernRequest>) {
        let envelope = lock(&self.envelope);
        (envelope.version, envelope.request.clone())
    }

    /// Changes the version requests are sent under (after -32022, M-6).
    pub(crate) fn set_version(&self, version: ProtocolVersion) {
        let mut envelope = lock(&self.envelope);
        envelope.version = version;
        envelope.rebuild(&self.capabilities, &self.info);
    }

    /// Changes the log level later requests ask for (LGm-1).
    pub(crate) fn set_log_level(&self, level: Option<LoggingLevel>) {
        let mut envelope = lock(&self.envelope);
        envelope.log_level = level;
        envelope.rebuild(&self.capabilities, &self.info);
    }

    /// The `_meta` members of a request sent under `version` (M-1, M-1a, M-1b).
    fn members(&self, version: ProtocolVersion, meta: &mut Map<String, Value>) {
        meta.insert(META_PROTOCOL_VERSION.into(), version.as_str().into());
        meta.insert(META_CLIENT_CAPABILITIES.into(), self.capabilities.clone());
        meta.insert(META_CLIENT_INFO.into(), self.info.clone());
        if let Some(level) = lock(&self.envelope).log_level {
            meta.insert(
                META_LOG_LEVEL.into(),
                serde_json::to_value(level).unwrap_or_default(),
            );
        }
    }

    /// `params` (JSON text) with the `_meta` envelope (M-1, M-1a, M-1b) and, on an MRTR
    /// retry, the answers and the state (MR-1). Keys the caller put in `_meta` stay.
    fn envelope(
        &self,
        params: &RawValue,
        version: ProtocolVersion,
        retry: Option<&Retry>,
    ) -> Result<Box<RawValue>, RequestError> {
        let text = params.get().trim();
        // The usual request: an object without `_meta` of its own (its text does not even
        // name one) and no MRTR members: the members are written after its own, as text.
        // serde_json writes keys unescaped; text with a `\u` escape takes the long way.
        if retry.is_none()
            && memchr::memmem::find(text.as_bytes(), b"\"_meta\"").is_none()
            && memchr::memmem::find(text.as_bytes(), b"\\u").is_none()
        {
            let envelope = lock(&self.envelope);
            if envelope.version == version {
                let inner = match text {
                    "null" => Some(""),
                    _ => text
                        .strip_prefix('{')
                        .and_then(|t| t.strip_suffix('}'))
                        .map(str::trim),
                };
                if let Some(inner) = inner {
                    let mut out = String::with_capacity(
                        inner.len() + envelope.members.len() + "{,\"_meta\":{}}".len(),
                    );
                    out.push('{');
                    out.push_str(inner);
                    if !inner.is_empty() {
                        out.push(',');
                    }
                    out.push_str("\"_meta\":{");
                    out.push_str(&envelope.members);
                    out.push_str("}}");
                    return RawValue::from_string(out)
                        .map_err(|e| RequestError::Encode(e.to_string()));
                }
            }
        }
        let params: Value =
            serde_json::from_str(text).map_err(|e| RequestError::Encode(e.to_string()))?;
        let mut object = match params {
            Value::Object(o) => o,
            Value::Null => Map::new(),
            _ => return Err(RequestError::Encode("params must be a JSON object".into())),
        };
        let meta = object
            .entry("_meta")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(meta) = meta {
            self.members(version, meta);
        }
        if let Some(retry) = retry {
            object.insert(
                "inputResponses".into(),
                Value::Object(retry.responses.clone()),
            );
            // MR-1: echoed exactly, and absent when the server gave none.
            if let Some(state) = &retry.state {
                object.insert("requestState".into(), Value::String(state.clone()));
            }
        }
        to_raw(&object).map_err(|e| RequestError::Encode(e.to_string()))
    }

    /// `params` with the `_meta` envelope of `version`, serialized in one pass with the
    /// envelope's `_meta` object copied in as it is, so the text is not parsed again to check
    /// it (PF-29: 2.9k instructions per call). `None` when the envelope is of another version,
    /// or when the params name a `_meta` of their own (whose keys must be kept: the general
    /// path merges them).
    #[cfg(test)]
    pub(crate) fn enveloped<P: serde::Serialize>(
        &self,
        params: &P,
        version: ProtocolVersion,
    ) -> Option<Box<RawValue>> {
        #[derive(serde::Serialize)]
        struct WithMeta<'a, P> {
            #[serde(flatten)]
            params: &'a P,
            #[serde(rename = "_meta")]
            meta: &'a RawValue,
        }
        self.enveloped_with(version, |meta| to_raw(&WithMeta { params, meta }).ok())
    }

    /// The version requests are sent under and its envelope's `_meta` object, for a
    /// `tools/call` to write into its params in their one serialization ([`EnvelopedCall`],
    /// PF-105).
    pub(crate) fn version_and_meta(&self) -> (ProtocolVersion, Arc<RawValue>) {
        let envelope = lock(&self.envelope);
        (envelope.version, envelope.meta.clone())
    }

    /// The params `write` writes with the `_meta` object of `version`'s envelope, when that is
    /// the envelope's version and theirs is the one `_meta`.
    #[cfg(test)]
    fn enveloped_with(
        &self,
        version: ProtocolVersion,
        write: impl FnOnce(&RawValue) -> Option<Box<RawValue>>,
    ) -> Option<Box<RawValue>> {
        let envelope = lock(&self.envelope);
        if envelope.version != version {
            return None;
        }
        let raw = write(&envelope.meta)?;
        let text = raw.get().as_bytes();
        // Ours is the one `"_meta"` unless the params (or an escape) could hold another.
        let named = memchr::memmem::find_iter(text, b"\"_meta\"")
            .take(2)
            .count();
        (named == 1 && memchr::memmem::find(text, b"\\u").is_none()).then_some(raw)
    }

    /// The `Mcp-Param-*` headers of a `tools/call` of tool `name` (read from the params when
    /// not given) with `params` (H-10). The params are read (and typed ones written) only for a
    /// tool with annotations.
    fn param_headers<P: serde::Serialize + ?Sized>(
        &self,
        name: Option<&str>,
        params: &mut Params<'_, P>,
    ) -> Result<Vec<(String, String)>, RequestError> {
        #[derive(serde::Deserialize)]
        struct Name<'a> {
            #[serde(borrow)]
            name: std::borrow::Cow<'a, str>,
        }
        #[derive(serde::Deserialize)]
        struct Arguments {
            #[serde(default)]
            arguments: Option<Map<String, Value>>,
        }
        let tools = lock(&self.tools);
        let Some(tools) = tools.as_ref().filter(|t| !t.is_empty()) else {
            return Ok(Vec::new());
        };
        let annotations = match name {
            Some(name) => tools.get(name),
            None => match serde_json::from_str::<Name<'_>>(params.raw()?.get()) {
                Ok(call) => tools.get(call.name.as_ref()),
                Err(_) => None,
            },
        };
        let Some(annotations) = annotations else {
            return Ok(Vec::new());
        };
        Ok(
            match serde_json::from_str::<Arguments>(params.raw()?.get()) {
                Ok(call) => param_headers::values(annotations, call.arguments.as_ref()),
                Err(_) => Vec::new(),
            },
        )
    }

    fn knows_tools(&self) -> bool {
        lock(&self.tools).is_some()
    }

    /// Drops the tools whose annotations are invalid from a `tools/list` result (H-10, with a
    /// warning) and remembers the annotations of the others.
    fn filter_tools(&self, raw: Box<RawValue>) -> Result<Box<RawValue>, RequestError> {
        let mut result: Map<String, Value> = serde_json::from_str(raw.get())
            .map_err(|e| RequestError::InvalidResponse(e.to_string()))?;
        let Some(Value::Array(tools)) = result.get_mut("tools") else {
            return Ok(raw);
        };
        let mut known = lock(&self.tools);
        let known = known.get_or_insert_with(HashMap::new);
        let before = tools.len();
        tools.retain(|tool| {
            let name = tool["name"].as_str().unwrap_or_default().to_owned();
            let Some(schema) = tool["inputSchema"].as_object() else {
                return true;
            };
            match param_headers::annotations(schema) {
                Ok(annotations) if annotations.is_empty() => {
                    known.remove(&name);
                    true
                }
                Ok(annotations) => {
                    known.insert(name, annotations);
                    true
                }
                Err(why) => {
                    tracing::warn!(tool = %name, reason = %why.0, "tool dropped from tools/list: invalid x-mcp-header (H-10)");
                    known.remove(&name);
                    false
                }
            }
        });
        if tools.len() == before {
            return Ok(raw);
        }
        to_raw(&result).map_err(|e| RequestError::Encode(e.to_string()))
    }
}

/// `params` without their `_meta` member (the envelope of an earlier try).
fn without_meta(params: &RawValue) -> Result<Box<RawValue>, RequestError> {
    let mut object: Map<String, Value> =
        serde_json::from_str(params.get()).map_err(|e| RequestError::Encode(e.to_string()))?;
    object.remove("_meta");
    to_raw(&object).map_err(|e| RequestError::Encode(e.to_string()))
}

/// A `tools/call`'s params with the envelope's `_meta` (M-1, M-1a, M-1b), written in one
/// pass straight into the request's message (PF-105): its members in the order the general
/// path writes them, `_meta` last; the params' own top-level members are only `name` and
/// `arguments`, so ours is their one `_meta`.
#[derive(serde::Serialize)]
pub(crate) struct EnvelopedCall<'a, A: ?Sized> {
    pub(crate) name: &'a str,
    pub(crate) arguments: &'a A,
    #[serde(rename = "_meta")]
    pub(crate) meta: &'a RawValue,
}

/// A request's params: typed ones, written straight into the first try's message (PF-105),
/// or JSON text, which typed ones become when a retry or the parameter headers need them.
pub(crate) enum Params<'a, P: ?Sized> {
    /// Not written yet.
    Typed(&'a P),
    /// As JSON text.
    Raw(Box<RawValue>),
}

impl<P: serde::Serialize + ?Sized> Params<'_, P> {
    /// The params as JSON text, written now if they were typed.
    fn raw(&mut self) -> Result<&RawValue, RequestError> {
        if let Params::Typed(typed) = self {
            *self = Params::Raw(to_raw(typed).map_err(|e| RequestError::Encode(e.to_string()))?);
        }
        match self {
            Params::Raw(raw) => Ok(raw),
            // Made raw just above.
            Params::Typed(_) => Err(RequestError::Encode("params not written".to_owned())),
        }
    }
}

/// The MRTR members of the next try of a request.
struct Retry {
    responses: Map<String, Value>,
    state: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct InputRequired {
    #[serde(default)]
    input_requests: Option<Map<String, Value>>,
    #[serde(default)]
    request_state: Option<String>,
}

/// What a modern request needs from its client (cheap to clone).
#[derive(Clone)]
pub(crate) struct Context {
    pub(crate) peer: Peer,
    pub(crate) modern: Arc<Modern>,
    pub(crate) handler: Arc<ClientHandler>,
}

impl Context {
    /// Sends `method` with `params` in the modern era and returns the complete result.
    pub(crate) fn request<'a>(
        &'a self,
        method: &'a str,
        params: Box<RawValue>,
        options: RequestOptions,
    ) -> BoxFuture<'a, Result<Box<RawValue>, RequestError>> {
        self.request_about(method, params, None, options)
    }

    /// [`Context::request`] for a request about `name` (the tool of a `tools/call`), when the
    /// caller knows it.
    pub(crate) fn request_about<'a>(
        &'a self,
        method: &'a str,
        params: Box<RawValue>,
        name: Option<&'a str>,
        options: RequestOptions,
    ) -> BoxFuture<'a, Result<Box<RawValue>, RequestError>> {
        Box::pin(async move {
            self.send::<RawValue>(method, Params::Raw(params), None, name, options, None)
                .await?
                // Without a typed reader the result is always raw.
                .ok_or_else(|| RequestError::InvalidResponse("no result".to_owned()))
        })
    }

    /// [`Context::request_about`] for a `tools/call` whose params carry the envelope of
    /// `version` ([`EnvelopedCall`]): written straight into the message unless a retry needs
    /// them again (PF-105). The body of an answer holding a complete result, when the
    /// transport holds it whole, is offered to `typed` (PF-35): `Ok(None)` when it took it.
    pub(crate) async fn call_tool_enveloped<A: serde::Serialize + ?Sized>(
        &self,
        call: &EnvelopedCall<'_, A>,
        version: ProtocolVersion,
        options: RequestOptions,
        typed: &mut ReplyReader<'_>,
    ) -> Result<Option<Box<RawValue>>, RequestError> {
        // Not boxed: the recursion through `refresh_tools` is boxed by `request_about`.
        self.send(
            method::TOOLS_CALL,
            Params::Typed(call),
            Some(version),
            Some(call.name),
            options,
            Some(typed),
        )
        .await
    }

    /// Sends `params`; `enveloped` is the version whose envelope they already carry, if any.
    /// `Ok(None)` when `typed` took the complete result.
    async fn send<P: serde::Serialize + ?Sized>(
        &self,
        method: &str,
        mut params: Params<'_, P>,
        mut enveloped: Option<ProtocolVersion>,
        name: Option<&str>,
        options: RequestOptions,
        mut typed: Option<&mut ReplyReader<'_>>,
    ) -> Result<Option<Box<RawValue>>, RequestError> {
        if method == method::TOOLS_CALL && !self.modern.knows_tools() {
            // H-10: the headers come from the tool's schema; learn it once.
            self.refresh_tools(&options).await;
        }
        let (mut version_retried, mut headers_retried) = (false, false);
        let mut retry: Option<Retry> = None;
        let mut rounds = 0;
        loop {
            let (version, shared) = self.modern.version_and_request();
            let headers = match method {
                method::TOOLS_CALL => self.modern.param_headers(name, &mut params)?,
                _ => Vec::new(),
            };
            let built = match enveloped {
                // As the caller built them, while their envelope is the one to send.
                Some(v) if v == version && retry.is_none() => None,
                Some(_) => {
                    // Another version or an MRTR retry: from the params without it.
                    params = Params::Raw(without_meta(params.raw()?)?);
                    enveloped = None;
                    Some(
                        self.modern
                            .envelope(params.raw()?, version, retry.as_ref())?,
                    )
                }
                None => Some(
                    self.modern
                        .envelope(params.raw()?, version, retry.as_ref())?,
                ),
            };
            // PF-89: a request with no parameter headers shares its version's.
            let sent = match headers.is_empty() {
                true => options.clone().modern_shared(shared),
                false => {
                    let mut request = ModernRequest::new(version.as_str());
                    request.params = headers;
                    options.clone().modern(request)
                }
            };
            let outcome = match (name, built) {
                // PF-21: the name is known, and the params are written from where they
                // are (no copy, no read for the name).
                (Some(name), built) => {
                    let about = Some(Cow::Owned(name.to_owned()));
                    // PF-35: a result known complete from its text where our servers put
                    // it (PF-20) is read by the caller in one pass, which checks the rest
                    // (a body it does not take goes the general way).
                    let mut reader = |id: &RequestId, body: &[u8]| {
                        let Some(typed) = typed.as_deref_mut() else {
                            return false;
                        };
                        method != method::TOOLS_LIST
                            && result_text(id, body).is_some_and(|text| {
                                matches!(
                                    result_type_of(text),
                                    Ok(None | Some(ResultType::Complete))
                                )
                            })
                            && typed(id, body)
                    };
                    match (&built, &params) {
                        // PF-105: written once, straight into the message.
                        (None, Params::Typed(typed)) => {
                            self.peer
                                .request_about_reading_sized(
                                    method,
                                    Some(*typed),
                                    TYPED_PARAMS_SIZE,
                                    about,
                                    sent,
                                    &mut reader,
                                )
                                .await
                        }
                        (Some(raw), _) | (None, Params::Raw(raw)) => {
                            self.peer
                                .request_raw_about_reading(
                                    method,
                                    Some(&**raw),
                                    about,
                                    sent,
                                    Some(&mut reader),
                                )
                                .await
                        }
                    }
                }
                (None, Some(built)) => self
                    .peer
                    .request_raw(method, Some(built), sent)
                    .await
                    .map(Some),
                (None, None) => self
                    .peer
                    .request_raw(method, Some(params.raw()?.to_owned()), sent)
                    .await
                    .map(Some),
            };
            let result = match outcome {
                Ok(Some(result)) => result,
                Ok(None) => return Ok(None),
                Err(RequestError::Rpc(e))
                    if e.code == error_code::UNSUPPORTED_PROTOCOL_VERSION && !version_retried =>
                {
                    // M-6: once, with a version from the server's list that we speak.
                    version_retried = true;
                    match classify(RequestError::Rpc(e.clone())) {
                        Ok(Verdict::RetryWith(v)) => {
                            self.modern.set_version(v);
                            continue;
                        }
                        _ => return Err(RequestError::Rpc(e)),
                    }
                }
                Err(RequestError::Rpc(e))
                    if e.code == error_code::HEADER_MISMATCH
                        && method == method::TOOLS_CALL
                        && !headers_retried =>
                {
                    // H-10: the tool may have changed; list again, then once more.
                    headers_retried = true;
                    self.refresh_tools(&options).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            match result_type(&result)? {
                // M-8: absent means complete.
                None | Some(ResultType::Complete) if method == method::TOOLS_LIST => {
                    return self.modern.filter_tools(result).map(Some);
                }
                None | Some(ResultType::Complete) => return Ok(Some(result)),
                Some(ResultType::InputRequired) => {
                    rounds += 1;
                    if rounds > MAX_INPUT_ROUNDS {
                        return Err(RequestError::InvalidResponse(format!(
                            "the server still asked for input after {MAX_INPUT_ROUNDS} \
                             rounds of {method}"
                        )));
                    }
                    let asked: InputRequired = serde_json::from_str(result.get())
                        .map_err(|e| RequestError::InvalidResponse(e.to_string()))?;
                    let responses = self
                        .answer_inputs(asked.input_requests.unwrap_or_default())
                        .await?;
                    retry = Some(Retry {
                        responses,
                        state: asked.request_state,
                    });
                }
                Some(other) => {
                    return Err(RequestError::InvalidResponse(format!(
                        "unknown resultType {other:?} (M-8)"
                    )));
                }
            }
        }
    }

    /// Lists every tool again, to learn their `x-mcp-header` annotations. A failure leaves
    /// the call without parameter headers; the server will say if it needed them.
    async fn refresh_tools(&self, options: &RequestOptions) {
        let mut cursor: Option<String> = None;
        for _ in 0..100 {
            let params = match &cursor {
                Some(c) => to_raw(&serde_json::json!({ "cursor": c })),
                None => to_raw(&serde_json::json!({})),
            };
            let Ok(params) = params else {
                return;
            };
            let page = match self
                .request(method::TOOLS_LIST, params, options.clone())
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    tracing::debug!(error = %e, "tools/list for the parameter headers failed");
                    return;
                }
            };
            let next = serde_json::from_str::<Value>(page.get())
                .ok()
                .and_then(|v| v["nextCursor"].as_str().map(str::to_owned));
            match next {
                Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
                _ => return,
            }
        }
    }

    /// Answers each input request through the client's handlers, as it would answer the
    /// same request sent by a server in a legacy session.
    async fn answer_inputs(
        &self,
        requests: Map<String, Value>,
    ) -> Result<Map<String, Value>, RequestError> {
        let mut responses = Map::new();
        for (key, request) in requests {
            let Some(method) = request["method"].as_str() else {
                return Err(RequestError::InvalidResponse(format!(
                    "input request {key:?} has no method"
                )));
            };
            let params = match request.get("params") {
                Some(p) => Some(to_raw(p).map_err(|e| RequestError::Encode(e.to_string()))?),
                None => None,
            };
            let id = RequestId::String(format!("input:{key}").into());
            let ctx =
                RequestContext::detached(self.peer.clone(), id.clone(), CancellationToken::new());
            let answer = self
                .handler
                .handle_request(
                    Request {
                        id,
                        method: method.to_owned(),
                        params: params.map(Into::into),
                    },
                    ctx,
                )
                .await
                .map_err(RequestError::Rpc)?;
            let answer: Value = serde_json::from_str(answer.get())
                .map_err(|e| RequestError::Encode(e.to_string()))?;
            responses.insert(key, answer);
        }
        Ok(responses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2026-07-28 client "c" 1 asking for debug logs, and its version.
    fn debug_client() -> (Modern, ProtocolVersion) {
        let v = ProtocolVersion::V2026_07_28;
        let modern = Modern::new(
            v,
            &ClientCapabilities::default(),
            &Implementation::new("c", "1"),
            Some(LoggingLevel::Debug),
        );
        (modern, v)
    }

    /// PF-89: requests without parameter headers share their version's request, which
    /// follows the version (M-6).
    #[test]
    fn requests_share_their_versions_request() {
        let (modern, v) = debug_client();
        let (version, one) = modern.version_and_request();
        let (_, two) = modern.version_and_request();
        assert_eq!(version, v);
        assert!(Arc::ptr_eq(&one, &two));
        assert_eq!(one.protocol_version, v.as_str());
        assert!(one.params.is_empty());
        modern.set_version(ProtocolVersion::LATEST_LEGACY);
        let (version, three) = modern.version_and_request();
        assert_eq!(version, ProtocolVersion::LATEST_LEGACY);
        assert_eq!(three.protocol_version, version.as_str());
    }

    #[test]
    fn the_envelope_is_added_as_text_or_through_a_tree() {
        let (modern, v) = debug_client();
        let with = |params: &str| -> Value {
            let raw = RawValue::from_string(params.to_owned()).unwrap();
            serde_json::from_str(modern.envelope(&raw, v, None).unwrap().get()).unwrap()
        };
        for params in [
            r#"{"name":"echo","arguments":{"m":"x"}}"#,
            r#"{ }"#,
            "null",
            r#"{"name":"a\u0062"}"#,
        ] {
            let out = with(params);
            assert_eq!(
                out["_meta"][META_PROTOCOL_VERSION], "2026-07-28",
                "{params}"
            );
            assert_eq!(out["_meta"][META_CLIENT_INFO]["name"], "c", "{params}");
            assert_eq!(out["_meta"][META_LOG_LEVEL], "debug", "{params}");
        }
        assert_eq!(with(r#"{"name":"echo"}"#)["name"], "echo");
        // The caller's own `_meta` keys stay.
        let out = with(r#"{"_meta":{"k":1},"name":"echo"}"#);
        assert_eq!(out["_meta"]["k"], 1);
        assert_eq!(out["_meta"][META_PROTOCOL_VERSION], "2026-07-28");
        let raw = RawValue::from_string("[1]".to_owned()).unwrap();
        assert!(modern.envelope(&raw, v, None).is_err());
    }

    /// PF-29: a `tools/call`'s params enveloped in their one serialization are the params the
    /// general path makes; params with a `_meta` of their own, or another version, take that
    /// path; a retry starts again from the params without the envelope.
    #[test]
    fn a_call_is_enveloped_in_its_one_serialization_as_the_general_path_would() {
        let (modern, v) = debug_client();
        let params = serde_json::json!({"name": "echo", "arguments": {"message": "hi"}});
        let fast: Value =
            serde_json::from_str(modern.enveloped(&params, v).unwrap().get()).unwrap();
        let general: Value = serde_json::from_str(
            modern
                .envelope(&to_raw(&params).unwrap(), v, None)
                .unwrap()
                .get(),
        )
        .unwrap();
        assert_eq!(fast, general);
        assert_eq!(fast["_meta"][META_LOG_LEVEL], "debug");
        let own_meta = serde_json::json!({"name": "echo", "_meta": {"k": 1}});
        assert!(modern.enveloped(&own_meta, v).is_none());
        assert!(
            modern
                .enveloped(&params, ProtocolVersion::LATEST_LEGACY)
                .is_none()
        );
        let again: Value = serde_json::from_str(
            without_meta(&modern.enveloped(&params, v).unwrap())
                .unwrap()
                .get(),
        )
        .unwrap();
        assert_eq!(again, params);
    }

    /// PF-105: a call's params written with the envelope in one pass are the text the
    /// flattened params with the envelope give (the general path's when the arguments name no
    /// `_meta`), and the same JSON as the general path's when they do (its `_meta` stays in
    /// the arguments, ours is the params' one).
    #[test]
    fn a_call_enveloped_without_flatten_is_the_same_text() {
        let (modern, v) = debug_client();
        let cases = [
            serde_json::json!({"message": "hi"}),
            serde_json::json!({}),
            serde_json::json!({"a": [1, {"b": null}], "q\"": "\u{e9}"}),
            serde_json::json!({"_meta": {"k": 1}}),
            serde_json::json!({"x": {"_meta": "\u{1}"}}),
            serde_json::json!(null),
        ];
        for arguments in cases {
            // The params as `Client::call_tool_with` writes them: the name first.
            #[derive(serde::Serialize)]
            struct CallParams<'a> {
                name: &'a str,
                arguments: &'a Value,
            }
            let params = CallParams {
                name: "e\"cho",
                arguments: &arguments,
            };
            let (version, meta) = modern.version_and_meta();
            assert_eq!(version, v);
            let call = EnvelopedCall {
                name: "e\"cho",
                arguments: &arguments,
                meta: &meta,
            };
            let mut typed = Params::Typed(&call);
            let direct = typed.raw().unwrap().get().to_owned();
            if let Some(flattened) = modern.enveloped(&params, v) {
                assert_eq!(direct, flattened.get(), "{arguments}");
            }
            let general = modern.envelope(&to_raw(&params).unwrap(), v, None).unwrap();
            let general: Value = serde_json::from_str(general.get()).unwrap();
            let direct: Value = serde_json::from_str(&direct).unwrap();
            assert_eq!(direct, general, "{arguments}");
        }
    }

    /// PF-105: the parameter headers of a tool without annotations never write typed params;
    /// a tool with them reads them written.
    #[test]
    fn typed_params_are_written_only_when_read() {
        let (modern, _) = debug_client();
        let arguments = serde_json::json!({"region": "eu"});
        let (_, meta) = modern.version_and_meta();
        let call = EnvelopedCall {
            name: "echo",
            arguments: &arguments,
            meta: &meta,
        };
        let mut params = Params::Typed(&call);
        assert!(
            modern
                .param_headers(Some("echo"), &mut params)
                .unwrap()
                .is_empty()
        );
        assert!(matches!(params, Params::Typed(_)));
        lock(&modern.tools).get_or_insert_with(HashMap::new).insert(
            "echo".to_owned(),
            vec![("region".to_owned(), "Region".to_owned())],
        );
        assert!(
            modern
                .param_headers(Some("other"), &mut params)
                .unwrap()
                .is_empty()
        );
        assert!(matches!(params, Params::Typed(_)));
        let headers = modern.param_headers(Some("echo"), &mut params).unwrap();
        assert!(matches!(params, Params::Raw(_)));
        let general = modern
            .param_headers::<RawValue>(
                Some("echo"),
                &mut Params::Raw(params.raw().unwrap().to_owned()),
            )
            .unwrap();
        assert_eq!(headers, general);
        assert!(!headers.is_empty(), "{headers:?}");
    }
}
