//! The tasks extension of 2026-07-28 (`io.modelcontextprotocol/tasks`, SEP-2663 "tasks v2", as
//! the official conformance scenarios test it), for tools declared with
//! [`ToolDef::task_support`](crate::ToolDef::task_support):
//!
//! - **Creation is the server's decision** (TK-2): a `tools/call` of a task-supporting tool from a
//!   request whose `_meta` client capabilities declare the extension is answered at once with a
//!   flat `CreateTaskResult` (`resultType: "task"`), once the task is in the store; the tool runs
//!   on after the POST has ended, on a context of its own ([`RequestContext::detached`]): closing
//!   the request's stream does not stop it. Without the extension the call runs synchronously,
//!   and a `required` tool is refused with -32021 (TK-1).
//! - **`tasks/get`** answers status, timestamps, `ttlMs`, `pollIntervalMs`, the inlined result
//!   (`completed`, a tool error being `completed` + `isError`) or JSON-RPC error (`failed`), and
//!   the pending `inputRequests` (`input_required`) (TK-3, TK-4). **`tasks/update`** answers some
//!   or all of them (an empty ack); once every pending key is answered the tool runs again with
//!   all the answers gathered, through the input engine (TK-5). **`tasks/cancel`** is an empty
//!   ack, idempotent; the work is dropped (TK-4). An unknown, expired or another principal's
//!   task is -32602 (TK-9). `tasks/result` and `tasks/list` are removed in v2: -32601. All of
//!   them need the extension declared in the request (-32021).
//! - **Input before the task** (TK-6): a tool declared with
//!   [`ToolDef::input_before_task`](crate::ToolDef::input_before_task) gathers its input on the
//!   request (input-required results, as any tool) and becomes a task where it calls
//!   [`continue_as_task`]; the task runs it again with the answers gathered.
//! - **State** lives behind [`TaskStore`] (TK-8); [`MemoryTaskStore`] is the default. The work
//!   runs in the process that created the task. A fleet sharing a store answers `tasks/get` from
//!   any instance; a `tasks/update` or `tasks/cancel` reaching another instance is seen by the
//!   running one when it polls the store (each second while parked; a cancelled task's late
//!   result is never written over the cancellation), but stopping the work at once and waking a
//!   parked task there would need a message to the running instance (the session layer's bus).
//!
//! Status notifications (`notifications/tasks`) are optional and not sent: a listen stream is
//! not bound to a principal, so they would tell one client about another's tasks.

mod clock;
mod methods;
mod run;
mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_http_core::RequestContext;
use mcp_http_proto::task_extension::TASKS_EXTENSION;
use mcp_http_proto::{ErrorObject, error_code};
use serde_json::{Map, Value};

pub(crate) use methods::{handle, is_task_method};
pub(crate) use run::Work;
pub use store::{MemoryTaskStore, StoreFuture, TaskChange, TaskRecord, TaskStore, TaskStoreError};

use crate::tool::ToolError;

/// How tasks are kept: their TTL and the polling interval suggested to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskSettings {
    /// How long a task is kept after creation (`ttlMs`); `None` for as long as the store keeps
    /// it. Default: one hour.
    pub ttl: Option<Duration>,
    /// The polling interval suggested to clients (`pollIntervalMs`). Default: 250 ms.
    pub poll_interval: Duration,
}

impl Default for TaskSettings {
    fn default() -> Self {
        TaskSettings {
            ttl: Some(Duration::from_secs(3600)),
            poll_interval: Duration::from_millis(250),
        }
    }
}

impl TaskSettings {
    /// Sets the TTL.
    pub fn ttl(mut self, ttl: Option<Duration>) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets the suggested polling interval.
    pub fn poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }

    fn ttl_ms(&self) -> Option<u64> {
        self.ttl
            .map(|ttl| u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
    }

    fn poll_ms(&self) -> u64 {
        u64::try_from(self.poll_interval.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

/// The tasks of one server: the store and the work this process runs.
pub(crate) struct Tasks {
    pub(crate) store: Arc<dyn TaskStore>,
    pub(crate) settings: TaskSettings,
    /// The tasks whose work runs here, by id.
    running: Mutex<HashMap<String, run::Running>>,
}

impl Tasks {
    pub(crate) fn new(store: Arc<dyn TaskStore>, settings: TaskSettings) -> Self {
        Tasks {
            store,
            settings,
            running: Mutex::default(),
        }
    }
}

/// Whether the request declared the tasks extension in its `_meta` client capabilities.
pub(crate) fn declared(ctx: &RequestContext) -> bool {
    ctx.state()
        .client_declares(&["extensions", TASKS_EXTENSION])
}

/// -32021 naming the tasks extension (TK-1).
pub(crate) fn extension_required() -> ErrorObject {
    ErrorObject::new(
        error_code::MISSING_REQUIRED_CLIENT_CAPABILITY,
        "Missing required client capability: the io.modelcontextprotocol/tasks extension",
    )
    .with_data(serde_json::json!({
        "requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}
    }))
}

/// The answers a call gathered before it continues as a task (see [`continue_as_task`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskEscalation(pub(crate) Map<String, Value>);

tokio::task_local! {
    /// Set while a call of a tool declared `input_before_task` runs on a request that may create
    /// a task.
    static MAY_ESCALATE: bool;
}

/// Runs `fut` as a call that may continue as a task.
pub(crate) async fn escalatable<F: Future>(fut: F) -> F::Output {
    MAY_ESCALATE.scope(true, fut).await
}

/// From here on, the call runs as a task (TK-6): in a call of a tool declared
/// [`ToolDef::input_before_task`](crate::ToolDef::input_before_task) on a request that may create
/// a task, returns an error to propagate with `?`, on which the server creates the task and runs
/// the tool again in it, with the input gathered so far; everywhere else (in the task's run, in
/// a legacy session, for a client without the extension) returns `Ok` and the call goes on.
pub fn continue_as_task(ctx: &RequestContext) -> Result<(), ToolError> {
    if MAY_ESCALATE.try_with(|may| *may).unwrap_or(false) {
        return Err(ToolError::ContinueAsTask(TaskEscalation(
            ctx.gathered_answers(),
        )));
    }
    Ok(())
}
