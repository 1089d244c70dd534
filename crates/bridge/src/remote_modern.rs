//! The connect direction to a 2026-07-28 server (BR-51..BR-58): the stdio side stays a legacy
//! server's, the remote is spoken to through our own client (`mcp_http_client::Client`), which
//! already does what the era asks of a client: the `_meta` envelope on every request (here
//! with the stdio client's info and capabilities from its `initialize`, and the level of its
//! `logging/setLevel`), the `Mcp-Method`/`Mcp-Name`/`Mcp-Param-*` headers learnt from the
//! tools' `x-mcp-header` as `tools/list` results pass, one retry after -32020 with a fresh
//! `tools/list` and one after -32022, the bounded input-required loop, `subscriptions/listen`
//! with reconnection, and cancellation by closing a request's stream.
//!
//! What the bridge adds: `initialize` answered from `server/discover`, `ping` answered here;
//! each input request of an input-required result turned into a real request to the stdio
//! client, only for capabilities it declared ([`InputRelay`]); progress brought back under the
//! stdio client's token and logs relayed in order, before the result; `resources/subscribe`
//! and the remote's list changes served by listen streams, relayed as legacy notifications;
//! `resultType` taken off results; errors relayed unchanged.

use mcp_http_proto::jsonrpc::Params;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use mcp_http_client::{Client, ListenEvent};
use mcp_http_client_http::StreamableHttpClient;
use mcp_http_core::peer::WeakPeer;
use mcp_http_core::sync::lock;
use mcp_http_core::{Handler, Peer, PeerConfig, RequestContext, RequestError, RequestOptions};
use mcp_http_proto::jsonrpc::{Notification, Request, to_raw};
use mcp_http_proto::modern::META_SUBSCRIPTION_ID;
use mcp_http_proto::{
    ClientCapabilities, ErrorObject, InitializeRequestParams, LoggingLevel, ProtocolVersion,
    SubscriptionFilter, error_code, method,
};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::remote::{RemoteSettings, relay_error};
use crate::tool_filter::ToolFilter;

/// The longest wait for a listen's acknowledgement.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);
/// The key of the listen stream for the remote's list changes.
const LISTS: &str = "";

/// A notification on its way to the stdio client, or a marker: everything before it was sent.
enum Note {
    Send(Notification),
    Flush(oneshot::Sender<()>),
}

/// The stdio side of a relay to a 2026-07-28 server.
pub(crate) struct ModernSide {
    client: Client,
    /// The `initialize` result's members, from `server/discover`.
    server_info: Value,
    capabilities: Value,
    instructions: Option<String>,
    filter: ToolFilter,
    timeout: Duration,
    notes: mpsc::UnboundedSender<Note>,
    forwarder: JoinHandle<()>,
    /// The listen streams: the list changes ([`LISTS`]) and one per subscribed resource.
    listens: Mutex<HashMap<String, JoinHandle<()>>>,
}

impl ModernSide {
    /// Probes the remote with `server/discover` on behalf of the stdio client that sent
    /// `params` (BR-50): `Some` for a 2026-07-28 server, `None` for a legacy one.
    pub(crate) async fn connect(
        transport: StreamableHttpClient,
        params: InitializeRequestParams,
        local: &Peer,
        settings: &RemoteSettings,
    ) -> Result<Option<Arc<ModernSide>>, RequestError> {
        let timeout = settings.request_timeout;
        let (notes, received) = mpsc::unbounded_channel();
        let forwarder = tokio::spawn(forward_notes(local.downgrade(), received));
        let relay = Arc::new(InputRelay {
            local: local.downgrade(),
            capabilities: params.capabilities.clone(),
            timeout,
        });
        let sender = notes.clone();
        let info = params.client_info;
        let builder = Client::builder(info.name.clone(), info.version.clone())
            .info(info)
            .declare_capabilities(params.capabilities)
            .request_handler(relay)
            .on_notification(move |n| {
                let _ = sender.send(Note::Send(n));
            })
            .peer_config(
                PeerConfig::default()
                    .request_timeout(timeout)
                    .max_request_timeout(timeout * 6),
            );
        let client = match builder.connect_if_modern(transport).await {
            Ok(Some(client)) => client,
            other => {
                forwarder.abort();
                return other.map(|_| None);
            }
        };
        let capabilities = client
            .server_capabilities()
            .and_then(|c| serde_json::to_value(c).ok())
            .unwrap_or_else(|| json!({}));
        let side = Arc::new(ModernSide {
            server_info: client
                .server_info()
                .and_then(|i| serde_json::to_value(i).ok())
                .unwrap_or_else(|| json!({"name": "unknown", "version": ""})),
            instructions: client.instructions().map(str::to_owned),
            client,
            capabilities,
            filter: settings.ignore_tools.clone(),
            timeout,
            notes,
            forwarder,
            listens: Mutex::new(HashMap::new()),
        });
        side.listen_to_lists().await;
        Ok(Some(side))
    }

    /// Ends the listens and the relay of notifications.
    pub(crate) async fn shutdown(&self) {
        for (_, listen) in lock(&self.listens).drain() {
            listen.abort();
        }
        self.forwarder.abort();
        self.client.shutdown().await;
    }

    /// Answers one request of the stdio client.
    pub(crate) fn handle(
        self: Arc<Self>,
        request: Request,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        Box::pin(async move {
            match request.method.as_str() {
                method::INITIALIZE => self.initialize(&request),
                // The era has no ping; the bridge is what the stdio client talks to (BR-51).
                method::PING => Ok(empty()),
                method::SERVER_DISCOVER => Err(ErrorObject::new(
                    error_code::METHOD_NOT_FOUND,
                    "Method not found: server/discover (this bridge speaks the legacy era on \
                     stdio)",
                )),
                method::LOGGING_SET_LEVEL => {
                    #[derive(serde::Deserialize)]
                    struct Level {
                        level: LoggingLevel,
                    }
                    let Level { level } = request.params_as()?;
                    // LGm-1: the level travels in every later request's `_meta` (BR-52).
                    self.client
                        .set_logging_level(level)
                        .await
                        .map_err(|e| remote_error(&e))?;
                    Ok(empty())
                }
                method::RESOURCES_SUBSCRIBE => self.subscribe(&request).await,
                method::RESOURCES_UNSUBSCRIBE => {
                    let uri = uri_of(&request)?;
                    if let Some(listen) = lock(&self.listens).remove(&uri) {
                        // H-5: dropping the listen request closes its stream.
                        listen.abort();
                    }
                    Ok(empty())
                }
                _ => self.relay(request, ctx).await,
            }
        })
    }

    /// A notification of the stdio client: nothing to relay in an era without sessions
    /// (`notifications/cancelled` is the peer's own business: it cancels the request).
    pub(crate) fn notified(self: Arc<Self>, notification: Notification) -> BoxFuture<'static, ()> {
        tracing::debug!(method = %notification.method, "stdio notification not relayed (2026-07-28 remote)");
        Box::pin(async {})
    }

    /// `initialize` answered from `server/discover` (BR-51), the version negotiated as a
    /// legacy server does it (V-2).
    fn initialize(&self, request: &Request) -> Result<Box<RawValue>, ErrorObject> {
        let params: InitializeRequestParams = request.params_as()?;
        let version = ProtocolVersion::negotiate(&params.protocol_version);
        let mut result = json!({
            "protocolVersion": version.as_str(),
            "capabilities": self.capabilities,
            "serverInfo": self.server_info,
        });
        if let Some(instructions) = &self.instructions {
            result["instructions"] = Value::String(instructions.clone());
        }
        to_raw(&result).map_err(|_| ErrorObject::internal())
    }

    /// Relays a request (BR-52, BR-54, BR-55): progress under the stdio client's token,
    /// the call's logs before its result, cancellation by the stdio client closing the
    /// remote request's stream.
    async fn relay(
        &self,
        request: Request,
        ctx: RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let listing = match request.method.as_str() {
            method::TOOLS_CALL => {
                if let Some(refusal) = self.filter.refuse_call(request.params.as_deref()) {
                    return Err(refusal);
                }
                false
            }
            method::TOOLS_LIST => !self.filter.is_empty(),
            _ => false,
        };
        let options = RequestOptions::default()
            .timeout(self.timeout)
            .max_total(self.timeout * 6)
            .cancel_token(ctx.cancellation().clone());
        let params = request.params.map_or_else(empty, Params::into_raw);
        let client = &self.client;
        let outcome = crate::relay::with_progress(&ctx, options, |options| async {
            tokio::select! {
                outcome = client.request::<RawValue, Box<RawValue>>(&request.method, &params, options) => outcome,
                // The stdio client cancelled: dropping the call closes its stream (H-5), or
                // gives up the input round it was waiting on.
                () = ctx.cancelled() => Err(RequestError::Cancelled),
            }
        })
        .await;
        self.flush().await;
        let result = legacy_shaped(outcome.map_err(|e| remote_error(&e))?);
        Ok(match listing {
            true => self.filter.filter_list(result),
            false => result,
        })
    }

    /// Waits until the notifications received so far have gone to the stdio client.
    async fn flush(&self) {
        let (done, sent) = oneshot::channel();
        if self.notes.send(Note::Flush(done)).is_ok() {
            let _ = sent.await;
        }
    }

    /// `resources/subscribe`: a listen stream for the one resource (BR-56), answered once the
    /// remote acknowledged it.
    async fn subscribe(&self, request: &Request) -> Result<Box<RawValue>, ErrorObject> {
        let uri = uri_of(request)?;
        if lock(&self.listens).contains_key(&uri) {
            return Ok(empty());
        }
        let filter: SubscriptionFilter =
            serde_json::from_value(json!({ "resourceSubscriptions": [uri] }))
                .map_err(|_| ErrorObject::internal())?;
        let listen = self.listen(filter).await?;
        if let Some(old) = lock(&self.listens).insert(uri, listen) {
            old.abort();
        }
        Ok(empty())
    }

    /// The listen stream for the list changes the remote declares (BR-56), started before
    /// the stdio client's `initialize` is answered so that no change is missed after it.
    async fn listen_to_lists(&self) {
        let declared = |kind: &str| self.capabilities[kind]["listChanged"] == Value::Bool(true);
        let mut filter = Map::new();
        for (kind, member) in [
            ("tools", "toolsListChanged"),
            ("prompts", "promptsListChanged"),
            ("resources", "resourcesListChanged"),
        ] {
            if declared(kind) {
                filter.insert(member.into(), Value::Bool(true));
            }
        }
        if filter.is_empty() {
            return;
        }
        let Ok(filter) = serde_json::from_value::<SubscriptionFilter>(Value::Object(filter)) else {
            return;
        };
        match self.listen(filter).await {
            Ok(listen) => {
                lock(&self.listens).insert(LISTS.to_owned(), listen);
            }
            Err(e) => tracing::warn!(
                error = %e.message,
                "the remote's list changes cannot be listened to; the stdio client will not hear of them"
            ),
        }
    }

    /// Starts a listen, waits for its acknowledgement, then relays its notifications in a
    /// task of their own (the client's stream listens again after an abrupt close).
    async fn listen(&self, filter: SubscriptionFilter) -> Result<JoinHandle<()>, ErrorObject> {
        let stream = self.client.listen(filter).map_err(|e| remote_error(&e))?;
        let mut stream = Box::pin(stream);
        let first = tokio::time::timeout(ACK_TIMEOUT.min(self.timeout), stream.next()).await;
        match first {
            Ok(Some(Ok(ListenEvent::Notification(n)))) => {
                let _ = self.notes.send(Note::Send(n));
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => return Err(remote_error(&e)),
            Ok(None) => {
                return Err(ErrorObject::new(
                    error_code::INTERNAL_ERROR,
                    "the remote server ended subscriptions/listen at once",
                ));
            }
            Err(_) => {
                return Err(ErrorObject::new(
                    error_code::INTERNAL_ERROR,
                    format!(
                        "the remote server did not acknowledge subscriptions/listen within {} s",
                        ACK_TIMEOUT.min(self.timeout).as_secs()
                    ),
                ));
            }
        }
        let notes = self.notes.clone();
        Ok(tokio::spawn(async move {
            while let Some(event) = stream.next().await {
                match event {
                    Ok(ListenEvent::Notification(n)) => {
                        if notes.send(Note::Send(n)).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "a listen stream of the remote ended");
                        return;
                    }
                }
            }
        }))
    }
}

/// Sends the notifications to the stdio client in the order they came, as legacy ones (the
/// listen stream's subscription id taken off).
async fn forward_notes(local: WeakPeer, mut received: mpsc::UnboundedReceiver<Note>) {
    while let Some(note) = received.recv().await {
        match note {
            Note::Send(notification) => {
                let Some(peer) = local.upgrade() else { return };
                let params = notification.params.map(|p| untagged(p.into_raw()));
                metrics::counter!("mcp_http_bridge_relayed_messages_total", "direction" => "to_local")
                    .increment(1);
                let _ = peer.notify_raw(&notification.method, params, None).await;
            }
            Note::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// Params without `_meta`'s subscription id (and without an emptied `_meta`).
fn untagged(params: Box<RawValue>) -> Box<RawValue> {
    if !params.get().contains(META_SUBSCRIPTION_ID) {
        return params;
    }
    let Ok(mut object) = serde_json::from_str::<Map<String, Value>>(params.get()) else {
        return params;
    };
    if let Some(Value::Object(meta)) = object.get_mut("_meta") {
        meta.remove(META_SUBSCRIPTION_ID);
        if meta.is_empty() {
            object.remove("_meta");
        }
    }
    to_raw(&object).unwrap_or(params)
}

/// A result as a legacy client expects it: without `resultType` (BR-57).
fn legacy_shaped(result: Box<RawValue>) -> Box<RawValue> {
    if !result.get().contains("\"resultType\"") {
        return result;
    }
    let Ok(mut object) = serde_json::from_str::<Map<String, Value>>(result.get()) else {
        return result;
    };
    object.remove("resultType");
    to_raw(&object).unwrap_or(result)
}

/// The error the stdio client gets for a request the remote did not complete: the remote's
/// own JSON-RPC error unchanged (BR-57), or one that says what went wrong.
fn remote_error(error: &RequestError) -> ErrorObject {
    match error {
        RequestError::InvalidResponse(why) => ErrorObject::new(
            error_code::INTERNAL_ERROR,
            format!("the remote server's answer could not be used: {why}"),
        ),
        other => relay_error(other, "to_remote"),
    }
}

fn uri_of(request: &Request) -> Result<String, ErrorObject> {
    #[derive(serde::Deserialize)]
    struct Uri {
        uri: String,
    }
    Ok(request.params_as::<Uri>()?.uri)
}

fn empty() -> Box<RawValue> {
    RawValue::from_string("{}".to_owned()).unwrap_or_default()
}

/// Answers the input requests of the remote's input-required results (BR-53): each becomes a
/// real request to the stdio client, numbered by the bridge, when the client declared the
/// capability it needs; the answer goes back in the retry's `inputResponses`.
struct InputRelay {
    local: WeakPeer,
    capabilities: ClientCapabilities,
    timeout: Duration,
}

impl InputRelay {
    /// The capability `request` needs, when the stdio client did not declare it.
    fn missing(&self, request: &Request) -> Option<&'static str> {
        let caps = &self.capabilities;
        match request.method.as_str() {
            method::ELICITATION_CREATE => {
                let url = request
                    .params
                    .as_deref()
                    .and_then(|p| serde_json::from_str::<Value>(p).ok())
                    .is_some_and(|p| p["mode"] == "url");
                match (&caps.elicitation, url) {
                    (None, _) => Some("elicitation"),
                    (Some(e), true) if e.url.is_none() => Some("elicitation.url"),
                    _ => None,
                }
            }
            method::SAMPLING_CREATE_MESSAGE => caps.sampling.is_none().then_some("sampling"),
            method::ROOTS_LIST => caps.roots.is_none().then_some("roots"),
            _ => None,
        }
    }
}

impl Handler for InputRelay {
    fn handle_request(
        &self,
        request: Request,
        _ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        let known = matches!(
            request.method.as_str(),
            method::ELICITATION_CREATE | method::SAMPLING_CREATE_MESSAGE | method::ROOTS_LIST
        );
        let missing = self.missing(&request);
        let (local, timeout) = (self.local.upgrade(), self.timeout);
        Box::pin(async move {
            if !known {
                return Err(ErrorObject::method_not_found(&request.method));
            }
            if let Some(capability) = missing {
                return Err(ErrorObject::new(
                    error_code::MISSING_REQUIRED_CLIENT_CAPABILITY,
                    format!(
                        "the remote server asked for {}, which needs the `{capability}` \
                         capability; the local client did not declare it",
                        request.method
                    ),
                ));
            }
            let Some(local) = local else {
                return Err(ErrorObject::new(
                    error_code::INTERNAL_ERROR,
                    "the local client is gone",
                ));
            };
            metrics::counter!("mcp_http_bridge_relayed_messages_total", "direction" => "to_local")
                .increment(1);
            let options = RequestOptions::default()
                .timeout(timeout)
                .max_total(timeout);
            local
                .request_raw(
                    &request.method,
                    request.params.map(Params::into_raw),
                    options,
                )
                .await
                .map_err(|e| match e {
                    RequestError::Rpc(e) => e,
                    RequestError::Timeout(d) => ErrorObject::new(
                        error_code::INTERNAL_ERROR,
                        format!(
                            "the local client did not answer the remote server's {} within {} s",
                            request.method,
                            d.as_secs()
                        ),
                    ),
                    other => relay_error(&other, "to_local"),
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap_or_default()
    }

    #[test]
    fn results_lose_result_type_and_notifications_their_subscription_id() {
        let shaped = legacy_shaped(raw(r#"{"content":[],"resultType":"complete"}"#));
        assert_eq!(shaped.get(), r#"{"content":[]}"#);
        let kept = raw(r#"{"content":[]}"#);
        assert_eq!(legacy_shaped(kept).get(), r#"{"content":[]}"#);
        let tagged = raw(r#"{"uri":"a://b","_meta":{"io.modelcontextprotocol/subscriptionId":7}}"#);
        assert_eq!(untagged(tagged).get(), r#"{"uri":"a://b"}"#);
        let other = raw(r#"{"_meta":{"io.modelcontextprotocol/subscriptionId":7,"k":1}}"#);
        assert_eq!(untagged(other).get(), r#"{"_meta":{"k":1}}"#);
    }
}
