//! Progress and cancellation: `notifications/progress` and `notifications/cancelled`
//! (checklist P-1..P-8, X-1..X-8).
//!
//! Versions: progress `message` from 2025-03-26. 2025-11-25 makes `requestId` optional (task
//! cancellations use `tasks/cancel`); 2026-07-28 requires it again, and on HTTP cancels by
//! closing the response stream instead (H-5).

use serde::{Deserialize, Serialize};

use crate::jsonrpc::RequestId;
use crate::meta::{Meta, setters};

/// A progress token: a string or an integer chosen by the requester (`_meta.progressToken`).
pub type ProgressToken = RequestId;

/// Parameters for a `notifications/progress` notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProgressNotificationParams {
    /// Notification metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The token from the request being reported on.
    pub progress_token: ProgressToken,
    /// The progress so far; increases with every notification (P-3).
    pub progress: f64,
    /// The total, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    /// A human-readable message about the progress (2025-03-26+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ProgressNotificationParams {
    /// Progress for a token.
    pub fn new(progress_token: ProgressToken, progress: f64, total: Option<f64>) -> Self {
        ProgressNotificationParams {
            meta: None,
            progress_token,
            progress,
            total,
            message: None,
        }
    }

    /// Sets the message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// Parameters for a `notifications/cancelled` notification.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CancelledNotificationParams {
    /// Notification metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The id of the request to cancel: optional in 2025-11-25 only, but required for every
    /// cancellation that is not about a task, and required in every other version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    /// Why the request was cancelled; may be logged or shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl CancelledNotificationParams {
    /// Cancels a request, with an optional reason.
    pub fn new(request_id: RequestId, reason: Option<String>) -> Self {
        CancelledNotificationParams {
            meta: None,
            request_id: Some(request_id),
            reason,
        }
    }
}

setters!(ProgressNotificationParams {
    with_meta => meta: Meta,
});

setters!(CancelledNotificationParams {
    with_meta => meta: Meta,
});
