//! Protocol versions and their negotiation (checklist V-1..V-6).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A dated MCP protocol version this crate knows.
///
/// ```
/// use mcp_http_proto::ProtocolVersion;
/// // A server offered a version it does not know answers with its latest legacy version (V-2).
/// assert_eq!(ProtocolVersion::negotiate("1999-01-01"), ProtocolVersion::LATEST_LEGACY);
/// assert_eq!(ProtocolVersion::negotiate("2025-06-18"), ProtocolVersion::V2025_06_18);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// 2024-11-05: HTTP+SSE transport.
    V2024_11_05,
    /// 2025-03-26: Streamable HTTP introduced, JSON-RPC batches allowed.
    V2025_03_26,
    /// 2025-06-18: batches removed, `MCP-Protocol-Version` header, elicitation.
    V2025_06_18,
    /// 2025-11-25: the newest legacy (session-based) version.
    V2025_11_25,
    /// 2026-07-28: the stateless ("modern") version.
    V2026_07_28,
}

impl ProtocolVersion {
    /// Every known version, oldest first.
    pub const ALL: [ProtocolVersion; 5] = [
        Self::V2024_11_05,
        Self::V2025_03_26,
        Self::V2025_06_18,
        Self::V2025_11_25,
        Self::V2026_07_28,
    ];
    /// The versions negotiated through `initialize` (the legacy era), oldest first.
    pub const LEGACY: [ProtocolVersion; 4] = [
        Self::V2024_11_05,
        Self::V2025_03_26,
        Self::V2025_06_18,
        Self::V2025_11_25,
    ];
    /// The newest version negotiated through `initialize`.
    pub const LATEST_LEGACY: ProtocolVersion = Self::V2025_11_25;
    /// The newest version of all.
    pub const LATEST: ProtocolVersion = Self::V2026_07_28;
    /// What a server assumes when an HTTP request carries no version header (T-45).
    pub const HTTP_DEFAULT: ProtocolVersion = Self::V2025_03_26;

    /// The version's wire string, such as `"2025-11-25"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V2024_11_05 => "2024-11-05",
            Self::V2025_03_26 => "2025-03-26",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2026_07_28 => "2026-07-28",
        }
    }

    /// Parses a wire string; `None` for a version this crate does not know.
    pub fn parse(s: &str) -> Option<Self> {
        Self::from_bytes(s.as_bytes())
    }

    /// [`parse`](Self::parse) of bytes, such as an HTTP header's value: no UTF-8 check first,
    /// since every version is ASCII.
    ///
    /// ```
    /// use mcp_http_proto::ProtocolVersion;
    /// assert_eq!(ProtocolVersion::from_bytes(b"2025-11-25"), Some(ProtocolVersion::V2025_11_25));
    /// assert_eq!(ProtocolVersion::from_bytes(b"2025-11-25 "), None);
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().as_bytes() == bytes)
    }

    /// Whether this version is negotiated through `initialize` and sessions (the legacy era).
    pub fn is_legacy(self) -> bool {
        self < Self::V2026_07_28
    }

    /// The server side of `initialize` negotiation (V-2): the requested version when it is a
    /// supported legacy version, otherwise the latest legacy version.
    pub fn negotiate(requested: &str) -> Self {
        match Self::parse(requested) {
            Some(v) if v.is_legacy() => v,
            _ => Self::LATEST_LEGACY,
        }
    }

    /// Whether JSON-RPC batches are allowed in this version (2025-03-26 only, T-4).
    pub fn allows_batches(self) -> bool {
        self == Self::V2025_03_26
    }

    /// Whether a server sends SSE priming events and may close streams for polling (T-21b).
    pub fn supports_priming(self) -> bool {
        self >= Self::V2025_11_25
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown version string.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnknownVersion(pub String);

impl fmt::Display for UnknownVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unsupported protocol version {:?}", self.0)
    }
}

impl std::error::Error for UnknownVersion {}

impl FromStr for ProtocolVersion {
    type Err = UnknownVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownVersion(s.to_owned()))
    }
}

impl Serialize for ProtocolVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProtocolVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_v2() {
        for v in ProtocolVersion::LEGACY {
            assert_eq!(ProtocolVersion::negotiate(v.as_str()), v);
        }
        // A modern version is not negotiated through initialize.
        assert_eq!(
            ProtocolVersion::negotiate("2026-07-28"),
            ProtocolVersion::LATEST_LEGACY
        );
        assert_eq!(
            ProtocolVersion::negotiate(""),
            ProtocolVersion::LATEST_LEGACY
        );
    }

    #[test]
    fn round_trips_through_serde() {
        for v in ProtocolVersion::ALL {
            let s = serde_json::to_string(&v).unwrap();
            assert_eq!(serde_json::from_str::<ProtocolVersion>(&s).unwrap(), v);
        }
        assert!(serde_json::from_str::<ProtocolVersion>("\"2020-01-01\"").is_err());
    }
}
