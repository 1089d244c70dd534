//! The state machine of tasks (TK-2..TK-8) in-process, on the 2026-07-28 request path as the
//! HTTP layer sets it up: working to input_required to working to completed, a cancellation
//! that a late result never overwrites, a panicking tool, the TTL, and a custom store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use mcp_http_test_support::modern::ModernPeer;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_http_proto::{ElicitRequestFormParams, ElicitRequestParams, ErrorObject};
use mcp_http_server::{
    MemoryTaskStore, NoArgs, RequestContext, Server, StoreFuture, TaskChange, TaskRecord,
    TaskSettings, TaskStore, TaskSupport, ToolDef, ToolError,
};
use serde_json::{Value, json};

/// The task calls of these tests, on a modern request stream.
trait Tasks {
    async fn create(&mut self, tool: &str) -> String;
    async fn get(&mut self, id: &str) -> Result<Value, ErrorObject>;
    async fn wait_for(&mut self, id: &str, status: &str) -> Value;
}

impl Tasks for ModernPeer {
    async fn create(&mut self, tool: &str) -> String {
        let created = self
            .call("tools/call", json!({"name": tool, "arguments": {}}))
            .await
            .unwrap();
        assert_eq!(created["resultType"], "task", "{created}");
        created["taskId"].as_str().unwrap().to_owned()
    }

    async fn get(&mut self, id: &str) -> Result<Value, ErrorObject> {
        self.call("tasks/get", json!({"taskId": id})).await
    }

    async fn wait_for(&mut self, id: &str, status: &str) -> Value {
        for _ in 0..100 {
            let task = self.get(id).await.unwrap();
            if task["status"] == status {
                return task;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("task {id} never reached {status}");
    }
}

fn form() -> ElicitRequestParams {
    ElicitRequestParams::Form(ElicitRequestFormParams::new(
        "Name?",
        json!({"type": "object", "properties": {"name": {"type": "string"}}}),
    ))
}

async fn ask(_: NoArgs, ctx: RequestContext) -> Result<String, ToolError> {
    let first = ctx.elicit(form()).await?;
    let second = ctx.elicit(form()).await?;
    Ok(format!(
        "{} then {}",
        first.content.unwrap_or_default()["name"],
        second.content.unwrap_or_default()["name"]
    ))
}

fn server(settings: TaskSettings, store: Option<Arc<dyn TaskStore>>) -> Server {
    let task = |def: ToolDef| def.task_support(TaskSupport::Optional);
    let mut builder = Server::builder("tasks", "1")
        .task_settings(settings)
        .tool(task(ToolDef::new("ask", "asks twice", ask)))
        .tool(task(ToolDef::new(
            "sleepy",
            "sleeps 200 ms",
            |_: NoArgs, _: RequestContext| async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                "slept"
            },
        )))
        .tool(task(ToolDef::new(
            "panics",
            "panics",
            |_: NoArgs, _: RequestContext| async move {
                if true {
                    panic!("a tool bug");
                }
                "never"
            },
        )));
    if let Some(store) = store {
        builder = builder.task_store(store);
    }
    builder.build()
}

#[tokio::test]
async fn a_task_parks_on_each_input_and_resumes_with_every_answer() {
    let server = server(TaskSettings::default(), None);
    let mut m = modern_peer(&server);
    let id = m.create("ask").await;
    // One round per call (MR-1), each a parked task (TK-5).
    for (key, name) in [("elicitation-0", "ann"), ("elicitation-1", "bob")] {
        let parked = m.wait_for(&id, "input_required").await;
        let keys: Vec<&String> = parked["inputRequests"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(keys, vec![key], "{parked}");
        let answer = json!({"action": "accept", "content": {"name": name}});
        m.call(
            "tasks/update",
            json!({"taskId": id, "inputResponses": {key: answer}}),
        )
        .await
        .unwrap();
    }
    let done = m.wait_for(&id, "completed").await;
    assert_eq!(done["result"]["content"][0]["text"], "\"ann\" then \"bob\"");
    assert!(done.get("inputRequests").is_none());
}

#[tokio::test]
async fn a_cancellation_stands_and_a_panic_fails_the_task() {
    let server = server(TaskSettings::default(), None);
    let mut m = modern_peer(&server);
    let id = m.create("sleepy").await;
    m.call("tasks/cancel", json!({"taskId": id})).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    // TK-4: the work was dropped; nothing overwrote the cancellation.
    let task = m.get(&id).await.unwrap();
    assert_eq!(task["status"], "cancelled");
    assert!(task.get("result").is_none());

    let id = m.create("panics").await;
    let failed = m.wait_for(&id, "failed").await;
    assert_eq!(failed["error"]["code"], -32603);
}

#[tokio::test]
async fn a_task_lives_its_ttl_and_no_longer() {
    let settings = TaskSettings::default().ttl(Some(Duration::from_millis(800)));
    let server = server(settings, None);
    let mut m = modern_peer(&server);
    let id = m.create("sleepy").await;
    let done = m.wait_for(&id, "completed").await;
    assert_eq!(done["ttlMs"], 800);
    tokio::time::sleep(Duration::from_millis(800)).await;
    // TK-7: expired, the task is unknown.
    let error = m.get(&id).await.unwrap_err();
    assert_eq!(error.code, -32602);
}

/// A store that counts what it is asked, around the memory store.
struct Counting(MemoryTaskStore, AtomicUsize);

impl TaskStore for Counting {
    fn create(&self, record: TaskRecord) -> StoreFuture<'_, ()> {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.create(record)
    }
    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<TaskRecord>> {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.get(id)
    }
    fn update<'a>(
        &'a self,
        id: &'a str,
        change: TaskChange<'a>,
    ) -> StoreFuture<'a, Option<TaskRecord>> {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.update(id, change)
    }
}

#[tokio::test]
async fn task_state_lives_in_the_store_given() {
    let store = Arc::new(Counting(MemoryTaskStore::new(8), AtomicUsize::new(0)));
    let server = server(TaskSettings::default(), Some(store.clone()));
    let mut m = modern_peer(&server);
    let id = m.create("sleepy").await;
    m.wait_for(&id, "completed").await;
    // TK-8: created, read and finished through the trait.
    assert!(store.1.load(Ordering::Relaxed) >= 3);
    assert_eq!(store.0.len(), 1);
}

/// A 2026-07-28 request stream to `server` whose requests declare elicitation and the tasks
/// extension.
fn modern_peer(server: &Server) -> ModernPeer {
    let capabilities =
        json!({"elicitation": {}, "extensions": {"io.modelcontextprotocol/tasks": {}}});
    ModernPeer::connect(
        server.stateless_handler(),
        server.peer_config().clone(),
        capabilities,
    )
}
