//! Errors of requests a peer sends.

use std::time::Duration;

use mcp_http_proto::ErrorObject;

use crate::transport::TransportError;

/// Why a request this side sent did not produce a result.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The other side answered with a JSON-RPC error.
    #[error("{0}")]
    Rpc(ErrorObject),
    /// No response in time (TO-1); `notifications/cancelled` was sent.
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    /// The caller cancelled the request; `notifications/cancelled` was sent.
    #[error("request cancelled")]
    Cancelled,
    /// The connection closed before the response arrived.
    #[error("connection closed")]
    Closed,
    /// The transport failed.
    #[error("transport error: {0}")]
    Transport(#[from] TransportError),
    /// The response did not have the expected shape.
    #[error("invalid response: {0}")]
    InvalidResponse(String),
    /// The request needs a capability the other side did not declare (C-3).
    #[error("the other side did not declare the {0} capability")]
    CapabilityNotSupported(&'static str),
    /// The request could not be encoded.
    #[error("could not encode the request: {0}")]
    Encode(String),
    /// The handler needs input from the client first (2026-07-28, MR-1): the input requests are
    /// recorded in the request's context, and the engine answers an `InputRequiredResult` (or,
    /// in a legacy session, asks the client with real requests and runs the handler again).
    /// Propagate it with `?`; see [`crate::input`].
    #[error("input from the client is required")]
    InputRequired,
    /// The method does not exist in the protocol version in use (`ping`, `logging/setLevel`,
    /// `resources/subscribe` were removed in 2026-07-28; `subscriptions/listen` is new there).
    #[error("{0} does not exist in protocol version {1}")]
    NotInVersion(&'static str, &'static str),
}

impl RequestError {
    /// The JSON-RPC error this maps to when a handler passes it on to its own caller.
    pub fn to_error_object(&self) -> ErrorObject {
        match self {
            RequestError::Rpc(e) => e.clone(),
            RequestError::CapabilityNotSupported(c) => ErrorObject::new(
                mcp_http_proto::error_code::INVALID_REQUEST,
                format!("the client did not declare the {c} capability"),
            ),
            RequestError::Timeout(d) => ErrorObject::new(
                mcp_http_proto::error_code::INTERNAL_ERROR,
                format!("a request to the client timed out after {d:?}"),
            ),
            // Only tools/call, resources/read and prompts/get may answer with an input-required
            // result (MR-1); anywhere else it is the server's fault, told without detail.
            _ => ErrorObject::internal(),
        }
    }
}
