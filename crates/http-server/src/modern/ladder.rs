//! The validation ladder of a 2026-07-28 request: what is checked, in which order, and what each
//! failure is answered with. The order is data ([`LADDER`]), checked top to bottom; the first
//! rung that fails answers the request.
//!
//! | rung | checks | HTTP | JSON-RPC |
//! |---|---|---|---|
//! | envelope | `params._meta` is an object with `protocolVersion` (a string) and `clientCapabilities` (an object); `clientInfo` and `logLevel`, when present, are well formed (M-1, M-2) | 400 | -32602 |
//! | headers | `MCP-Protocol-Version` and `Mcp-Method` present and equal to the body, `Mcp-Name` where the method names a target, values compared after removing optional whitespace and decoding the Base64 sentinel (H-7, H-8, H-9) | 400 | -32020 |
//! | version | the version named is one this endpoint serves in this era (M-6) | 400 | -32022 with `data.supported` and `data.requested` |
//! | method | the method was not removed in 2026-07-28 (H-11: `ping`, `initialize`, `logging/setLevel`, ...); a method no version knows goes to the role, whose -32601 is 404 too | 404 | -32601 |
//!
//! Headers come before the version, as in the Python SDK and unlike the TypeScript SDK: a
//! header that contradicts the body says the request was built wrong, whatever version it
//! names, and the conformance suite's `server-stateless` expects -32020 for a body naming an
//! unknown version behind a 2026-07-28 header. Two rungs follow inside the role: `Mcp-Param-*`
//! headers against the called tool's `x-mcp-header` arguments (-32020, H-10), and an input the
//! client did not declare the capability for (-32021, M-3).

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use http::{HeaderName, HeaderValue, StatusCode};
use mcp_http_core::SharedClient;
use mcp_http_proto::jsonrpc::{Params, Request as RpcRequest};
use mcp_http_proto::modern_params::{EnvelopeError, ModernParams};
use mcp_http_proto::modern_read::Members;
use mcp_http_proto::{
    ErrorObject, Implementation, LoggingLevel, ProtocolVersion, RequestId, error_code,
    header_value, method,
};

use crate::checks::{Headers, Repeated};
use serde_json::value::RawValue;

/// `MCP-Protocol-Version`.
pub(crate) const VERSION_HEADER: HeaderName = HeaderName::from_static("mcp-protocol-version");
/// `Mcp-Method`.
pub(crate) const METHOD_HEADER: HeaderName = HeaderName::from_static("mcp-method");
/// `Mcp-Name`.
pub(crate) const NAME_HEADER: HeaderName = HeaderName::from_static("mcp-name");

/// The `_meta` key that makes a request modern.
pub(crate) const VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";

/// One rung of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rung {
    Envelope,
    Headers,
    Version,
    Method,
}

/// The rungs in the order they are checked.
pub(crate) const LADDER: [Rung; 4] = [Rung::Envelope, Rung::Headers, Rung::Version, Rung::Method];

impl Rung {
    /// The HTTP status of a failure at this rung.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Rung::Method => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The JSON-RPC code of a failure at this rung.
    pub(crate) fn code(self) -> i32 {
        match self {
            Rung::Envelope => error_code::INVALID_PARAMS,
            Rung::Headers => error_code::HEADER_MISMATCH,
            Rung::Version => error_code::UNSUPPORTED_PROTOCOL_VERSION,
            Rung::Method => error_code::METHOD_NOT_FOUND,
        }
    }
}

/// A request refused on a rung: its id, the rung, and the error to answer with.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) id: RequestId,
    pub(crate) rung: Rung,
    pub(crate) error: ErrorObject,
    /// Whether the body claimed the era (its `_meta` names a version): a body that did not may
    /// still be a legacy request that only looked modern.
    pub(crate) claimed: bool,
}

/// What a request that passed the ladder carries into its exchange.
#[derive(Debug)]
pub(crate) struct Checked {
    /// The client as its `_meta` describes it (info and capabilities).
    pub(crate) client: SharedClient,
    pub(crate) log_level: Option<LoggingLevel>,
    /// A `tools/call`'s name and arguments, read in the same pass (handed to the role).
    pub(crate) tool_call: Option<mcp_http_core::ToolCallView>,
    /// Whether that call's params carry no retry's members (PF-59; handed to the role too).
    pub(crate) first_call: bool,
}

/// The last client a modern request described, kept with the text it was read from: a client
/// sends the same `clientInfo` and `clientCapabilities` with every request, so most requests
/// compare two short strings instead of parsing and copying them again.
#[derive(Default)]
pub(crate) struct LastClient(Mutex<Option<Described>>);

/// A client and the `clientInfo` and `clientCapabilities` text it was read from.
type Described = (Box<str>, Box<str>, SharedClient);

impl LastClient {
    fn get(
        &self,
        info: Option<&RawValue>,
        capabilities: &RawValue,
    ) -> Result<SharedClient, String> {
        let info_text = info.map_or("", RawValue::get);
        if let Some((i, c, client)) = &*mcp_http_core::sync::lock(&self.0)
            && **i == *info_text
            && **c == *capabilities.get()
        {
            return Ok(client.clone());
        }
        self.describe(info, capabilities)
    }

    /// A client not described before: read, kept and returned (out of line: PF-99).
    #[cold]
    #[inline(never)]
    fn describe(
        &self,
        info: Option<&RawValue>,
        capabilities: &RawValue,
    ) -> Result<SharedClient, String> {
        let implementation = match info {
            None => Implementation::new("unknown", "0"),
            Some(info) => serde_json::from_str::<Implementation>(info.get()).map_err(|_| {
                "Invalid params: io.modelcontextprotocol/clientInfo must be an Implementation (name and version)".to_owned()
            })?,
        };
        let client =
            SharedClient::from_raw(implementation, Some(Arc::from(capabilities.to_owned())));
        *mcp_http_core::sync::lock(&self.0) = Some((
            info.map_or("", RawValue::get).into(),
            capabilities.get().into(),
            client.clone(),
        ));
        Ok(client)
    }
}

/// The versions a modern request may name.
pub(crate) const MODERN_VERSIONS: [ProtocolVersion; 1] = [ProtocolVersion::V2026_07_28];

/// Whether a request's body may claim the 2026-07-28 era: its params contain the `_meta` key
/// that names a version. A byte search, not a parse; the ladder's one parse of the envelope
/// tells a real claim from the key elsewhere (a tool argument), and such a request goes back
/// to the legacy path ([`Refusal::claimed`]).
pub(crate) fn may_claim_modern(params: Option<&Params>) -> bool {
    params.is_some_and(|p| mentions_version(p.as_bytes()))
}

/// Whether `text` (a body or its params) contains the `_meta` key that names a version.
pub(crate) fn mentions_version(text: &[u8]) -> bool {
    first_mention(text).is_some()
}

/// Where the search for [`VERSION_KEY`] looks: its `V`, rare in a request (no other key of
/// the protocol and no method has it) and found by memchr's single-byte search, cheaper than a
/// search for any longer part of the key (PF-85).
const BYTE_AT: usize = 32;

/// Where `text` first contains the `_meta` key that names a version (PF-85).
fn first_mention(text: &[u8]) -> Option<usize> {
    const { assert!(VERSION_KEY.as_bytes()[BYTE_AT] == b'V') };
    mcp_http_core::key_search::first_key(text, VERSION_KEY.as_bytes(), BYTE_AT)
}

/// A POST's body and where it first contains the version key: searched once, the answer
/// reused for its params (PF-58).
#[derive(Clone, Copy)]
pub(crate) struct Mention<'b> {
    body: &'b [u8],
    first: Option<usize>,
}

impl<'b> Mention<'b> {
    /// Searches `body`.
    pub(crate) fn of(body: &'b [u8]) -> Self {
        Mention {
            body,
            first: first_mention(body),
        }
    }

    /// A body not searched: taken as not containing the key.
    pub(crate) fn none() -> Self {
        Mention {
            body: &[],
            first: None,
        }
    }

    /// Whether the body contains the key.
    pub(crate) fn found(&self) -> bool {
        self.first.is_some()
    }

    /// [`may_claim_modern`] of params read from this body, told from where the body's search
    /// found the key when the params are a range of the body (PF-58): the key is in them when
    /// its first place in the body is; it cannot be when that place is past their end. Params
    /// that are a copy, or that the first place comes before, are searched.
    pub(crate) fn in_params(&self, params: Option<&Params>) -> bool {
        let (Some(first), Some(params)) = (self.first, params) else {
            return false;
        };
        let text = params.as_bytes();
        let start = (text.as_ptr() as usize).wrapping_sub(self.body.as_ptr() as usize);
        let within = start <= self.body.len() && text.len() <= self.body.len() - start;
        let end = start.wrapping_add(text.len());
        match within {
            true if first >= end => false,
            true if first >= start && first + VERSION_KEY.len() <= end => true,
            _ => mentions_version(text),
        }
    }
}

/// Whether a request's body claims the 2026-07-28 era: its `params._meta` names a version.
pub(crate) fn claims_modern(params: Option<&Params>) -> bool {
    may_claim_modern(params) && ModernParams::claims_version(params.map_or("{}", Params::get))
}

/// The header's value as text with optional whitespace removed; `None` when absent, `Err`
/// when it is not visible ASCII or comes twice. One copy for the three headers (PF-99).
#[inline(never)]
fn header<'h>(
    headers: &Headers<'h>,
    (value, bit): (Option<&'h HeaderValue>, Repeated),
) -> Result<Option<&'h str>, String> {
    let Some(first) = value else {
        return Ok(None);
    };
    match first.to_str() {
        Ok(v) if !headers.is_repeated(bit) => Ok(Some(header_value::trim_ows(v))),
        _ => Err(bad_header(headers, bit)),
    }
}

/// Why the header `bit` names, present, is refused: it comes twice, else it is not visible
/// ASCII (out of line: PF-99).
#[cold]
#[inline(never)]
fn bad_header(headers: &Headers<'_>, bit: Repeated) -> String {
    let name = match bit {
        Repeated::Version => VERSION_HEADER,
        Repeated::Method => METHOD_HEADER,
        _ => NAME_HEADER,
    };
    if headers.is_repeated(bit) {
        format!("the {name} header must appear once")
    } else {
        format!("the {name} header is not visible ASCII")
    }
}

/// Runs the ladder over `request` and its HTTP headers. `members` are the params' members when
/// they were read in the envelope's pass (PF-51); else the envelope rung reads them. Every
/// refusal is made out of line, so the code a request that passes runs is short (PF-99).
pub(crate) fn check(
    request: &RpcRequest,
    members: Members<'_>,
    headers: &Headers<'_>,
    last: &LastClient,
) -> Result<Checked, Refusal> {
    let mut members = Some(members);
    let mut checked = None;
    let mut version_named = "";
    for rung in LADDER {
        match rung {
            Rung::Envelope => {
                let members = match members.take().flatten() {
                    Some(members) => members,
                    None => read_members(request),
                };
                let (fields, envelope) = match envelope(members, last) {
                    Ok(read) => read,
                    Err((message, claimed)) => {
                        return Err(refusal(request, rung, message, claimed));
                    }
                };
                version_named = fields.0;
                checked = Some((fields.1, envelope));
            }
            Rung::Headers => {
                let target = checked.as_ref().and_then(|(_, t)| t.as_deref());
                if let Err(message) = check_headers(request, headers, version_named, target) {
                    return Err(refusal(request, rung, message, true));
                }
            }
            Rung::Version => {
                if !MODERN_VERSIONS.iter().any(|v| v.as_str() == version_named) {
                    return Err(unsupported(request, version_named));
                }
            }
            Rung::Method => {
                if removed(&request.method) {
                    return Err(not_found(request));
                }
            }
        }
    }
    match checked {
        Some((checked, _)) => Ok(checked),
        None => Err(refusal(
            request,
            Rung::Envelope,
            "Invalid params".into(),
            true,
        )),
    }
}

/// The params' members read by the envelope rung, when the envelope's pass did not (PF-51).
#[cold]
#[inline(never)]
fn read_members(request: &RpcRequest) -> Result<ModernParams<'_>, EnvelopeError> {
    ModernParams::read(request.params.as_deref().unwrap_or("{}"))
}

/// `request` refused on `rung` with `message` (out of line: PF-99).
#[cold]
#[inline(never)]
fn refusal(request: &RpcRequest, rung: Rung, message: String, claimed: bool) -> Refusal {
    Refusal {
        id: request.id.clone(),
        rung,
        error: ErrorObject::new(rung.code(), message),
        claimed,
    }
}

/// The version rung's refusal: `version_named` is not one this endpoint serves (M-6).
#[cold]
#[inline(never)]
fn unsupported(request: &RpcRequest, version_named: &str) -> Refusal {
    let data = mcp_http_proto::modern::UnsupportedProtocolVersionData::new(
        MODERN_VERSIONS.iter().map(|v| v.as_str().into()).collect(),
        version_named,
    );
    Refusal {
        id: request.id.clone(),
        claimed: true,
        rung: Rung::Version,
        error: data.into_error(format!(
            "Unsupported protocol version {version_named:?}: this server serves 2026-07-28 per request, and 2025-11-25 and earlier through initialize"
        )),
    }
}

/// The method rung's refusal: the method was removed in 2026-07-28 (H-11).
#[cold]
#[inline(never)]
fn not_found(request: &RpcRequest) -> Refusal {
    refusal(
        request,
        Rung::Method,
        format!("Method not found: {}", request.method),
        true,
    )
}

type EnvelopeFields<'a> = ((&'a str, Checked), Option<Cow<'a, str>>);

/// The envelope rung: the version named, what the exchange needs, and the request's target
/// (`params.name` or `params.uri`, when a string), from one typed read of the params (PF-16),
/// `members`.
fn envelope<'t>(
    members: Result<ModernParams<'t>, EnvelopeError>,
    last: &LastClient,
) -> Result<EnvelopeFields<'t>, (String, bool)> {
    let params = members.map_err(refused)?;
    let client = last
        .get(params.info, params.capabilities)
        .map_err(|m| (m, true))?;
    let log_level = params.log_level().map_err(refused)?;
    // A name and object arguments the role can take as they are; anything else it reads (and
    // refuses) itself.
    let first_call = params.tool_call.as_ref().is_some_and(|c| !c.may_be_retry);
    let tool_call = params.tool_call.map(|call| mcp_http_core::ToolCallView {
        name: call.name.as_ref().into(),
        arguments: call.arguments.map(ToOwned::to_owned),
    });
    Ok((
        (
            params.version,
            Checked {
                client,
                log_level,
                tool_call,
                first_call,
            },
        ),
        params.target,
    ))
}

/// An envelope the rung refuses, as its message and whether the body claimed the era (out of
/// line: PF-99).
#[cold]
#[inline(never)]
fn refused(e: EnvelopeError) -> (String, bool) {
    (e.message.to_owned(), e.claimed)
}

/// Whether `method` names a target that `Mcp-Name` must carry (H-7; the tasks extension adds
/// its task methods, whose target is `params.taskId`).
fn names_target(method: &str) -> bool {
    matches!(
        method,
        method::TOOLS_CALL
            | method::PROMPTS_GET
            | method::RESOURCES_READ
            | method::TASKS_GET
            | method::TASKS_CANCEL
            | TASKS_UPDATE
    )
}

/// `tasks/update` (the tasks extension of 2026-07-28).
const TASKS_UPDATE: &str = "tasks/update";

/// Whether `method` is one 2026-07-28 removed (`initialize`, `ping`, `logging/setLevel`, ...).
/// Methods no version knows go on to the role, which may serve them (an extension's) or answer
/// -32601 itself (which is 404 too); the tasks namespace belongs to the tasks extension.
fn removed(name: &str) -> bool {
    !method::available_in(name, ProtocolVersion::V2026_07_28)
        && !name.starts_with("tasks/")
        && ProtocolVersion::LEGACY
            .iter()
            .any(|v| method::available_in(name, *v))
}

/// The headers rung (H-7, H-8).
fn check_headers(
    request: &RpcRequest,
    headers: &Headers<'_>,
    version: &str,
    target: Option<&str>,
) -> Result<(), String> {
    match header(headers, (headers.version, Repeated::Version))? {
        Some(v) if v == version => {}
        v => return Err(version_mismatch(v, version)),
    }
    match header(headers, (headers.method, Repeated::Method))? {
        Some(m) if m == request.method => {}
        m => return Err(method_mismatch(m, &request.method)),
    }
    let name = header(headers, (headers.name, Repeated::Name))?;
    if !names_target(&request.method) {
        return Ok(());
    }
    match (name, target) {
        // No target in the body: the handler answers the missing parameter.
        (None, None) => Ok(()),
        (Some(raw), target)
            if header_value::decode(raw).is_ok_and(|decoded| Some(decoded.as_ref()) == target) =>
        {
            Ok(())
        }
        (raw, _) => Err(name_mismatch(raw, &request.method)),
    }
}

/// The headers rung's refusal of `MCP-Protocol-Version` (absent, or not `version`), out of
/// line (PF-99).
#[cold]
#[inline(never)]
fn version_mismatch(header: Option<&str>, version: &str) -> String {
    match header {
        None => "Header mismatch: the MCP-Protocol-Version header is required in 2026-07-28".into(),
        Some(v) => {
            format!("Header mismatch: MCP-Protocol-Version {v:?} differs from _meta's {version:?}")
        }
    }
}

/// The headers rung's refusal of `Mcp-Method` (absent, or not the body's), out of line (PF-99).
#[cold]
#[inline(never)]
fn method_mismatch(header: Option<&str>, method: &str) -> String {
    match header {
        None => "Header mismatch: the Mcp-Method header is required".into(),
        Some(m) => {
            format!("Header mismatch: Mcp-Method {m:?} differs from the body's method {method:?}")
        }
    }
}

/// The headers rung's refusal of `Mcp-Name` (absent where the body names a target, not
/// decodable, or not the body's target), out of line (PF-99).
#[cold]
#[inline(never)]
fn name_mismatch(raw: Option<&str>, method: &str) -> String {
    match raw.map(header_value::decode) {
        None => format!("Header mismatch: the Mcp-Name header is required on {method}"),
        Some(Err(e)) => format!("Header mismatch: Mcp-Name: {e}"),
        Some(Ok(_)) => "Header mismatch: Mcp-Name differs from the body's name or uri".into(),
    }
}

#[cfg(test)]
mod tests;
