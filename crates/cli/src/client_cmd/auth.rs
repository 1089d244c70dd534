//! OAuth for the client commands: the options (`--client-id`, `--client-secret`,
//! `--client-key`, `--client-credentials`, `--scope`, `--no-browser`, `--browser-command`,
//! `--assume-pkce`, `--no-resource-parameter`, `--no-auth`), the authorizer built from them for a session, and `login` /
//! `logout` (AC-7). Tokens go in the per-user file store, shared by concurrent invocations.

use std::sync::Arc;

use mcp_http_client_http::HttpClient;
use mcp_http_oauth_client::{
    Browser, FileStore, MemoryStore, NonFollowing, OAuthClient, OAuthConfig, PasteBack, SigningKey,
    TokenStore, UserAgent,
};

use super::CliError;

/// The OAuth options of the client commands.
#[derive(clap::Args, Debug, Default, Clone)]
#[command(next_help_heading = "Authorization (OAuth)")]
pub(crate) struct AuthOpts {
    /// A pre-registered OAuth client id (else the client registers itself).
    #[arg(long, value_name = "ID", env = "MCP_HTTP_CLIENT_ID")]
    client_id: Option<String>,
    /// The pre-registered client's secret.
    #[arg(
        long,
        value_name = "SECRET",
        env = "MCP_HTTP_CLIENT_SECRET",
        hide_env_values = true,
        requires = "client_id"
    )]
    client_secret: Option<String>,
    /// A PEM PKCS#8 secp256r1 private key: authenticate the client with a private-key JWT (ES256).
    #[arg(long, value_name = "FILE", requires = "client_id")]
    client_key: Option<std::path::PathBuf>,
    /// Use the client credentials grant (a machine client: no user, no browser).
    #[arg(long, requires = "client_id")]
    client_credentials: bool,
    /// Ask for these scopes (space-separated) instead of the ones the server names.
    #[arg(long, value_name = "SCOPES")]
    scope: Option<String>,
    /// Do not open a browser: print the URL and read the address the browser was sent to
    /// (paste-back), for headless machines and SSH sessions.
    #[arg(long)]
    no_browser: bool,
    /// The command that opens the authorization URL (the URL is added as its last argument;
    /// default: $BROWSER, else xdg-open or open). Run directly, never through a shell.
    #[arg(long, value_name = "COMMAND")]
    browser_command: Option<String>,
    /// Proceed with PKCE S256 although the authorization server does not advertise it.
    #[arg(long)]
    assume_pkce: bool,
    /// Do not send the RFC 8707 `resource` parameter (only for authorization servers that
    /// refuse it).
    #[arg(long)]
    no_resource_parameter: bool,
    /// Never authorize: a 401 is an error.
    #[arg(long)]
    no_auth: bool,
}

/// How the authorization URL is opened.
pub(crate) enum Agent {
    Browser(Option<String>),
    Paste,
    /// Paste-back from the terminal (/dev/tty), not stdin: `bridge URL`, whose stdin is the
    /// JSON-RPC channel (BR-18). Without a terminal nothing can be pasted, and a needed
    /// authorization fails with paste-back's own error.
    PasteTty,
    /// The conformance suite's: a GET that reads the callback from `Location`.
    NonFollowing(String),
}

/// What a session needs to authorize.
pub(crate) struct AuthSetup {
    pub(crate) config: OAuthConfig,
    pub(crate) agent: Option<Agent>,
    pub(crate) store: Arc<dyn TokenStore>,
}

impl AuthSetup {
    /// The same setup for a process whose stdin and stdout carry JSON-RPC (`bridge URL`):
    /// paste-back reads the terminal instead of stdin (prompts go to stderr either way).
    pub(crate) fn beside_stdio(mut self) -> Self {
        if matches!(self.agent, Some(Agent::Paste)) {
            self.agent = Some(Agent::PasteTty);
        }
        self
    }

    /// The authorizer of `url`, sending through `http`.
    pub(crate) fn client(
        &self,
        url: &str,
        http: &HttpClient,
    ) -> Result<Arc<OAuthClient>, CliError> {
        let agent: Option<Arc<dyn UserAgent>> = match &self.agent {
            None => None,
            Some(Agent::Browser(command)) => {
                let mut browser = Browser::new();
                if let Some(c) = command {
                    browser = browser.command(c);
                }
                Some(Arc::new(browser))
            }
            Some(Agent::Paste) => Some(Arc::new(PasteBack::stdin())),
            Some(Agent::PasteTty) => Some(Arc::new(match std::fs::File::open("/dev/tty") {
                Ok(tty) => PasteBack::from_reader(tokio::io::BufReader::new(
                    tokio::fs::File::from_std(tty),
                )),
                Err(_) => PasteBack::from_reader(tokio::io::BufReader::new(tokio::io::empty())),
            })),
            Some(Agent::NonFollowing(redirect)) => {
                Some(Arc::new(NonFollowing::new(http.clone(), redirect.clone())))
            }
        };
        OAuthClient::new(
            url,
            http.clone(),
            self.config.clone(),
            self.store.clone(),
            agent,
        )
        .map_err(|e| CliError::failed(e.to_string()))
    }
}

/// The per-user store, or one in memory when there is no home directory.
fn default_store() -> Arc<dyn TokenStore> {
    match FileStore::default_location() {
        Ok(store) => Arc::new(store),
        Err(e) => {
            tracing::warn!("{e}; tokens are kept in memory only");
            Arc::new(MemoryStore::new())
        }
    }
}

impl AuthOpts {
    /// The setup for a session; none with `--no-auth`.
    pub(crate) fn setup(&self) -> Result<Option<AuthSetup>, CliError> {
        if self.no_auth {
            return Ok(None);
        }
        let mut config = OAuthConfig::builder()
            .client_credentials(self.client_credentials)
            .assume_pkce(self.assume_pkce)
            .resource_parameter(!self.no_resource_parameter);
        if let Some(id) = &self.client_id {
            config = config.client_id(id);
        }
        if let Some(secret) = &self.client_secret {
            config = config.client_secret(secret);
        }
        if let Some(path) = &self.client_key {
            let pem = std::fs::read_to_string(path).map_err(|e| {
                CliError::usage(format!("cannot read --client-key {}: {e}", path.display()))
            })?;
            let key = SigningKey::from_pkcs8_pem(&pem)
                .map_err(|e| CliError::usage(format!("--client-key {}: {e}", path.display())))?;
            config = config.private_key(key);
        }
        if let Some(scope) = &self.scope {
            config = config.scope(scope);
        }
        let agent = if self.client_credentials {
            None
        } else if self.no_browser {
            Some(Agent::Paste)
        } else {
            Some(Agent::Browser(self.browser_command.clone()))
        };
        Ok(Some(AuthSetup {
            config: config.build(),
            agent,
            store: default_store(),
        }))
    }
}

/// The conformance suite's authorization setup: `MCP_CONFORMANCE_CONTEXT` gives pre-registered
/// or client-credentials clients; the CIMD URL is the suite's fixed one; the user agent reads
/// the callback from `Location`; tokens stay in memory.
pub(crate) fn conformance_setup(scenario: &str) -> Result<AuthSetup, CliError> {
    let context: serde_json::Value = std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or_default();
    let mut config = OAuthConfig::builder()
        .client_metadata_url("https://conformance-test.local/client-metadata.json")
        .client_name("mcp-http conformance client");
    if let Some(id) = context["client_id"].as_str() {
        config = config.client_id(id);
    }
    if let Some(secret) = context["client_secret"].as_str() {
        config = config.client_secret(secret);
    }
    if let Some(pem) = context["private_key_pem"].as_str() {
        let key = SigningKey::from_pkcs8_pem(pem).map_err(|e| CliError::failed(e.to_string()))?;
        config = config.private_key(key);
    }
    let client_credentials = scenario.starts_with("auth/client-credentials");
    Ok(AuthSetup {
        config: config.client_credentials(client_credentials).build(),
        agent: (!client_credentials)
            .then(|| Agent::NonFollowing("http://localhost:3000/callback".to_owned())),
        store: Arc::new(MemoryStore::new()),
    })
}

/// `mcp-http login URL`: authorizes now and stores the tokens.
pub(crate) async fn login(url: &str, opts: &AuthOpts) -> Result<String, CliError> {
    let Some(setup) = opts.setup()? else {
        return Err(CliError::usage("--no-auth and login contradict each other"));
    };
    let http = HttpClient::new().map_err(|e| CliError::failed(e.to_string()))?;
    let client = setup.client(url, &http)?;
    let tokens = client
        .login()
        .await
        .map_err(|e| CliError::failed(e.to_string()))?;
    let scope = tokens.scope.as_deref().unwrap_or("(none named)");
    let refresh = if tokens.refresh_token.is_some() {
        ", with a refresh token"
    } else {
        ""
    };
    Ok(format!(
        "logged in to {url}: {} token, scopes {scope}{refresh}\n",
        tokens.token_type
    ))
}

/// `mcp-http logout URL`: forgets what is stored for the server.
pub(crate) async fn logout(url: &str) -> Result<String, CliError> {
    let store = FileStore::default_location().map_err(|e| CliError::failed(e.to_string()))?;
    let forgot = store
        .forget(url)
        .await
        .map_err(|e| CliError::failed(e.to_string()))?;
    Ok(if forgot {
        format!("forgot the authorization of {url}\n")
    } else {
        format!("nothing stored for {url}\n")
    })
}
