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
    /// Calls every listed tool, with a value of the right type for each required property.
    CallListed,
    /// Calls the tools `MCP_CONFORMANCE_CONTEXT` names (`toolCalls`) with their arguments.
    CallFromContext,
    /// Lists the resources and reads each.
    ReadListed,
    /// Lists the prompts and gets each.
    GetListed,
}

/// The steps after `tools/list` (when the server offers tools), which every scenario starts
/// with, as a client discovering a server would.
fn plan(scenario: &str) -> Option<Vec<Step>> {
    Some(match scenario {
        "initialize" => vec![],
        // Authorization: list, then call the tool (step-up and migration need a second
        // authenticated request after the listing).
        s if s.starts_with("auth/") => vec![Step::Call("test-tool", json!({}))],
        "tools_call" => vec![Step::Call("add_numbers", json!({"a": 5, "b": 3}))],
        "elicitation-sep1034-client-defaults" => {
            vec![Step::Call("test_client_elicitation_defaults", json!({}))]
        }
        "sse-retry" => vec![Step::Call("test_reconnection", json!({}))],
        "json-schema-2020-12-preservation" => vec![Step::EchoSchema {
            of: "json_schema_2020_12_tool",
            echo: "json_schema_echo",
        }],
        // 2026-07-28 scenarios: the probe, the envelope and the headers are the client's own;
        // these steps only give them requests to ride on.
        "request-metadata" | "json-schema-ref-no-deref" => vec![],
        "sep-2322-client-request-state" => [
            "test_mrtr_echo_state",
            "test_mrtr_no_state",
            "test_mrtr_unrelated",
            "test_mrtr_no_result_type",
        ]
        .into_iter()
        .map(|name| Step::Call(name, json!({})))
        .collect(),
        "http-standard-headers" => vec![Step::CallListed, Step::ReadListed, Step::GetListed],
        "http-invalid-tool-headers" => vec![Step::CallListed],
        "http-custom-headers" => vec![Step::CallFromContext],
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
    // The suite names the revision it runs at; the legacy mocks know no `server/discover`.
    let modern =
        std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION").is_ok_and(|v| v.as_str() >= "2026-07-28");
    let settings = Settings {
        password: None,
        headers: HeaderMap::new(),
        timeout: std::time::Duration::from_secs(20),
        elicit: Elicit::AcceptDefaults,
        sampling_reply: modern.then(|| "conformance".to_owned()),
        // The modern scenarios check each declared capability's shape.
        roots: if modern {
            vec![mcp_http_client::proto::Root::new(
                "file:///conformance",
                "conformance",
            )]
        } else {
            Vec::new()
        },
        era: if modern {
            mcp_http_client::Era::Auto
        } else {
            mcp_http_client::Era::Legacy
        },
        auth: if scenario.starts_with("auth/") {
            Some(super::auth::conformance_setup(scenario)?)
        } else {
            None
        },
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
            Step::CallListed => {
                for tool in &tools {
                    let Some(name) = tool.get("name").and_then(Value::as_str) else {
                        continue;
                    };
                    let arguments = sample_arguments(tool.get("inputSchema"));
                    check(name, session.call_tool(name, arguments).await?)?;
                }
            }
            Step::CallFromContext => {
                let context: Value = std::env::var("MCP_CONFORMANCE_CONTEXT")
                    .ok()
                    .and_then(|c| serde_json::from_str(&c).ok())
                    .unwrap_or_default();
                let calls = context["toolCalls"].as_array().cloned().unwrap_or_default();
                for call in calls {
                    let name = call["name"].as_str().unwrap_or_default();
                    let arguments = call.get("arguments").cloned().unwrap_or(json!({}));
                    check(name, session.call_tool(name, arguments).await?)?;
                }
            }
            Step::ReadListed => {
                if session.require("resources").is_ok() {
                    for resource in session.list_all(ListKind::Resources).await? {
                        if let Some(uri) = resource.get("uri").and_then(Value::as_str) {
                            session
                                .request("resources/read", json!({ "uri": uri }))
                                .await?;
                        }
                    }
                }
            }
            Step::GetListed => {
                if session.require("prompts").is_ok() {
                    for prompt in session.list_all(ListKind::Prompts).await? {
                        if let Some(name) = prompt.get("name").and_then(Value::as_str) {
                            let params = json!({ "name": name, "arguments": {} });
                            session.request("prompts/get", params).await?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Arguments for a tool: a value of the declared type for each required property.
fn sample_arguments(schema: Option<&Value>) -> Value {
    let mut arguments = serde_json::Map::new();
    let Some(schema) = schema else {
        return Value::Object(arguments);
    };
    for name in schema["required"].as_array().into_iter().flatten() {
        let Some(name) = name.as_str() else { continue };
        let value = match schema["properties"][name]["type"].as_str() {
            Some("integer" | "number") => json!(1),
            Some("boolean") => json!(true),
            Some("object") => json!({}),
            Some("array") => json!([]),
            Some("null") => Value::Null,
            _ => json!("us-west1"),
        };
        arguments.insert(name.to_owned(), value);
    }
    Value::Object(arguments)
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
