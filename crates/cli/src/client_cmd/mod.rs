//! The client commands: `list`, `call`, `read`, `prompt`, `ping` and `listen` against a
//! Streamable HTTP endpoint of either era (`--era`), and the hidden `conformance-client` for
//! the official suite's client mode.
//!
//! Results go to stdout (readable, or the raw result with `--json`); progress, logs and notes go
//! to stderr; any failure is one line `mcp-http: error: ...` and a non-zero exit code.

mod args;
pub(crate) mod auth;
mod conformance;
mod elicit;
mod listen;
mod output;
mod progress;
mod session;

use std::fmt;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use mcp_http_client::CancellationToken;
use serde_json::{Map, Value, json};

use elicit::ElicitChoice;
use output::ListKind;
use session::{Session, Settings};

/// Options every client command takes.
#[derive(clap::Args, Debug)]
pub(crate) struct ClientOpts {
    /// Print the raw JSON result on stdout (for scripts) instead of a readable rendering.
    #[arg(long)]
    json: bool,
    /// A header sent with every HTTP request, as 'Name: value' (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Seconds to wait for each answer (progress notifications restart the wait).
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_seconds)]
    timeout: Duration,
    /// Answer the server's elicitation requests without asking: accept with the schema's
    /// defaults, or decline. Without it they are asked on the terminal, or declined when there is
    /// none.
    #[arg(long, value_enum, value_name = "MODE")]
    elicit: Option<ElicitChoice>,
    /// Answer the server's sampling requests with this text (an assistant message from model
    /// "mcp-http-cli"). Without it the sampling capability is not declared.
    #[arg(long, value_name = "TEXT")]
    sampling_reply: Option<String>,
    /// Which protocol era to speak: auto (probe with server/discover, fall back to initialize),
    /// legacy (initialize and a session) or modern (2026-07-28, every request on its own).
    #[arg(long, value_enum, value_name = "ERA", default_value = "auto")]
    era: EraChoice,
    #[command(flatten)]
    auth: auth::AuthOpts,
    /// HTTP Basic or Digest with a user name and password, in place of OAuth (BR-39).
    #[command(flatten)]
    password: crate::password_args::PasswordArgs,
}

/// `--era`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EraChoice {
    /// Probe, then remember.
    Auto,
    /// 2024-11-05 to 2025-11-25.
    Legacy,
    /// 2026-07-28.
    Modern,
}

impl EraChoice {
    /// The client library's setting.
    pub(crate) fn era(self) -> mcp_http_client::Era {
        match self {
            EraChoice::Auto => mcp_http_client::Era::Auto,
            EraChoice::Legacy => mcp_http_client::Era::Legacy,
            EraChoice::Modern => mcp_http_client::Era::Modern,
        }
    }
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err("expected a number of seconds, more than 0 and at most 86400".to_owned()),
    }
}

/// The client subcommands.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum ClientCommand {
    /// List a server's tools (the default), resources, resource templates or prompts.
    List {
        /// The MCP endpoint, such as http://127.0.0.1:8080/mcp.
        url: String,
        /// What to list.
        #[arg(value_enum, default_value = "tools")]
        what: ListKind,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Call a tool with KEY=VALUE arguments.
    ///
    /// Each value is JSON when it parses as JSON (1, true, {..}) and a string otherwise, unless
    /// the tool's input schema gives the property's type.
    Call {
        /// The MCP endpoint.
        url: String,
        /// The tool's name.
        tool: String,
        /// Arguments as key=value.
        #[arg(value_name = "KEY=VALUE")]
        arguments: Vec<String>,
        /// Arguments as one JSON object; its members win over KEY=VALUE ones.
        #[arg(long = "args", value_name = "JSON")]
        args_json: Option<String>,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Read a resource.
    Read {
        /// The MCP endpoint.
        url: String,
        /// The resource's URI.
        uri: String,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Get a prompt, with string arguments as KEY=VALUE.
    Prompt {
        /// The MCP endpoint.
        url: String,
        /// The prompt's name.
        name: String,
        /// Arguments as key=value.
        #[arg(value_name = "KEY=VALUE")]
        arguments: Vec<String>,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Check that a server answers: initialize, then ping; in the 2026-07-28 era (which has no
    /// ping), a server/discover round trip. Says which era it used.
    Ping {
        /// The MCP endpoint.
        url: String,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Listen for notifications (subscriptions/listen, 2026-07-28 servers) and print each as
    /// one JSON line on stdout, until Ctrl-C or the server ends the subscription.
    Listen {
        /// The MCP endpoint.
        url: String,
        /// Tool list changes.
        #[arg(long)]
        tools: bool,
        /// Prompt list changes.
        #[arg(long)]
        prompts: bool,
        /// Resource list changes.
        #[arg(long)]
        resources: bool,
        /// Updates of this resource (repeatable).
        #[arg(long = "resource", value_name = "URI")]
        resource: Vec<String>,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Authorize with an MCP server now (OAuth 2.1: discovery, registration, the browser or
    /// paste-back) and keep the tokens for the other commands.
    Login {
        /// The MCP endpoint.
        url: String,
        #[command(flatten)]
        auth: auth::AuthOpts,
    },
    /// Forget the tokens and client registration kept for an MCP server.
    Logout {
        /// The MCP endpoint.
        url: String,
    },
    /// The official conformance suite's client mode: runs the scenario named by the
    /// MCP_CONFORMANCE_SCENARIO variable against URL.
    #[command(hide = true)]
    ConformanceClient {
        /// The scenario's server.
        url: String,
    },
}

/// Why a command failed: a one-line reason and the exit code.
#[derive(Debug)]
pub(crate) struct CliError {
    message: String,
    code: u8,
}

impl CliError {
    /// The command line was wrong (exit code 2, as clap's own usage errors).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 2,
        }
    }

    /// The command failed (exit code 1).
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 1,
        }
    }

    /// Ctrl-C (exit code 130, as a shell reports SIGINT).
    pub(crate) fn interrupted() -> Self {
        CliError {
            message: "interrupted".to_owned(),
            code: 130,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Runs one client command; Ctrl-C cancels what is in flight (`notifications/cancelled`).
pub(crate) async fn run(command: ClientCommand) -> ExitCode {
    let cancel = CancellationToken::new();
    let on_interrupt = cancel.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_interrupt.cancel();
        }
    });
    let outcome = execute(command, cancel).await;
    watcher.abort();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "mcp-http: error: {e}");
            ExitCode::from(e.code)
        }
    }
}

async fn execute(command: ClientCommand, cancel: CancellationToken) -> Result<(), CliError> {
    match command {
        ClientCommand::List { url, what, opts } => {
            let items = in_session(&url, &opts, cancel, async |s| s.list_all(what).await).await?;
            if opts.json {
                let (_, key) = what.method();
                emit(&output::json(&json!({ key: items })))
            } else {
                emit(&output::list(what, &items))
            }
        }
        ClientCommand::Call {
            url,
            tool,
            arguments,
            args_json,
            opts,
        } => {
            let pairs = args::pairs(&arguments)?;
            // Bad --args is a usage error before anything is sent.
            args::tool_arguments(&pairs, args_json.as_deref(), None)?;
            let result = in_session(&url, &opts, cancel, async |s| {
                call(s, &tool, &pairs, args_json.as_deref()).await
            })
            .await?;
            let failed = result.get("isError") == Some(&Value::Bool(true));
            if opts.json {
                emit(&output::json(&result))?;
            } else if !failed {
                emit(&output::call_result(&result))?;
            }
            if failed {
                return Err(CliError::failed(format!(
                    "tool {tool} reported an error: {}",
                    output::error_text(&result)
                )));
            }
            Ok(())
        }
        ClientCommand::Read { url, uri, opts } => {
            let result = in_session(&url, &opts, cancel, async |s| {
                s.require("resources")?;
                s.request("resources/read", json!({ "uri": uri })).await
            })
            .await?;
            emit_result(&opts, &result, output::read_result)
        }
        ClientCommand::Prompt {
            url,
            name,
            arguments,
            opts,
        } => {
            // Prompt arguments are strings (PR-2), so no coercion here.
            let arguments: Map<String, Value> = args::pairs(&arguments)?
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            let result = in_session(&url, &opts, cancel, async |s| {
                s.require("prompts")?;
                let params = json!({ "name": name, "arguments": arguments });
                s.request("prompts/get", params).await
            })
            .await?;
            emit_result(&opts, &result, output::prompt_result)
        }
        ClientCommand::Ping { url, opts } => {
            let (result, server, era, elapsed) = in_session(&url, &opts, cancel, async |s| {
                let started = std::time::Instant::now();
                let result = s.ping().await?;
                Ok((result, s.server_name(), s.era(), started.elapsed()))
            })
            .await?;
            emit_result(&opts, &result, |_| {
                format!(
                    "pong from {server} in {:.1} ms ({era})\n",
                    elapsed.as_secs_f64() * 1000.0
                )
            })
        }
        ClientCommand::Listen {
            url,
            tools,
            prompts,
            resources,
            resource,
            opts,
        } => {
            let mut filter = mcp_http_client::proto::SubscriptionFilter::default();
            filter.tools_list_changed = tools.then_some(true);
            filter.prompts_list_changed = prompts.then_some(true);
            filter.resources_list_changed = resources.then_some(true);
            filter.resource_subscriptions = (!resource.is_empty()).then_some(resource);
            if filter == Default::default() {
                return Err(CliError::usage(
                    "say what to listen for: --tools, --prompts, --resources or --resource URI",
                ));
            }
            in_session(&url, &opts, cancel.clone(), async |s| {
                listen::run(s, filter, cancel).await
            })
            .await
        }
        ClientCommand::Login { url, auth } => {
            let text = tokio::select! {
                text = auth::login(&url, &auth) => text?,
                _ = cancel.cancelled() => return Err(CliError::interrupted()),
            };
            emit(&text)
        }
        ClientCommand::Logout { url } => emit(&auth::logout(&url).await?),
        ClientCommand::ConformanceClient { url } => {
            let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
            conformance::run(&url, &scenario, cancel).await
        }
    }
}

/// Connects with the command's options, does `work`, then ends the session.
async fn in_session<T>(
    url: &str,
    opts: &ClientOpts,
    cancel: CancellationToken,
    work: impl AsyncFnOnce(&Session) -> Result<T, CliError>,
) -> Result<T, CliError> {
    Session::run(url, Settings::from_opts(opts)?, cancel, work).await
}

/// Prints a result as JSON with `--json`, else as `render` writes it for people.
fn emit_result(
    opts: &ClientOpts,
    result: &Value,
    render: impl FnOnce(&Value) -> String,
) -> Result<(), CliError> {
    emit(&if opts.json {
        output::json(result)
    } else {
        render(result)
    })
}

/// `tools/call` with `key=value` pairs coerced by the tool's input schema (looked up with
/// `tools/list` only when there are pairs) and `--args` merged in.
async fn call(
    session: &Session,
    tool: &str,
    pairs: &[(String, String)],
    args_json: Option<&str>,
) -> Result<Value, CliError> {
    session.require("tools")?;
    let schema = if pairs.is_empty() {
        None
    } else {
        // Without a listing (or the tool in it), values are typed by their look alone.
        session
            .list_all(ListKind::Tools)
            .await
            .ok()
            .and_then(|tools| {
                tools
                    .into_iter()
                    .find(|t| t.get("name").and_then(Value::as_str) == Some(tool))
            })
            .and_then(|t| t.get("inputSchema").cloned())
    };
    let arguments = args::tool_arguments(pairs, args_json, schema.as_ref())?;
    session.call_tool(tool, Value::Object(arguments)).await
}

/// Writes a result to stdout; a reader that went away (`| head`) is not an error.
pub(crate) fn emit(text: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::failed(format!("cannot write the result: {e}")))
        }
        _ => Ok(()),
    }
}
