//! One connection for one command: our `Client` over our Streamable HTTP transport, with the
//! command's headers, timeout, elicitation and sampling answers, and errors turned into one-line
//! reasons.

use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use http::header::HeaderMap;
use mcp_http_client::proto::{CreateMessageResult, ErrorObject};
use mcp_http_client::{CancellationToken, Client, RequestError, RequestOptions};
use mcp_http_client_http::{HttpClient, HttpClientConfig, StreamableHttpClient};
use mcp_http_core::{PeerConfig, TransportErrorKind};
use serde_json::{Value, json};

use super::elicit::{self, Elicit};
use super::output::ListKind;
use super::progress::Reporter;
use super::{CliError, ClientOpts};

/// The most pages a listing follows, against a server whose cursors never end.
const MAX_PAGES: usize = 1000;

/// What a session needs from the command line.
pub(crate) struct Settings {
    pub(crate) headers: HeaderMap,
    pub(crate) timeout: Duration,
    pub(crate) elicit: Elicit,
    pub(crate) sampling_reply: Option<String>,
    pub(crate) era: mcp_http_client::Era,
    /// Roots offered to the server (`roots/list`); none declares no `roots` capability.
    pub(crate) roots: Vec<mcp_http_client::proto::Root>,
    /// OAuth, run when the server asks for it (none: a 401 is an error).
    pub(crate) auth: Option<super::auth::AuthSetup>,
    /// `--username`: Basic or Digest in place of OAuth (BR-39).
    pub(crate) password: Option<Arc<mcp_http_client_http::PasswordAuth>>,
}

impl Settings {
    /// Checks and converts the common options.
    pub(crate) fn from_opts(opts: &ClientOpts) -> Result<Self, CliError> {
        let headers = headers(&opts.headers)?;
        let password = opts.password.authorizer().map_err(CliError::usage)?;
        // A static Authorization header or a user name is the user's choice: no OAuth then.
        let auth = if headers.contains_key(http::header::AUTHORIZATION) || password.is_some() {
            None
        } else {
            opts.auth.setup()?
        };
        Ok(Settings {
            auth,
            password,
            headers,
            timeout: opts.timeout,
            elicit: Elicit::new(opts.elicit),
            sampling_reply: opts.sampling_reply.clone(),
            era: opts.era.era(),
            roots: Vec::new(),
        })
    }
}

/// `Name: value` headers.
fn headers(lines: &[String]) -> Result<HeaderMap, CliError> {
    let mut map = HeaderMap::new();
    for line in lines {
        let (name, value) = mcp_http::header_arg::parse(line).map_err(CliError::usage)?;
        map.append(name, value);
    }
    Ok(map)
}

/// A connected client and what its requests need.
pub(crate) struct Session {
    client: Client,
    reporter: Arc<Reporter>,
    timeout: Duration,
    cancel: CancellationToken,
}

impl Session {
    /// Connects to `url` and initializes; Ctrl-C (`cancel`) interrupts.
    pub(crate) async fn connect(
        url: &str,
        settings: Settings,
        cancel: CancellationToken,
    ) -> Result<Session, CliError> {
        let parsed = url
            .parse::<Uri>()
            .map_err(|e| CliError::usage(format!("invalid URL {url:?}: {e}")))?;
        if !matches!(parsed.scheme_str(), Some("http" | "https")) {
            return Err(CliError::usage(format!(
                "invalid URL {url:?}: the scheme must be http or https"
            )));
        }
        let http = HttpClient::new().map_err(|e| CliError::failed(e.to_string()))?;
        let mut config = HttpClientConfig::builder().headers(settings.headers);
        if let Some(password) = &settings.password {
            config = config.authorizer(password.clone());
        } else if let Some(auth) = &settings.auth {
            config = config.authorizer(auth.client(url, &http)?);
        }
        let config = config.build();
        let transport = StreamableHttpClient::with_client(url, http, config)
            .map_err(|e| CliError::usage(e.to_string()))?;
        let reporter = Arc::new(Reporter::new());
        let timeout = settings.timeout;
        let logs = reporter.clone();
        let asks = reporter.clone();
        let mode = settings.elicit;
        let mut builder = Client::builder("mcp-http", env!("CARGO_PKG_VERSION"))
            .peer_config({
                let config = PeerConfig::default().request_timeout(timeout);
                let cap = timeout.max(config.max_request_timeout);
                config.max_request_timeout(cap)
            })
            .strict_capabilities(false)
            .era(settings.era)
            .on_log(move |log| logs.log(&log))
            .elicitation(move |params, _ctx| elicit::answer(mode, params, asks.clone()))
            .apply_elicitation_defaults(true);
        if !settings.roots.is_empty() {
            builder = builder.roots(settings.roots);
        }
        if let Some(text) = settings.sampling_reply {
            let notes = reporter.clone();
            builder = builder.sampling(move |_params, _ctx| {
                notes.line("sampling: answered with --sampling-reply");
                let result = sampling_result(&text);
                async move { result }
            });
        }
        let connected = tokio::select! {
            connected = builder.connect(transport) => connected,
            _ = cancel.cancelled() => return Err(CliError::interrupted()),
        };
        let client = match connected {
            Ok(client) => client,
            Err(RequestError::Transport(e)) if e.kind() == TransportErrorKind::Io => {
                return Err(CliError::failed(unreachable(&parsed, &e.to_string()).await));
            }
            Err(e) => return Err(request_error(&format!("initialize at {url}"), e, timeout)),
        };
        Ok(Session {
            client,
            reporter,
            timeout,
            cancel,
        })
    }

    /// Any request, its raw result back.
    pub(crate) async fn request(&self, method: &str, params: Value) -> Result<Value, CliError> {
        self.send(method, method, params, false).await
    }

    /// A request; `progress` asks for progress notifications; errors start with `label`.
    async fn send(
        &self,
        label: &str,
        method: &str,
        params: Value,
        progress: bool,
    ) -> Result<Value, CliError> {
        let mut options = RequestOptions::default()
            .timeout(self.timeout)
            .cancel_token(self.cancel.clone());
        if progress {
            let reporter = self.reporter.clone();
            options = options.on_progress(move |p| reporter.progress(&p));
        }
        let result = self
            .client
            .request::<_, Value>(method, &params, options)
            .await;
        self.reporter.finish();
        result.map_err(|e| request_error(label, e, self.timeout))
    }

    /// `tools/call`, with progress; the raw result (an `isError` result is the caller's call).
    pub(crate) async fn call_tool(&self, name: &str, arguments: Value) -> Result<Value, CliError> {
        self.send(
            &format!("tools/call {name}"),
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
            true,
        )
        .await
    }

    /// A liveness check: `ping`, or in the 2026-07-28 era a `server/discover` round trip (the
    /// era has no `ping`); the raw result.
    pub(crate) async fn ping(&self) -> Result<Value, CliError> {
        match self.client.era() {
            mcp_http_client::Era::Modern => self.request("server/discover", json!({})).await,
            _ => self.request("ping", json!({})).await,
        }
    }

    /// The era in use and its protocol version, for people.
    pub(crate) fn era(&self) -> String {
        format!(
            "{} era, protocol {}",
            self.client.era(),
            self.client.protocol_version().as_str()
        )
    }

    /// The connected client.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Fails with a clear reason when the server did not declare `capability` (C-2), rather
    /// than sending a request it will answer "method not found".
    pub(crate) fn require(&self, capability: &str) -> Result<(), CliError> {
        if self.client.peer().state().server_declares(&[capability]) {
            return Ok(());
        }
        Err(CliError::failed(format!(
            "{} does not offer {capability} (no {capability} capability)",
            self.server_name()
        )))
    }

    /// Every item of a listing, following `nextCursor`.
    pub(crate) async fn list_all(&self, kind: ListKind) -> Result<Vec<Value>, CliError> {
        let (method, key) = kind.method();
        self.require(match kind {
            ListKind::Tools => "tools",
            ListKind::Resources | ListKind::Templates => "resources",
            ListKind::Prompts => "prompts",
        })?;
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let params = match &cursor {
                Some(c) => json!({ "cursor": c }),
                None => json!({}),
            };
            let mut page = self.request(method, params).await?;
            if let Some(Value::Array(more)) = page.get_mut(key).map(Value::take) {
                items.extend(more);
            }
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(next) if seen.insert(next.to_owned()) => cursor = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(items)
    }

    /// The server's name and version, as it introduced itself.
    pub(crate) fn server_name(&self) -> String {
        match self.client.server_info() {
            Some(info) => format!("{} {}", info.name, info.version),
            None => "the server".to_owned(),
        }
    }

    /// Connects, does `work`, then ends the session (DELETE) whatever the outcome.
    pub(crate) async fn run<T>(
        url: &str,
        settings: Settings,
        cancel: CancellationToken,
        work: impl AsyncFnOnce(&Session) -> Result<T, CliError>,
    ) -> Result<T, CliError> {
        let session = Session::connect(url, settings, cancel).await?;
        let outcome = work(&session).await;
        session.close().await;
        outcome
    }

    /// Ends the session (DELETE, waited for, T-42) and stops the transport.
    async fn close(&self) {
        self.reporter.finish();
        self.client.shutdown().await;
    }
}

fn sampling_result(text: &str) -> Result<CreateMessageResult, ErrorObject> {
    serde_json::from_value(json!({
        "role": "assistant",
        "model": "mcp-http-cli",
        "content": { "type": "text", "text": text },
        "stopReason": "endTurn",
    }))
    .map_err(|_| ErrorObject::internal())
}

/// A failed request as one line, naming what was asked.
fn request_error(what: &str, error: RequestError, timeout: Duration) -> CliError {
    let message = match error {
        RequestError::Rpc(e) => format!(
            "{what}: the server answered with error {}: {}",
            e.code, e.message
        ),
        RequestError::Timeout(_) => format!(
            "{what}: no answer within {} s (see --timeout)",
            super::progress::number(timeout.as_secs_f64())
        ),
        RequestError::Cancelled => return CliError::interrupted(),
        RequestError::Closed => format!("{what}: the connection closed before the answer came"),
        RequestError::Transport(e) => format!("{what}: {e}"),
        RequestError::CapabilityNotSupported(c) => format!("{what}: the server does not offer {c}"),
        other => format!("{what}: {other}"),
    };
    CliError::failed(message)
}

/// Why the endpoint cannot be reached. The transport's message names the URL only, so a plain
/// TCP connection finds the reason (refused, unknown host, ...).
async fn unreachable(url: &Uri, transport_message: &str) -> String {
    let default_port = match url.scheme_str() {
        Some("https") => 443,
        _ => 80,
    };
    let (Some(host), port) = (url.host(), url.port_u16().unwrap_or(default_port)) else {
        return format!("cannot connect to {url}: {transport_message}");
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let probe = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect((host, port)),
    )
    .await;
    match probe {
        Ok(Err(e)) => format!("cannot connect to {url}: {e}"),
        Err(_) => format!("cannot connect to {url}: no answer from {host}:{port}"),
        Ok(Ok(_)) => format!("cannot connect to {url}: {transport_message}"),
    }
}
