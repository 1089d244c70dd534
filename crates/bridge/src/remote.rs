//! The connect direction (BR-13): a stdio client (this process's stdin and stdout, or any
//! line transport) relayed to a remote MCP endpoint through the Streamable HTTP client
//! transport, which falls back to 2024-11-05 HTTP+SSE, resumes broken streams and replays
//! the client's `initialize` in a new session when the server answers 404 (T-41), so the
//! stdio client never sees the remote session change (BR-14). Two core peers face each other:
//! what one receives the other sends, raw. Headers are the transport's (static ones, or a
//! [`TokenProvider`](mcp_http_client_http::TokenProvider) for OAuth later).

use mcp_http_proto::jsonrpc::Params;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::future::BoxFuture;
pub use mcp_http_client::Era;
use mcp_http_client_http::{HttpClient, HttpClientConfig, StreamableHttpClient};
use mcp_http_core::{
    Handler, Peer, PeerConfig, RequestContext, RequestError, RequestOptions, Transport,
    TransportError,
};
use mcp_http_proto::jsonrpc::{Notification, Request};
use mcp_http_proto::{ErrorObject, error_code, method};
use serde_json::value::RawValue;

use crate::tool_filter::ToolFilter;

/// Settings of the connect direction. Start from [`RemoteSettings::default`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RemoteSettings {
    /// The transport's settings (headers, auth, reconnects).
    pub http: HttpClientConfig,
    /// Pings the remote at this interval (keeps the session alive behind idle timeouts and
    /// finds an expired one early). A failed ping is logged, never fatal.
    pub ping_interval: Option<Duration>,
    /// How long a request may wait without progress, either way.
    pub request_timeout: Duration,
    /// Tools hidden from the local client (BR-21).
    pub ignore_tools: ToolFilter,
    /// The HTTP client to reach the remote with (its trusted roots, proxies, timeouts);
    /// `None`: a default one.
    pub client: Option<HttpClient>,
    /// Which era to speak to the remote (BR-50): found out with `server/discover`
    /// ([`Era::Auto`], the default), or pinned. The stdio side stays legacy either way.
    pub era: Era,
}

impl Default for RemoteSettings {
    fn default() -> Self {
        RemoteSettings {
            http: HttpClientConfig::default(),
            ping_interval: Some(Duration::from_secs(30)),
            request_timeout: Duration::from_secs(600),
            ignore_tools: ToolFilter::default(),
            client: None,
            era: Era::Auto,
        }
    }
}

impl RemoteSettings {
    /// The transport's settings.
    pub fn http(mut self, http: HttpClientConfig) -> Self {
        self.http = http;
        self
    }

    /// The keep-alive ping interval (`None`: no pings).
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval;
        self
    }

    /// How long a request may wait without progress.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The HTTP client to reach the remote with (a root certificate added, say: BR-23).
    pub fn client(mut self, client: HttpClient) -> Self {
        self.client = Some(client);
        self
    }

    /// Hides the remote's tools whose names match these patterns from the local client.
    pub fn ignore_tools(mut self, filter: ToolFilter) -> Self {
        self.ignore_tools = filter;
        self
    }

    /// Which era to speak to the remote (BR-50).
    pub fn era(mut self, era: Era) -> Self {
        self.era = era;
        self
    }
}

/// Relays what one peer receives to the other.
pub(crate) struct Forward {
    pub(crate) to: Arc<OnceLock<Peer>>,
    pub(crate) timeout: Duration,
    /// Which way, for metrics and messages.
    pub(crate) toward: &'static str,
    /// Tools the local client must not see (only on the way to the remote).
    pub(crate) filter: ToolFilter,
}

impl Handler for Forward {
    fn handle_request(
        &self,
        request: Request,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        metrics::counter!("mcp_http_bridge_relayed_messages_total", "direction" => self.toward)
            .increment(1);
        let (to, timeout, toward) = (self.to.get().cloned(), self.timeout, self.toward);
        let filter = (!self.filter.is_empty()).then(|| self.filter.clone());
        Box::pin(async move {
            let Some(to) = to else {
                return Err(ErrorObject::internal());
            };
            let listing = match &filter {
                Some(filter) if request.method == method::TOOLS_CALL => {
                    if let Some(refusal) = filter.refuse_call(request.params.as_deref()) {
                        return Err(refusal);
                    }
                    None
                }
                Some(filter) if request.method == method::TOOLS_LIST => Some(filter.clone()),
                _ => None,
            };
            let result = crate::relay::relay_request(&to, request, &ctx, timeout)
                .await
                .map_err(|e| relay_error(&e, toward))?;
            Ok(match listing {
                Some(filter) => filter.filter_list(result),
                None => result,
            })
        })
    }

    fn handle_notification(
        &self,
        notification: Notification,
        _peer: Peer,
    ) -> BoxFuture<'static, ()> {
        metrics::counter!("mcp_http_bridge_relayed_messages_total", "direction" => self.toward)
            .increment(1);
        let to = self.to.get().cloned();
        Box::pin(async move {
            if let Some(to) = to {
                if notification.method == method::NOTIFICATION_INITIALIZED {
                    // The remote session is up: keep-alive pings may start.
                    to.state().set_initialized();
                }
                let _ = to
                    .notify_raw(
                        &notification.method,
                        notification.params.map(Params::into_raw),
                        None,
                    )
                    .await;
            }
        })
    }
}

/// The error the requester gets when the other side could not answer.
pub(crate) fn relay_error(error: &RequestError, toward: &str) -> ErrorObject {
    let side = match toward {
        "to_remote" => "the remote server",
        _ => "the local client",
    };
    match error {
        RequestError::Rpc(e) => e.clone(),
        RequestError::Timeout(d) => ErrorObject::new(
            error_code::INTERNAL_ERROR,
            format!("{side} did not answer within {} s", d.as_secs()),
        ),
        RequestError::Transport(e) => ErrorObject::new(
            error_code::INTERNAL_ERROR,
            format!("{side} could not be reached: {e}"),
        ),
        RequestError::Closed => ErrorObject::new(
            error_code::INTERNAL_ERROR,
            format!("{side} closed the connection"),
        ),
        other => ErrorObject::new(error_code::INTERNAL_ERROR, format!("{side}: {other}")),
    }
}

/// Relays `local` (a stdio client's transport) to the endpoint at `url` until the local side
/// closes; then the remote session is ended (DELETE).
pub async fn connect(
    local: impl Transport,
    url: &str,
    settings: RemoteSettings,
) -> Result<(), TransportError> {
    let client = match &settings.client {
        Some(client) => client.clone(),
        None => HttpClient::new()?,
    };
    if settings.era != Era::Legacy {
        // BR-50: the era is found out (or checked) at the stdio client's `initialize`.
        return crate::remote_era::run(local, url, client, settings).await;
    }
    let remote = StreamableHttpClient::with_client(url, client, settings.http.clone())?;
    run(local, remote, settings).await;
    Ok(())
}

/// Relays two transports until the local one closes.
pub async fn run(local: impl Transport, remote: impl Transport, settings: RemoteSettings) {
    let (to_local, to_remote) = (Arc::new(OnceLock::new()), Arc::new(OnceLock::new()));
    let config = PeerConfig::default()
        .request_timeout(settings.request_timeout)
        .max_request_timeout(settings.request_timeout * 6);
    // Both peers exist before either reads: the first message of one side is relayed to a
    // peer that is already there.
    let (remote_sink, remote_stream) = remote.split();
    let (local_sink, local_stream) = local.split();
    let remote_peer = Peer::new(
        remote_sink,
        Arc::new(Forward {
            to: to_local.clone(),
            timeout: settings.request_timeout,
            toward: "to_local",
            filter: ToolFilter::default(),
        }),
        config.clone(),
    );
    let local_peer = Peer::new(
        local_sink,
        Arc::new(Forward {
            to: to_remote.clone(),
            timeout: settings.request_timeout,
            toward: "to_remote",
            filter: settings.ignore_tools.clone(),
        }),
        config,
    );
    let _ = to_local.set(local_peer.clone());
    let _ = to_remote.set(remote_peer.clone());
    tokio::spawn(read(remote_peer.clone(), remote_stream));
    tokio::spawn(read(local_peer.clone(), local_stream));
    if let Some(interval) = settings.ping_interval {
        tokio::spawn(keep_alive(remote_peer.downgrade(), interval));
    }
    tokio::select! {
        _ = local_peer.closed() => {}
        _ = remote_peer.closed() => {
            tracing::warn!("the remote endpoint's connection is lost for good");
        }
    }
    local_peer.close();
    remote_peer.close_and_wait().await;
}

/// Feeds a peer what its transport receives until it ends, then closes the peer.
pub(crate) async fn read(peer: Peer, mut stream: mcp_http_core::MessageStream) {
    use futures::StreamExt;
    loop {
        tokio::select! {
            _ = peer.closed() => break,
            item = stream.next() => match item {
                Some(Ok(message)) => peer.receive(message).await,
                Some(Err(invalid)) => peer.reply_invalid(invalid).await,
                None => break,
            },
        }
    }
    peer.close();
}

/// Pings the remote at `interval` while it lives; a failure is only logged (the next request
/// starts a new session if the old one is gone).
pub(crate) async fn keep_alive(remote: mcp_http_core::peer::WeakPeer, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        let Some(peer) = remote.upgrade() else { return };
        if peer.is_closed() {
            return;
        }
        if !peer.state().is_initialized() {
            continue;
        }
        let options = RequestOptions::default().timeout(interval.min(Duration::from_secs(30)));
        if let Err(e) = peer.request_raw(method::PING, None, options).await {
            tracing::warn!(error = %e, "keep-alive ping to the remote failed");
        }
    }
}
