//! The server and client APIs against each other in one process (over the in-memory transport,
//! which carries JSON text and parses it on arrival): lifecycle rules, pagination, structured
//! output, list changes, roots, URL elicitation and the error codes of bad requests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::StreamExt;
use mcp_http_client::{Client, ClientBuilder, RequestError, RequestOptions};
use mcp_http_core::transport::{Outbound, OutboundKind};
use mcp_http_core::{MessageSink, MessageStream, Transport, memory};
use mcp_http_proto::jsonrpc::{Message, Response};
use mcp_http_proto::{
    ElicitRequestParams, ElicitRequestURLParams, ElicitResult, GetPromptResult, Prompt,
    PromptArgument, Root,
};
use mcp_http_server::{Json, NoArgs, PromptDef, RequestContext, Server, ToolDef, ToolError};
use mcp_http_test_support::text;
use serde_json::json;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Point {
    x: i64,
    y: i64,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Sum {
    total: i64,
}

fn test_server() -> Server {
    let mut builder = Server::builder("test", "0.0.1").page_size(2);
    for i in 0..5 {
        builder = builder.tool(ToolDef::new(
            format!("t{i}"),
            "numbered",
            |_: NoArgs, _| async { "ok" },
        ));
    }
    let prompt = Prompt::new("greet").with_arguments(vec![PromptArgument::new("topic", true)]);
    builder
        .tool(ToolDef::structured(
            "sum",
            "Adds coordinates",
            |p: Point, _| async move { Ok::<_, ToolError>(Sum { total: p.x + p.y }) },
        ))
        .tool(ToolDef::new(
            "list_roots",
            "Lists the client's roots",
            |_: NoArgs, ctx: RequestContext| async move {
                let roots = ctx.roots().await?;
                Ok::<_, ToolError>(Json(roots))
            },
        ))
        .tool(ToolDef::new(
            "open_url",
            "URL-mode elicitation",
            |_: NoArgs, ctx: RequestContext| async move {
                let params = ElicitRequestParams::Url(ElicitRequestURLParams::new(
                    "Sign in",
                    "https://example.com/x",
                    "e1",
                ));
                let result = ctx.elicit(params).await?;
                Ok::<_, ToolError>(Json(result))
            },
        ))
        .tool(ToolDef::new(
            "force_url",
            "URL elicitation sent regardless of capabilities",
            |_: NoArgs, ctx: RequestContext| async move {
                let params = ElicitRequestURLParams::new("Sign in", "https://example.com/x", "e2");
                ctx.request::<_, serde_json::Value>(
                    "elicitation/create",
                    &params,
                    RequestOptions::default(),
                )
                .await
                .map(Json)
                .map_err(|e| ToolError::failed(e.to_string()))
            },
        ))
        .prompt(PromptDef::new(prompt, |args, _| async move {
            Ok(GetPromptResult::new(vec![
                mcp_http_proto::PromptMessage::user_text(format!("Hello {}", args["topic"])),
            ]))
        }))
        .build()
}

async fn connect(server: &Server, builder: ClientBuilder) -> Client {
    let (a, b) = memory::pair();
    server.connect(b);
    builder.connect(a).await.unwrap()
}

#[tokio::test]
async fn pagination_walks_opaque_cursors() {
    let client = connect(&test_server(), Client::builder("c", "1")).await;
    let first = client.list_tools(None).await.unwrap();
    assert_eq!(first.tools.len(), 2);
    assert!(first.next_cursor.is_some());
    let all = client.list_all_tools().await.unwrap();
    assert_eq!(all.len(), 9);
    let err = client.list_tools(Some("not-a-cursor")).await.unwrap_err();
    assert!(matches!(err, RequestError::Rpc(e) if e.code == -32602));
}

#[tokio::test]
async fn structured_output_has_schema_content_and_text() {
    let client = connect(&test_server(), Client::builder("c", "1")).await;
    let tools = client.list_all_tools().await.unwrap();
    let sum = tools.iter().find(|t| t.name == "sum").unwrap();
    assert_eq!(
        sum.output_schema.as_ref().unwrap()["properties"]["total"]["type"],
        "integer"
    );
    assert_eq!(sum.input_schema["required"], json!(["x", "y"]));
    let result = client
        .call_tool("sum", json!({"x": 2, "y": 3}))
        .await
        .unwrap();
    assert_eq!(result.structured_content, Some(json!({"total": 5})));
    // TL-5: the same JSON as a text block, for older clients.
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text(&result)).unwrap(),
        json!({"total": 5})
    );
}

#[tokio::test]
async fn adding_a_tool_notifies_list_changed() {
    let server = test_server();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client = connect(
        &server,
        Client::builder("c", "1").on_notification(move |n| {
            let _ = tx.send(n.method);
        }),
    )
    .await;
    server.add_tool(ToolDef::new("late", "added later", |_: NoArgs, _| async {
        "late"
    }));
    let method = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(method, "notifications/tools/list_changed");
    assert_eq!(
        text(&client.call_tool("late", json!({})).await.unwrap()),
        "late"
    );
    assert!(server.remove_tool("late"));
    assert!(client.call_tool("late", json!({})).await.is_err());
}

#[tokio::test]
async fn roots_round_trip_and_require_the_capability() {
    let server = test_server();
    let with_roots = connect(
        &server,
        Client::builder("c", "1").roots(vec![Root::new("file:///work", "work")]),
    )
    .await;
    let result = with_roots.call_tool("list_roots", json!({})).await.unwrap();
    assert_eq!(
        result.structured_content.unwrap()["roots"][0]["uri"],
        "file:///work"
    );
    with_roots.set_roots(vec![]).await.unwrap();
    let result = with_roots.call_tool("list_roots", json!({})).await.unwrap();
    assert_eq!(result.structured_content.unwrap()["roots"], json!([]));

    let without = connect(&server, Client::builder("c", "1")).await;
    let result = without.call_tool("list_roots", json!({})).await.unwrap();
    assert_eq!(result.is_error, Some(true));
    assert!(text(&result).contains("roots"));
}

#[tokio::test]
async fn url_elicitation_needs_the_url_capability() {
    let server = test_server();
    let handler = |params: ElicitRequestParams, _ctx| async move {
        assert!(
            matches!(params, ElicitRequestParams::Url(ref u) if u.url == "https://example.com/x")
        );
        Ok(serde_json::from_value::<ElicitResult>(json!({"action": "accept"})).unwrap())
    };
    let url_client = connect(
        &server,
        Client::builder("c", "1")
            .elicitation(handler)
            .elicitation_url(),
    )
    .await;
    let result = url_client.call_tool("open_url", json!({})).await.unwrap();
    assert_eq!(result.structured_content.unwrap()["action"], "accept");

    // EL-1/EL-2: the server does not send a mode the client did not declare...
    let form_only = connect(&server, Client::builder("c", "1").elicitation(handler)).await;
    let result = form_only.call_tool("open_url", json!({})).await.unwrap();
    assert_eq!(result.is_error, Some(true));
    // ...and a client that receives one anyway answers -32602.
    let result = form_only.call_tool("force_url", json!({})).await.unwrap();
    assert_eq!(result.is_error, Some(true));
    assert!(text(&result).contains("-32602"), "{}", text(&result));
}

#[tokio::test]
async fn prompt_and_resource_errors_name_the_problem() {
    let client = connect(
        &test_server(),
        Client::builder("c", "1").strict_capabilities(false),
    )
    .await;
    let ok = client
        .get_prompt("greet", [("topic", "bees")])
        .await
        .unwrap();
    assert!(serde_json::to_string(&ok).unwrap().contains("Hello bees"));
    let err = client
        .get_prompt("greet", Vec::<(String, String)>::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Rpc(ref e) if e.code == -32602 && e.message.contains("topic")),
        "{err:?}"
    );
    let err = client.get_prompt("nope", [("a", "b")]).await.unwrap_err();
    assert!(
        matches!(err, RequestError::Rpc(ref e) if e.code == -32602),
        "{err:?}"
    );
    // This server offers no resources: the method does not exist here (C-3).
    let err = client.read_resource("test://missing").await.unwrap_err();
    assert!(
        matches!(err, RequestError::Rpc(ref e) if e.code == -32601),
        "{err:?}"
    );
    // A strict client refuses locally instead.
    let strict = connect(&test_server(), Client::builder("c", "1")).await;
    assert!(matches!(
        strict.read_resource("x").await,
        Err(RequestError::CapabilityNotSupported("resources"))
    ));
}

/// A raw client end over the in-memory transport.
struct Raw {
    sink: std::sync::Arc<dyn MessageSink>,
    stream: MessageStream,
}

impl Raw {
    fn connect(server: &Server) -> Raw {
        let (a, b) = memory::pair();
        server.connect(b);
        let (sink, stream) = a.split();
        Raw { sink, stream }
    }

    async fn notify(&mut self, json: serde_json::Value) {
        let outbound = Outbound::new(json.to_string().into(), OutboundKind::Notification);
        self.sink.send(outbound).await.unwrap();
    }

    async fn call(&mut self, json: serde_json::Value) -> Response {
        self.call_text(json.to_string()).await
    }

    /// A request written as it is (its members in this order).
    async fn call_text(&mut self, text: String) -> Response {
        let outbound = Outbound::new(text.into(), OutboundKind::Request);
        self.sink.send(outbound).await.unwrap();
        loop {
            let next = tokio::time::timeout(Duration::from_secs(2), self.stream.next())
                .await
                .unwrap()
                .unwrap();
            if let Ok(Message::Response(r)) = next {
                return r;
            }
        }
    }
}

#[tokio::test]
async fn tool_arguments_are_decoded_once_and_checked() {
    let server = test_server();
    let mut raw = Raw::connect(&server);
    raw.call(init(1, "2025-11-25")).await.outcome.unwrap();
    raw.notify(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;
    let call = |id: i64, params: serde_json::Value| json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params});
    let result = |r: Response| r.result_as::<serde_json::Value>().unwrap();
    // Typed arguments reach the tool.
    let r = raw
        .call(call(
            2,
            json!({"name": "sum", "arguments": {"x": 1, "y": 2}}),
        ))
        .await;
    assert_eq!(result(r)["structuredContent"]["total"], 3);
    // TL-4: a bad field is an isError result that names it.
    let r = raw
        .call(call(
            3,
            json!({"name": "sum", "arguments": {"x": 1, "y": "two"}}),
        ))
        .await;
    let r = result(r);
    assert_eq!(r["isError"], true);
    let text = r["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("Invalid arguments: y:"), "{text}");
    // Missing or null arguments are an empty object.
    for (id, params) in [
        (4, json!({"name": "t0"})),
        (5, json!({"name": "t0", "arguments": null})),
    ] {
        let r = raw.call(call(id, params)).await;
        assert_eq!(result(r)["content"][0]["text"], "ok");
    }
    // Arguments that are not an object, or a malformed `_meta`: -32602 naming the field.
    let r = raw
        .call(call(6, json!({"name": "sum", "arguments": [1, 2]})))
        .await;
    let e = r.outcome.unwrap_err();
    assert_eq!(e.code, -32602);
    assert!(e.message.contains("arguments"), "{}", e.message);
    let r = raw.call(call(7, json!({"name": "t0", "_meta": 5}))).await;
    let e = r.outcome.unwrap_err();
    assert_eq!(e.code, -32602);
    assert!(e.message.contains("_meta"), "{}", e.message);
}

/// PF-30, PF-32: a call whose params name the tool first is read in one pass with the tool's
/// typed arguments (sync and async tools); every answer is the one the general read gives the
/// same params with the name last, down to each error's code and message.
#[tokio::test]
async fn params_read_in_one_pass_answer_as_the_general_read() {
    let server = Server::builder("test", "0.0.1")
        .tool(ToolDef::new("sum", "Adds", |p: Point, _| async move {
            format!("{}", p.x + p.y)
        }))
        .tool(ToolDef::sync(
            "sync_sum",
            "Adds",
            |p: Point, _: &RequestContext| format!("{}", p.x + p.y),
        ))
        .tool(ToolDef::sync(
            "none",
            "No arguments",
            |_: NoArgs, _: &RequestContext| "ok",
        ))
        .build();
    let mut raw = Raw::connect(&server);
    raw.call(init(1, "2025-11-25")).await.outcome.unwrap();
    raw.notify(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;
    let mut id = 1;
    let mut call = async |params: String| {
        id += 1;
        let text =
            format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{params}}}"#);
        let outcome = raw.call_text(text).await.outcome;
        // Where in the text an error was found differs with the members' order.
        let place = |m: String| m.split(" at line ").next().map(str::to_owned);
        let outcome = outcome.map_err(|e| (e.code, place(e.message), e.data));
        serde_json::to_value(outcome).unwrap()
    };
    let mut answers = Vec::new();
    for tool in ["sum", "sync_sum"] {
        for rest in [
            r#""arguments":{"x":1,"y":2}"#,
            r#""arguments":{"y":2,"x":1,"z":[3]},"_meta":{"progressToken":1}"#,
            r#""arguments":{"x":1,"y":"two"}"#,
            r#""arguments":{"x":1}"#,
            r#""arguments":[1,2]"#,
            r#""arguments":"x""#,
            r#""arguments":{"x":1,"y":2},"_meta":5"#,
            r#""arguments":{"x":1,"y":2},"task":7"#,
            r#""arguments":{"x":1,"y":2},"arguments":{"x":5,"y":2}"#,
            r#""arguments":null"#,
            r#""arguments":{"x":1,"y":2},"_meta":{"progressToken":"\u0074"}"#,
        ] {
            let first = call(format!(r#"{{"name":"{tool}",{rest}}}"#)).await;
            let last = call(format!(r#"{{{rest},"name":"{tool}"}}"#)).await;
            assert_eq!(first, last, "{tool}: {rest}");
            answers.push(first);
        }
    }
    for params in [r#"{"name":"none"}"#, r#"{"name":"none","arguments":null}"#] {
        let answer = call(params.to_owned()).await;
        assert_eq!(answer["Ok"]["content"][0]["text"], "ok", "{params}");
    }
    let unknown = call(r#"{"name":"nope","arguments":{}}"#.to_owned()).await;
    assert_eq!(unknown["Err"][0], -32602, "{unknown}");
    // What the answers were: a sum, the tool's argument errors (TL-4), the params' (-32602).
    assert_eq!(answers[0]["Ok"]["content"][0]["text"], "3");
    assert_eq!(answers[1]["Ok"]["content"][0]["text"], "3");
    assert_eq!(answers[2]["Ok"]["isError"], true);
    assert_eq!(answers[3]["Ok"]["isError"], true);
    for bad in [4, 5, 6, 7, 8] {
        assert_eq!(answers[bad]["Err"][0], -32602, "{}", answers[bad]);
    }
    assert_eq!(answers[9]["Ok"]["isError"], true);
    assert_eq!(answers[10]["Ok"]["content"][0]["text"], "3");
    assert_eq!(
        &answers[..11],
        &answers[11..],
        "the sync tool answers as the async one"
    );
}

fn init(id: i64, version: &str) -> serde_json::Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})
}

#[tokio::test]
async fn lifecycle_is_enforced_and_versions_negotiated() {
    let server = test_server();
    let mut raw = Raw::connect(&server);
    // L-1: nothing but ping before initialize.
    let r = raw
        .call(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .await;
    assert_eq!(r.outcome.unwrap_err().code, -32600);
    let r = raw
        .call(json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}))
        .await;
    assert!(r.outcome.is_ok());
    // Bad params name the field (-32602).
    let r = raw.call(json!({"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}}})).await;
    let e = r.outcome.unwrap_err();
    assert_eq!(e.code, -32602);
    assert!(e.message.contains("clientInfo"), "{}", e.message);
    // V-2: a supported older version is echoed...
    let r = raw.call(init(4, "2024-11-05")).await;
    assert_eq!(
        r.result_as::<serde_json::Value>().unwrap()["protocolVersion"],
        "2024-11-05"
    );
    // ...and a second initialize is refused.
    let r = raw.call(init(5, "2025-11-25")).await;
    assert_eq!(r.outcome.unwrap_err().code, -32600);
    // An unknown method gets -32601 with the request's id.
    let r = raw
        .call(json!({"jsonrpc": "2.0", "id": "m", "method": "tools/destroy"}))
        .await;
    assert_eq!(
        (r.id.clone(), r.outcome.unwrap_err().code),
        (Some("m".into()), -32601)
    );
    // elicitation/create is a client method; a server does not offer it.
    let r = raw
        .call(json!({"jsonrpc": "2.0", "id": 6, "method": "elicitation/create", "params": {}}))
        .await;
    assert_eq!(r.outcome.unwrap_err().code, -32601);

    // V-2: an unknown version gets the server's latest.
    let mut raw = Raw::connect(&server);
    let r = raw.call(init(1, "1999-01-01")).await;
    assert_eq!(
        r.result_as::<serde_json::Value>().unwrap()["protocolVersion"],
        "2025-11-25"
    );
    // LG-3: an unknown log level is -32602.
    let r = raw.call(json!({"jsonrpc": "2.0", "id": 2, "method": "logging/setLevel", "params": {"level": "loud"}})).await;
    assert_eq!(r.outcome.unwrap_err().code, -32602);
}
