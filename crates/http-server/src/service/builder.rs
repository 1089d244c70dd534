//! [`StreamableHttpServiceBuilder`]: the endpoint's settings and the components that plug into
//! it (session store, event log, bus, principal, front layer, mounts, health check).

use super::*;

/// Builds a [`StreamableHttpService`]: the settings, and the components that plug into it.
#[must_use]
pub struct StreamableHttpServiceBuilder {
    handlers: Arc<dyn HandlerFactory>,
    config: HttpConfig,
    event_log: Option<Arc<dyn EventLog>>,
    session_store: Option<Arc<dyn SessionStore>>,
    bus: Option<Arc<dyn MessageBus>>,
    instance: Option<Arc<str>>,
    principal: Option<PrincipalFn>,
    front: Option<crate::config::FrontFn>,
    mounts: Vec<StreamableHttpService>,
    health: Option<(String, HealthFn)>,
}

impl std::fmt::Debug for StreamableHttpServiceBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamableHttpServiceBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl StreamableHttpServiceBuilder {
    pub(super) fn new(handlers: Arc<dyn HandlerFactory>) -> Self {
        StreamableHttpServiceBuilder {
            handlers,
            config: HttpConfig::default(),
            event_log: None,
            session_store: None,
            bus: None,
            instance: None,
            principal: None,
            front: None,
            mounts: Vec::new(),
            health: None,
        }
    }

    /// The settings (default: [`HttpConfig::default`]).
    pub fn config(mut self, config: HttpConfig) -> Self {
        self.config = config;
        self
    }

    /// Where SSE events are kept for replay (default: a [`MemoryEventLog`]).
    pub fn event_log(mut self, log: Arc<dyn EventLog>) -> Self {
        self.event_log = Some(log);
        self
    }

    /// Where session records are kept. By default a lone instance keeps none beyond its own
    /// table of sessions (a second copy of each would cost memory for nothing), and instances
    /// sharing a [`message_bus`](Self::message_bus) get a [`MemorySessionStore`].
    pub fn session_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.session_store = Some(store);
        self
    }

    /// Shares the sessions with other instances through `bus` (with a session store and an
    /// event log they share too): any of them then serves any request of any session.
    pub fn message_bus(mut self, bus: Arc<dyn MessageBus>) -> Self {
        self.bus = Some(bus);
        self
    }

    /// This instance's name on the message bus (default: 12 random hex digits). It must not
    /// contain a `.`.
    pub fn instance_id(mut self, id: impl Into<Arc<str>>) -> Self {
        self.instance = Some(id.into());
        self
    }

    /// Names the principal of a request from its parts, in place of the [`Principal`]
    /// extension that an auth layer sets (SEC-6).
    pub fn principal(
        mut self,
        principal: impl Fn(&http::request::Parts) -> Option<Principal> + Send + Sync + 'static,
    ) -> Self {
        self.principal = Some(Arc::new(principal));
        self
    }

    /// Puts `front` before the endpoint in [`crate::serve`]: every request on the served
    /// connections goes to it with the service, and it answers by itself (a 401, say) or calls
    /// [`StreamableHttpService::handle`]. An auth layer (the `mcp-http-oauth-server` crate) plugs in
    /// here (AR-1); users of the tower `Service` compose layers themselves instead.
    pub fn front(
        mut self,
        front: impl Fn(
            Request<hyper::body::Incoming>,
            StreamableHttpService,
        ) -> BoxFuture<'static, Response<ResponseBody>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.front = Some(Arc::new(front));
        self
    }

    /// Serves another endpoint on the same listener, at its own configured path (several
    /// bridged servers on one port, BR-9). Its own settings apply to its requests; a drain
    /// or an end of all sessions reaches it too.
    pub fn mount(mut self, other: StreamableHttpService) -> Self {
        self.mounts.push(other);
        self
    }

    /// Answers `GET path` with 200 and the JSON `status` makes (a health check for load
    /// balancers and supervisors, BR-9). Host and Origin are not checked on it.
    pub fn health(
        mut self,
        path: impl Into<String>,
        status: impl Fn() -> Bytes + Send + Sync + 'static,
    ) -> Self {
        self.health = Some((path.into(), Arc::new(status)));
        self
    }

    /// Builds the service. Inside a tokio runtime it also starts the idle reaper, which stops
    /// when the service is dropped.
    pub fn build(self) -> StreamableHttpService {
        let idle = self.config.idle_timeout;
        let instance = self.instance.unwrap_or_else(|| {
            crate::random::hex::<6>()
                .unwrap_or_else(|_| Arc::from(format!("{:x}", std::process::id())))
        });
        // Instances sharing a bus need a store of records; a lone instance needs none unless
        // one is given (a persistent one lets a restarted instance serve its sessions on).
        let store = match (self.session_store, &self.bus) {
            (Some(store), _) => Some(store),
            (None, Some(_)) => {
                Some(Arc::new(MemorySessionStore::new(idle)) as Arc<dyn SessionStore>)
            }
            (None, None) => None,
        };
        // MT-1: handles made now, from the recorder installed now; none when metrics are off.
        let metrics = self
            .config
            .metrics
            .then(|| Arc::new(crate::metrics::Metrics::new()));
        let log = self
            .event_log
            .unwrap_or_else(|| Arc::new(MemoryEventLog::default()));
        let backends = Backends {
            store,
            log: match &metrics {
                Some(metrics) => metrics.counting(log),
                None => log,
            },
            bus: self.bus,
            instance,
        };
        let in_flight = Arc::new(crate::limits::InFlight::new(self.config.max_in_flight));
        let sessions = Arc::new(Sessions::new(
            backends,
            self.config,
            self.handlers.clone(),
            metrics,
        ));
        let service = StreamableHttpService {
            ready: None,
            inner: Arc::new(Inner {
                handlers: self.handlers,
                principal: self.principal,
                front: self.front,
                sessions,
                stateless_client: SharedClient::new(
                    Implementation::new("unknown", "0"),
                    &stateless_capabilities(),
                ),
                connections: AtomicU64::new(0),
                open_connections: AtomicUsize::new(0),
                in_flight,
                mounts: self.mounts,
                health: self.health,
                per_connection: Arc::default(),
            }),
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(reap(Arc::downgrade(&service.inner.sessions)));
            // Subscribed before the service answers anything, so no message is missed.
            let sessions = Arc::downgrade(&service.inner.sessions);
            if let Some(messages) = service.inner.sessions.subscribe() {
                let broadcaster = Sessions::broadcaster(sessions.clone());
                service.inner.handlers.set_broadcaster(broadcaster);
                tokio::spawn(Sessions::listen(sessions.clone(), messages));
                tokio::spawn(Sessions::forward_get(sessions));
            } else if service.inner.config().eras.modern() {
                // The role's notifications reach `subscriptions/listen` streams as well as
                // the sessions: through the session layer.
                service
                    .inner
                    .handlers
                    .set_broadcaster(Sessions::broadcaster(sessions));
            }
        }
        service
    }
}
