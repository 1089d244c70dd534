//! The work of a task (TK-3, TK-5): created by a `tools/call`, run on a detached context in a
//! tokio task of its own, parked while it waits for input, run again once every pending input
//! is answered, and finished into the store unless it was cancelled first.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use mcp_http_core::{CancellationToken, Extensions, Parked, RequestContext, RequestError};
use mcp_http_proto::jsonrpc::to_raw;
use mcp_http_proto::modern::InputRequests;
use mcp_http_proto::task_extension::{CreateTaskResult, TaskInfo};
use mcp_http_proto::{CallToolResult, ErrorObject, TaskStatus};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::sync::Notify;

use super::clock::{iso8601, now_ms, task_id};
use super::{TaskRecord, Tasks};
use crate::tool::{CallFn, ToolError};

/// How often a parked task looks at the store for answers another instance received.
const PARKED_POLL: Duration = Duration::from_secs(1);

/// A task whose work runs in this process.
pub(super) struct Running {
    pub(super) cancel: CancellationToken,
    pub(super) wake: Arc<Notify>,
}

/// What a task runs: the tool's function and its arguments.
pub(crate) struct Work {
    pub(crate) call: Arc<CallFn>,
    pub(crate) arguments: Option<Box<RawValue>>,
}

/// The wire envelope of a record.
pub(super) fn info(record: &TaskRecord, poll_ms: u64) -> TaskInfo {
    let mut info = TaskInfo::new(
        record.id.clone(),
        record.status,
        iso8601(record.created_at_ms),
        iso8601(record.updated_at_ms),
    )
    .with_ttl_ms(record.ttl_ms)
    .with_poll_interval_ms(poll_ms);
    info.status_message = record.status_message.clone();
    info
}

impl Tasks {
    /// Creates a task for `work` (TK-2): stored before the answer, then run. `answers` are the
    /// inputs gathered before the task (TK-6).
    pub(crate) async fn create(
        self: &Arc<Self>,
        ctx: &RequestContext,
        work: Work,
        answers: Map<String, Value>,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let Some(id) = task_id() else {
            tracing::error!("the system random generator failed: no task created");
            return Err(ErrorObject::internal());
        };
        let principal = ctx.principal().map(|p| p.id().to_owned());
        let mut record = TaskRecord::new(id.clone(), principal, self.settings.ttl_ms(), now_ms());
        record.answers = answers.clone();
        let answer = CreateTaskResult::new(info(&record, self.settings.poll_ms()));
        self.store.create(record).await.map_err(|error| {
            tracing::warn!(%error, "a task could not be stored");
            ErrorObject::internal()
        })?;
        let cancel = CancellationToken::new();
        let wake = Arc::new(Notify::new());
        crate::server::lock(&self.running).insert(
            id.clone(),
            Running {
                cancel: cancel.clone(),
                wake: wake.clone(),
            },
        );
        let task_ctx = ctx.outliving(cancel.clone(), Extensions::new());
        tokio::spawn(
            self.clone()
                .drive(id, task_ctx, work, answers, cancel, wake),
        );
        to_raw(&answer).map_err(|_| ErrorObject::internal())
    }

    /// Stops the work of `id` if it runs here (TK-4).
    pub(super) fn stop(&self, id: &str) {
        if let Some(running) = crate::server::lock(&self.running).remove(id) {
            running.cancel.cancel();
        }
    }

    /// Wakes the work of `id` if it is parked here (TK-5).
    pub(super) fn wake(&self, id: &str) {
        if let Some(running) = crate::server::lock(&self.running).get(id) {
            running.wake.notify_one();
        }
    }

    async fn drive(
        self: Arc<Self>,
        id: String,
        ctx: RequestContext,
        work: Work,
        mut answers: Map<String, Value>,
        cancel: CancellationToken,
        wake: Arc<Notify>,
    ) {
        loop {
            let run = || {
                let result = work.call.start(work.arguments.as_deref(), &ctx);
                async move {
                    result.await.and_then(|r| {
                        to_raw(&r).map_err(|_| ToolError::Rpc(ErrorObject::internal()))
                    })
                }
            };
            let parked = AssertUnwindSafe(mcp_http_core::run_parked(&ctx, answers, run));
            let parked = tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                parked = parked.catch_unwind() => parked,
            };
            let requests = match parked {
                Ok(Ok(Parked::NeedsInput(requests))) => requests,
                Ok(Ok(Parked::Done(outcome))) => {
                    self.finish(&id, ending(outcome)).await;
                    break;
                }
                Ok(Err(error)) => {
                    self.finish(&id, Ending::Failed(error)).await;
                    break;
                }
                Ok(Ok(_)) => {
                    self.finish(&id, Ending::Failed(ErrorObject::internal()))
                        .await;
                    break;
                }
                Err(_panic) => {
                    tracing::error!(task = %id, "a task's tool panicked");
                    self.finish(&id, Ending::Failed(ErrorObject::internal()))
                        .await;
                    break;
                }
            };
            match self.park(&id, requests, &cancel, &wake).await {
                Some(all) => answers = all,
                None => break,
            }
        }
        crate::server::lock(&self.running).remove(&id);
    }

    /// Parks `id` on `requests` until every one is answered: the answers gathered, or `None`
    /// when the task ended meanwhile (cancelled, expired).
    async fn park(
        &self,
        id: &str,
        requests: InputRequests,
        cancel: &CancellationToken,
        wake: &Notify,
    ) -> Option<Map<String, Value>> {
        let now = now_ms();
        let parked = self
            .store
            .update(id, &|t| {
                if t.status.is_terminal() {
                    return;
                }
                // A key asked again had no usable answer: it is pending again.
                for key in requests.keys() {
                    t.answers.remove(key);
                }
                t.input_requests = requests.clone();
                t.status = TaskStatus::InputRequired;
                t.updated_at_ms = now;
            })
            .await;
        match parked {
            Ok(Some(t)) if !t.status.is_terminal() => {}
            _ => return None,
        }
        loop {
            tokio::select! {
                () = cancel.cancelled() => return None,
                () = wake.notified() => {}
                () = tokio::time::sleep(PARKED_POLL) => {}
            }
            match self.store.get(id).await {
                Ok(Some(t)) if t.status.is_terminal() => return None,
                Ok(Some(t)) if t.input_requests.is_empty() => return Some(t.answers),
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(error) => tracing::warn!(%error, task = %id, "the task store failed"),
            }
        }
    }

    /// Records how `id` ended, unless it ended already (a cancellation stands).
    async fn finish(&self, id: &str, ending: Ending) {
        let now = now_ms();
        let (result, error) = match ending {
            Ending::Completed(result) => (Some(result), None),
            Ending::Failed(error) => (None, Some(error)),
        };
        let status = match error {
            Some(_) => TaskStatus::Failed,
            None => TaskStatus::Completed,
        };
        let stored = self
            .store
            .update(id, &|t| {
                if t.status.is_terminal() {
                    return;
                }
                t.status = status;
                t.result.clone_from(&result);
                t.error.clone_from(&error);
                t.input_requests.clear();
                t.answers.clear();
                t.updated_at_ms = now;
            })
            .await;
        if let Err(error) = stored {
            tracing::warn!(%error, task = %id, "a task's end could not be stored");
        }
    }
}

/// How a task ended: its `tools/call` result, or the protocol error.
enum Ending {
    Completed(Value),
    Failed(ErrorObject),
}

/// The ending of a run that answered (TK-3): a result or a tool error is `completed` (an
/// `isError` result, TL-4), a protocol error is `failed`.
fn ending(outcome: Result<Box<RawValue>, ToolError>) -> Ending {
    let error_result = |message: String| {
        serde_json::to_value(CallToolResult::error(message)).unwrap_or(Value::Null)
    };
    match outcome {
        Ok(raw) => match serde_json::from_str(raw.get()) {
            Ok(result) => Ending::Completed(result),
            Err(_) => Ending::Failed(ErrorObject::internal()),
        },
        Err(ToolError::Rpc(error)) => Ending::Failed(error),
        Err(ToolError::Request(RequestError::InputRequired) | ToolError::ContinueAsTask(_)) => {
            Ending::Failed(ErrorObject::internal())
        }
        Err(ToolError::Request(error)) => Ending::Completed(error_result(error.to_string())),
        Err(other) => Ending::Completed(error_result(other.to_string())),
    }
}
