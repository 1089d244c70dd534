//! The client's side of server-to-client traffic: sampling, elicitation, roots and the server's
//! notifications.

use std::future::Future;
use std::sync::{Arc, RwLock};

use futures::future::BoxFuture;
use mcp_http_core::{Handler, Peer, RequestContext};
use mcp_http_proto::jsonrpc::{Notification, Request, to_raw};
use mcp_http_proto::{
    CreateMessageRequestParams, CreateMessageResult, ElicitAction, ElicitRequestParams,
    ElicitResult, ErrorObject, ListRootsResult, LoggingMessageNotificationParams, Root, method,
};
use serde_json::value::RawValue;

pub(crate) type SamplingFn = dyn Fn(
        CreateMessageRequestParams,
        RequestContext,
    ) -> BoxFuture<'static, Result<CreateMessageResult, ErrorObject>>
    + Send
    + Sync;
pub(crate) type ElicitationFn = dyn Fn(ElicitRequestParams, RequestContext) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>>
    + Send
    + Sync;
pub(crate) type LogFn = dyn Fn(LoggingMessageNotificationParams) + Send + Sync;
pub(crate) type NotificationFn = dyn Fn(Notification) + Send + Sync;

/// Wraps an async sampling function.
pub(crate) fn sampling_fn<F, Fut>(f: F) -> Arc<SamplingFn>
where
    F: Fn(CreateMessageRequestParams, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CreateMessageResult, ErrorObject>> + Send + 'static,
{
    Arc::new(move |p, ctx| Box::pin(f(p, ctx)))
}

/// Wraps an async elicitation function.
pub(crate) fn elicitation_fn<F, Fut>(f: F) -> Arc<ElicitationFn>
where
    F: Fn(ElicitRequestParams, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ElicitResult, ErrorObject>> + Send + 'static,
{
    Arc::new(move |p, ctx| Box::pin(f(p, ctx)))
}

pub(crate) struct ClientHandler {
    pub(crate) sampling: Option<Arc<SamplingFn>>,
    pub(crate) elicitation: Option<Arc<ElicitationFn>>,
    pub(crate) elicitation_url: bool,
    pub(crate) apply_defaults: bool,
    pub(crate) roots: Option<Arc<RwLock<Vec<Root>>>>,
    pub(crate) on_log: Option<Arc<LogFn>>,
    pub(crate) on_notification: Option<Arc<NotificationFn>>,
    /// The open `subscriptions/listen` streams, which get their notifications first.
    pub(crate) listeners: Arc<crate::listen::Listeners>,
    /// Answers every server-to-client request (and 2026-07-28 input request) as it comes,
    /// instead of the typed functions above (a relay's).
    pub(crate) requests: Option<Arc<dyn Handler>>,
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Box<RawValue>, ErrorObject> {
    to_raw(value).map_err(|_| ErrorObject::internal())
}

/// EL-3a, SEP-1034: fills fields the user left out with the `default` of the requested schema.
pub fn apply_schema_defaults(
    schema: &serde_json::Map<String, serde_json::Value>,
    content: &mut serde_json::Map<String, serde_json::Value>,
) {
    let Some(properties) = schema.get("properties").and_then(|p| p.as_object()) else {
        return;
    };
    for (name, property) in properties {
        if let Some(default) = property.get("default") {
            content
                .entry(name.clone())
                .or_insert_with(|| default.clone());
        }
    }
}

impl Handler for ClientHandler {
    fn handle_request(
        &self,
        request: Request,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        if let Some(requests) = &self.requests {
            return requests.handle_request(request, ctx);
        }
        match request.method.as_str() {
            method::SAMPLING_CREATE_MESSAGE => {
                let Some(sample) = self.sampling.clone() else {
                    return Box::pin(
                        async move { Err(ErrorObject::method_not_found(&request.method)) },
                    );
                };
                Box::pin(async move {
                    let params: CreateMessageRequestParams = request.params_as()?;
                    encode(&sample(params, ctx).await?)
                })
            }
            method::ELICITATION_CREATE => {
                let Some(elicit) = self.elicitation.clone() else {
                    return Box::pin(
                        async move { Err(ErrorObject::method_not_found(&request.method)) },
                    );
                };
                let (url_declared, apply_defaults) = (self.elicitation_url, self.apply_defaults);
                Box::pin(async move {
                    let params: ElicitRequestParams = request.params_as()?;
                    let schema = match &params {
                        ElicitRequestParams::Url(_) if !url_declared => {
                            // EL-2: a mode the client did not declare gets -32602.
                            return Err(ErrorObject::invalid_params(
                                "Invalid params: this client did not declare URL-mode elicitation",
                            ));
                        }
                        ElicitRequestParams::Form(form) => Some(form.requested_schema.clone()),
                        // URL mode (or a mode of a later revision): no form defaults to fill.
                        _ => None,
                    };
                    let mut result = elicit(params, ctx).await?;
                    if let (true, Some(schema)) = (
                        apply_defaults && result.action == ElicitAction::Accept,
                        schema,
                    ) {
                        let content = result.content.get_or_insert_with(Default::default);
                        apply_schema_defaults(&schema, content);
                    }
                    encode(&result)
                })
            }
            method::ROOTS_LIST => {
                let Some(roots) = self.roots.clone() else {
                    // a client without roots answers -32601.
                    return Box::pin(
                        async move { Err(ErrorObject::method_not_found(&request.method)) },
                    );
                };
                Box::pin(async move {
                    let roots = mcp_http_core::sync::read(&roots).clone();
                    encode(&ListRootsResult::new(roots))
                })
            }
            _ => Box::pin(async move { Err(ErrorObject::method_not_found(&request.method)) }),
        }
    }

    fn handle_notification(
        &self,
        notification: Notification,
        _peer: Peer,
    ) -> BoxFuture<'static, ()> {
        if let (method::NOTIFICATION_MESSAGE, Some(on_log)) =
            (notification.method.as_str(), &self.on_log)
        {
            match notification.params_as::<LoggingMessageNotificationParams>() {
                Ok(params) => on_log(params),
                Err(e) => tracing::debug!(error = %e, "malformed log notification ignored"),
            }
            return Box::pin(async {});
        }
        let Some(notification) = self.listeners.route(notification) else {
            return Box::pin(async {});
        };
        if let Some(on_notification) = &self.on_notification {
            on_notification(notification);
        }
        Box::pin(async {})
    }
}
