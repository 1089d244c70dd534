//! The `params` of a 2026-07-28 request as its validation ladder reads them, in one serde pass
//! (PF-16): `_meta`'s members go straight into typed fields (the version as a borrowed `&str`,
//! the log level as a [`LoggingLevel`]), the request's target (`name`, `uri` or `taskId`) as a
//! borrowed string, and what the handler or the client's cache takes as sent (`arguments`,
//! `clientInfo`, `clientCapabilities`) as borrowed [`RawValue`]s: no value is read twice.
//!
//! Every field type accepts any JSON value and records what it was, so a malformed member is
//! told apart (each has its own error message) instead of failing the whole read; the
//! containers are serde-derived, so duplicate, unknown and escaped keys are treated exactly as
//! the derived reader of the members as raw values did (PF-17).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::LoggingLevel;

/// Why a request's params do not hold a 2026-07-28 envelope (the ladder answers -32602).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvelopeError {
    /// What a person reads in the error.
    pub message: &'static str,
    /// Whether `_meta` named a protocol version (the body claimed the era): a body that did
    /// not may still be a legacy request.
    pub claimed: bool,
}

/// A `tools/call`'s name and raw arguments, read in the same pass.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ToolCallParts<'a> {
    /// `params.name`.
    pub name: Cow<'a, str>,
    /// `params.arguments`, an object when present.
    pub arguments: Option<&'a RawValue>,
    /// Whether the params may carry a retry's members (MR-1): `inputResponses` or
    /// `requestState` among their members, or members not read one by one (PF-59). `false`
    /// tells a first call without a scan of the params.
    pub may_be_retry: bool,
}

/// A request's params with a well-formed 2026-07-28 envelope: what the ladder checks and what
/// the exchange needs, borrowed from the params' text.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ModernParams<'a> {
    /// `io.modelcontextprotocol/protocolVersion`.
    pub version: &'a str,
    /// `io.modelcontextprotocol/clientCapabilities` (an object), as sent.
    pub capabilities: &'a RawValue,
    /// `io.modelcontextprotocol/clientInfo`, as sent (judged by whoever builds the client).
    pub info: Option<&'a RawValue>,
    /// `io.modelcontextprotocol/logLevel`: `Some(None)` when present but not a level (refused
    /// after `clientInfo` is judged, [`ModernParams::log_level`]).
    log_level: Option<Option<LoggingLevel>>,
    /// `params.name`, else `params.uri`, else `params.taskId`, when a string (the first of
    /// them present decides).
    pub target: Option<Cow<'a, str>>,
    /// A `tools/call`'s name and object (or absent) arguments; `None` when the role must read
    /// (and refuse) them itself.
    pub tool_call: Option<ToolCallParts<'a>>,
}

/// The visitor methods of the booleans, numbers and arrays, each giving `$value` (an array is
/// skipped to its end; `null` and strings are left to each visitor).
macro_rules! other_scalars_and_arrays {
    ($value:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_element::<IgnoredAny>()?.is_some() {}
            Ok($value)
        }
    };
}

/// [`other_scalars_and_arrays`], and objects skipped to their end too.
macro_rules! other_values {
    ($value:expr) => {
        other_scalars_and_arrays!($value);
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok($value)
        }
    };
}

const NOT_OBJECTS: &str = "Invalid params: params must be a JSON object, and its _meta one too";
const NO_META: &str = "Invalid params: params._meta is required in 2026-07-28";
const NO_VERSION: &str = "Invalid params: _meta must carry io.modelcontextprotocol/protocolVersion as a string (2026-07-28)";
const NO_CAPABILITIES: &str = "Invalid params: _meta must carry io.modelcontextprotocol/clientCapabilities as an object (2026-07-28)";
const BAD_LEVEL: &str = "Invalid params: io.modelcontextprotocol/logLevel must be a logging level";

impl<'a> ModernParams<'a> {
    /// Reads `text` (a request's params, already known to be JSON) in one pass.
    pub fn read(text: &'a str) -> Result<ModernParams<'a>, EnvelopeError> {
        let params = Params::read(text).ok_or(EnvelopeError {
            message: NOT_OBJECTS,
            claimed: false,
        })?;
        Self::from_members(params)
    }

    /// What the ladder checks, from the members as read (by [`ModernParams::read`], or in the
    /// same pass as the request's envelope: [`crate::modern_read`]).
    pub(crate) fn from_members(params: Params<'a>) -> Result<ModernParams<'a>, EnvelopeError> {
        let refused = |message, claimed| EnvelopeError { message, claimed };
        let meta = params.meta.ok_or(refused(NO_META, false))?;
        let claimed = meta.version.is_some();
        let version = match meta.version {
            Some(Text::Borrowed(v)) => v,
            _ => return Err(refused(NO_VERSION, claimed)),
        };
        let capabilities = meta
            .capabilities
            .filter(|c| c.get().starts_with('{'))
            .ok_or(refused(NO_CAPABILITIES, claimed))?;
        let named = params.name.is_some();
        let target = match params.name.or(params.uri).or(params.task_id) {
            Some(Text::Borrowed(t)) => Some(Cow::Borrowed(t)),
            Some(Text::Owned(t)) => Some(Cow::Owned(t)),
            _ => None,
        };
        let tool_call = match (&target, params.arguments) {
            (Some(name), arguments)
                if named && arguments.is_none_or(|a| a.get().starts_with('{')) =>
            {
                Some(ToolCallParts {
                    name: name.clone(),
                    arguments,
                    may_be_retry: params.input_responses.0 || params.request_state.0,
                })
            }
            _ => None,
        };
        Ok(ModernParams {
            version,
            capabilities,
            info: meta.info,
            log_level: meta.log_level.map(|l| l.0),
            target,
            tool_call,
        })
    }

    /// `io.modelcontextprotocol/logLevel`, or the error for one that is not a logging level.
    pub fn log_level(&self) -> Result<Option<LoggingLevel>, EnvelopeError> {
        match self.log_level {
            None => Ok(None),
            Some(Some(level)) => Ok(Some(level)),
            Some(None) => Err(EnvelopeError {
                message: BAD_LEVEL,
                claimed: true,
            }),
        }
    }

    /// Whether `text` (a request's params) names a protocol version in its `_meta`: the
    /// request claims the 2026-07-28 era.
    pub fn claims_version(text: &str) -> bool {
        Params::read(text)
            .and_then(|p| p.meta)
            .is_some_and(|m| m.version.is_some())
    }
}

/// The members of `params` the ladder reads; the others are skipped.
#[derive(Deserialize)]
pub(crate) struct Params<'a> {
    #[serde(rename = "_meta", borrow, default)]
    pub(crate) meta: Option<Meta<'a>>,
    #[serde(borrow, default)]
    pub(crate) name: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(crate) uri: Option<Text<'a>>,
    #[serde(rename = "taskId", borrow, default)]
    pub(crate) task_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(crate) arguments: Option<&'a RawValue>,
    /// A retry's members (MR-1), whatever their values: seen or not (PF-59).
    #[serde(rename = "inputResponses", default)]
    pub(crate) input_responses: Present,
    #[serde(rename = "requestState", default)]
    pub(crate) request_state: Present,
}

/// Whether a member was there (any value, `null` too).
#[derive(Default, Clone, Copy)]
pub(crate) struct Present(pub(crate) bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Present(true))
    }
}

impl<'a> Params<'a> {
    /// The typed read; when it fails, the same members read as raw values first, each then
    /// typed on its own. The typed read refuses a few values the raw one takes (a number too
    /// large for an `f64`, which serde_json parses only when asked for a value): so a refusal
    /// is always the raw reader's, as before (PF-17), and only bad input pays a second read.
    fn read(text: &'a str) -> Option<Params<'a>> {
        // A derived struct also takes a JSON array, member by position: params that are not an
        // object are refused here, as the raw reader refused them.
        if !text.trim_start().starts_with('{') {
            return None;
        }
        if let Ok(params) = serde_json::from_str(text) {
            return Some(params);
        }
        let raw: RawParams<'a> = serde_json::from_str(text).ok()?;
        let text = |v: Option<&'a RawValue>| {
            v.map(|v| serde_json::from_str(v.get()).unwrap_or(Text::Other))
        };
        Some(Params {
            meta: raw.meta.map(|m| Meta {
                version: text(m.version),
                capabilities: m.capabilities,
                info: m.info,
                log_level: m
                    .log_level
                    .map(|l| serde_json::from_str(l.get()).unwrap_or(Level(None))),
            }),
            name: text(raw.name),
            uri: text(raw.uri),
            task_id: text(raw.task_id),
            arguments: raw.arguments,
            // Not read one by one: a retry's members may be there.
            input_responses: Present(true),
            request_state: Present(true),
        })
    }
}

/// [`Params`] with every member raw (the fallback of [`Params::read`]).
#[derive(Deserialize)]
struct RawParams<'a> {
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<RawMeta<'a>>,
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    uri: Option<&'a RawValue>,
    #[serde(rename = "taskId", borrow, default)]
    task_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
}

/// [`Meta`] with every member raw.
#[derive(Deserialize)]
struct RawMeta<'a> {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", borrow, default)]
    version: Option<&'a RawValue>,
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities", borrow, default)]
    capabilities: Option<&'a RawValue>,
    #[serde(rename = "io.modelcontextprotocol/clientInfo", borrow, default)]
    info: Option<&'a RawValue>,
    #[serde(rename = "io.modelcontextprotocol/logLevel", borrow, default)]
    log_level: Option<&'a RawValue>,
}

/// The members of `_meta` the ladder reads.
#[derive(Deserialize)]
pub(crate) struct Meta<'a> {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", borrow, default)]
    pub(crate) version: Option<Text<'a>>,
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities", borrow, default)]
    pub(crate) capabilities: Option<&'a RawValue>,
    #[serde(rename = "io.modelcontextprotocol/clientInfo", borrow, default)]
    pub(crate) info: Option<&'a RawValue>,
    #[serde(rename = "io.modelcontextprotocol/logLevel", default)]
    pub(crate) log_level: Option<Level>,
}

/// Any JSON value, read as a string where it is one: borrowed when it has no escape.
pub(crate) enum Text<'a> {
    Borrowed(&'a str),
    Owned(String),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text::Owned(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Text<'a>, E> {
                Ok(Text::Owned(v))
            }
            fn visit_unit<E>(self) -> Result<Text<'a>, E> {
                Ok(Text::Other)
            }
            other_values!(Text::Other);
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Any JSON value, read as a logging level where it is one (`Level(None)` otherwise). A level
/// is a string naming it or, as serde reads an enum, `{"<level>": null}`.
pub(crate) struct Level(pub(crate) Option<LoggingLevel>);

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Level;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Level, E> {
                Ok(Level(v.parse().ok()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Level, A::Error> {
                // serde's externally tagged form of a unit variant: one key, a null value.
                let mut level = None;
                let mut entries = 0u32;
                while let Some(key) = a.next_key::<Cow<'de, str>>()? {
                    entries += 1;
                    let null = a.next_value::<IsNull>()?.0;
                    if entries == 1 && null {
                        level = key.parse().ok();
                    }
                }
                Ok(Level(level.filter(|_| entries == 1)))
            }
            fn visit_unit<E>(self) -> Result<Level, E> {
                Ok(Level(None))
            }
            other_scalars_and_arrays!(Level(None));
        }
        d.deserialize_any(V)
    }
}

/// Whether a JSON value is `null` (any value is read).
struct IsNull(bool);

impl<'de> Deserialize<'de> for IsNull {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IsNull;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<IsNull, E> {
                Ok(IsNull(true))
            }
            fn visit_str<E>(self, _: &str) -> Result<IsNull, E> {
                Ok(IsNull(false))
            }
            other_values!(IsNull(false));
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"},"io.modelcontextprotocol/logLevel":"warning"}"#;

    #[test]
    fn one_read_gives_the_envelope_the_target_and_the_tool_call_borrowed() {
        let text = format!(r#"{{"name":"echo","arguments":{{"a":[1,{{"b":2}}]}},{META}}}"#);
        let params = ModernParams::read(&text).unwrap();
        assert_eq!(params.version, "2026-07-28");
        assert_eq!(params.capabilities.get(), r#"{"sampling":{}}"#);
        assert_eq!(params.info.unwrap().get(), r#"{"name":"c","version":"1"}"#);
        assert_eq!(params.log_level().unwrap(), Some(LoggingLevel::Warning));
        assert!(matches!(params.target, Some(Cow::Borrowed("echo"))));
        let call = params.tool_call.unwrap();
        assert_eq!(call.name, "echo");
        assert_eq!(call.arguments.unwrap().get(), r#"{"a":[1,{"b":2}]}"#);
        // A uri is the target when there is no name; no tool call then.
        let text = format!(r#"{{"uri":"file:///a\u0062",{META}}}"#);
        let params = ModernParams::read(&text).unwrap();
        assert_eq!(params.target.as_deref(), Some("file:///ab"));
        assert!(params.tool_call.is_none());
        assert!(ModernParams::claims_version(&text));
    }

    /// PF-59: a retry's members among the params' own are seen in the same read; mentioned
    /// deeper (in the arguments) they are not, and params read member by member only after the
    /// typed read failed may be a retry.
    #[test]
    fn a_retry_is_told_from_the_params_own_members() {
        let retry = |members: &str| {
            let text = format!(r#"{{"name":"echo",{members}{META}}}"#);
            ModernParams::read(&text)
                .unwrap()
                .tool_call
                .unwrap()
                .may_be_retry
        };
        assert!(!retry(""));
        assert!(!retry(
            r#""arguments":{"inputResponses":{},"requestState":"s"},"#
        ));
        assert!(retry(r#""inputResponses":{},"#));
        assert!(retry(r#""requestState":"s","#));
        assert!(retry(r#""requestState":null,"#));
        assert!(retry(r#""input\u0052esponses":{},"#));
        // Not read one by one (a number too large for the typed read): may be a retry.
        assert!(retry(r#""uri":1e999,"#));
    }

    #[test]
    fn each_malformed_member_has_its_own_refusal() {
        let refusal = |text: &str| ModernParams::read(text).unwrap_err();
        assert_eq!(refusal("[1]"), refusal("{\"_meta\":7}"));
        assert_eq!(refusal("{}").message, NO_META);
        assert!(!refusal("{}").claimed);
        // Named twice: not an object the ladder can read.
        assert_eq!(
            refusal(r#"{"name":"a","name":"b","_meta":{}}"#).message,
            NOT_OBJECTS
        );
        let version = refusal(
            r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":7,"io.modelcontextprotocol/clientCapabilities":{}}}"#,
        );
        assert_eq!((version.message, version.claimed), (NO_VERSION, true));
        let caps = refusal(
            r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":[]}}"#,
        );
        assert_eq!((caps.message, caps.claimed), (NO_CAPABILITIES, true));
        let level = ModernParams::read(
            r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/logLevel":"loud"}}"#,
        )
        .unwrap();
        assert_eq!(level.log_level().unwrap_err().message, BAD_LEVEL);
        // serde's map form of a unit variant is a level too, as the derived reader took it.
        let level = ModernParams::read(
            r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/logLevel":{"debug":null}}}"#,
        )
        .unwrap();
        assert_eq!(level.log_level().unwrap(), Some(LoggingLevel::Debug));
        // A number too large for an f64 where a string is expected: refused as not a string,
        // not as unreadable params (found by the modern_params fuzz target).
        let huge = refusal(r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":4E454}}"#);
        assert_eq!((huge.message, huge.claimed), (NO_VERSION, true));
        // Params that are not an object are refused as such, however many members a derived
        // reader would take by position from an array (found by the modern_params fuzz target).
        for array in [
            "[[4E454]]",
            r#"[{"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"echo",null,"echo",null,null,{}]"#,
            r#"[{"io.ion":"2026-03-28","\.m#oOteities":{}},"echo",null,"echo",null,null,{}]"#,
        ] {
            let refused = refusal(array);
            assert_eq!(
                (refused.message, refused.claimed),
                (NOT_OBJECTS, false),
                "{array}"
            );
        }
        let text = format!(r#"{{"name":1e999,{META}}}"#);
        let huge = ModernParams::read(&text).unwrap();
        assert!(huge.target.is_none() && huge.tool_call.is_none());
    }
}
