//! The official conformance suite's client mode: the suite runs `mcp-http conformance-client
//! URL` with `MCP_CONFORMANCE_SCENARIO` set, and each scenario is a short plan of the same list
//! and call steps the `list` and `call` commands take (see scripts/conformance-client.sh).

use http::header::HeaderMap;
use mcp_http_client::CancellationToken;
use serde_json::{Value, json};

use super::CliError;
use super::elicit::Elicit;
use super::output::ListKind;
use super::session::{Session, Settings};

/// One step of a scenario.
enum Step {
    /// `tools/call` with these arguments; an `isError` result fails the run.
    Call(&'static str, Value),
    /// Calls `echo` with `{"schema": <the input schema of the listed tool "of">}`, verbatim.
    EchoSchema {
        of: &'static str,
        echo: &'static str,
    },
}

/// The steps after `tools/list` (when the server offers tools), which every scenario starts
/// with, as a client discovering a server would.
fn plan(scenario: &str) -> Option<Vec<Step>> {
    Some(match scenario {
        "initialize" => vec![],
        // OAuth is not implemented yet: connect and list as any client would, so the suite sees
        // what a user would (conformance/client.yml lists these as expected failures).
        s if s.starts_with("auth/") => vec![],
        "tools_call" => vec![Step::Call("add_numbers", json!({"a": 5, "b": 3}))],
        "elicitation-sep1034-client-defaults" => {
            vec![Step::Call("test_client_elicitation_defaults", json!({}))]
        }
        "sse-retry" => vec![Step::Call("test_reconnection", json!({}))],
        "json-schema-2020-12-preservation" => vec![Step::EchoSchema {
            of: "json_schema_2020_12_tool",
            echo: "json_schema_echo",
        }],
        _ => return None,
    })
}

/// Runs `scenario` against `url`. Elicitation requests are accepted with the schema's defaults.
pub(crate) async fn run(
    url: &str,
    scenario: &str,
    cancel: CancellationToken,
) -> Result<(), CliError> {
    let Some(steps) = plan(scenario) else {
        return Err(CliError::usage(format!(
            "unknown conformance scenario {scenario:?} (set MCP_CONFORMANCE_SCENARIO)"
        )));
    };
    let settings = Settings {
        headers: HeaderMap::new(),
        timeout: std::time::Duration::from_secs(20),
        elicit: Elicit::AcceptDefaults,
        sampling_reply: None,
    };
    Session::run(url, settings, cancel, async |session| {
        run_steps(session, &steps).await
    })
    .await
}

async fn run_steps(session: &Session, steps: &[Step]) -> Result<(), CliError> {
    let tools = match session.require("tools") {
        Ok(()) => session.list_all(ListKind::Tools).await?,
        // The initialize scenario's server offers nothing.
        Err(_) => Vec::new(),
    };
    for step in steps {
        match step {
            Step::Call(name, arguments) => {
                check(name, session.call_tool(name, arguments.clone()).await?)?
            }
            Step::EchoSchema { of, echo } => {
                let schema = tools
                    .iter()
                    .find(|t| t.get("name").and_then(Value::as_str) == Some(*of))
                    .and_then(|t| t.get("inputSchema"))
                    .cloned()
                    .ok_or_else(|| CliError::failed(format!("the server lists no tool {of}")))?;
                check(
                    echo,
                    session.call_tool(echo, json!({ "schema": schema })).await?,
                )?;
            }
        }
    }
    Ok(())
}

fn check(name: &str, result: Value) -> Result<(), CliError> {
    if result.get("isError") == Some(&Value::Bool(true)) {
        return Err(CliError::failed(format!(
            "tool {name} reported an error: {}",
            super::output::error_text(&result)
        )));
    }
    Ok(())
}
