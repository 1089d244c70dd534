//! What the peer tests share.

use futures::future::BoxFuture;
use mcp_http_core::{Handler, RequestContext};
use mcp_http_proto::ErrorObject;
use mcp_http_proto::jsonrpc::Request;
use serde_json::value::RawValue;

/// A handler for peers whose own requests are under test: it answers nothing it is asked.
pub(crate) struct NoHandler;

impl Handler for NoHandler {
    fn handle_request(
        &self,
        _request: Request,
        _ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        Box::pin(async { Err(ErrorObject::internal()) })
    }
}
