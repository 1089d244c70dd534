//! Which era the connect direction speaks to the remote (BR-50): decided at the stdio client's
//! `initialize`, which brings what a 2026-07-28 request must carry (the client's info and
//! capabilities). With `--era auto` the remote is probed with `server/discover` (our client's
//! H-13 rules: an error code, HTTP 400/404/405 or a result that is not a 2026-07-28 discover
//! result mean legacy); a timeout, a connection failure, 401 or 403 is no answer about the
//! era, so the `initialize` fails with the cause and is probed again when the client retries.
//! A legacy remote gets the raw relay of [`crate::remote`], the stdio client's `initialize`
//! first; a modern one gets [`crate::remote_modern`]. Before `initialize` the stdio side is a
//! legacy server's: `ping` is answered, `server/discover` refused (-32601) so that auto-mode
//! stdio clients fall back to `initialize` (BR-51).

use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
use mcp_http_client_http::{HttpClient, StreamableHttpClient};
use mcp_http_core::{Handler, Peer, PeerConfig, RequestContext, Transport, TransportError};
use mcp_http_proto::jsonrpc::{Notification, Request};
use mcp_http_proto::{ErrorObject, error_code, method};
use serde_json::value::RawValue;
use tokio::sync::Mutex;

use crate::remote::{Era, Forward, RemoteSettings, keep_alive, read, relay_error};
use crate::remote_modern::ModernSide;

/// What the stdio side is relayed to, once decided.
enum Mode {
    /// The raw relay to a legacy session of the remote.
    Legacy { forward: Arc<Forward>, remote: Peer },
    /// The 2026-07-28 relay.
    Modern(Arc<ModernSide>),
}

/// The stdio side's handler: holds requests until the era is decided, then hands them on.
struct Local {
    url: String,
    client: HttpClient,
    settings: RemoteSettings,
    mode: OnceLock<Mode>,
    /// Held while the era is being decided (one probe at a time).
    deciding: Mutex<()>,
    /// Told when the remote's connection is lost for good (legacy) so the bridge ends.
    lost: tokio_util::sync::CancellationToken,
}

/// Relays `local` to the endpoint at `url` in the era the settings ask for, until the local
/// side closes (or a legacy remote's connection is lost for good).
pub(crate) async fn run(
    local: impl Transport,
    url: &str,
    client: HttpClient,
    settings: RemoteSettings,
) -> Result<(), TransportError> {
    // The URL is checked now, as the legacy path does, not at the first `initialize`.
    drop(StreamableHttpClient::with_client(
        url,
        client.clone(),
        settings.http.clone(),
    )?);
    let config = peer_config(&settings);
    let handler = Arc::new(Local {
        url: url.to_owned(),
        client,
        settings,
        mode: OnceLock::new(),
        deciding: Mutex::new(()),
        lost: tokio_util::sync::CancellationToken::new(),
    });
    let (sink, stream) = local.split();
    let local_peer = Peer::new(sink, Arc::new(LocalHandler(handler.clone())), config);
    tokio::spawn(read(local_peer.clone(), stream));
    tokio::select! {
        _ = local_peer.closed() => {}
        _ = handler.lost.cancelled() => {
            tracing::warn!("the remote endpoint's connection is lost for good");
        }
    }
    local_peer.close();
    match handler.mode.get() {
        Some(Mode::Legacy { remote, .. }) => remote.close_and_wait().await,
        Some(Mode::Modern(modern)) => modern.shutdown().await,
        None => {}
    }
    Ok(())
}

fn peer_config(settings: &RemoteSettings) -> PeerConfig {
    PeerConfig::default()
        .request_timeout(settings.request_timeout)
        .max_request_timeout(settings.request_timeout * 6)
}

impl Local {
    /// Decides the era with the stdio client's `initialize` params (once; again after a
    /// failure that said nothing about the era).
    async fn decide(&self, params: Option<&str>, local: &Peer) -> Result<(), ErrorObject> {
        let _deciding = self.deciding.lock().await;
        if self.mode.get().is_some() {
            return Ok(());
        }
        let mode = match self.settings.era {
            Era::Legacy => self.legacy(local)?,
            era => {
                let params: mcp_http_proto::InitializeRequestParams =
                    mcp_http_proto::jsonrpc::decode_params(params)?;
                let transport = StreamableHttpClient::with_client(
                    &self.url,
                    self.client.clone(),
                    self.settings.http.clone(),
                )
                .map_err(|e| ErrorObject::new(error_code::INTERNAL_ERROR, e.to_string()))?;
                match ModernSide::connect(transport, params, local, &self.settings).await {
                    Ok(Some(modern)) => {
                        tracing::info!(url = %self.url, "the remote speaks 2026-07-28");
                        Mode::Modern(modern)
                    }
                    Ok(None) if era == Era::Auto => {
                        tracing::info!(url = %self.url, "the remote speaks the legacy era");
                        self.legacy(local)?
                    }
                    Ok(None) => {
                        return Err(ErrorObject::new(
                            error_code::INTERNAL_ERROR,
                            "the remote server does not speak protocol version 2026-07-28 \
                             (it refused server/discover or answered it with something that is \
                             not a 2026-07-28 discover result); --era modern pins that era, \
                             --era auto would fall back to initialize",
                        ));
                    }
                    // A timeout, no connection, 401, 403: nothing about the era (H-13).
                    Err(e) => return Err(relay_error(&e, "to_remote")),
                }
            }
        };
        let _ = self.mode.set(mode);
        Ok(())
    }

    /// A legacy session of the remote, relayed raw (BR-13).
    fn legacy(&self, local: &Peer) -> Result<Mode, ErrorObject> {
        let transport = StreamableHttpClient::with_client(
            &self.url,
            self.client.clone(),
            self.settings.http.clone(),
        )
        .map_err(|e| ErrorObject::new(error_code::INTERNAL_ERROR, e.to_string()))?;
        let to_local = Arc::new(OnceLock::new());
        let _ = to_local.set(local.clone());
        let (sink, stream) = transport.split();
        let remote = Peer::new(
            sink,
            Arc::new(Forward {
                to: to_local,
                timeout: self.settings.request_timeout,
                toward: "to_local",
                filter: crate::tool_filter::ToolFilter::default(),
            }),
            peer_config(&self.settings),
        );
        tokio::spawn(read(remote.clone(), stream));
        if let Some(interval) = self.settings.ping_interval {
            tokio::spawn(keep_alive(remote.downgrade(), interval));
        }
        let (watched, lost) = (remote.clone(), self.lost.clone());
        tokio::spawn(async move {
            watched.closed().await;
            lost.cancel();
        });
        let to_remote = Arc::new(OnceLock::new());
        let _ = to_remote.set(remote.clone());
        Ok(Mode::Legacy {
            forward: Arc::new(Forward {
                to: to_remote,
                timeout: self.settings.request_timeout,
                toward: "to_remote",
                filter: self.settings.ignore_tools.clone(),
            }),
            remote,
        })
    }
}

/// [`Local`] as the stdio peer's handler.
struct LocalHandler(Arc<Local>);

impl Handler for LocalHandler {
    fn handle_request(
        &self,
        request: Request,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        if let Some(mode) = self.0.mode.get() {
            return match mode {
                Mode::Legacy { forward, .. } => forward.handle_request(request, ctx),
                Mode::Modern(modern) => modern.clone().handle(request, ctx),
            };
        }
        match request.method.as_str() {
            method::INITIALIZE => {}
            method::PING => return Box::pin(async { Ok(empty()) }),
            method::SERVER_DISCOVER => {
                return Box::pin(async {
                    Err(ErrorObject::new(
                        error_code::METHOD_NOT_FOUND,
                        "Method not found: server/discover (this bridge speaks the legacy era \
                         on stdio; send initialize)",
                    ))
                });
            }
            other => {
                let message = format!("{other} before initialize: send initialize first");
                return Box::pin(async move {
                    Err(ErrorObject::new(error_code::INVALID_REQUEST, message))
                });
            }
        }
        let this = self.0.clone();
        Box::pin(async move {
            let local = ctx.peer().clone();
            this.decide(request.params.as_deref(), &local).await?;
            match this.mode.get() {
                Some(Mode::Legacy { forward, .. }) => forward.handle_request(request, ctx).await,
                Some(Mode::Modern(modern)) => modern.clone().handle(request, ctx).await,
                None => Err(ErrorObject::internal()),
            }
        })
    }

    fn handle_notification(
        &self,
        notification: Notification,
        peer: Peer,
    ) -> BoxFuture<'static, ()> {
        match self.0.mode.get() {
            Some(Mode::Legacy { forward, .. }) => forward.handle_notification(notification, peer),
            Some(Mode::Modern(modern)) => modern.clone().notified(notification),
            None => Box::pin(async {}),
        }
    }
}

fn empty() -> Box<RawValue> {
    RawValue::from_string("{}".to_owned()).unwrap_or_default()
}
