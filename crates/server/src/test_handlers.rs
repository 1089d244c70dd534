//! What the tests comparing a quick path's answers with the general path's share: the echo
//! tool's arguments and a handler that answers only through `handle_request`.

use std::sync::Arc;

use futures::future::BoxFuture;
use mcp_http_core::{Handler, RequestContext};
use mcp_http_proto::ErrorObject;
use mcp_http_proto::jsonrpc::Request;
use serde_json::value::RawValue;

/// The echo tool's arguments.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Text {
    pub(crate) text: String,
}

/// A handler that answers only through `handle_request`: the general path.
pub(crate) struct General(pub(crate) Arc<dyn Handler>);

impl Handler for General {
    fn handle_request(
        &self,
        request: Request,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        self.0.handle_request(request, ctx)
    }
}
