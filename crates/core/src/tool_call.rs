//! What a transport already read of a `tools/call`: over Streamable HTTP in the 2026-07-28 era
//! the transport parses the params once to check the envelope and the `Mcp-Name` header, and
//! hands the tool's name and raw arguments to the role in the request's extensions, so that
//! the role does not parse the params a second time.

use serde_json::value::RawValue;

/// The name and raw arguments of a `tools/call` (arguments, when present, are a JSON object:
/// the transport checked).
#[derive(Debug, Clone)]
pub struct ToolCallView {
    /// `params.name`.
    pub name: Box<str>,
    /// `params.arguments`, as sent.
    pub arguments: Option<Box<RawValue>>,
}

/// What a transport that hands a [`ToolCallView`] over may also know: the call is a first call,
/// its params carrying no retry's members (`inputResponses`, `requestState`, MR-1), as the
/// transport's own read of them found (PF-59). The role then skips its scan of the params for
/// them ([`crate::may_be_retry`]); without it the role scans.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct FirstCall;
