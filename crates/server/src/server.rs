//! The server: a registry of tools, resources and prompts shared by every session, and the
//! notifications that go from it to the sessions (list changes, resource updates).

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use indexmap::IndexMap;
use mcp_http_core::peer::WeakPeer;
use mcp_http_core::{
    Broadcast, Broadcaster, Handler, HandlerFactory, Peer, PeerConfig, RequestContext,
    RequestStates, Transport,
};
use mcp_http_proto::lifecycle::{PromptsCapability, ResourcesCapability, ToolsCapability};
use mcp_http_proto::{
    CompleteRequestParams, CompleteResult, ErrorObject, Implementation, JsonObject,
    ServerCapabilities, method,
};

use crate::modern::{CACHEABLE, CacheHint};
use crate::param_headers::HeaderAnnotationError;
use crate::registry::{CompleteFn, PromptDef, ResourceDef, TemplateDef};
use crate::session::SessionHandler;
use crate::tasks::{TaskSettings, TaskStore, Tasks};
use crate::tool::ToolDef;
use mcp_http_proto::tasks::TaskSupport;

/// The bit that marks the key of a stateless handler (see [`Inner::stateless_entries`]).
pub(crate) const STATELESS_KEY: u64 = 1 << 63;

pub(crate) use mcp_http_core::sync::{lock, read, write};

/// Tools, resources or prompts by name, in registration order (names are looked up per call).
type ByName<V> = IndexMap<String, V, foldhash::fast::RandomState>;

fn warn_on_tool_name(tool: &ToolDef) {
    if !crate::tool::is_valid_tool_name(&tool.tool.name) {
        tracing::warn!(name = %tool.tool.name, "tool names should be 1-128 characters of [A-Za-z0-9_.-] (TL-6)");
    }
}

pub(crate) struct SessionEntry {
    pub(crate) peer: WeakPeer,
}

pub(crate) struct Inner {
    pub(crate) info: Implementation,
    pub(crate) instructions: Option<String>,
    pub(crate) capabilities: ServerCapabilities,
    pub(crate) tools: RwLock<ByName<ToolDef>>,
    pub(crate) resources: RwLock<ByName<ResourceDef>>,
    pub(crate) templates: RwLock<Vec<TemplateDef>>,
    pub(crate) prompts: RwLock<ByName<PromptDef>>,
    pub(crate) completion: Option<Arc<CompleteFn>>,
    pub(crate) page_size: usize,
    pub(crate) peer_config: PeerConfig,
    /// Seals and opens the `requestState` of input-required results (MR-1).
    pub(crate) request_states: RequestStates,
    pub(crate) sessions: Mutex<foldhash::HashMap<u64, SessionEntry>>,
    /// The 2026-07-28 era's additions to results (discover, `resultType`, caching).
    pub(crate) modern: crate::modern::Modern,
    /// The tasks extension's tasks (TK-1..TK-9).
    pub(crate) tasks: Arc<Tasks>,
    /// Whether `server/discover` offers the tasks extension.
    pub(crate) offers_tasks: bool,
    next_session: AtomicU64,
    /// How many entries of `sessions` belong to stateless handlers ([`STATELESS_KEY`]): while
    /// none does, a stateless handler that goes (one per stateless request) has nothing to
    /// remove and takes no lock (PF-48).
    pub(crate) stateless_entries: AtomicUsize,
    /// Set by a transport whose sessions several instances serve (see
    /// [`HandlerFactory::set_broadcaster`]).
    broadcaster: std::sync::OnceLock<Broadcaster>,
}

/// An MCP server: what it offers, shared by all its sessions. Cheap to clone.
///
/// ```
/// use mcp_http_server::{Server, ToolDef, RequestContext};
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct EchoArgs { message: String }
/// let server = Server::builder("my-server", "1.0.0")
///     .tool(ToolDef::new("echo", "Echoes the message", |a: EchoArgs, _: RequestContext| async move { a.message }))
///     .build();
/// assert_eq!(server.tool_names(), ["echo"]);
/// ```
#[derive(Clone)]
pub struct Server {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("info", &self.inner.info)
            .finish_non_exhaustive()
    }
}

/// A reference to a [`Server`] that does not keep it alive.
#[derive(Clone, Debug)]
pub struct WeakServer(std::sync::Weak<Inner>);

impl WeakServer {
    /// The server, if it is still alive.
    pub fn upgrade(&self) -> Option<Server> {
        self.0.upgrade().map(|inner| Server { inner })
    }
}

/// Builds a [`Server`].
#[must_use]
pub struct ServerBuilder {
    info: Implementation,
    instructions: Option<String>,
    tools: ByName<ToolDef>,
    resources: ByName<ResourceDef>,
    templates: Vec<TemplateDef>,
    prompts: ByName<PromptDef>,
    completion: Option<Arc<CompleteFn>>,
    page_size: usize,
    peer_config: PeerConfig,
    request_states: RequestStates,
    enable: Offers,
    cache_hints: [CacheHint; 6],
    task_store: Option<Arc<dyn TaskStore>>,
    task_settings: TaskSettings,
}

#[derive(Default)]
struct Offers {
    tools: bool,
    resources: bool,
    prompts: bool,
}

impl ServerBuilder {
    /// Sets instructions for the client's model, sent in the InitializeResult.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Sets the whole `serverInfo` (title, icons, website).
    pub fn info(mut self, info: Implementation) -> Self {
        self.info = info;
        self
    }

    /// Adds a tool. A name outside TL-6's rules is logged as a warning.
    ///
    /// # Panics
    /// When the tool's `x-mcp-header` annotations are invalid (H-10), as a route conflict
    /// panics when an axum router is built: [`try_tool`](Self::try_tool) returns the error.
    pub fn tool(self, tool: ToolDef) -> Self {
        match self.try_tool(tool) {
            Ok(builder) => builder,
            Err(e) => panic!("{e}"),
        }
    }

    /// Adds a tool, or says why its `x-mcp-header` annotations are refused (H-10).
    pub fn try_tool(mut self, tool: ToolDef) -> Result<Self, HeaderAnnotationError> {
        warn_on_tool_name(&tool);
        let tool = tool.checked()?;
        self.tools.insert(tool.tool.name.clone(), tool);
        Ok(self)
    }

    /// How long the results of `method` may be cached in the 2026-07-28 era (CA-1):
    /// `tools/list`, `prompts/list`, `resources/list`, `resources/templates/list`,
    /// `resources/read` or `server/discover`; other methods are ignored. The default is
    /// [`CacheHint::NONE`].
    pub fn cache_hint(mut self, method: &str, hint: CacheHint) -> Self {
        if let Some(i) = CACHEABLE.iter().position(|m| *m == method) {
            self.cache_hints[i] = hint;
        }
        self
    }

    /// Adds a resource.
    pub fn resource(mut self, resource: ResourceDef) -> Self {
        self.resources
            .insert(resource.resource.uri.clone(), resource);
        self
    }

    /// Adds a resource template.
    pub fn resource_template(mut self, template: TemplateDef) -> Self {
        self.templates.push(template);
        self
    }

    /// Adds a prompt.
    pub fn prompt(mut self, prompt: PromptDef) -> Self {
        self.prompts.insert(prompt.prompt.name.clone(), prompt);
        self
    }

    /// Answers `completion/complete`. Without it, completion answers an empty list.
    pub fn completion<F, Fut>(mut self, complete: F) -> Self
    where
        F: Fn(CompleteRequestParams, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CompleteResult, ErrorObject>> + Send + 'static,
    {
        self.completion = Some(Arc::new(move |p, ctx| Box::pin(complete(p, ctx))));
        self
    }

    /// Declares the tools capability even while no tool is registered (tools added later).
    pub fn enable_tools(mut self) -> Self {
        self.enable.tools = true;
        self
    }

    /// Declares the resources capability even while no resource is registered.
    pub fn enable_resources(mut self) -> Self {
        self.enable.resources = true;
        self
    }

    /// Declares the prompts capability even while no prompt is registered.
    pub fn enable_prompts(mut self) -> Self {
        self.enable.prompts = true;
        self
    }

    /// Items per page of the `*/list` methods (default 100).
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Settings of each session's peer engine (timeouts of server-to-client requests).
    pub fn peer_config(mut self, config: PeerConfig) -> Self {
        self.peer_config = config;
        self
    }

    /// How the `requestState` of input-required results is sealed and checked (MR-1, MR-2): the
    /// key ring, the lifetime, the record of used states. The default is an ephemeral key of this
    /// process and a memory record: several instances behind one endpoint must share a key ring
    /// (and, for single use across them, a shared [`mcp_http_core::UsedStates`]).
    pub fn request_states(mut self, states: RequestStates) -> Self {
        self.request_states = states;
        self
    }

    /// Where the state of tasks lives (TK-8); default: a [`crate::MemoryTaskStore`] of 10,000
    /// tasks. Instances behind one endpoint share one.
    pub fn task_store(mut self, store: Arc<dyn TaskStore>) -> Self {
        self.task_store = Some(store);
        self
    }

    /// The TTL of tasks and the polling interval suggested to clients (TK-7).
    pub fn task_settings(mut self, settings: TaskSettings) -> Self {
        self.task_settings = settings;
        self
    }

    /// Builds the server. Its capabilities follow what it offers (C-2).
    pub fn build(self) -> Server {
        let offers_resources =
            self.enable.resources || !self.resources.is_empty() || !self.templates.is_empty();
        let mut capabilities = ServerCapabilities::default().with_logging(JsonObject::new());
        capabilities.tools = (self.enable.tools || !self.tools.is_empty())
            .then(|| ToolsCapability::default().with_list_changed(true));
        capabilities.resources = offers_resources.then(|| {
            ResourcesCapability::default()
                .with_subscribe(true)
                .with_list_changed(true)
        });
        capabilities.prompts = (self.enable.prompts || !self.prompts.is_empty())
            .then(|| PromptsCapability::default().with_list_changed(true));
        capabilities.completions =
            (self.completion.is_some() || !self.prompts.is_empty() || !self.templates.is_empty())
                .then(JsonObject::new);
        let modern = crate::modern::Modern::new(&self.info, self.cache_hints);
        // TK-1: the extension is offered when a tool registered here supports tasks.
        let offers_tasks = self
            .tools
            .values()
            .any(|t| t.task_support != TaskSupport::Forbidden);
        let store = self
            .task_store
            .unwrap_or_else(|| Arc::new(crate::tasks::MemoryTaskStore::default()));
        Server {
            inner: Arc::new(Inner {
                info: self.info,
                instructions: self.instructions,
                capabilities,
                tools: RwLock::new(self.tools),
                resources: RwLock::new(self.resources),
                templates: RwLock::new(self.templates),
                prompts: RwLock::new(self.prompts),
                completion: self.completion,
                page_size: self.page_size,
                peer_config: self.peer_config,
                request_states: self.request_states,
                sessions: Mutex::default(),
                modern,
                tasks: Arc::new(Tasks::new(store, self.task_settings)),
                offers_tasks,
                next_session: AtomicU64::new(0),
                stateless_entries: AtomicUsize::new(0),
                broadcaster: std::sync::OnceLock::new(),
            }),
        }
    }
}

impl Server {
    /// Starts building a server named `name` at `version` (its `serverInfo`).
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ServerBuilder {
        ServerBuilder {
            info: Implementation::new(name, version),
            instructions: None,
            tools: ByName::default(),
            resources: ByName::default(),
            templates: Vec::new(),
            prompts: ByName::default(),
            completion: None,
            page_size: 100,
            peer_config: PeerConfig::default(),
            request_states: RequestStates::default(),
            enable: Offers::default(),
            cache_hints: [CacheHint::NONE; 6],
            task_store: None,
            task_settings: TaskSettings::default(),
        }
    }

    /// The capabilities the server declares.
    pub fn capabilities(&self) -> &ServerCapabilities {
        &self.inner.capabilities
    }

    /// The server's `serverInfo`.
    pub fn info(&self) -> &Implementation {
        &self.inner.info
    }

    /// How the server seals and checks `requestState` (see [`ServerBuilder::request_states`]).
    pub fn request_states(&self) -> &RequestStates {
        &self.inner.request_states
    }

    /// The peer-engine settings sessions use.
    pub fn peer_config(&self) -> &PeerConfig {
        &self.inner.peer_config
    }

    /// The names of the registered tools, in order.
    pub fn tool_names(&self) -> Vec<String> {
        read(&self.inner.tools).keys().cloned().collect()
    }

    /// The OAuth scopes a call of tool `name` needs, as declared with
    /// [`crate::ToolDef::scopes`] (AR-11); none for an unknown tool. Read at each call, so
    /// tools added or replaced later count.
    pub fn tool_scopes(&self, name: &str) -> Vec<String> {
        read(&self.inner.tools)
            .get(name)
            .map(|tool| tool.scopes.to_vec())
            .unwrap_or_default()
    }

    /// Every scope declared by the registered tools, sorted, once each (for the protected
    /// resource metadata's `scopes_supported`).
    pub fn declared_scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = read(&self.inner.tools)
            .values()
            .flat_map(|tool| tool.scopes.iter().cloned())
            .collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }

    /// A handler for one new session. Transports that create peers themselves use this.
    pub fn session_handler(&self) -> Arc<dyn Handler> {
        let key = self.inner.next_session.fetch_add(1, Ordering::Relaxed);
        Arc::new(SessionHandler {
            server: self.clone(),
            key,
            require_initialize: true,
        })
    }

    /// A handler for a session that needs no `initialize` (stateless HTTP): requests are served
    /// at once, with the given protocol version assumed.
    pub fn stateless_handler(&self) -> Arc<dyn Handler> {
        let key = self.inner.next_session.fetch_add(1, Ordering::Relaxed) | STATELESS_KEY;
        Arc::new(SessionHandler {
            server: self.clone(),
            key,
            require_initialize: false,
        })
    }

    /// Connects a new session over `transport` and returns its peer.
    pub fn connect(&self, transport: impl Transport) -> Peer {
        Peer::connect(
            transport,
            self.session_handler(),
            self.inner.peer_config.clone(),
        )
    }

    /// Serves one session over `transport` until it closes.
    pub async fn serve(&self, transport: impl Transport) {
        self.connect(transport).closed().await
    }

    /// How many sessions are open.
    pub fn session_count(&self) -> usize {
        lock(&self.inner.sessions).len()
    }

    fn live_sessions(&self, filter: impl Fn(&Peer) -> bool) -> Vec<Peer> {
        lock(&self.inner.sessions)
            .values()
            .filter_map(|s| s.peer.upgrade())
            .filter(|peer| filter(peer))
            .collect()
    }

    async fn broadcast(&self, method: &str, params: serde_json::Value, peers: Vec<Peer>) {
        for peer in peers {
            if peer.state().is_initialized() {
                // A session that cannot take the message is closing; the others still get it.
                let _ = peer.notify(method, &params, None).await;
            }
        }
    }

    /// Adds or replaces a tool and tells every session (`notifications/tools/list_changed`,
    /// sent in the background).
    /// A tool with invalid `x-mcp-header` annotations is not added (logged as an error; see
    /// [`try_add_tool`](Self::try_add_tool)).
    pub fn add_tool(&self, tool: ToolDef) {
        if let Err(e) = self.try_add_tool(tool) {
            tracing::error!(error = %e, "tool not added");
        }
    }

    /// Adds or replaces a tool and tells every session, or says why its `x-mcp-header`
    /// annotations are refused (H-10).
    pub fn try_add_tool(&self, tool: ToolDef) -> Result<(), HeaderAnnotationError> {
        warn_on_tool_name(&tool);
        let tool = tool.checked()?;
        write(&self.inner.tools).insert(tool.tool.name.clone(), tool);
        self.spawn_list_changed(method::NOTIFICATION_TOOLS_LIST_CHANGED);
        Ok(())
    }

    /// Removes a tool and tells every session. Returns whether it existed.
    pub fn remove_tool(&self, name: &str) -> bool {
        let removed = write(&self.inner.tools).shift_remove(name).is_some();
        if removed {
            self.spawn_list_changed(method::NOTIFICATION_TOOLS_LIST_CHANGED);
        }
        removed
    }

    /// Adds or replaces a resource and tells every session.
    pub fn add_resource(&self, resource: ResourceDef) {
        write(&self.inner.resources).insert(resource.resource.uri.clone(), resource);
        self.spawn_list_changed(method::NOTIFICATION_RESOURCES_LIST_CHANGED);
    }

    /// Removes a prompt and tells every session. Returns whether it existed.
    pub fn remove_prompt(&self, name: &str) -> bool {
        let removed = write(&self.inner.prompts).shift_remove(name).is_some();
        if removed {
            self.spawn_list_changed(method::NOTIFICATION_PROMPTS_LIST_CHANGED);
        }
        removed
    }

    /// Adds or replaces a prompt and tells every session.
    pub fn add_prompt(&self, prompt: PromptDef) {
        write(&self.inner.prompts).insert(prompt.prompt.name.clone(), prompt);
        self.spawn_list_changed(method::NOTIFICATION_PROMPTS_LIST_CHANGED);
    }

    /// Hands a notification for every session (or a resource's subscribers) to the transport's
    /// broadcaster, when there is one. Returns whether it did.
    fn broadcast_through_transport(
        &self,
        method: &str,
        params: serde_json::Value,
        uri: Option<&str>,
    ) -> bool {
        let Some(broadcaster) = self.inner.broadcaster.get() else {
            return false;
        };
        let message = serde_json::json!({"jsonrpc": "2.0", "method": method, "params": params});
        match serde_json::to_vec(&message) {
            Ok(bytes) => broadcaster(Broadcast::new(bytes.into(), uri.map(str::to_owned))),
            Err(e) => tracing::warn!(error = %e, "a notification could not be encoded"),
        }
        true
    }

    fn spawn_list_changed(&self, notification: &'static str) {
        if self.broadcast_through_transport(notification, serde_json::json!({}), None) {
            return;
        }
        let peers = self.live_sessions(|_| true);
        if peers.is_empty() {
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let server = self.clone();
            rt.spawn(async move {
                server
                    .broadcast(notification, serde_json::json!({}), peers)
                    .await
            });
        }
    }

    /// A reference that does not keep the server alive (for tools that act on their server).
    pub fn downgrade(&self) -> WeakServer {
        WeakServer(Arc::downgrade(&self.inner))
    }

    /// Sends a list-changed notification (`notifications/{tools,resources,prompts}/list_changed`)
    /// to every initialized session.
    pub async fn notify_list_changed(&self, notification: &str) {
        if self.broadcast_through_transport(notification, serde_json::json!({}), None) {
            return;
        }
        let peers = self.live_sessions(|_| true);
        self.broadcast(notification, serde_json::json!({}), peers)
            .await;
    }

    /// Tells the sessions subscribed to `uri` that it changed (`notifications/resources/updated`).
    pub async fn notify_resource_updated(&self, uri: &str) {
        let params = serde_json::json!({ "uri": uri });
        if self.broadcast_through_transport(
            method::NOTIFICATION_RESOURCES_UPDATED,
            params,
            Some(uri),
        ) {
            return;
        }
        // The subscriptions are part of the negotiated state: a transport can store and restore
        // them (a session served by several instances).
        let peers = self.live_sessions(|peer| peer.state().is_subscribed(uri));
        self.broadcast(
            method::NOTIFICATION_RESOURCES_UPDATED,
            serde_json::json!({ "uri": uri }),
            peers,
        )
        .await;
    }
}

/// A server fronted by a multi-session transport (the Streamable HTTP endpoint).
impl HandlerFactory for Server {
    fn session_handler(&self) -> Arc<dyn Handler> {
        Server::session_handler(self)
    }

    fn stateless_handler(&self) -> Arc<dyn Handler> {
        Server::stateless_handler(self)
    }

    /// PF-57: a stateless handler's key names the session it registers, which only
    /// `initialize` and `resources/subscribe` do, and a 2026-07-28 request, negotiated by its
    /// transport, reaches neither (the ladder refuses both methods, H-11).
    fn modern_handler(&self) -> Option<Arc<dyn Handler>> {
        Some(Server::stateless_handler(self))
    }

    fn peer_config(&self) -> PeerConfig {
        self.inner.peer_config.clone()
    }

    fn listen_filter(
        &self,
        requested: &mcp_http_proto::SubscriptionFilter,
    ) -> mcp_http_proto::SubscriptionFilter {
        crate::modern::honoured(&self.inner, requested)
    }

    fn set_broadcaster(&self, broadcaster: Broadcaster) {
        // One server may front several instances (in one process): the first one's wins, and
        // it reaches the others through their bus.
        let _ = self.inner.broadcaster.set(broadcaster);
    }
}
