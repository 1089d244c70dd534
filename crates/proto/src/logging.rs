//! Logging: `logging/setLevel` and `notifications/message` (checklist LG-1..LG-6, LGm-1).
//!
//! `logging/setLevel` exists only in the legacy versions; 2026-07-28 sets the level per request
//! with `_meta["io.modelcontextprotocol/logLevel"]` and deprecates logging.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::meta::{Meta, setters};

/// The severity of a log message (RFC 5424 syslog levels), ordered from least to most severe.
///
/// ```
/// use mcp_http_proto::LoggingLevel;
/// assert!(LoggingLevel::Debug < LoggingLevel::Emergency);
/// assert!("verbose".parse::<LoggingLevel>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoggingLevel {
    /// Detailed debugging information.
    Debug,
    /// General informational messages.
    Info,
    /// Normal but significant events.
    Notice,
    /// Warning conditions.
    Warning,
    /// Error conditions.
    Error,
    /// Critical conditions.
    Critical,
    /// Action must be taken immediately.
    Alert,
    /// The system is unusable.
    Emergency,
}

impl LoggingLevel {
    /// Every level, least severe first.
    pub const ALL: [LoggingLevel; 8] = [
        Self::Debug,
        Self::Info,
        Self::Notice,
        Self::Warning,
        Self::Error,
        Self::Critical,
        Self::Alert,
        Self::Emergency,
    ];

    /// The level's wire string, such as `"warning"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Notice => "notice",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Critical => "critical",
            Self::Alert => "alert",
            Self::Emergency => "emergency",
        }
    }
}

impl fmt::Display for LoggingLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown logging level (answer it with -32602, LG-3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnknownLoggingLevel(pub String);

impl fmt::Display for UnknownLoggingLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown logging level {:?}", self.0)
    }
}

impl std::error::Error for UnknownLoggingLevel {}

impl FromStr for LoggingLevel {
    type Err = UnknownLoggingLevel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownLoggingLevel(s.to_owned()))
    }
}

/// Parameters for a `logging/setLevel` request (legacy versions only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SetLevelRequestParams {
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The lowest level the client wants to receive.
    pub level: LoggingLevel,
}

/// Parameters for a `notifications/message` notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoggingMessageNotificationParams {
    /// Notification metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The severity of the message.
    pub level: LoggingLevel,
    /// The name of the logger that issued the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logger: Option<String>,
    /// The data to log: a string or any JSON value.
    pub data: Value,
}

impl LoggingMessageNotificationParams {
    /// A log message at a level with some data.
    pub fn new(level: LoggingLevel, data: impl Into<Value>) -> Self {
        LoggingMessageNotificationParams {
            meta: None,
            level,
            logger: None,
            data: data.into(),
        }
    }
}

impl SetLevelRequestParams {
    /// Params asking for messages at `level` and above.
    pub fn new(level: LoggingLevel) -> Self {
        SetLevelRequestParams { meta: None, level }
    }
}

setters!(SetLevelRequestParams {
    with_meta => meta: Meta,
});

setters!(LoggingMessageNotificationParams {
    with_meta => meta: Meta,
    with_logger => logger: String,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_strict() {
        for pair in LoggingLevel::ALL.windows(2) {
            assert!(pair[0] < pair[1]);
        }
        for l in LoggingLevel::ALL {
            let s = serde_json::to_string(&l).unwrap();
            assert_eq!(s, format!("\"{l}\""));
            assert_eq!(serde_json::from_str::<LoggingLevel>(&s).unwrap(), l);
        }
        let e =
            serde_json::from_str::<SetLevelRequestParams>(r#"{"level":"verbose"}"#).unwrap_err();
        assert!(e.to_string().contains("verbose"), "{e}");
        assert!(serde_json::from_str::<LoggingLevel>("\"INFO\"").is_err());
        let err =
            crate::jsonrpc::decode_params::<SetLevelRequestParams>(Some(r#"{"level":"loud"}"#))
                .unwrap_err();
        assert_eq!(err.code, crate::error_code::INVALID_PARAMS);
    }
}
