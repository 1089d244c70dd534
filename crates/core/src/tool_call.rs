//! What a transport already read of a `tools/call`: over Streamable HTTP in the 2026-07-28 era
//! the transport parses the params once to check the envelope and the `Mcp-Name` header, and
//! hands the tool's name and raw arguments to the role (with the request, PF-70; the handler
//! reads them in the request's extensions, or with [`crate::RequestContext::extension`]), so that
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

/// A [`ToolCallView`] handed to the context as a field rather than put in the request's
/// extensions (PF-70): a quick call reads it there and makes no map; the context puts it (and
/// [`FirstCall`]) in the extensions it shows only when someone reads them.
#[derive(Debug, Clone)]
pub(crate) struct HandedCall {
    pub(crate) view: ToolCallView,
    /// Whether the call is a first call ([`FirstCall`]).
    pub(crate) first: bool,
}

/// The [`FirstCall`] a context with a handed first call answers by reference.
pub(crate) static FIRST_CALL: FirstCall = FirstCall;
