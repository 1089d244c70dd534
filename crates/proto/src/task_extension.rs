//! The tasks extension of 2026-07-28, `io.modelcontextprotocol/tasks` (SEP-2663, "tasks v2"):
//! server-directed task creation on `tools/call` (a flat [`CreateTaskResult`]), `tasks/get`
//! (a [`DetailedTask`] with the result or error inlined and the pending `inputRequests`),
//! `tasks/update` (answers to those inputs) and `tasks/cancel`. `tasks/result` and `tasks/list`
//! of the 2025-11-25 tasks ([`crate::tasks`]) do not exist in it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jsonrpc::ErrorObject;
use crate::modern::InputRequests;
use crate::tasks::TaskStatus;

/// The extension's identifier, the key under `capabilities.extensions`.
pub const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";
/// `tasks/get`.
pub const TASKS_GET: &str = "tasks/get";
/// `tasks/update`.
pub const TASKS_UPDATE: &str = "tasks/update";
/// `tasks/cancel`.
pub const TASKS_CANCEL: &str = "tasks/cancel";
/// The status notification, sent on `subscriptions/listen` streams.
pub const NOTIFICATION_TASKS: &str = "notifications/tasks";

/// The members every task envelope carries (the extension's `Task`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskInfo {
    /// The task identifier.
    pub task_id: String,
    /// The current state.
    pub status: TaskStatus,
    /// A human-readable message describing the current state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// When the task was created, ISO 8601.
    pub created_at: String,
    /// When the task last changed, ISO 8601.
    pub last_updated_at: String,
    /// How long the task is kept after creation, in milliseconds; `null` (always written) for
    /// unlimited.
    #[serde(default)]
    pub ttl_ms: Option<u64>,
    /// The suggested polling interval, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_interval_ms: Option<u64>,
}

impl TaskInfo {
    /// A task envelope.
    pub fn new(
        task_id: impl Into<String>,
        status: TaskStatus,
        created_at: impl Into<String>,
        last_updated_at: impl Into<String>,
    ) -> Self {
        TaskInfo {
            task_id: task_id.into(),
            status,
            status_message: None,
            created_at: created_at.into(),
            last_updated_at: last_updated_at.into(),
            ttl_ms: None,
            poll_interval_ms: None,
        }
    }

    /// With a TTL in milliseconds.
    pub fn with_ttl_ms(mut self, ttl_ms: Option<u64>) -> Self {
        self.ttl_ms = ttl_ms;
        self
    }

    /// With a polling interval in milliseconds.
    pub fn with_poll_interval_ms(mut self, poll_interval_ms: u64) -> Self {
        self.poll_interval_ms = Some(poll_interval_ms);
        self
    }
}

/// The answer of a `tools/call` that created a task: `resultType: "task"` and the task's
/// members at the top level (no `task` wrapper, no `requestState`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateTaskResult {
    /// Always `"task"`.
    pub result_type: String,
    /// The created task.
    #[serde(flatten)]
    pub task: TaskInfo,
}

impl CreateTaskResult {
    /// The answer for `task`.
    pub fn new(task: TaskInfo) -> Self {
        CreateTaskResult {
            result_type: "task".to_owned(),
            task,
        }
    }
}

/// The `tasks/get` result: the task, its result (`completed`) or error (`failed`) inlined, and
/// the inputs it waits for (`input_required`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DetailedTask {
    /// Always `"complete"`: the `tasks/get` request itself completed.
    pub result_type: String,
    /// The task.
    #[serde(flatten)]
    pub task: TaskInfo,
    /// The result of the request, once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The protocol error the request ended with, once failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
    /// The inputs still pending, while input_required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<InputRequests>,
}

impl DetailedTask {
    /// The details of `task`, with nothing inlined.
    pub fn new(task: TaskInfo) -> Self {
        DetailedTask {
            result_type: "complete".to_owned(),
            task,
            result: None,
            error: None,
            input_requests: None,
        }
    }
}

/// The params of `tasks/get` and `tasks/cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskRef {
    /// The task identifier.
    pub task_id: String,
}

impl TaskRef {
    /// Params naming `task_id`.
    pub fn new(task_id: impl Into<String>) -> Self {
        TaskRef {
            task_id: task_id.into(),
        }
    }
}

/// The params of `tasks/update`: answers to some or all of a task's pending inputs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UpdateTaskParams {
    /// The task identifier.
    pub task_id: String,
    /// Answers by the keys of the task's `inputRequests`, raw.
    #[serde(default)]
    pub input_responses: Map<String, Value>,
}

impl UpdateTaskParams {
    /// Answers for `task_id`.
    pub fn new(task_id: impl Into<String>, input_responses: Map<String, Value>) -> Self {
        UpdateTaskParams {
            task_id: task_id.into(),
            input_responses,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn create_result_is_flat_with_ttl_ms_always_written() {
        let info = TaskInfo::new("t", TaskStatus::Working, "a", "b").with_poll_interval_ms(250);
        let v = serde_json::to_value(CreateTaskResult::new(info)).unwrap();
        assert_eq!(
            v,
            json!({"resultType": "task", "taskId": "t", "status": "working", "createdAt": "a",
                   "lastUpdatedAt": "b", "ttlMs": null, "pollIntervalMs": 250})
        );
        let detailed = DetailedTask::new(TaskInfo::new("t", TaskStatus::Completed, "a", "b"));
        let v = serde_json::to_value(detailed).unwrap();
        assert_eq!(v["resultType"], "complete");
        assert!(v.get("result").is_none() && v.get("requestState").is_none());
    }
}
