//! The typed one-pass read of a 2026-07-28 request's params (`ModernParams`, PF-16) against the
//! reader it replaced (PF-17): for any params a request can carry, the same refusal (message
//! and claim) or the same version, capabilities, client info, log level, target and tool call,
//! and the same claim of the era. The old reader is kept here, as it was, as the reference. A
//! tool call read as a first call has no retry's member (PF-59). A body (the input itself, and
//! requests carrying it as params) read by its bytes gives the serde pass's record (PF-62).
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use mcp_http_proto::jsonrpc::{Message, Parsed};
use mcp_http_proto::modern_read::comparable;
use mcp_http_proto::modern_params::ModernParams;
use mcp_http_proto::{Implementation, LoggingLevel};
use serde::Deserialize;
use serde_json::value::RawValue;

/// What the ladder takes from the params, or its refusal.
type Outcome = Result<
    (
        String,
        String,
        Option<String>,
        Option<LoggingLevel>,
        Option<String>,
        Option<(String, Option<String>)>,
    ),
    (String, bool),
>;

/// `clientInfo` judged as the client cache judges it, between the capabilities and the level.
fn info_ok(info: Option<&RawValue>) -> Result<(), (String, bool)> {
    match info {
        Some(i) if serde_json::from_str::<Implementation>(i.get()).is_err() => {
            Err(("bad info".to_owned(), true))
        }
        _ => Ok(()),
    }
}

#[derive(Deserialize)]
struct OldEnvelope<'a> {
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<OldMeta<'a>>,
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    uri: Option<&'a RawValue>,
    #[serde(rename = "taskId", borrow, default)]
    task_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct OldMeta<'a> {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", borrow, default)]
    version: Option<&'a RawValue>,
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities", borrow, default)]
    capabilities: Option<&'a RawValue>,
    #[serde(rename = "io.modelcontextprotocol/clientInfo", borrow, default)]
    info: Option<&'a RawValue>,
    #[serde(rename = "io.modelcontextprotocol/logLevel", borrow, default)]
    log_level: Option<&'a RawValue>,
}

fn old(text: &str) -> Outcome {
    let missing = |what: &str| format!("Invalid params: _meta must carry {what} (2026-07-28)");
    // Params that are not an object are refused as such (a derived struct would read an array
    // member by position).
    let object = text.trim_start().starts_with('{');
    let envelope: OldEnvelope<'_> = object
        .then(|| serde_json::from_str(text).ok())
        .flatten()
        .ok_or_else(|| {
            (
                "Invalid params: params must be a JSON object, and its _meta one too".to_owned(),
                false,
            )
        })?;
    let fields = envelope.meta.ok_or_else(|| {
        (
            "Invalid params: params._meta is required in 2026-07-28".to_owned(),
            false,
        )
    })?;
    let claimed = fields.version.is_some();
    let invalid = |message: String| (message, claimed);
    let version = fields
        .version
        .and_then(|v| serde_json::from_str::<&str>(v.get()).ok())
        .ok_or_else(|| {
            invalid(missing(
                "io.modelcontextprotocol/protocolVersion as a string",
            ))
        })?;
    let capabilities = fields
        .capabilities
        .filter(|c| c.get().starts_with('{'))
        .ok_or_else(|| {
            invalid(missing(
                "io.modelcontextprotocol/clientCapabilities as an object",
            ))
        })?;
    info_ok(fields.info)?;
    let log_level = match fields.log_level {
        None => None,
        Some(level) => Some(
            serde_json::from_str::<LoggingLevel>(level.get()).map_err(|_| {
                invalid(
                    "Invalid params: io.modelcontextprotocol/logLevel must be a logging level"
                        .to_owned(),
                )
            })?,
        ),
    };
    let target = envelope
        .name
        .or(envelope.uri)
        .or(envelope.task_id)
        .and_then(|t| serde_json::from_str::<Cow<'_, str>>(t.get()).ok());
    let tool_call = match (&target, envelope.arguments) {
        (Some(name), arguments)
            if envelope.name.is_some() && arguments.is_none_or(|a| a.get().starts_with('{')) =>
        {
            Some((name.to_string(), arguments.map(|a| a.get().to_owned())))
        }
        _ => None,
    };
    Ok((
        version.to_owned(),
        capabilities.get().to_owned(),
        fields.info.map(|i| i.get().to_owned()),
        log_level,
        target.map(Cow::into_owned),
        tool_call,
    ))
}

fn new(text: &str) -> Outcome {
    outcome(ModernParams::read(text))
}

fn outcome(
    read: Result<ModernParams<'_>, mcp_http_proto::modern_params::EnvelopeError>,
) -> Outcome {
    let refused =
        |e: mcp_http_proto::modern_params::EnvelopeError| (e.message.to_owned(), e.claimed);
    let params = read.map_err(refused)?;
    info_ok(params.info)?;
    let log_level = params.log_level().map_err(refused)?;
    Ok((
        params.version.to_owned(),
        params.capabilities.get().to_owned(),
        params.info.map(|i| i.get().to_owned()),
        log_level,
        params.target.map(Cow::into_owned),
        params
            .tool_call
            .map(|c| (c.name.into_owned(), c.arguments.map(|a| a.get().to_owned()))),
    ))
}

/// PF-59: a tool call read as a first call has no retry's member among the params' own
/// members (as a map of them reads them).
fn first_call_has_no_retry(
    read: &Result<ModernParams<'_>, mcp_http_proto::modern_params::EnvelopeError>,
    text: &str,
) {
    let Some(call) = read.as_ref().ok().and_then(|p| p.tool_call.as_ref()) else {
        return;
    };
    let Ok(own) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) else {
        return;
    };
    if !call.may_be_retry {
        assert!(
            !own.contains_key("inputResponses") && !own.contains_key("requestState"),
            "params: {text}"
        );
    }
}

fn old_claims(text: &str) -> bool {
    // Params that are not an object have no `_meta` member to claim the era with.
    text.trim_start().starts_with('{')
        && serde_json::from_str::<OldEnvelope<'_>>(text)
            .ok()
            .and_then(|e| e.meta)
            .is_some_and(|m| m.version.is_some())
}

/// PF-62: the read by the bytes gives the serde pass's record or refusal for any body.
fn scan_reads_as_serde(body: &[u8]) {
    let body = bytes::Bytes::copy_from_slice(body);
    assert_eq!(
        comparable(mcp_http_proto::modern_read::read(&body)),
        comparable(mcp_http_proto::modern_read::read_by_serde(&body)),
        "body: {}",
        String::from_utf8_lossy(&body)
    );
}

fuzz_target!(|data: &[u8]| {
    // The input as a whole body too, and as the params of a request written as clients write
    // it (PF-62), before anything is asked of it.
    scan_reads_as_serde(data);
    let as_written = [
        &br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"#[..],
        data,
        b"}",
    ]
    .concat();
    scan_reads_as_serde(&as_written);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Only what a request's params can be: JSON (checked when the message was read), an object
    // or an array.
    let Ok(raw) = serde_json::from_str::<&RawValue>(text) else {
        return;
    };
    if !matches!(raw.get().as_bytes().first(), Some(b'{' | b'[')) {
        return;
    }
    let text = raw.get();
    assert_eq!(old(text), new(text), "params: {text}");
    first_call_has_no_retry(&ModernParams::read(text), text);
    assert_eq!(
        old_claims(text),
        ModernParams::claims_version(text),
        "params: {text}"
    );
    // PF-51: read in the same pass as a request's envelope (params last or first), the same
    // params text and, when the pass read the members, the same outcome.
    for body in [
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{text}}}"#),
        format!("{{ \"params\" : {text} ,\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}}"),
    ] {
        scan_reads_as_serde(body.as_bytes());
        let body = bytes::Bytes::from(body);
        let Ok((Parsed::Single(Message::Request(request)), members)) =
            mcp_http_proto::modern_read::read(&body)
        else {
            continue;
        };
        assert_eq!(request.params.as_deref(), Some(text), "params: {text}");
        if let Some(members) = members {
            first_call_has_no_retry(&members, text);
            assert_eq!(outcome(members), new(text), "params: {text}");
        }
    }
});
