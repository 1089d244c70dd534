//! The extension's methods on a 2026-07-28 request (TK-4): `tasks/get`, `tasks/update`,
//! `tasks/cancel`, and the removed `tasks/result` and `tasks/list` (-32601).

use mcp_http_core::RequestContext;
use mcp_http_proto::jsonrpc::{Request, to_raw};
use mcp_http_proto::task_extension::{
    DetailedTask, TASKS_CANCEL, TASKS_GET, TASKS_UPDATE, TaskRef, UpdateTaskParams,
};
use mcp_http_proto::{ErrorObject, TaskStatus};
use serde_json::value::RawValue;

use super::clock::now_ms;
use super::run::info;
use super::{TaskRecord, Tasks, declared, extension_required};

/// Whether `method` is one of the extension's (or one it removed).
pub(crate) fn is_task_method(method: &str) -> bool {
    method.starts_with("tasks/")
}

/// Answers a `tasks/*` request.
pub(crate) async fn handle(
    tasks: &Tasks,
    request: &Request,
    ctx: &RequestContext,
) -> Result<Box<RawValue>, ErrorObject> {
    let method = request.method.as_str();
    if !matches!(method, TASKS_GET | TASKS_UPDATE | TASKS_CANCEL) {
        // SEP-2663 removed tasks/result (the result is inlined on tasks/get) and tasks/list.
        return Err(ErrorObject::method_not_found(method));
    }
    if !declared(ctx) {
        return Err(extension_required());
    }
    match method {
        TASKS_GET => {
            let params: TaskRef = request.params_as()?;
            let record = find(tasks, ctx, &params.task_id).await?;
            encode(&detailed(&record, tasks.settings.poll_ms()))
        }
        TASKS_UPDATE => {
            let params: UpdateTaskParams = request.params_as()?;
            find(tasks, ctx, &params.task_id).await?;
            let now = now_ms();
            let responses = &params.input_responses;
            let updated = tasks
                .store
                .update(&params.task_id, &|t| {
                    if t.status != TaskStatus::InputRequired {
                        return;
                    }
                    // Answers to keys that are not pending are ignored (MR-1).
                    for (key, answer) in responses {
                        if t.input_requests.remove(key).is_some() {
                            t.answers.insert(key.clone(), answer.clone());
                        }
                    }
                    if t.input_requests.is_empty() {
                        t.status = TaskStatus::Working;
                    }
                    t.updated_at_ms = now;
                })
                .await
                .map_err(store_failed)?;
            if updated.is_some_and(|t| t.status == TaskStatus::Working) {
                tasks.wake(&params.task_id);
            }
            empty()
        }
        _ => {
            let params: TaskRef = request.params_as()?;
            find(tasks, ctx, &params.task_id).await?;
            let now = now_ms();
            tasks
                .store
                .update(&params.task_id, &|t| {
                    // Idempotent: a finished task stays as it ended.
                    if t.status.is_terminal() {
                        return;
                    }
                    t.status = TaskStatus::Cancelled;
                    t.input_requests.clear();
                    t.answers.clear();
                    t.updated_at_ms = now;
                })
                .await
                .map_err(store_failed)?;
            tasks.stop(&params.task_id);
            empty()
        }
    }
}

/// The record of `id` if the request's principal may see it (TK-9): anything else is unknown.
async fn find(tasks: &Tasks, ctx: &RequestContext, id: &str) -> Result<TaskRecord, ErrorObject> {
    let record = tasks.store.get(id).await.map_err(store_failed)?;
    let principal = ctx.principal().map(|p| p.id());
    match record {
        Some(record) if record.principal.as_deref() == principal => Ok(record),
        _ => Err(ErrorObject::invalid_params(format!(
            "Invalid params: unknown task `{id}`"
        ))),
    }
}

/// The `tasks/get` answer of a record (TK-3).
fn detailed(record: &TaskRecord, poll_ms: u64) -> DetailedTask {
    let mut detailed = DetailedTask::new(info(record, poll_ms));
    match record.status {
        TaskStatus::Completed => detailed.result = record.result.clone(),
        TaskStatus::Failed => detailed.error = record.error.clone(),
        TaskStatus::InputRequired => detailed.input_requests = Some(record.input_requests.clone()),
        _ => {}
    }
    detailed
}

fn store_failed(error: super::TaskStoreError) -> ErrorObject {
    tracing::warn!(%error, "the task store failed");
    ErrorObject::internal()
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Box<RawValue>, ErrorObject> {
    to_raw(value).map_err(|_| ErrorObject::internal())
}

fn empty() -> Result<Box<RawValue>, ErrorObject> {
    RawValue::from_string("{}".to_owned()).map_err(|_| ErrorObject::internal())
}
