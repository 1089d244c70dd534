//! End to end over stdio: our client spawns the real `mcp-http serve --stdio` binary and drives it
//! through initialize, every list method, progress and logs, sampling, elicitation,
//! cancellation, a timeout and ping; and checks the built-in tools' input schemas as listed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_http_client::{CancellationToken, Client, RequestError, RequestOptions};
use mcp_http_proto::{
    CompleteRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, LoggingLevel,
    LoggingMessageNotificationParams,
};
use serde_json::json;
use tokio::process::Command;

fn server_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-http"));
    cmd.args(["serve", "--stdio"]);
    cmd
}

async fn connect(builder: mcp_http_client::ClientBuilder) -> Client {
    let transport = mcp_http_transport::stdio::child(server_command()).expect("spawn mcp-http");
    builder.connect(transport).await.expect("initialize")
}

fn text_of(result: &mcp_http_proto::CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text())
        .collect::<Vec<_>>()
        .join("")
}

#[tokio::test]
async fn initialize_lists_and_ping() {
    let client = connect(Client::builder("e2e", "1.0")).await;
    assert_eq!(client.protocol_version().as_str(), "2025-11-25");
    assert_eq!(
        client.server_info().map(|i| i.name.as_str()),
        Some("mcp-http")
    );
    assert!(
        client
            .instructions()
            .is_some_and(|i| i.contains("built-in"))
    );
    client.ping().await.expect("ping");

    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<_> = tools.iter().map(|t| t.name.as_str()).collect();
    for expected in [
        "echo",
        "add",
        "test_tool_with_progress",
        "test_sampling",
        "json_schema_2020_12_tool",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let schema_tool = tools
        .iter()
        .find(|t| t.name == "json_schema_2020_12_tool")
        .unwrap();
    assert!(
        schema_tool.input_schema.contains_key("$defs"),
        "2020-12 schema keeps $defs"
    );

    let resources = client.list_all_resources().await.unwrap();
    assert!(resources.iter().any(|r| r.uri == "test://static-text"));
    let templates = client.list_all_resource_templates().await.unwrap();
    assert_eq!(templates[0].uri_template, "test://template/{id}/data");
    let prompts = client.list_all_prompts().await.unwrap();
    assert!(
        prompts
            .iter()
            .any(|p| p.name == "test_prompt_with_arguments")
    );

    let read = client
        .read_resource("test://template/123/data")
        .await
        .unwrap();
    let read = serde_json::to_value(&read).unwrap();
    assert!(
        read["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("123")
    );
    let prompt = client
        .get_prompt("test_prompt_with_arguments", [("arg1", "x"), ("arg2", "y")])
        .await
        .unwrap();
    let prompt = serde_json::to_string(&prompt).unwrap();
    assert!(
        prompt.contains("arg1='x'") && prompt.contains("arg2='y'"),
        "{prompt}"
    );
    let params: CompleteRequestParams = serde_json::from_value(json!({
        "ref": { "type": "ref/prompt", "name": "test_prompt_with_arguments" },
        "argument": { "name": "arg1", "value": "pa" }
    }))
    .unwrap();
    let completion = client.complete(&params).await.unwrap();
    assert_eq!(completion.completion.values, ["paris", "park", "party"]);

    let sum = client
        .call_tool("add", json!({"a": 2, "b": 40}))
        .await
        .unwrap();
    assert_eq!(text_of(&sum), "42");
    let echo = client
        .call_tool("echo", json!({"message": "hi"}))
        .await
        .unwrap();
    assert_eq!(text_of(&echo), "hi");
    let failed = client
        .call_tool("test_error_handling", json!({}))
        .await
        .unwrap();
    assert_eq!(failed.is_error, Some(true));
    // An unknown tool is a protocol error (TL-4a).
    let unknown = client.call_tool("nope", json!({})).await.unwrap_err();
    assert!(matches!(unknown, RequestError::Rpc(e) if e.code == -32602));
    // A wrong argument type is a tool error that names the field (TL-4).
    let bad = client
        .call_tool("add", json!({"a": "two", "b": 1}))
        .await
        .unwrap();
    assert_eq!(bad.is_error, Some(true));
    assert!(text_of(&bad).contains("a:"), "{}", text_of(&bad));
}

/// The built-in server's tools as `tools/list` gives them, by name, with each `inputSchema`
/// checked as a JSON Schema 2020-12 document whose root is an object schema (Tool.inputSchema).
async fn listed_input_schemas() -> std::collections::HashMap<String, serde_json::Value> {
    let client = connect(Client::builder("e2e", "1.0")).await;
    let tools = client.list_all_tools().await.unwrap();
    let mut schemas = std::collections::HashMap::new();
    for tool in tools {
        let schema = serde_json::Value::Object(tool.input_schema);
        let name = tool.name;
        if let Err(e) = jsonschema::meta::validate(&schema) {
            panic!("{name}: not a valid JSON Schema: {e}\n{schema:#}");
        }
        assert_eq!(schema["type"], "object", "{name}");
        let properties = schema["properties"].as_object().unwrap();
        for required in schema["required"].as_array().into_iter().flatten() {
            assert!(
                properties.contains_key(required.as_str().unwrap()),
                "{name}: required {required} is not a property"
            );
        }
        schemas.insert(name, schema);
    }
    schemas
}

#[tokio::test]
async fn optional_tool_arguments_are_not_nullable() {
    let schemas = listed_input_schemas().await;
    let sample = &schemas["sample_llm"];
    assert_eq!(
        sample["properties"]["maxTokens"]["type"], "integer",
        "{sample:#}"
    );
    assert_eq!(sample["required"], json!(["prompt"]), "{sample:#}");
    // No built-in tool offers `null` for an argument it can do without (the MCP Inspector flags
    // `"type": [T, "null"]` as less portable).
    for (name, schema) in &schemas {
        for (field, property) in schema["properties"].as_object().unwrap() {
            let text = property.to_string();
            assert!(
                !text.contains("\"null\"") && !text.contains(":null") && !text.contains("nullable"),
                "{name}.{field} is nullable: {text}"
            );
        }
    }
    let validator = jsonschema::validator_for(sample).unwrap();
    assert!(validator.is_valid(&json!({ "prompt": "hi" })));
    assert!(validator.is_valid(&json!({ "prompt": "hi", "maxTokens": 10 })));
    assert!(!validator.is_valid(&json!({ "maxTokens": 10 })));
    assert!(!validator.is_valid(&json!({ "prompt": "hi", "maxTokens": "ten" })));
}

#[tokio::test]
async fn json_schema_2020_12_tool_lists_the_2020_12_vocabulary() {
    let schemas = listed_input_schemas().await;
    let schema = &schemas["json_schema_2020_12_tool"];
    // What the conformance suite's json-schema-2020-12 scenario looks for (SEP-1613, SEP-2106).
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["$defs"]["address"]["$anchor"], "addressDef");
    assert_eq!(schema["properties"]["address"]["$ref"], "#/$defs/address");
    assert!(
        schema["allOf"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["anyOf"].is_array()),
        "{schema:#}"
    );
    for keyword in ["if", "then", "else"] {
        assert!(schema[keyword].is_object(), "{keyword} missing: {schema:#}");
    }

    // The keywords work as a client's validator reads them.
    let validator = jsonschema::validator_for(schema).unwrap();
    let valid = [
        json!({ "name": "Ada", "email": "ada@example.com" }),
        json!({ "contactMethod": "phone", "phone": "555-0100",
                "address": { "street": "1 Main St", "city": "Springfield" } }),
        json!({ "contactMethod": "email", "email": "ada@example.com" }),
    ];
    for args in valid {
        assert!(validator.is_valid(&args), "{args} should be valid");
    }
    let invalid = [
        // allOf/anyOf: a phone number or an email address is required.
        json!({ "name": "Ada" }),
        // if/then: contactMethod phone needs a phone number.
        json!({ "contactMethod": "phone", "email": "ada@example.com" }),
        // else: any other contact method needs an email address.
        json!({ "contactMethod": "email", "phone": "555-0100" }),
        // $ref into $defs.
        json!({ "email": "ada@example.com", "address": { "city": 1 } }),
        // additionalProperties: false.
        json!({ "email": "ada@example.com", "age": 36 }),
    ];
    for args in invalid {
        assert!(!validator.is_valid(&args), "{args} should be invalid");
    }
    // The anchor names the address definition: `#addressDef` resolves to it.
    let mut by_anchor = schema.clone();
    by_anchor["properties"]["address"] = json!({ "$ref": "#addressDef" });
    let by_anchor = jsonschema::validator_for(&by_anchor).unwrap();
    assert!(!by_anchor.is_valid(&json!({ "email": "a@b.c", "address": { "city": 1 } })));
    assert!(by_anchor.is_valid(&json!({ "email": "a@b.c", "address": { "city": "Oslo" } })));
}

#[tokio::test]
async fn progress_and_logs_arrive_before_the_result() {
    let logs: Arc<Mutex<Vec<LoggingMessageNotificationParams>>> = Arc::default();
    let sink = logs.clone();
    let client =
        connect(Client::builder("e2e", "1.0").on_log(move |l| sink.lock().unwrap().push(l))).await;
    client.set_logging_level(LoggingLevel::Info).await.unwrap();

    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let options = RequestOptions::default()
        .on_progress(move |p| seen.lock().unwrap().push((p.progress, p.total)));
    let result = client
        .call_tool_with(
            "long_running_operation",
            json!({"duration": 0.3, "steps": 3}),
            options,
        )
        .await
        .unwrap();
    assert!(text_of(&result).contains("3 steps"));
    assert_eq!(
        *progress.lock().unwrap(),
        [(1.0, Some(3.0)), (2.0, Some(3.0)), (3.0, Some(3.0))]
    );
    {
        let logs = logs.lock().unwrap();
        assert_eq!(logs.len(), 3, "{logs:?}");
        assert_eq!(logs[0].data, json!("step 1 of 3"));
    }

    // Log messages below the level set by logging/setLevel are not sent (LG-2).
    client.set_logging_level(LoggingLevel::Error).await.unwrap();
    client
        .call_tool("test_tool_with_logging", json!({}))
        .await
        .unwrap();
    assert_eq!(logs.lock().unwrap().len(), 3);
    client.set_logging_level(LoggingLevel::Debug).await.unwrap();
    client
        .call_tool("test_tool_with_logging", json!({}))
        .await
        .unwrap();
    assert_eq!(logs.lock().unwrap().len(), 6);
}

#[tokio::test]
async fn sampling_round_trip() {
    let client = connect(Client::builder("e2e", "1.0").sampling(|params, _ctx| async move {
        let prompt = serde_json::to_value(&params).unwrap()["messages"][0]["content"]["text"].clone();
        let result: CreateMessageResult = serde_json::from_value(json!({
            "role": "assistant", "model": "test-model",
            "content": { "type": "text", "text": format!("echo of {}", prompt.as_str().unwrap_or("?")) }
        }))
        .unwrap();
        Ok(result)
    }))
    .await;
    let result = client
        .call_tool("test_sampling", json!({"prompt": "the sky"}))
        .await
        .unwrap();
    assert_eq!(text_of(&result), "LLM response: echo of the sky");
}

#[tokio::test]
async fn sampling_without_the_capability_is_a_tool_error() {
    let client = connect(Client::builder("e2e", "1.0")).await;
    let result = client
        .call_tool("test_sampling", json!({"prompt": "x"}))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true));
    assert!(
        text_of(&result).contains("sampling"),
        "{}",
        text_of(&result)
    );
}

#[tokio::test]
async fn elicitation_round_trip_applies_schema_defaults() {
    let client = connect(
        Client::builder("e2e", "1.0")
            .apply_elicitation_defaults(true)
            .elicitation(|params, _ctx| async move {
                let ElicitRequestParams::Form(form) = params else {
                    panic!("form mode expected")
                };
                assert!(form.requested_schema["properties"]["age"]["default"] == 30);
                // The user fills in only the name; the rest comes from the schema's defaults.
                let mut content = serde_json::Map::new();
                content.insert("name".into(), json!("Ada"));
                Ok(ElicitResult::accept(content))
            }),
    )
    .await;
    let result = client
        .call_tool("test_elicitation_sep1034_defaults", json!({}))
        .await
        .unwrap();
    let text = text_of(&result);
    assert!(text.contains("action=accept"), "{text}");
    for part in [
        "\"name\":\"Ada\"",
        "\"age\":30",
        "\"score\":95.5",
        "\"status\":\"active\"",
        "\"verified\":true",
    ] {
        assert!(text.contains(part), "{part} missing in {text}");
    }

    let declined = connect(
        Client::builder("e2e", "1.0").elicitation(|_, _| async move {
            let result: ElicitResult =
                serde_json::from_value(json!({"action": "decline"})).unwrap();
            Ok(result)
        }),
    )
    .await;
    let result = declined
        .call_tool("ask_user", json!({"message": "Who are you?"}))
        .await
        .unwrap();
    assert!(text_of(&result).contains("action=decline"));
}

#[tokio::test]
async fn cancellation_and_timeout_leave_the_session_serving() {
    let client = connect(Client::builder("e2e", "1.0")).await;

    // Cancel after the first progress notification: the call ends at once.
    let token = CancellationToken::new();
    let trigger = token.clone();
    let options = RequestOptions::default()
        .cancel_token(token)
        .on_progress(move |_| trigger.cancel());
    let started = std::time::Instant::now();
    let err = client
        .call_tool_with(
            "long_running_operation",
            json!({"duration": 20, "steps": 100}),
            options,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::Cancelled), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // A timeout with no progress (TO-1) ends the call and cancels it on the server.
    let options = RequestOptions::default().timeout(Duration::from_millis(300));
    let err = client
        .call_tool_with(
            "long_running_operation",
            json!({"duration": 20, "steps": 1}),
            options,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::Timeout(_)), "{err:?}");

    // Progress restarts the clock (TO-3) but the hard cap still ends the call.
    let options = RequestOptions::default()
        .timeout(Duration::from_millis(400))
        .max_total(Duration::from_millis(900))
        .on_progress(|_| {});
    let started = std::time::Instant::now();
    let err = client
        .call_tool_with(
            "long_running_operation",
            json!({"duration": 20, "steps": 200}),
            options,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::Timeout(_)), "{err:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(850),
        "{:?}",
        started.elapsed()
    );

    client.ping().await.expect("still serving");
    let sum = client
        .call_tool("add", json!({"a": 1, "b": 1}))
        .await
        .unwrap();
    assert_eq!(text_of(&sum), "2");
}

#[tokio::test]
async fn subscriptions_deliver_resource_updates() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client = connect(Client::builder("e2e", "1.0").on_notification(move |n| {
        let _ = tx.send((n.method.clone(), n.params.map(|p| p.get().to_owned())));
    }))
    .await;
    client.subscribe("test://watched-resource").await.unwrap();
    client
        .call_tool("update_resource", json!({"uri": "test://watched-resource"}))
        .await
        .unwrap();
    let (method, params) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(method, "notifications/resources/updated");
    assert!(params.unwrap().contains("test://watched-resource"));

    // After unsubscribing, no update arrives.
    client.unsubscribe("test://watched-resource").await.unwrap();
    client
        .call_tool("update_resource", json!({"uri": "test://watched-resource"}))
        .await
        .unwrap();
    client.ping().await.unwrap();
    assert!(rx.try_recv().is_err());
}

#[tokio::test]
async fn bad_input_on_stdin_gets_errors_and_the_server_keeps_serving() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut child = server_command()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut input: Vec<u8> = Vec::new();
    input.extend_from_slice(
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"x\":\"\xff\xfe\"}}\n",
    );
    input.extend_from_slice(b"\n   \n");
    input.extend_from_slice(deep.as_bytes());
    input.push(b'\n');
    input.extend_from_slice(b"[{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}]\n");
    input.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}\n");
    stdin.write_all(&input).await.unwrap();
    stdin.flush().await.unwrap();
    let mut replies = Vec::new();
    while replies.len() < 4 {
        let line = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        replies.push(serde_json::from_str::<serde_json::Value>(&line).unwrap());
    }
    // Invalid UTF-8 is a parse error; a 100,000-deep array is valid JSON but no message (and
    // reading it overflows nothing); a batch is not allowed on stdio.
    assert_eq!(replies[0]["error"]["code"], -32700, "{replies:?}");
    assert_eq!(replies[1]["error"]["code"], -32600, "{replies:?}");
    assert_eq!(replies[2]["error"]["code"], -32600, "{replies:?}");
    assert_eq!(replies[3], json!({"jsonrpc": "2.0", "id": 3, "result": {}}));
    assert!(replies[..3].iter().all(|r| r["id"].is_null()));
}
