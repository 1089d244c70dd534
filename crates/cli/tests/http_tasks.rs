//! The tasks extension of 2026-07-28 (TK-1..TK-9) on the built-in server, on a real loopback
//! socket: creation, polling, the inlined result or error, cancellation, unknown ids, gating
//! without the extension, tasks waiting for input (partial updates, resumption), input gathered
//! before a task, and tasks bound to their principal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::*;

const V: &str = "2026-07-28";
const TASKS: &str = "io.modelcontextprotocol/tasks";

struct Client {
    http: reqwest::Client,
    url: String,
    /// The `Authorization` header, read as the principal by the test service.
    who: Option<&'static str>,
    /// Whether the requests declare the tasks extension.
    tasks: bool,
}

impl Client {
    fn new(server: &TestServer, who: Option<&'static str>, tasks: bool) -> Self {
        Client {
            http: client(),
            url: server.url.clone(),
            who,
            tasks,
        }
    }

    /// Sends `method` with `params` (plus the `_meta` envelope and the headers a modern client
    /// sends) and returns the status and the JSON-RPC answer.
    async fn send(&self, method: &str, mut params: Value) -> (u16, Value) {
        let mut caps = json!({"elicitation": {}});
        if self.tasks {
            caps["extensions"] = json!({TASKS: {}});
        }
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": V,
            "io.modelcontextprotocol/clientCapabilities": caps,
            "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
        });
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", ACCEPT)
            .header("content-type", "application/json");
        for (name, value) in modern_headers(&body) {
            request = request.header(name, value);
        }
        if let Some(who) = self.who {
            request = request.header("authorization", who);
        }
        read_answer(request.body(body.to_string()).send().await.unwrap()).await
    }

    /// The result of a request that must succeed.
    async fn ok(&self, method: &str, params: Value) -> Value {
        let (status, answer) = self.send(method, params).await;
        assert_eq!(status, 200, "{method}: {answer}");
        answer["result"].clone()
    }

    async fn call(&self, tool: &str, arguments: Value) -> Value {
        self.ok("tools/call", json!({"name": tool, "arguments": arguments}))
            .await
    }

    async fn get(&self, id: &str) -> Value {
        self.ok("tasks/get", json!({"taskId": id})).await
    }

    /// Polls `tasks/get` until the task's status is `status` or terminal.
    async fn wait_for(&self, id: &str, status: &str) -> Value {
        for _ in 0..100 {
            let task = self.get(id).await;
            let now = task["status"].as_str().unwrap_or_default().to_owned();
            if now == status || ["completed", "failed", "cancelled"].contains(&now.as_str()) {
                return task;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("task {id} never reached {status}");
    }
}

fn code(answer: &Value) -> Option<i64> {
    answer["error"]["code"].as_i64()
}

#[tokio::test]
async fn a_task_is_created_then_polled_until_its_result_is_inlined() {
    let server = start_with_authorization_principal().await;
    let c = Client::new(&server, None, true);
    // TK-1: offered under capabilities.extensions, and listed per tool.
    let discover = c.ok("server/discover", json!({})).await;
    assert!(discover["capabilities"]["extensions"][TASKS].is_object());
    assert!(discover["capabilities"].get("tasks").is_none());
    let tools = c.ok("tools/list", json!({})).await;
    let listed = |name: &str| {
        tools["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()["execution"]["taskSupport"]
            .clone()
    };
    assert_eq!(listed("slow_compute"), "optional");
    assert_eq!(listed("failing_job"), "required");
    assert_eq!(listed("greet"), Value::Null);

    // TK-2: a flat CreateTaskResult, stored before it is answered.
    let created = c
        .call("slow_compute", json!({"seconds": 1, "label": "one"}))
        .await;
    assert_eq!(created["resultType"], "task", "{created}");
    let id = created["taskId"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32, "128 random bits, hex (TK-9)");
    assert_eq!(created["status"], "working");
    assert!(created["ttlMs"].as_u64().unwrap() > 0);
    assert!(created["pollIntervalMs"].as_u64().unwrap() > 0);
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));
    for absent in [
        "task",
        "result",
        "error",
        "inputRequests",
        "requestState",
        "ttl",
    ] {
        assert!(created.get(absent).is_none(), "{absent}: {created}");
    }
    // TK-3: working, nothing inlined; then completed with the result.
    let working = c.get(&id).await;
    assert_eq!(
        (working["taskId"].as_str(), working["status"].as_str()),
        (Some(id.as_str()), Some("working"))
    );
    assert_eq!(working["resultType"], "complete");
    assert!(working.get("result").is_none());
    let done = c.wait_for(&id, "completed").await;
    assert_eq!(done["status"], "completed", "{done}");
    let text = done["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("one"), "{text}");
    assert!(done.get("error").is_none());
    // A sync-only tool stays sync.
    let greet = c.call("greet", json!({"name": "Ann"})).await;
    assert_eq!(greet["content"][0]["text"], "Hello, Ann!");
    assert!(greet.get("taskId").is_none());
}

#[tokio::test]
async fn a_tool_error_completes_and_a_protocol_error_fails() {
    let server = start_with_authorization_principal().await;
    let c = Client::new(&server, None, true);
    let id = c.call("failing_job", json!({})).await["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = c.wait_for(&id, "completed").await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["result"]["isError"], true, "{done}");

    let id = c.call("protocol_error_job", json!({})).await["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let failed = c.wait_for(&id, "failed").await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], -32603, "{failed}");
    assert!(failed["error"]["message"].is_string());
    assert!(failed.get("result").is_none());
}

#[tokio::test]
async fn cancel_is_an_idempotent_empty_ack_and_unknown_ids_are_invalid_params() {
    let server = start_with_authorization_principal().await;
    let c = Client::new(&server, None, true);
    let id = c.call("slow_compute", json!({"seconds": 60})).await["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..2 {
        let ack = c.ok("tasks/cancel", json!({"taskId": id})).await;
        assert_eq!(ack["resultType"], "complete");
        for absent in ["taskId", "status", "result", "error", "inputRequests"] {
            assert!(ack.get(absent).is_none(), "{ack}");
        }
        assert_eq!(c.get(&id).await["status"], "cancelled");
    }
    for (method, params) in [
        ("tasks/get", json!({"taskId": "nope"})),
        ("tasks/cancel", json!({"taskId": "nope"})),
        (
            "tasks/update",
            json!({"taskId": "nope", "inputResponses": {}}),
        ),
    ] {
        let (_, answer) = c.send(method, params).await;
        assert_eq!(code(&answer), Some(-32602), "{method}");
    }
    // Removed in v2: the result is inlined on tasks/get, and there is no listing.
    for method in ["tasks/result", "tasks/list"] {
        let (status, answer) = c.send(method, json!({"taskId": id})).await;
        assert_eq!((status, code(&answer)), (404, Some(-32601)), "{method}");
    }
}

#[tokio::test]
async fn without_the_extension_calls_are_sync_and_task_methods_are_refused() {
    let server = start_with_authorization_principal().await;
    let c = Client::new(&server, None, false);
    let sync = c.call("slow_compute", json!({"seconds": 0})).await;
    assert_eq!(sync["resultType"], "complete");
    assert!(sync["content"].is_array() && sync.get("taskId").is_none());
    // TK-1: a required tool needs the extension.
    let (status, answer) = c
        .send(
            "tools/call",
            json!({"name": "failing_job", "arguments": {}}),
        )
        .await;
    assert_eq!((status, code(&answer)), (400, Some(-32021)), "{answer}");
    assert!(answer["error"]["data"]["requiredCapabilities"]["extensions"][TASKS].is_object());
    for (method, params) in [
        ("tasks/get", json!({"taskId": "x"})),
        ("tasks/update", json!({"taskId": "x", "inputResponses": {}})),
        ("tasks/cancel", json!({"taskId": "x"})),
    ] {
        let (status, answer) = c.send(method, params).await;
        assert_eq!((status, code(&answer)), (400, Some(-32021)), "{method}");
    }
    // A legacy session sees no task support at all.
    let http = client();
    let sid = session(&http, &server.url, "2025-11-25").await;
    let r = post(
        &http,
        &server.url,
        Some(&sid),
        &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .await;
    let text = r.text().await.unwrap();
    let listed: Value = serde_json::from_str(&text).unwrap_or_else(|_| {
        mcp_http_test_support::sse::body_messages(&text)
            .into_iter()
            .find(|m| m.get("id").is_some())
            .unwrap_or_default()
    });
    let tools = listed["result"]["tools"].as_array().unwrap();
    assert!(tools.iter().any(|t| t["name"] == "slow_compute"));
    assert!(tools.iter().all(|t| t.get("execution").is_none()));
}

#[tokio::test]
async fn a_task_waits_for_input_takes_partial_answers_and_resumes() {
    let server = start_with_authorization_principal().await;
    let c = Client::new(&server, None, true);
    let id = c.call("multi_input", json!({})).await["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let parked = c.wait_for(&id, "input_required").await;
    assert_eq!(parked["status"], "input_required", "{parked}");
    let keys: Vec<String> = parked["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(
        parked["inputRequests"][&keys[0]]["method"],
        "elicitation/create"
    );
    let answer = |name: &str| json!({"action": "accept", "content": {"name": name}});
    // TK-5: a partial answer keeps the task parked on the other key; unknown keys are ignored.
    let ack = c
        .ok(
            "tasks/update",
            json!({"taskId": id, "inputResponses": {keys[0].clone(): answer("ann"), "other": {}}}),
        )
        .await;
    assert_eq!(ack["resultType"], "complete");
    assert!(ack.get("status").is_none());
    let still = c.get(&id).await;
    assert_eq!(still["status"], "input_required");
    let pending: Vec<&String> = still["inputRequests"].as_object().unwrap().keys().collect();
    assert_eq!(pending, vec![&keys[1]]);
    c.ok(
        "tasks/update",
        json!({"taskId": id, "inputResponses": {keys[1].clone(): answer("bob")}}),
    )
    .await;
    let done = c.wait_for(&id, "completed").await;
    let text = done["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("ann") && text.contains("bob"), "{done}");
}

#[tokio::test]
async fn input_gathered_before_the_task_reaches_the_task() {
    let server = start_with_authorization_principal().await;
    let c = Client::new(&server, None, true);
    // TK-6: round 1 is an input-required result, no task yet.
    let first = c.call("test_tool_with_task", json!({})).await;
    assert_eq!(first["resultType"], "input_required", "{first}");
    assert!(first.get("taskId").is_none());
    let mut params = json!({
        "name": "test_tool_with_task",
        "arguments": {},
        "inputResponses": {"user_name": {"action": "accept", "content": {"name": "Alice"}}},
    });
    if let Some(state) = first.get("requestState") {
        params["requestState"] = state.clone();
    }
    let created = c.ok("tools/call", params).await;
    assert_eq!(created["resultType"], "task", "{created}");
    assert!(created.get("requestState").is_none());
    let id = created["taskId"].as_str().unwrap();
    let done = c.wait_for(id, "completed").await;
    let text = done["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("Alice"), "{done}");
}

#[tokio::test]
async fn another_principal_cannot_see_a_task() {
    let server = start_with_authorization_principal().await;
    let alice = Client::new(&server, Some("Bearer alice"), true);
    let bob = Client::new(&server, Some("Bearer bob"), true);
    let id = alice.call("slow_compute", json!({"seconds": 60})).await["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    // TK-9: another principal's task is unknown, to every method.
    for (method, params) in [
        ("tasks/get", json!({"taskId": id})),
        ("tasks/cancel", json!({"taskId": id})),
        ("tasks/update", json!({"taskId": id, "inputResponses": {}})),
    ] {
        let (_, answer) = bob.send(method, params).await;
        assert_eq!(code(&answer), Some(-32602), "{method}");
    }
    assert_eq!(alice.get(&id).await["status"], "working");
    alice.ok("tasks/cancel", json!({"taskId": id})).await;
}

#[tokio::test]
async fn instances_sharing_a_store_serve_each_others_tasks() {
    use std::sync::Arc;

    use mcp_http_server::{MemoryTaskStore, RequestContext, Server, TaskStore, TaskSupport};
    use mcp_http_server::{NoArgs, ToolDef, ToolError};

    // TK-8: three instances over one store, requests round-robin between them.
    let store: Arc<dyn TaskStore> = Arc::new(MemoryTaskStore::default());
    let instance = |store: Arc<dyn TaskStore>| {
        let tool = ToolDef::new(
            "ask",
            "asks for a name",
            |_: NoArgs, ctx: RequestContext| async move {
                let params = serde_json::from_value(json!({
                    "message": "Name?",
                    "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}},
                }))?;
                let answer = ctx.elicit(params).await?;
                Ok::<_, ToolError>(format!("hi {}", answer.content.unwrap_or_default()["name"]))
            },
        );
        Server::builder("fleet", "1")
            .task_store(store)
            .tool(tool.task_support(TaskSupport::Optional))
            .build()
    };
    let servers = (0..3).map(|_| instance(store.clone())).collect();
    let server = start_cluster(servers, mcp_http_server_http::HttpConfig::default()).await;
    let c = Client::new(&server, None, true);
    let id = c.call("ask", json!({})).await["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let parked = c.wait_for(&id, "input_required").await;
    let key = parked["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    // The answer may reach another instance: the running one finds it in the store.
    let answer = json!({"action": "accept", "content": {"name": "Zoe"}});
    c.ok(
        "tasks/update",
        json!({"taskId": id, "inputResponses": {key: answer}}),
    )
    .await;
    let done = c.wait_for(&id, "completed").await;
    assert_eq!(done["result"]["content"][0]["text"], "hi \"Zoe\"", "{done}");
}
