//! `mcp-http bridge URL`: this process's stdin and stdout relayed to a remote MCP endpoint
//! (BR-13), with headers from flags, the environment or a file (BR-15), and OAuth as `call`
//! does it (BR-18).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use mcp_http_bridge::remote::{self, RemoteSettings};
use mcp_http_bridge::tool_filter::ToolFilter;
use mcp_http_client_http::{HttpClient, HttpClientConfig};

/// `--era` of `bridge`: which eras to serve, or (with URL) which era to speak to the remote.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BridgeEra {
    /// With URL only (its default): probe with `server/discover`, fall back to `initialize`.
    Auto,
    /// Legacy sessions only (serving: the default).
    Legacy,
    /// Serving only: legacy sessions and 2026-07-28 requests.
    Both,
    /// 2026-07-28 only.
    Modern,
}

impl BridgeEra {
    /// The eras to serve (BR-20; `legacy` when not given).
    pub(crate) fn served(era: Option<BridgeEra>) -> Result<mcp_http_server_http::Eras, String> {
        match era.unwrap_or(BridgeEra::Legacy) {
            BridgeEra::Both => Ok(mcp_http_server_http::Eras::Both),
            BridgeEra::Legacy => Ok(mcp_http_server_http::Eras::Legacy),
            BridgeEra::Modern => Ok(mcp_http_server_http::Eras::Modern),
            BridgeEra::Auto => {
                Err("--era auto is for `bridge URL`; serving takes legacy, both or modern".into())
            }
        }
    }

    /// The era to speak to a remote (BR-50; `auto` when not given).
    fn remote(era: Option<BridgeEra>) -> Result<remote::Era, String> {
        match era.unwrap_or(BridgeEra::Auto) {
            BridgeEra::Auto => Ok(remote::Era::Auto),
            BridgeEra::Legacy => Ok(remote::Era::Legacy),
            BridgeEra::Modern => Ok(remote::Era::Modern),
            BridgeEra::Both => {
                Err("--era both is for serving; `bridge URL` takes auto, legacy or modern".into())
            }
        }
    }
}

/// The connect direction's settings.
#[derive(clap::Args)]
#[command(next_help_heading = "Connecting")]
pub(crate) struct ConnectArgs {
    /// A header sent with every request, `Name: value` (repeatable). `${VAR}` in the value is
    /// replaced by the environment variable VAR, so secrets stay out of argv.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// A file of headers, one `Name: value` per line (blank lines and lines starting with `#`
    /// are skipped; `${VAR}` is expanded too).
    #[arg(long, value_name = "FILE")]
    header_file: Option<PathBuf>,
    /// Seconds between keep-alive pings to the remote (0: none).
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    ping_interval: f64,
    /// Seconds a request may wait without progress, either way.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0)]
    remote_request_timeout: f64,
    /// Hides the remote's tools whose names match PATTERN (`*` matches anything; repeatable):
    /// they are left out of `tools/list`, and calling one is refused (BR-21).
    #[arg(long = "ignore-tool", value_name = "PATTERN")]
    ignore_tools: Vec<String>,
    /// Do not send back the cookies the remote sets (by default they are, so a load balancer
    /// that keeps a session on one instance by a cookie sees it; BR-22).
    #[arg(long)]
    no_cookies: bool,
    /// Also trust the root certificates of this PEM file for https (repeatable), e.g. a
    /// private CA's; the system's web roots stay trusted. Verification cannot be turned off
    /// (BR-23).
    #[arg(long = "ca-cert", value_name = "FILE")]
    ca_certs: Vec<PathBuf>,
    /// OAuth, as for `call` (BR-18): the same options and the same per-user token store.
    #[command(flatten)]
    auth: crate::client_cmd::auth::AuthOpts,
    /// HTTP Basic or Digest with a user name and password, in place of OAuth (BR-39, BR-40).
    #[command(flatten)]
    password: crate::password_args::PasswordArgs,
}

/// `${VAR}` replaced by the variable's value; an unset variable is an error.
fn expand(value: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("unclosed ${{ in header value {value:?}"));
        };
        let name = &after[..end];
        let var =
            std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))?;
        out.push_str(&var);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn header(line: &str, headers: &mut HeaderMap) -> Result<(), String> {
    let Some((name, value)) = line.split_once(':') else {
        return Err(format!("header {line:?}: expected `Name: value`"));
    };
    let name = HeaderName::try_from(name.trim())
        .map_err(|_| format!("header name {:?} is not valid", name.trim()))?;
    let value = expand(value.trim())?;
    let value = HeaderValue::try_from(value)
        .map_err(|_| format!("the value of header {name} is not valid"))?;
    headers.append(name, value);
    Ok(())
}

fn headers(args: &ConnectArgs) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    if let Some(file) = &args.header_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            header(line, &mut map)?;
        }
    }
    for line in &args.headers {
        header(line, &mut map)?;
    }
    Ok(map)
}

pub(crate) async fn run(url: &str, args: &ConnectArgs, era: Option<BridgeEra>) -> ExitCode {
    let settings = match BridgeEra::remote(era).and_then(|era| Ok(settings(url, args)?.era(era))) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("mcp-http: {message}");
            return ExitCode::FAILURE;
        }
    };
    let stdio = mcp_http_transport::stdio::server();
    tokio::select! {
        relayed = remote::connect(stdio, url, settings) => match relayed {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mcp-http: {url}: {e}");
                ExitCode::FAILURE
            }
        },
        _ = crate::shutdown_signal() => ExitCode::SUCCESS,
    }
}

fn settings(url: &str, args: &ConnectArgs) -> Result<RemoteSettings, String> {
    let ping = Duration::try_from_secs_f64(args.ping_interval)
        .map_err(|_| "--ping-interval must be seconds >= 0".to_owned())?;
    let timeout = Duration::try_from_secs_f64(args.remote_request_timeout)
        .map_err(|_| "--remote-request-timeout must be seconds >= 0".to_owned())?;
    let mut http = HttpClientConfig::builder()
        .headers(headers(args)?)
        .cookies(!args.no_cookies);
    let mut builder = HttpClient::builder();
    for path in &args.ca_certs {
        let pem = std::fs::read(path)
            .map_err(|e| format!("--ca-cert {}: cannot read it: {e}", path.display()))?;
        builder = builder
            .add_root_certificate_pem(&pem)
            .map_err(|e| format!("--ca-cert {}: {e}", path.display()))?;
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    // BR-39: a user name and password, Basic or Digest; else BR-18: OAuth on demand (a 401
    // from the remote), prompts and URLs on stderr.
    if let Some(password) = args.password.authorizer()? {
        http = http.authorizer(password);
    } else if let Some(setup) = args.auth.setup().map_err(|e| e.to_string())? {
        let authorizer = setup
            .beside_stdio()
            .client(url, &client)
            .map_err(|e| e.to_string())?;
        http = http.authorizer(authorizer);
    }
    let http = http.build();
    Ok(RemoteSettings::default()
        .http(http)
        .ping_interval((!ping.is_zero()).then_some(ping))
        .request_timeout(timeout)
        .client(client)
        .ignore_tools(ToolFilter::new(args.ignore_tools.iter().cloned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_come_from_flags_files_and_the_environment() {
        let dir = std::env::temp_dir().join(format!("mcp-bridge-headers-{}", std::process::id()));
        std::fs::write(&dir, "# comment\nX-From-File: one\n\n").expect("write");
        let args = ConnectArgs {
            headers: vec!["X-Flag: two".into(), "Authorization: Bearer ${PATH}".into()],
            header_file: Some(dir.clone()),
            ping_interval: 30.0,
            remote_request_timeout: 600.0,
            ignore_tools: Vec::new(),
            no_cookies: false,
            ca_certs: Vec::new(),
            auth: Default::default(),
            password: Default::default(),
        };
        let map = headers(&args).expect("headers");
        let _ = std::fs::remove_file(&dir);
        assert_eq!(map["x-from-file"], "one");
        assert_eq!(map["x-flag"], "two");
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(
            map["authorization"].to_str().ok(),
            Some(format!("Bearer {path}").as_str())
        );
        assert!(expand("${MCP_HTTP_SURELY_UNSET_VARIABLE}").is_err());
        assert!(header("no colon", &mut HeaderMap::new()).is_err());
    }
}
