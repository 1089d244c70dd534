//! Experimental tasks (2025-11-25 only): task-augmented requests, `tasks/get`, `tasks/result`,
//! `tasks/list`, `tasks/cancel` and `notifications/tasks/status`.
//!
//! In 2026-07-28 tasks leave the core protocol for the `io.modelcontextprotocol/tasks`
//! extension ([`crate::task_extension`]); none of these methods exist there as they are here.

use serde::{Deserialize, Serialize};

use crate::meta::{JsonObject, Meta, setters};
use crate::pagination::Cursor;

/// The `_meta` key associating a message with a task ([`RelatedTaskMetadata`]).
pub const RELATED_TASK_META_KEY: &str = "io.modelcontextprotocol/related-task";

/// Asks for task-augmented execution: the `task` param of a request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskMetadata {
    /// How long to keep the task after creation, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
}

/// Associates a message with a task, under `_meta["io.modelcontextprotocol/related-task"]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RelatedTaskMetadata {
    /// The task the message is about.
    pub task_id: String,
}

/// The state of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaskStatus {
    /// The request is being processed.
    Working,
    /// The receiver needs input from the requester (via `tasks/result`).
    InputRequired,
    /// The request completed; its result is available from `tasks/result`.
    Completed,
    /// The request failed.
    Failed,
    /// The task was cancelled.
    Cancelled,
}

impl TaskStatus {
    /// Whether the task can no longer change state.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// The data of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Task {
    /// The task identifier.
    pub task_id: String,
    /// The current state.
    pub status: TaskStatus,
    /// A human-readable message describing the current state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// When the task was created, ISO 8601.
    pub created_at: String,
    /// When the task was last updated, ISO 8601.
    pub last_updated_at: String,
    /// How long the task is kept after creation, in milliseconds; `null` (always written) for
    /// unlimited.
    #[serde(default)]
    pub ttl: Option<u64>,
    /// The suggested polling interval, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_interval: Option<u64>,
}

/// Whether a tool supports task-augmented execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TaskSupport {
    /// The tool cannot be called as a task (the default).
    Forbidden,
    /// The tool may be called as a task or not.
    Optional,
    /// The tool must be called as a task.
    Required,
}

/// Execution-related properties of a tool (2025-11-25 only).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolExecution {
    /// Whether the tool supports task-augmented execution; absent means forbidden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_support: Option<TaskSupport>,
}

/// Common params of a task-augmentable request (the schema's `TaskAugmentedRequestParams`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskAugmentedRequestParams {
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Asks for task-augmented execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
}

/// The answer to a task-augmented request: the task that was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreateTaskResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The created task.
    pub task: Task,
}

/// The params of `tasks/get`, `tasks/result` and `tasks/cancel`: a task id.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskIdParams {
    /// The task identifier.
    pub task_id: String,
}

/// Parameters for a `tasks/get` request.
pub type GetTaskRequestParams = TaskIdParams;
/// Parameters for a `tasks/result` request.
pub type GetTaskPayloadRequestParams = TaskIdParams;
/// Parameters for a `tasks/cancel` request.
pub type CancelTaskRequestParams = TaskIdParams;

/// The result of `tasks/get`: the task's current data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetTaskResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The task (its members are inlined in the result).
    #[serde(flatten)]
    pub task: Task,
}

/// The result of `tasks/cancel`: the task's data after cancellation.
pub type CancelTaskResult = GetTaskResult;

/// The result of `tasks/result`: the result of the original request (for example a
/// `CallToolResult`), kept as a JSON object; decode it with `serde_json::from_value`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetTaskPayloadResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Every other member of the original request's result.
    #[serde(flatten)]
    pub payload: JsonObject,
}

/// The result of `tasks/list`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ListTasksResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The tasks.
    pub tasks: Vec<Task>,
    /// The cursor after the last result; present if there may be more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Cursor>,
}

/// Parameters for `notifications/tasks/status`: the task's new data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskStatusNotificationParams {
    /// Notification metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The task (its members are inlined in the params).
    #[serde(flatten)]
    pub task: Task,
}

/// The client's `tasks.requests.elicitation` capability.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientTaskElicitationRequests {
    /// Present if the client supports task-augmented `elicitation/create`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<JsonObject>,
}

/// The client's `tasks.requests.sampling` capability.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClientTaskSamplingRequests {
    /// Present if the client supports task-augmented `sampling/createMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_message: Option<JsonObject>,
}

/// Which requests a client accepts as tasks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientTaskRequests {
    /// Task support for elicitation requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elicitation: Option<ClientTaskElicitationRequests>,
    /// Task support for sampling requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<ClientTaskSamplingRequests>,
}

/// The client's `tasks` capability (2025-11-25 only).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientTasksCapability {
    /// Present if the client supports `tasks/list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<JsonObject>,
    /// Present if the client supports `tasks/cancel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<JsonObject>,
    /// Which requests may be task-augmented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<ClientTaskRequests>,
}

/// The server's `tasks.requests.tools` capability.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServerTaskToolsRequests {
    /// Present if the server supports task-augmented `tools/call`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<JsonObject>,
}

/// Which requests a server accepts as tasks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServerTaskRequests {
    /// Task support for tool requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<ServerTaskToolsRequests>,
}

/// The server's `tasks` capability (2025-11-25 only).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServerTasksCapability {
    /// Present if the server supports `tasks/list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<JsonObject>,
    /// Present if the server supports `tasks/cancel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<JsonObject>,
    /// Which requests may be task-augmented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<ServerTaskRequests>,
}

setters!(TaskMetadata {
    with_ttl => ttl = u64,
});

impl RelatedTaskMetadata {
    /// Metadata relating a message to this task.
    pub fn new(task_id: impl Into<String>) -> Self {
        RelatedTaskMetadata {
            task_id: task_id.into(),
        }
    }
}

impl Task {
    /// A task with its id, state and timestamps (ISO 8601); no TTL (unlimited).
    pub fn new(
        task_id: impl Into<String>,
        status: TaskStatus,
        created_at: impl Into<String>,
        last_updated_at: impl Into<String>,
    ) -> Self {
        Task {
            task_id: task_id.into(),
            status,
            status_message: None,
            created_at: created_at.into(),
            last_updated_at: last_updated_at.into(),
            ttl: None,
            poll_interval: None,
        }
    }
}

setters!(Task {
    with_status_message => status_message: String,
    with_ttl => ttl = u64,
    with_poll_interval => poll_interval = u64,
});

setters!(ToolExecution {
    with_task_support => task_support: TaskSupport,
});

setters!(TaskAugmentedRequestParams {
    with_meta => meta: Meta,
    with_task => task: TaskMetadata,
});

impl CreateTaskResult {
    /// The result announcing a created task.
    pub fn new(task: Task) -> Self {
        CreateTaskResult { meta: None, task }
    }
}

setters!(CreateTaskResult {
    with_meta => meta: Meta,
});

impl TaskIdParams {
    /// Params naming a task.
    pub fn new(task_id: impl Into<String>) -> Self {
        TaskIdParams {
            task_id: task_id.into(),
        }
    }
}

impl GetTaskResult {
    /// The result carrying a task's data.
    pub fn new(task: Task) -> Self {
        GetTaskResult { meta: None, task }
    }
}

setters!(GetTaskResult {
    with_meta => meta: Meta,
});

impl GetTaskPayloadResult {
    /// The result carrying the members of the original request's result.
    pub fn new(payload: JsonObject) -> Self {
        GetTaskPayloadResult {
            meta: None,
            payload,
        }
    }
}

setters!(GetTaskPayloadResult {
    with_meta => meta: Meta,
});

impl ListTasksResult {
    /// A result listing these tasks.
    pub fn new(tasks: Vec<Task>) -> Self {
        ListTasksResult {
            tasks,
            ..Self::default()
        }
    }
}

setters!(ListTasksResult {
    with_meta => meta: Meta,
    with_next_cursor => next_cursor: Cursor,
});

impl TaskStatusNotificationParams {
    /// Params carrying a task's new data.
    pub fn new(task: Task) -> Self {
        TaskStatusNotificationParams { meta: None, task }
    }
}

setters!(TaskStatusNotificationParams {
    with_meta => meta: Meta,
});

setters!(ClientTaskElicitationRequests {
    with_create => create: JsonObject,
});

setters!(ClientTaskSamplingRequests {
    with_create_message => create_message: JsonObject,
});

setters!(ClientTaskRequests {
    with_elicitation => elicitation: ClientTaskElicitationRequests,
    with_sampling => sampling: ClientTaskSamplingRequests,
});

setters!(ClientTasksCapability {
    with_list => list: JsonObject,
    with_cancel => cancel: JsonObject,
    with_requests => requests: ClientTaskRequests,
});

setters!(ServerTaskToolsRequests {
    with_call => call: JsonObject,
});

setters!(ServerTaskRequests {
    with_tools => tools: ServerTaskToolsRequests,
});

setters!(ServerTasksCapability {
    with_list => list: JsonObject,
    with_cancel => cancel: JsonObject,
    with_requests => requests: ServerTaskRequests,
});

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn task_result_is_flat_and_ttl_nullable() {
        let v = json!({"taskId": "t", "status": "input_required", "createdAt": "2025-01-01T00:00:00Z",
                       "lastUpdatedAt": "2025-01-01T00:00:00Z", "ttl": null, "_meta": {"k": 1}});
        let r: GetTaskResult = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r.task.status, TaskStatus::InputRequired);
        assert!(!r.task.status.is_terminal());
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }
}
