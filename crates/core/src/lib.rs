//! The transport-agnostic MCP peer engine.
//!
//! A [`Peer`] is one side of a connection, client or server: it numbers and correlates requests,
//! runs each inbound request concurrently, applies timeouts, carries cancellation and progress
//! both ways and answers `ping`. What a side does with requests is its [`Handler`]; how bytes move
//! is its [`Transport`]. The `mcp-http-server` and `mcp-http-client` crates build the two roles on
//! top of this one.
//!
//! # Cancel safety
//! Dropping the future of [`Peer::request`] cancels the request: it is forgotten locally and
//! `notifications/cancelled` is sent (except for `initialize`, L-7).

pub mod boxed;
mod client_table;
pub mod context;
pub mod error;
pub mod factory;
pub mod input;
pub mod key_search;
pub mod lifecycle;
pub mod memory;
pub mod options;
pub mod param_headers;
pub mod peer;
pub mod places;
pub mod reply;
mod request_name;
pub mod request_state;
pub mod sync;
pub mod tool_call;
pub mod transport;

pub use context::{Extensions, Principal, RequestContext};
pub use error::RequestError;
pub use factory::{Broadcast, Broadcaster, HandlerFactory};
pub use input::{InputScope, Parked, may_be_retry, run_parked, run_with_input};
pub use lifecycle::{SessionState, SharedClient};
pub use options::{ProgressUpdate, RequestOptions};
pub use param_headers::ParamHeaders;
pub use peer::{Handler, Peer, PeerConfig};
pub use places::{CountedPlace, Counts, Places};
pub use request_state::{RequestStateKeys, RequestStates, UsedStates};
pub use tokio_util::sync::CancellationToken;
pub use tool_call::{FirstCall, ToolCallView};
pub use transport::{
    MessageSink, MessageStream, ModernRequest, Outbound, OutboundKind, Sending, Transport,
    TransportError, TransportErrorKind,
};
