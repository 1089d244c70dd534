//! The client: connect, initialize, then a typed call for every client-to-server method.

use std::future::Future;
use std::sync::{Arc, RwLock};

use mcp_http_core::{Peer, PeerConfig, RequestContext, RequestError, RequestOptions, Transport};
use mcp_http_proto::jsonrpc::Notification;
use mcp_http_proto::lifecycle::{ElicitationCapability, RootsCapability, SamplingCapability};
use mcp_http_proto::{
    ClientCapabilities, CompleteRequestParams, CompleteResult, CreateMessageRequestParams,
    CreateMessageResult, ElicitRequestParams, ElicitResult, ErrorObject, GetPromptResult,
    Implementation, InitializeRequestParams, InitializeResult, JsonObject, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, LoggingLevel,
    LoggingMessageNotificationParams, Prompt, ProtocolVersion, ReadResourceResult, Resource,
    ResourceTemplate, Root, ServerCapabilities, Tool, method,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::capability::Needs;

mod call;
mod reply;
use crate::era::{self, Era};
use crate::handler::{
    ClientHandler, ElicitationFn, LogFn, NotificationFn, SamplingFn, elicitation_fn, sampling_fn,
};
use crate::listen::{ListenEvent, Listeners};
use crate::modern::{Context, Modern};
pub use reply::ToolReply;

/// Builds a [`Client`]: its identity, what it can do for servers, and callbacks.
#[must_use]
pub struct ClientBuilder {
    info: Implementation,
    protocol_version: ProtocolVersion,
    sampling: Option<Arc<SamplingFn>>,
    sampling_tools: bool,
    elicitation: Option<Arc<ElicitationFn>>,
    elicitation_url: bool,
    apply_defaults: bool,
    roots: Option<Vec<Root>>,
    on_log: Option<Arc<LogFn>>,
    on_notification: Option<Arc<NotificationFn>>,
    peer_config: PeerConfig,
    strict_capabilities: bool,
    era: Era,
    /// Declared as they are, instead of what the handlers imply.
    declared: Option<ClientCapabilities>,
    requests: Option<Arc<dyn mcp_http_core::Handler>>,
}

impl ClientBuilder {
    /// Which era to speak (default [`Era::Auto`]: probe with `server/discover`, fall back to
    /// `initialize`; the outcome is remembered per server for this process, H-13).
    pub fn era(mut self, era: Era) -> Self {
        self.era = era;
        self
    }

    /// Answers `sampling/createMessage` with `f` and declares the `sampling` capability.
    pub fn sampling<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(CreateMessageRequestParams, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CreateMessageResult, ErrorObject>> + Send + 'static,
    {
        self.sampling = Some(sampling_fn(f));
        self
    }

    /// Declares `sampling.tools`: the sampling function handles tool use (SM-1).
    pub fn sampling_tools(mut self) -> Self {
        self.sampling_tools = true;
        self
    }

    /// Answers `elicitation/create` with `f` and declares form-mode elicitation.
    pub fn elicitation<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(ElicitRequestParams, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ElicitResult, ErrorObject>> + Send + 'static,
    {
        self.elicitation = Some(elicitation_fn(f));
        self
    }

    /// Also declares URL-mode elicitation (the elicitation function then gets URL requests).
    pub fn elicitation_url(mut self) -> Self {
        self.elicitation_url = true;
        self
    }

    /// Fills fields the user left out of an accepted form with the schema's defaults (SEP-1034).
    pub fn apply_elicitation_defaults(mut self, apply: bool) -> Self {
        self.apply_defaults = apply;
        self
    }

    /// Offers these roots (`roots/list`) and declares `roots` with `listChanged`.
    pub fn roots(mut self, roots: Vec<Root>) -> Self {
        self.roots = Some(roots);
        self
    }

    /// Calls `f` with every log notification (`notifications/message`).
    pub fn on_log(
        mut self,
        f: impl Fn(LoggingMessageNotificationParams) + Send + Sync + 'static,
    ) -> Self {
        self.on_log = Some(Arc::new(f));
        self
    }

    /// Calls `f` with every other notification from the server (list changes, resource updates).
    pub fn on_notification(mut self, f: impl Fn(Notification) + Send + Sync + 'static) -> Self {
        self.on_notification = Some(Arc::new(f));
        self
    }

    /// The protocol version to ask for (default: the latest legacy version, 2025-11-25).
    pub fn protocol_version(mut self, version: ProtocolVersion) -> Self {
        self.protocol_version = version;
        self
    }

    /// Peer-engine settings: request timeouts and their hard cap.
    pub fn peer_config(mut self, config: PeerConfig) -> Self {
        self.peer_config = config;
        self
    }

    /// Whether calls for capabilities the server did not declare fail locally (default true, C-3).
    pub fn strict_capabilities(mut self, strict: bool) -> Self {
        self.strict_capabilities = strict;
        self
    }

    /// The `clientInfo` to send, whole (a title, a description, icons...).
    pub fn info(mut self, info: Implementation) -> Self {
        self.info = info;
        self
    }

    /// Declares exactly these capabilities, whatever handlers are set: for a relay that
    /// speaks for another client (with [`ClientBuilder::request_handler`]).
    pub fn declare_capabilities(mut self, capabilities: ClientCapabilities) -> Self {
        self.declared = Some(capabilities);
        self
    }

    /// Answers every request of the server (sampling, elicitation, roots, anything else) and,
    /// in the 2026-07-28 era, every input request of an input-required result (MR-1) with
    /// `handler`, raw, instead of the typed functions: for a relay that passes them on.
    pub fn request_handler(mut self, handler: Arc<dyn mcp_http_core::Handler>) -> Self {
        self.requests = Some(handler);
        self
    }

    fn capabilities(&self) -> ClientCapabilities {
        if let Some(declared) = &self.declared {
            return declared.clone();
        }
        let mut caps = ClientCapabilities::default();
        caps.roots = self
            .roots
            .as_ref()
            .map(|_| RootsCapability::default().with_list_changed(true));
        caps.sampling = self.sampling.as_ref().map(|_| {
            let mut sampling = SamplingCapability::default();
            sampling.tools = self.sampling_tools.then(JsonObject::new);
            sampling
        });
        caps.elicitation = self.elicitation.as_ref().map(|_| {
            let mut form = JsonObject::new();
            if self.apply_defaults {
                form.insert("applyDefaults".into(), true.into());
            }
            let mut elicitation = ElicitationCapability::default().with_form(form);
            elicitation.url = self.elicitation_url.then(JsonObject::new);
            elicitation
        });
        caps
    }

    /// Connects over `transport`: in the 2026-07-28 era a `server/discover` round trip, in the
    /// legacy era the initialize handshake (L-2..L-4, V-1..V-4); [`Era::Auto`] probes first
    /// (H-13).
    pub async fn connect(self, transport: impl Transport) -> Result<Client, RequestError> {
        self.open(transport).await?.ok_or_else(|| {
            RequestError::InvalidResponse(
                "the server does not speak protocol version 2026-07-28".into(),
            )
        })
    }

    /// Connects in the 2026-07-28 era only (whatever [`ClientBuilder::era`] says): `Some` for
    /// a server that answered `server/discover` as a modern one, `None` for an answer that
    /// means the server speaks only the legacy era (H-13: an error code, HTTP 400/404/405, or
    /// a result that is not a 2026-07-28 discover result), with no `initialize` sent. A
    /// failure that says nothing about the era (a timeout, no connection, 401, 403, another
    /// status) is an error.
    pub async fn connect_if_modern(
        mut self,
        transport: impl Transport,
    ) -> Result<Option<Client>, RequestError> {
        self.era = Era::Modern;
        self.open(transport).await
    }

    /// [`ClientBuilder::connect`]; `None` when the era is pinned to modern and the server is
    /// a legacy one.
    async fn open(self, transport: impl Transport) -> Result<Option<Client>, RequestError> {
        let origin = transport.origin();
        let era = match self.era {
            Era::Auto => era::remembered(origin.as_deref()).unwrap_or(Era::Auto),
            pinned => pinned,
        };
        let capabilities = self.capabilities();
        let roots = self.roots.map(|r| Arc::new(RwLock::new(r)));
        let listeners = Arc::new(Listeners::default());
        // LGm-1: in the 2026-07-28 era logs come only when a request asks; a client with a log
        // callback asks for everything, as a legacy server sends everything (LG-6).
        let log_level = self.on_log.as_ref().map(|_| LoggingLevel::Debug);
        let handler = Arc::new(ClientHandler {
            sampling: self.sampling,
            elicitation: self.elicitation,
            elicitation_url: self.elicitation_url,
            apply_defaults: self.apply_defaults,
            roots: roots.clone(),
            on_log: self.on_log,
            on_notification: self.on_notification,
            listeners: listeners.clone(),
            requests: self.requests.clone(),
        });
        let peer = Peer::connect(transport, handler.clone(), self.peer_config);
        let mut client = Client {
            peer,
            roots,
            instructions: None,
            strict: self.strict_capabilities,
            modern: None,
            handler,
            listeners,
        };
        if era != Era::Legacy {
            let modern = Arc::new(Modern::new(
                ProtocolVersion::LATEST,
                &capabilities,
                &self.info,
                log_level,
            ));
            client.modern = Some(modern);
            let probed = match client.context() {
                Some(context) => era::probe(&context).await,
                None => Ok(None),
            };
            match probed {
                Ok(Some(found)) => {
                    era::remember(origin.as_deref(), Era::Modern);
                    let state = client.peer.state();
                    state.set_server(found.version, found.info, found.capabilities);
                    state.set_initialized();
                    client.instructions = found.instructions;
                    return Ok(Some(client));
                }
                Ok(None) if era == Era::Auto => {
                    era::remember(origin.as_deref(), Era::Legacy);
                    client.modern = None;
                }
                Ok(None) => {
                    client.peer.close();
                    return Ok(None);
                }
                Err(e) => {
                    client.peer.close();
                    return Err(e);
                }
            }
        }
        let peer = &client.peer;
        let params =
            InitializeRequestParams::new(self.protocol_version.as_str(), capabilities, self.info);
        let result: InitializeResult = match peer
            .request(method::INITIALIZE, &params, RequestOptions::default())
            .await
        {
            Ok(r) => r,
            Err(e) => {
                peer.close();
                return Err(e);
            }
        };
        // V-3: a version this client does not speak ends the connection.
        let version = match ProtocolVersion::parse(&result.protocol_version)
            .filter(|v| v.is_legacy())
        {
            Some(v) => v,
            None => {
                peer.close();
                return Err(RequestError::InvalidResponse(format!(
                    "the server chose protocol version {:?}, which this client does not support",
                    result.protocol_version
                )));
            }
        };
        peer.state()
            .set_server(version, result.server_info, result.capabilities);
        peer.notify(
            method::NOTIFICATION_INITIALIZED,
            &serde_json::json!({}),
            None,
        )
        .await?;
        peer.state().set_initialized();
        client.instructions = result.instructions;
        Ok(Some(client))
    }
}

/// A connected MCP client session.
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use mcp_http_client::Client;
/// let transport = mcp_http_transport::stdio::child(tokio::process::Command::new("mcp-http"))?;
/// let client = Client::builder("my-app", "1.0.0").connect(transport).await?;
/// for tool in client.list_all_tools().await? {
///     println!("{}", tool.name);
/// }
/// let result = client.call_tool("add", serde_json::json!({"a": 1, "b": 2})).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    peer: Peer,
    roots: Option<Arc<RwLock<Vec<Root>>>>,
    instructions: Option<String>,
    strict: bool,
    /// Set in the 2026-07-28 era.
    modern: Option<Arc<Modern>>,
    handler: Arc<ClientHandler>,
    listeners: Arc<Listeners>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("peer", &self.peer)
            .field("era", &self.era())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts building a client named `name` at `version` (its `clientInfo`).
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            info: Implementation::new(name, version),
            protocol_version: ProtocolVersion::LATEST_LEGACY,
            sampling: None,
            sampling_tools: false,
            elicitation: None,
            elicitation_url: false,
            apply_defaults: false,
            roots: None,
            on_log: None,
            on_notification: None,
            peer_config: PeerConfig::default(),
            strict_capabilities: true,
            era: Era::Auto,
            declared: None,
            requests: None,
        }
    }

    /// The era in use: [`Era::Modern`] (2026-07-28) or [`Era::Legacy`].
    pub fn era(&self) -> Era {
        match self.modern {
            Some(_) => Era::Modern,
            None => Era::Legacy,
        }
    }

    fn context(&self) -> Option<Context> {
        Some(Context {
            peer: self.peer.clone(),
            modern: self.modern.clone()?,
            handler: self.handler.clone(),
        })
    }

    /// Fails in the 2026-07-28 era, which removed `method`.
    fn legacy_only(&self, method: &'static str) -> Result<(), RequestError> {
        match self.modern {
            Some(_) => Err(RequestError::NotInVersion(
                method,
                ProtocolVersion::V2026_07_28.as_str(),
            )),
            None => Ok(()),
        }
    }

    /// The underlying peer, for raw requests and notifications.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// The negotiated protocol version.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.peer
            .state()
            .protocol_version()
            .unwrap_or(ProtocolVersion::LATEST_LEGACY)
    }

    /// The server's `serverInfo`.
    pub fn server_info(&self) -> Option<&Implementation> {
        self.peer.state().server_info()
    }

    /// The server's capabilities.
    pub fn server_capabilities(&self) -> Option<&ServerCapabilities> {
        self.peer.state().server_capabilities()
    }

    /// The server's instructions for the model, if any.
    pub fn instructions(&self) -> Option<&str> {
        self.instructions.as_deref()
    }

    fn require(&self, needs: Needs) -> Result<(), RequestError> {
        if self.strict
            && !self
                .server_capabilities()
                .is_some_and(|caps| needs.declared_in(caps))
        {
            return Err(RequestError::CapabilityNotSupported(needs.name()));
        }
        Ok(())
    }

    /// Sends any request and decodes its result. In the 2026-07-28 era the request carries
    /// the `_meta` envelope and headers, and an input-required result is answered and the
    /// request sent again (MR-1) until it completes.
    pub async fn request<P: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: &str,
        params: &P,
        options: RequestOptions,
    ) -> Result<R, RequestError> {
        self.request_about(method, params, None, options).await
    }

    /// [`Client::request`] of a request about `name` (a `tools/call`'s tool), which the
    /// 2026-07-28 era then need not read from the params.
    async fn request_about<P: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: &str,
        params: &P,
        name: Option<&str>,
        options: RequestOptions,
    ) -> Result<R, RequestError> {
        let Some(context) = self.context() else {
            return self.peer.request(method, params, options).await;
        };
        let params = mcp_http_proto::jsonrpc::to_raw(params)
            .map_err(|e| RequestError::Encode(e.to_string()))?;
        let raw = context.request_about(method, params, name, options).await?;
        serde_json::from_str(raw.get()).map_err(|e| RequestError::InvalidResponse(e.to_string()))
    }

    /// Listens for the notifications `filter` asks for (`subscriptions/listen`, SB-1, 2026-07-28
    /// era only): the stream yields the server's acknowledgement (the part of the filter it
    /// honours), then each notification as it comes, and ends with the server's final result.
    /// After an abrupt close it listens again, with a bounded backoff. Dropping the stream
    /// closes the listen (H-5).
    pub fn listen(
        &self,
        filter: mcp_http_proto::SubscriptionFilter,
    ) -> Result<
        impl futures::Stream<Item = Result<ListenEvent, RequestError>> + Send + 'static,
        RequestError,
    > {
        let Some(context) = self.context() else {
            return Err(RequestError::NotInVersion(
                method::SUBSCRIPTIONS_LISTEN,
                self.protocol_version().as_str(),
            ));
        };
        Ok(crate::listen::stream(
            context,
            filter,
            self.listeners.clone(),
        ))
    }

    /// `ping` (PG-1). In the 2026-07-28 era, which removed `ping`, a `server/discover` round
    /// trip.
    pub async fn ping(&self) -> Result<(), RequestError> {
        if self.modern.is_some() {
            let _: serde_json::Value = self
                .request(
                    method::SERVER_DISCOVER,
                    &serde_json::json!({}),
                    RequestOptions::default(),
                )
                .await?;
            return Ok(());
        }
        let _: serde_json::Value = self
            .request(
                method::PING,
                &serde_json::json!({}),
                RequestOptions::default(),
            )
            .await?;
        Ok(())
    }

    /// One page of `tools/list`.
    pub async fn list_tools(&self, cursor: Option<&str>) -> Result<ListToolsResult, RequestError> {
        self.require(Needs::Tools)?;
        self.request(
            method::TOOLS_LIST,
            &cursor_params(cursor),
            RequestOptions::default(),
        )
        .await
    }

    /// Every tool, following `nextCursor` through all pages.
    pub async fn list_all_tools(&self) -> Result<Vec<Tool>, RequestError> {
        collect_pages(|c| async move {
            self.list_tools(c.as_deref())
                .await
                .map(|r| (r.tools, r.next_cursor))
        })
        .await
    }

    /// One page of `resources/list`.
    pub async fn list_resources(
        &self,
        cursor: Option<&str>,
    ) -> Result<ListResourcesResult, RequestError> {
        self.require(Needs::Resources)?;
        self.request(
            method::RESOURCES_LIST,
            &cursor_params(cursor),
            RequestOptions::default(),
        )
        .await
    }

    /// Every resource, through all pages.
    pub async fn list_all_resources(&self) -> Result<Vec<Resource>, RequestError> {
        collect_pages(|c| async move {
            self.list_resources(c.as_deref())
                .await
                .map(|r| (r.resources, r.next_cursor))
        })
        .await
    }

    /// One page of `resources/templates/list`.
    pub async fn list_resource_templates(
        &self,
        cursor: Option<&str>,
    ) -> Result<ListResourceTemplatesResult, RequestError> {
        self.require(Needs::Resources)?;
        self.request(
            method::RESOURCES_TEMPLATES_LIST,
            &cursor_params(cursor),
            RequestOptions::default(),
        )
        .await
    }

    /// Every resource template, through all pages.
    pub async fn list_all_resource_templates(&self) -> Result<Vec<ResourceTemplate>, RequestError> {
        collect_pages(|c| async move {
            self.list_resource_templates(c.as_deref())
                .await
                .map(|r| (r.resource_templates, r.next_cursor))
        })
        .await
    }

    /// `resources/read`.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, RequestError> {
        self.require(Needs::Resources)?;
        self.request(
            method::RESOURCES_READ,
            &serde_json::json!({ "uri": uri }),
            RequestOptions::default(),
        )
        .await
    }

    /// `resources/subscribe`: `notifications/resources/updated` will arrive for `uri`.
    pub async fn subscribe(&self, uri: &str) -> Result<(), RequestError> {
        self.legacy_only(method::RESOURCES_SUBSCRIBE)?;
        self.require(Needs::ResourceSubscriptions)?;
        let _: serde_json::Value = self
            .request(
                method::RESOURCES_SUBSCRIBE,
                &serde_json::json!({ "uri": uri }),
                RequestOptions::default(),
            )
            .await?;
        Ok(())
    }

    /// `resources/unsubscribe`.
    pub async fn unsubscribe(&self, uri: &str) -> Result<(), RequestError> {
        self.legacy_only(method::RESOURCES_UNSUBSCRIBE)?;
        self.require(Needs::ResourceSubscriptions)?;
        let _: serde_json::Value = self
            .request(
                method::RESOURCES_UNSUBSCRIBE,
                &serde_json::json!({ "uri": uri }),
                RequestOptions::default(),
            )
            .await?;
        Ok(())
    }

    /// One page of `prompts/list`.
    pub async fn list_prompts(
        &self,
        cursor: Option<&str>,
    ) -> Result<ListPromptsResult, RequestError> {
        self.require(Needs::Prompts)?;
        self.request(
            method::PROMPTS_LIST,
            &cursor_params(cursor),
            RequestOptions::default(),
        )
        .await
    }

    /// Every prompt, through all pages.
    pub async fn list_all_prompts(&self) -> Result<Vec<Prompt>, RequestError> {
        collect_pages(|c| async move {
            self.list_prompts(c.as_deref())
                .await
                .map(|r| (r.prompts, r.next_cursor))
        })
        .await
    }

    /// `prompts/get` with string arguments.
    pub async fn get_prompt<I, K, V>(
        &self,
        name: &str,
        arguments: I,
    ) -> Result<GetPromptResult, RequestError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.require(Needs::Prompts)?;
        let arguments: serde_json::Map<String, serde_json::Value> = arguments
            .into_iter()
            .map(|(k, v)| (k.into(), serde_json::Value::String(v.into())))
            .collect();
        let params = serde_json::json!({ "name": name, "arguments": arguments });
        self.request(method::PROMPTS_GET, &params, RequestOptions::default())
            .await
    }

    /// `completion/complete`.
    pub async fn complete(
        &self,
        params: &CompleteRequestParams,
    ) -> Result<CompleteResult, RequestError> {
        self.require(Needs::Completions)?;
        self.request(
            method::COMPLETION_COMPLETE,
            params,
            RequestOptions::default(),
        )
        .await
    }

    /// `logging/setLevel` (LG-2). In the 2026-07-28 era, which removed it, the level is sent
    /// in the `_meta` of every later request instead (LGm-1), with no request of its own.
    pub async fn set_logging_level(&self, level: LoggingLevel) -> Result<(), RequestError> {
        if let Some(modern) = &self.modern {
            modern.set_log_level(Some(level));
            return Ok(());
        }
        self.require(Needs::Logging)?;
        let _: serde_json::Value = self
            .request(
                method::LOGGING_SET_LEVEL,
                &serde_json::json!({ "level": level }),
                RequestOptions::default(),
            )
            .await?;
        Ok(())
    }

    /// Replaces the roots offered to the server and tells it (`notifications/roots/list_changed`,
    /// R-1). Fails when the client was built without roots.
    pub async fn set_roots(&self, roots: Vec<Root>) -> Result<(), RequestError> {
        let Some(current) = &self.roots else {
            return Err(RequestError::CapabilityNotSupported("roots"));
        };
        *mcp_http_core::sync::write(current) = roots;
        if self.modern.is_some() {
            // Each request carries what the client offers; there is no session to tell.
            return Ok(());
        }
        self.peer
            .notify(
                method::NOTIFICATION_ROOTS_LIST_CHANGED,
                &serde_json::json!({}),
                None,
            )
            .await?;
        Ok(())
    }

    /// Closes the session: pending requests fail and the transport is released.
    pub fn close(&self) {
        self.peer.close();
    }

    /// Closes the session and waits until the transport has finished (over HTTP, the DELETE
    /// that ends the session has been answered, T-42). Use it before a process exits.
    pub async fn shutdown(&self) {
        self.peer.close_and_wait().await;
    }
}

fn cursor_params(cursor: Option<&str>) -> serde_json::Value {
    match cursor {
        Some(c) => serde_json::json!({ "cursor": c }),
        None => serde_json::json!({}),
    }
}

/// Follows `nextCursor` until the last page; stops on a repeated cursor rather than looping.
async fn collect_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, RequestError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), RequestError>>,
{
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
    loop {
        let (items, next) = fetch(cursor.clone()).await?;
        all.extend(items);
        match next {
            Some(c) if seen.insert(c.clone()) => cursor = Some(c),
            _ => return Ok(all),
        }
    }
}
