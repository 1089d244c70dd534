//! [`Bridge`]: a stdio server as a [`HandlerFactory`], so the Streamable HTTP endpoint of
//! `mcp-http-server-http` serves it like any other role (BR-1). Each HTTP session gets a
//! [`SessionRelay`], which relays its requests to the child raw; only the lifecycle is the
//! bridge's own (`initialize`, `logging/setLevel` and subscriptions in shared mode).

use mcp_http_proto::jsonrpc::Params;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use futures::future::BoxFuture;
use mcp_http_core::sync::lock;
use mcp_http_core::{Broadcaster, Handler, HandlerFactory, Peer, PeerConfig, RequestContext};
use mcp_http_proto::jsonrpc::{Notification, Request};
use mcp_http_proto::{
    ErrorObject, InitializeRequestParams, InitializeResult, LoggingLevel, ProtocolVersion, method,
};
use serde_json::value::RawValue;

use crate::attached::BroadcastSlot;
use crate::child::ChildSpec;
use crate::parked::ParkedCalls;
use crate::settings::{BridgeSettings, ChildMode};
use crate::shared::SharedChild;
use crate::upstream::Upstream;

struct BridgeInner {
    name: Arc<str>,
    spec: ChildSpec,
    settings: BridgeSettings,
    /// The shared child: every session's in shared mode, and the stateless requests' in both.
    shared: Arc<SharedChild>,
    /// The children of sessions (child-per-session mode), to stop them at shutdown.
    per_session: Mutex<Vec<Weak<Upstream>>>,
    /// 2026-07-28 calls waiting for the client's retry (BR-24).
    parked: Arc<ParkedCalls>,
    /// The endpoint's broadcaster (with the 2026-07-28 era on): the shared child's list
    /// changes and updates reach `subscriptions/listen` streams through it (BR-76).
    broadcast: BroadcastSlot,
}

/// One bridged stdio server, served through any multi-session transport.
///
/// ```no_run
/// # async fn f() -> std::io::Result<()> {
/// use mcp_http_bridge::{Bridge, BridgeSettings, ChildSpec};
/// use mcp_http_server_http::{HttpConfig, StreamableHttpService, serve};
/// let bridge = Bridge::new("everything", ChildSpec::new("npx", ["@modelcontextprotocol/server-everything"]), BridgeSettings::default());
/// let service = StreamableHttpService::new(bridge.clone(), HttpConfig::default());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// serve(listener, service, async { let _ = tokio::signal::ctrl_c().await; }).await?;
/// bridge.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Bridge {
    inner: Arc<BridgeInner>,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("name", &self.inner.name)
            .field("command", &self.inner.spec.display())
            .finish_non_exhaustive()
    }
}

impl Bridge {
    /// A bridge for the server `spec` starts, named `name` in messages and metrics. In shared
    /// mode the child starts at once (inside a tokio runtime).
    pub fn new(name: impl Into<Arc<str>>, spec: ChildSpec, settings: BridgeSettings) -> Self {
        let name = name.into();
        let broadcast = BroadcastSlot::default();
        let shared = SharedChild::new(
            name.clone(),
            spec.clone(),
            settings.clone(),
            broadcast.clone(),
        );
        if settings.mode == ChildMode::Shared && tokio::runtime::Handle::try_current().is_ok() {
            shared.ensure_started();
        }
        Bridge {
            inner: Arc::new(BridgeInner {
                name,
                spec,
                settings,
                shared,
                per_session: Mutex::new(Vec::new()),
                parked: Arc::default(),
                broadcast,
            }),
        }
    }

    /// The server's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Its health (BR-9): in shared mode whether the child is up; the number of children of
    /// sessions.
    pub fn status(&self) -> serde_json::Value {
        let children = self.live_children().len();
        match self.inner.settings.mode {
            ChildMode::Shared => serde_json::json!({
                "mode": "shared",
                "ready": self.inner.shared.is_ready(),
                "sessions": self.inner.shared.sessions(),
            }),
            ChildMode::PerSession => serde_json::json!({
                "mode": "per-session",
                "ready": true,
                "children": children,
            }),
        }
    }

    fn live_children(&self) -> Vec<Arc<Upstream>> {
        let mut children = lock(&self.inner.per_session);
        children.retain(|c| c.strong_count() > 0);
        children.iter().filter_map(Weak::upgrade).collect()
    }

    /// Stops every child (SIGTERM to its process group, SIGKILL after a grace period) and
    /// waits until they are reaped (BR-5).
    pub async fn shutdown(&self) {
        for child in self.live_children() {
            child.child.stop().await;
        }
        self.inner.shared.shutdown().await;
    }
}

impl HandlerFactory for Bridge {
    fn session_handler(&self) -> Arc<dyn Handler> {
        Arc::new(SessionRelay {
            bridge: self.inner.clone(),
            attached: Arc::new(OnceLock::new()),
        })
    }

    fn stateless_handler(&self) -> Arc<dyn Handler> {
        Arc::new(StatelessRelay {
            bridge: self.inner.clone(),
        })
    }

    fn set_broadcaster(&self, broadcaster: Broadcaster) {
        *lock(&self.inner.broadcast) = Some(broadcaster);
    }

    fn peer_config(&self) -> PeerConfig {
        // A request to the client may wait on a person (an elicitation).
        PeerConfig::default()
            .request_timeout(self.inner.settings.request_timeout)
            .max_request_timeout(self.inner.settings.request_timeout * 6)
    }
}

/// The child a session is attached to, and its key there; set by `initialize`.
type Slot = Arc<OnceLock<(Arc<Upstream>, u64)>>;

/// The handler of one HTTP session.
struct SessionRelay {
    bridge: Arc<BridgeInner>,
    attached: Slot,
}

impl Handler for SessionRelay {
    fn handle_request(
        &self,
        request: Request,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        if request.method == method::INITIALIZE {
            if self.attached.get().is_some() {
                return Box::pin(async {
                    Err(ErrorObject::invalid_request(
                        "Invalid Request: the session is already initialized",
                    ))
                });
            }
            let (bridge, slot) = (self.bridge.clone(), self.attached.clone());
            return Box::pin(initialize_session(bridge, slot, request, ctx));
        }
        let Some((upstream, key)) = self.attached.get().cloned() else {
            return Box::pin(async {
                Err(ErrorObject::invalid_request(
                    "Invalid Request: the session is not initialized",
                ))
            });
        };
        let mode = self.bridge.settings.mode;
        Box::pin(async move { relay(upstream, key, mode, request, ctx).await })
    }

    fn handle_notification(
        &self,
        notification: Notification,
        peer: Peer,
    ) -> BoxFuture<'static, ()> {
        metrics::counter!("mcp_http_bridge_relayed_messages_total", "direction" => "to_child")
            .increment(1);
        let initialized = notification.method == method::NOTIFICATION_INITIALIZED;
        if initialized {
            peer.state().set_initialized();
        }
        let upstream = self.attached.get().map(|(u, _)| u.clone());
        let mode = self.bridge.settings.mode;
        Box::pin(async move {
            let Some(upstream) = upstream else { return };
            // A shared child was initialized by the bridge: the sessions' own
            // `notifications/initialized` are not its.
            if initialized && mode == ChildMode::Shared {
                return;
            }
            let _ = upstream
                .peer()
                .notify_raw(
                    &notification.method,
                    notification.params.map(Params::into_raw),
                    None,
                )
                .await;
        })
    }
}

/// A session's `initialize`: a child of its own started with the client's params, or the
/// shared child's handshake answered again (BR-2, BR-4).
async fn initialize_session(
    bridge: Arc<BridgeInner>,
    slot: Slot,
    request: Request,
    ctx: RequestContext,
) -> Result<Box<RawValue>, ErrorObject> {
    let params: InitializeRequestParams = request.params_as()?;
    let upstream = match bridge.settings.mode {
        ChildMode::PerSession => {
            let upstream = Upstream::start(
                &bridge.name,
                &bridge.spec,
                &bridge.settings,
                request.params.map(Params::into_raw),
                None,
            )
            .await?;
            let mut children = lock(&bridge.per_session);
            children.retain(|c| c.strong_count() > 0);
            children.push(Arc::downgrade(&upstream));
            drop(children);
            upstream
        }
        ChildMode::Shared => bridge.shared.running().await?,
    };
    let mut result: InitializeResult =
        serde_json::from_str(upstream.init.get()).map_err(|_| ErrorObject::internal())?;
    let child_version = ProtocolVersion::parse(&result.protocol_version)
        .filter(|v| v.is_legacy())
        .unwrap_or_else(|| ProtocolVersion::negotiate(&result.protocol_version));
    // A shared child negotiated once; a session asking for an older version it knows gets
    // that one (V-2), as the child would have answered it.
    let version = match (
        bridge.settings.mode,
        ProtocolVersion::parse(&params.protocol_version),
    ) {
        (ChildMode::Shared, Some(asked)) if asked.is_legacy() && asked < child_version => asked,
        _ => child_version,
    };
    let peer = ctx.peer().clone();
    let key = upstream.attached.attach(&peer);
    if slot.set((upstream.clone(), key)).is_err() {
        upstream.attached.detach(key);
        return Err(ErrorObject::invalid_request(
            "Invalid Request: the session is already initialized",
        ));
    }
    peer.state()
        .set_client(version, params.client_info, params.capabilities);
    // The session's end detaches it; a child of its own is stopped (BR-5).
    let mode = bridge.settings.mode;
    let watched = upstream.clone();
    tokio::spawn(async move {
        peer.closed().await;
        watched.attached.detach(key);
        if mode == ChildMode::PerSession {
            watched.child.stop().await;
        } else {
            let _ = watched.sync_level().await;
        }
    });
    if version == child_version {
        return Ok(upstream.init.clone());
    }
    result.protocol_version = version.as_str().to_owned();
    serde_json::value::to_raw_value(&result).map_err(|_| ErrorObject::internal())
}

/// One request of an initialized session.
async fn relay(
    upstream: Arc<Upstream>,
    key: u64,
    mode: ChildMode,
    request: Request,
    ctx: RequestContext,
) -> Result<Box<RawValue>, ErrorObject> {
    let state = ctx.peer().state();
    match request.method.as_str() {
        method::LOGGING_SET_LEVEL => {
            #[derive(serde::Deserialize)]
            struct Params {
                level: LoggingLevel,
            }
            let params: Params = request.params_as()?;
            state.set_log_level(params.level);
            if mode == ChildMode::Shared {
                // Each session's level is its own; the child logs at the most verbose.
                upstream.sync_level().await?;
                return RawValue::from_string("{}".into()).map_err(|_| ErrorObject::internal());
            }
        }
        method::RESOURCES_SUBSCRIBE | method::RESOURCES_UNSUBSCRIBE => {
            #[derive(serde::Deserialize)]
            struct Params {
                uri: String,
            }
            let params: Params = request.params_as()?;
            let subscribe = request.method == method::RESOURCES_SUBSCRIBE;
            let result = upstream.forward(key, request, &ctx).await?;
            if subscribe {
                state.subscribe(&params.uri);
            } else {
                state.unsubscribe(&params.uri);
            }
            return Ok(result);
        }
        _ => {}
    }
    upstream.forward(key, request, &ctx).await
}

/// The handler of one stateless exchange, and of every 2026-07-28 request: relayed to the
/// shared child (BR-8, BR-20).
struct StatelessRelay {
    bridge: Arc<BridgeInner>,
}

impl Handler for StatelessRelay {
    fn handle_request(
        &self,
        request: Request,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        let shared = self.bridge.shared.clone();
        let parked = self.bridge.parked.clone();
        let bridge = self.bridge.clone();
        Box::pin(async move {
            let upstream = shared.running().await?;
            if request.method == method::INITIALIZE {
                return Ok(upstream.init.clone());
            }
            if !ctx.peer().state().is_modern() {
                let key = upstream.attached.attach(ctx.peer());
                let answered = upstream.forward(key, request, &ctx).await;
                upstream.attached.detach(key);
                return answered;
            }
            let method = request.method.clone();
            let answered = modern(&bridge, &upstream, &parked, request, ctx).await;
            let info = serde_json::from_str::<serde_json::Value>(upstream.init.get())
                .map(|init| init["serverInfo"].clone())
                .unwrap_or_default();
            match answered {
                Ok(result) => crate::modern::complete(&method, &info, result),
                Err(e) => Err(crate::modern::error(e)),
            }
        })
    }
}

/// A 2026-07-28 request (BR-20).
async fn modern(
    bridge: &Arc<BridgeInner>,
    upstream: &Arc<Upstream>,
    parked: &Arc<ParkedCalls>,
    request: Request,
    ctx: RequestContext,
) -> Result<Box<RawValue>, ErrorObject> {
    if request.method == method::SERVER_DISCOVER {
        return crate::modern::discover(&upstream.init);
    }
    if request.method == method::TOOLS_CALL {
        // BR-75: the child's `x-mcp-header` annotations, checked as `serve` does.
        let child = upstream.peer();
        upstream.tool_headers.check(&request, &ctx, child).await?;
    }
    // BR-20: a modern request's own log level (from its `_meta`) joins the child's.
    if !method::allows_input_required(&request.method) {
        let key = upstream.attached.attach_quiet(ctx.peer());
        let leveled = upstream.sync_level().await;
        let answered = match leveled {
            Ok(()) => upstream.forward(key, request, &ctx).await,
            Err(e) => Err(e),
        };
        upstream.attached.detach(key);
        return answered;
    }
    // BR-24: the child's requests during the call become input-required rounds.
    match bridge.settings.mode {
        // BR-25: a call of its own child, so a child's request is never another call's.
        // A retry resumes its parked call and starts none.
        ChildMode::PerSession if !is_retry(&request) => {
            let own = call_child(bridge, &ctx).await?;
            parked.serve(own, request, ctx, true).await
        }
        _ => parked.serve(upstream.clone(), request, ctx, false).await,
    }
}

/// A child for one 2026-07-28 call (`--child-per-session`, BR-25), initialized with the
/// request's client info and every client capability, as a shared child is: the bridge, not the
/// child, refuses what the request did not declare (-32021, BR-74).
async fn call_child(
    bridge: &Arc<BridgeInner>,
    ctx: &RequestContext,
) -> Result<Arc<Upstream>, ErrorObject> {
    let state = ctx.peer().state();
    let info = match state.client_info() {
        Some(info) => serde_json::to_value(info).map_err(|_| ErrorObject::internal())?,
        None => {
            serde_json::json!({"name": "mcp-http-bridge", "version": env!("CARGO_PKG_VERSION")})
        }
    };
    let initialize = serde_json::json!({
        "protocolVersion": ProtocolVersion::LATEST_LEGACY.as_str(),
        "capabilities": crate::upstream::every_client_capability(),
        "clientInfo": info,
    });
    let initialize =
        serde_json::value::to_raw_value(&initialize).map_err(|_| ErrorObject::internal())?;
    let child = Upstream::start(
        &bridge.name,
        &bridge.spec,
        &bridge.settings,
        Some(initialize),
        // A call has no session: its child's list changes are the listeners' (BR-76).
        Some(bridge.broadcast.clone()),
    )
    .await?;
    // The handshake is the bridge's, so is its end.
    let _ = child
        .peer()
        .notify_raw(method::NOTIFICATION_INITIALIZED, None, None)
        .await;
    Ok(child)
}

/// Whether `request` retries an input-required result (it carries a `requestState`).
fn is_retry(request: &Request) -> bool {
    #[derive(serde::Deserialize)]
    struct Params {
        #[serde(rename = "requestState")]
        request_state: Option<serde_json::Value>,
    }
    request
        .params_as::<Params>()
        .is_ok_and(|p| p.request_state.is_some())
}
