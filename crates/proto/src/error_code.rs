//! JSON-RPC and MCP error codes (checklist 3.2).

/// Invalid JSON was received (-32700).
pub const PARSE_ERROR: i32 = -32700;
/// The JSON sent is not a valid JSON-RPC request (-32600).
pub const INVALID_REQUEST: i32 = -32600;
/// The method does not exist or is not available (-32601).
pub const METHOD_NOT_FOUND: i32 = -32601;
/// Invalid method parameters (-32602).
pub const INVALID_PARAMS: i32 = -32602;
/// Internal JSON-RPC error (-32603).
pub const INTERNAL_ERROR: i32 = -32603;
/// Resource not found (-32002), 2025-11-25 and earlier; 2026-07-28 uses -32602 instead.
pub const RESOURCE_NOT_FOUND: i32 = -32002;
/// SDK convention: generic transport-level error (-32000). Not spec-defined.
pub const SERVER_ERROR: i32 = -32000;
/// SDK convention: session not found (-32001). Not spec-defined.
pub const SESSION_NOT_FOUND: i32 = -32001;
/// URL-mode elicitation required (-32042), 2025-11-25.
pub const URL_ELICITATION_REQUIRED: i32 = -32042;
/// HTTP header does not match the body (-32020), 2026-07-28.
pub const HEADER_MISMATCH: i32 = -32020;
/// A client capability the request needs was not declared (-32021), 2026-07-28.
pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i32 = -32021;
/// The requested protocol version is not supported (-32022), 2026-07-28.
pub const UNSUPPORTED_PROTOCOL_VERSION: i32 = -32022;
/// The user rejected a sampling request (-1), as in the sampling page's example.
pub const USER_REJECTED: i32 = -1;
