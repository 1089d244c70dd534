//! A child that answered `initialize`, with the sessions attached to it, and how one client
//! request is relayed to it: its params and result untouched (BR-1), its progress token
//! replaced by one unique on the child and its progress brought back under the client's
//! token (BR-2), a cancellation passed on when the client gives up, and a clear error when
//! the child fails (BR-6).

use std::sync::Arc;

use mcp_http_core::{Peer, PeerConfig, RequestContext, RequestError, RequestOptions};
use mcp_http_proto::jsonrpc::Request;
use mcp_http_proto::{ErrorObject, InitializeResult, error_code, method};
use serde_json::value::RawValue;

use crate::attached::{Attached, BroadcastSlot, ChildHandler};
use crate::child::{Child, ChildSpec};
use crate::relay::{Reporter, relay_reporting};
use crate::settings::BridgeSettings;
use crate::tool_headers::ToolHeaders;

/// A running child and the sessions attached to it.
pub(crate) struct Upstream {
    pub(crate) child: Child,
    pub(crate) attached: Arc<Attached>,
    /// The child's answer to `initialize`, as it sent it.
    pub(crate) init: Box<RawValue>,
    /// The level last asked of the child with `logging/setLevel`.
    level: tokio::sync::Mutex<Option<mcp_http_proto::LoggingLevel>>,
    /// How long a request may wait on the child without progress.
    pub(crate) request_timeout: std::time::Duration,
    /// Held by the one 2026-07-28 call that may ask the client while it runs at the child
    /// (BR-70): such calls of a shared child run one at a time, so a request of the child is
    /// known to be that call's.
    pub(crate) asking: Arc<tokio::sync::Mutex<()>>,
    /// The `x-mcp-header` annotations of the child's tools (the shared child's, BR-75).
    pub(crate) tool_headers: Arc<ToolHeaders>,
}

/// Every client capability a child may use: roots, sampling, elicitation (both modes).
pub(crate) fn every_client_capability() -> serde_json::Value {
    serde_json::json!({
        "roots": { "listChanged": true },
        "sampling": {},
        "elicitation": { "form": {}, "url": {} }
    })
}

/// The `initialize` the bridge sends a shared child itself: the latest legacy version, and
/// every client capability, since any of its sessions' clients may answer (BR-2).
fn own_initialize() -> Box<RawValue> {
    let params = serde_json::json!({
        "protocolVersion": mcp_http_proto::ProtocolVersion::LATEST_LEGACY.as_str(),
        "capabilities": every_client_capability(),
        "clientInfo": { "name": "mcp-http-bridge", "version": env!("CARGO_PKG_VERSION") }
    });
    serde_json::value::to_raw_value(&params)
        .unwrap_or_else(|_| RawValue::from_string("{}".into()).unwrap_or_default())
}

impl Upstream {
    /// Spawns a child and runs its handshake: with the client's own `initialize` params
    /// (a child per session or per 2026-07-28 call), or with the bridge's (a shared child).
    /// The shared child and a call's child get `broadcast`: their list changes and updates go
    /// through the endpoint's broadcaster once it hands one (BR-76).
    pub(crate) async fn start(
        name: &Arc<str>,
        spec: &ChildSpec,
        settings: &BridgeSettings,
        initialize: Option<Box<RawValue>>,
        broadcast: Option<BroadcastSlot>,
    ) -> Result<Arc<Upstream>, ErrorObject> {
        let attached = Arc::new(Attached::default());
        let tool_headers = Arc::new(ToolHeaders::default());
        let is_shared = initialize.is_none();
        let handler = Arc::new(ChildHandler {
            attached: attached.clone(),
            client_timeout: settings.request_timeout,
            tool_headers: is_shared.then(|| tool_headers.clone()),
            broadcast,
        });
        let config = PeerConfig::default()
            .request_timeout(settings.request_timeout)
            .max_request_timeout(settings.request_timeout * 6);
        let child = Child::spawn(name.clone(), spec, handler, config).map_err(|e| {
            ErrorObject::new(
                error_code::INTERNAL_ERROR,
                format!("the bridged server `{name}` could not be started: {e}"),
            )
        })?;
        let own = initialize.is_none();
        let params = initialize.unwrap_or_else(own_initialize);
        let options = RequestOptions::default()
            .timeout(settings.init_timeout)
            .max_total(settings.init_timeout);
        let answered = child
            .peer
            .request_raw(method::INITIALIZE, Some(params), options)
            .await;
        let init = match answered {
            Ok(init) => init,
            Err(e) => {
                child.stop().await;
                return Err(match e {
                    RequestError::Rpc(e) => e,
                    RequestError::Timeout(_) => ErrorObject::new(
                        error_code::INTERNAL_ERROR,
                        format!(
                            "the bridged server `{name}` did not answer initialize within {} s",
                            settings.init_timeout.as_secs()
                        ),
                    ),
                    other => exit_error(&child, &other),
                });
            }
        };
        if serde_json::from_str::<InitializeResult>(init.get()).is_err() {
            child.stop().await;
            return Err(ErrorObject::new(
                error_code::INTERNAL_ERROR,
                format!(
                    "the bridged server `{name}` answered initialize with something that is not an initialize result"
                ),
            ));
        }
        if own {
            let _ = child
                .peer
                .notify_raw(method::NOTIFICATION_INITIALIZED, None, None)
                .await;
        }
        let upstream = Arc::new(Upstream {
            child,
            attached,
            init,
            level: tokio::sync::Mutex::new(None),
            request_timeout: settings.request_timeout,
            asking: Arc::default(),
            tool_headers,
        });
        // When the child goes, so do its sessions (404 afterwards, BR-6).
        let watched = Arc::downgrade(&upstream);
        let attached = upstream.attached.clone();
        let exited = upstream.child.peer.clone();
        tokio::spawn(async move {
            exited.closed().await;
            if watched.upgrade().is_some() {
                attached.close_all().await;
            }
        });
        Ok(upstream)
    }

    /// The peer of the child.
    pub(crate) fn peer(&self) -> &Peer {
        &self.child.peer
    }

    /// Relays one request of session `key` to the child and gives back its result.
    pub(crate) async fn forward(
        &self,
        key: u64,
        request: Request,
        ctx: &RequestContext,
    ) -> Result<Box<RawValue>, ErrorObject> {
        self.forward_reporting(key, request, ctx, Reporter::Request(ctx))
            .await
    }

    /// [`Upstream::forward`], with the progress going where `report` says (BR-72).
    pub(crate) async fn forward_reporting(
        &self,
        key: u64,
        request: Request,
        ctx: &RequestContext,
        report: Reporter<'_>,
    ) -> Result<Box<RawValue>, ErrorObject> {
        metrics::counter!("mcp_http_bridge_relayed_messages_total", "direction" => "to_child")
            .increment(1);
        if self.child.is_gone() {
            return Err(exit_error(&self.child, &RequestError::Closed));
        }
        let _call = self.attached.call(key, ctx.request_id().clone());
        let outcome =
            relay_reporting(&self.child.peer, request, ctx, self.request_timeout, report).await;
        outcome.map_err(|e| match e {
            RequestError::Rpc(e) => e,
            RequestError::Timeout(d) => ErrorObject::new(
                error_code::INTERNAL_ERROR,
                format!(
                    "the bridged server `{}` did not answer within {} s",
                    self.child.name,
                    d.as_secs()
                ),
            ),
            other => exit_error(&self.child, &other),
        })
    }

    /// Asks the child for the most verbose level any attached session wants (BR-2).
    pub(crate) async fn sync_level(&self) -> Result<(), ErrorObject> {
        let wanted = self.attached.lowest_level();
        let mut level = self.level.lock().await;
        if wanted.is_none() || *level == wanted {
            return Ok(());
        }
        let params = serde_json::json!({ "level": wanted });
        let params =
            serde_json::value::to_raw_value(&params).map_err(|_| ErrorObject::internal())?;
        self.child
            .peer
            .request_raw(
                method::LOGGING_SET_LEVEL,
                Some(params),
                RequestOptions::default(),
            )
            .await
            .map_err(|e| match e {
                RequestError::Rpc(e) => e,
                other => exit_error(&self.child, &other),
            })?;
        *level = wanted;
        Ok(())
    }
}

/// The error of a request the child could not answer because it is gone.
pub(crate) fn exit_error(child: &Child, error: &RequestError) -> ErrorObject {
    let how = child
        .status()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    ErrorObject::new(
        error_code::INTERNAL_ERROR,
        match error {
            RequestError::Closed | RequestError::Transport(_) => format!(
                "the bridged server `{}` exited{how} before it answered; this session is over, start a new one",
                child.name
            ),
            other => format!("the bridged server `{}` failed: {other}", child.name),
        },
    )
}
