//! Method and notification names, and in which protocol versions each exists.
//!
//! # What each version introduced (types and fields)
//!
//! | Version | Additions and changes |
//! |---|---|
//! | 2024-11-05 | Base protocol: tools, resources (+ templates, subscribe), prompts, completion, logging, sampling, roots, progress, cancellation, ping. Content: text, image, embedded resource. |
//! | 2025-03-26 | Audio content; `ToolAnnotations`; progress `message`; `completions` server capability; JSON-RPC batches (removed again in 2025-06-18). |
//! | 2025-06-18 | Elicitation (`elicitation/create`, form mode); `resource_link` content; `title` on named things (`BaseMetadata`); `Tool.outputSchema` and `CallToolResult.structuredContent`; `_meta` on more types; `CompleteRequestParams.context`; `Annotations.lastModified`; `ResourceReference` renamed `ResourceTemplateReference`. |
//! | 2025-11-25 | Icons (`Icon`, `icons` members) and `Implementation.description`/`websiteUrl`; experimental tasks (`tasks/*`, `notifications/tasks/status`, `task` params, `Tool.execution`, `tasks` capabilities); URL-mode elicitation (`mode`, `elicitationId`, `notifications/elicitation/complete`, error -32042); titled/multi-select enums and defaults in elicitation schemas; tools in sampling (`tools`, `toolChoice`, `tool_use`/`tool_result` content, content arrays, `sampling.tools`/`sampling.context`); `CancelledNotificationParams.requestId` optional. |
//! | 2026-07-28 | Stateless: no `initialize`/`initialized`/`ping`/`logging/setLevel`/`resources/(un)subscribe`, no server-to-client requests, no tasks (now an extension), no `notifications/roots/list_changed` or `notifications/elicitation/complete`. Added: `server/discover`, `subscriptions/listen` + `notifications/subscriptions/acknowledged`, per-request `_meta` keys, `resultType` on every result, `ttlMs`/`cacheScope` on list/read/discover results, MRTR (`InputRequiredResult`, `inputResponses`, `requestState`), `extensions` capabilities, `structuredContent` of any JSON type, errors -32020/-32021/-32022. `sampling/createMessage`, `roots/list` and `elicitation/create` survive only as MRTR input requests. |

use crate::version::ProtocolVersion;

/// `initialize` (client → server; legacy only).
pub const INITIALIZE: &str = "initialize";
/// `ping` (either direction; legacy only).
pub const PING: &str = "ping";
/// `tools/list`.
pub const TOOLS_LIST: &str = "tools/list";
/// `tools/call`.
pub const TOOLS_CALL: &str = "tools/call";
/// `resources/list`.
pub const RESOURCES_LIST: &str = "resources/list";
/// `resources/templates/list`.
pub const RESOURCES_TEMPLATES_LIST: &str = "resources/templates/list";
/// `resources/read`.
pub const RESOURCES_READ: &str = "resources/read";
/// `resources/subscribe` (legacy only).
pub const RESOURCES_SUBSCRIBE: &str = "resources/subscribe";
/// `resources/unsubscribe` (legacy only).
pub const RESOURCES_UNSUBSCRIBE: &str = "resources/unsubscribe";
/// `prompts/list`.
pub const PROMPTS_LIST: &str = "prompts/list";
/// `prompts/get`.
pub const PROMPTS_GET: &str = "prompts/get";
/// `completion/complete`.
pub const COMPLETION_COMPLETE: &str = "completion/complete";
/// `logging/setLevel` (legacy only).
pub const LOGGING_SET_LEVEL: &str = "logging/setLevel";
/// `sampling/createMessage` (server → client; legacy only, an MRTR input request in 2026-07-28).
pub const SAMPLING_CREATE_MESSAGE: &str = "sampling/createMessage";
/// `roots/list` (server → client; legacy only, an MRTR input request in 2026-07-28).
pub const ROOTS_LIST: &str = "roots/list";
/// `elicitation/create` (server → client; 2025-06-18 and 2025-11-25, an MRTR input request in
/// 2026-07-28).
pub const ELICITATION_CREATE: &str = "elicitation/create";
/// `tasks/get` (2025-11-25 only).
pub const TASKS_GET: &str = "tasks/get";
/// `tasks/result` (2025-11-25 only).
pub const TASKS_RESULT: &str = "tasks/result";
/// `tasks/list` (2025-11-25 only).
pub const TASKS_LIST: &str = "tasks/list";
/// `tasks/cancel` (2025-11-25 only).
pub const TASKS_CANCEL: &str = "tasks/cancel";
/// `server/discover` (2026-07-28 only).
pub const SERVER_DISCOVER: &str = "server/discover";
/// `subscriptions/listen` (2026-07-28 only).
pub const SUBSCRIPTIONS_LISTEN: &str = "subscriptions/listen";

/// `notifications/initialized` (client → server; legacy only).
pub const NOTIFICATION_INITIALIZED: &str = "notifications/initialized";
/// `notifications/cancelled` (in 2026-07-28: stdio only, client → server, and server → client to
/// end a listen stream).
pub const NOTIFICATION_CANCELLED: &str = "notifications/cancelled";
/// `notifications/progress`.
pub const NOTIFICATION_PROGRESS: &str = "notifications/progress";
/// `notifications/message` (log messages).
pub const NOTIFICATION_MESSAGE: &str = "notifications/message";
/// `notifications/resources/updated`.
pub const NOTIFICATION_RESOURCES_UPDATED: &str = "notifications/resources/updated";
/// `notifications/resources/list_changed`.
pub const NOTIFICATION_RESOURCES_LIST_CHANGED: &str = "notifications/resources/list_changed";
/// `notifications/prompts/list_changed`.
pub const NOTIFICATION_PROMPTS_LIST_CHANGED: &str = "notifications/prompts/list_changed";
/// `notifications/tools/list_changed`.
pub const NOTIFICATION_TOOLS_LIST_CHANGED: &str = "notifications/tools/list_changed";
/// `notifications/roots/list_changed` (client → server; legacy only).
pub const NOTIFICATION_ROOTS_LIST_CHANGED: &str = "notifications/roots/list_changed";
/// `notifications/elicitation/complete` (2025-11-25 only).
pub const NOTIFICATION_ELICITATION_COMPLETE: &str = "notifications/elicitation/complete";
/// `notifications/tasks/status` (2025-11-25 only).
pub const NOTIFICATION_TASKS_STATUS: &str = "notifications/tasks/status";
/// `notifications/subscriptions/acknowledged` (2026-07-28 only).
pub const NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED: &str =
    "notifications/subscriptions/acknowledged";

/// Every request method name this crate knows.
pub const ALL_REQUESTS: [&str; 22] = [
    INITIALIZE,
    PING,
    TOOLS_LIST,
    TOOLS_CALL,
    RESOURCES_LIST,
    RESOURCES_TEMPLATES_LIST,
    RESOURCES_READ,
    RESOURCES_SUBSCRIBE,
    RESOURCES_UNSUBSCRIBE,
    PROMPTS_LIST,
    PROMPTS_GET,
    COMPLETION_COMPLETE,
    LOGGING_SET_LEVEL,
    SAMPLING_CREATE_MESSAGE,
    ROOTS_LIST,
    ELICITATION_CREATE,
    TASKS_GET,
    TASKS_RESULT,
    TASKS_LIST,
    TASKS_CANCEL,
    SERVER_DISCOVER,
    SUBSCRIPTIONS_LISTEN,
];

/// Every notification method name this crate knows.
pub const ALL_NOTIFICATIONS: [&str; 12] = [
    NOTIFICATION_INITIALIZED,
    NOTIFICATION_CANCELLED,
    NOTIFICATION_PROGRESS,
    NOTIFICATION_MESSAGE,
    NOTIFICATION_RESOURCES_UPDATED,
    NOTIFICATION_RESOURCES_LIST_CHANGED,
    NOTIFICATION_PROMPTS_LIST_CHANGED,
    NOTIFICATION_TOOLS_LIST_CHANGED,
    NOTIFICATION_ROOTS_LIST_CHANGED,
    NOTIFICATION_ELICITATION_COMPLETE,
    NOTIFICATION_TASKS_STATUS,
    NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED,
];

/// Whether `method` (a request or notification name) exists as a JSON-RPC message in `version`.
///
/// In 2026-07-28, `sampling/createMessage`, `roots/list` and `elicitation/create` are not
/// JSON-RPC requests any more, only MRTR input requests inside an `InputRequiredResult`
/// (see [`is_input_request`]); this function answers `false` for them. Unknown names answer
/// `false`.
///
/// ```
/// use mcp_http_proto::{method, ProtocolVersion as V};
/// assert!(method::available_in(method::ELICITATION_CREATE, V::V2025_06_18));
/// assert!(!method::available_in(method::ELICITATION_CREATE, V::V2025_03_26));
/// assert!(method::available_in(method::SERVER_DISCOVER, V::V2026_07_28));
/// assert!(!method::available_in(method::PING, V::V2026_07_28));
/// ```
pub fn available_in(method: &str, version: ProtocolVersion) -> bool {
    use ProtocolVersion as V;
    let legacy = version.is_legacy();
    match method {
        // Present in every version.
        TOOLS_LIST
        | TOOLS_CALL
        | RESOURCES_LIST
        | RESOURCES_TEMPLATES_LIST
        | RESOURCES_READ
        | PROMPTS_LIST
        | PROMPTS_GET
        | COMPLETION_COMPLETE
        | NOTIFICATION_CANCELLED
        | NOTIFICATION_PROGRESS
        | NOTIFICATION_MESSAGE
        | NOTIFICATION_RESOURCES_UPDATED
        | NOTIFICATION_RESOURCES_LIST_CHANGED
        | NOTIFICATION_PROMPTS_LIST_CHANGED
        | NOTIFICATION_TOOLS_LIST_CHANGED => true,
        // Legacy (session-based) versions only.
        INITIALIZE
        | PING
        | RESOURCES_SUBSCRIBE
        | RESOURCES_UNSUBSCRIBE
        | LOGGING_SET_LEVEL
        | SAMPLING_CREATE_MESSAGE
        | ROOTS_LIST
        | NOTIFICATION_INITIALIZED
        | NOTIFICATION_ROOTS_LIST_CHANGED => legacy,
        ELICITATION_CREATE => legacy && version >= V::V2025_06_18,
        TASKS_GET
        | TASKS_RESULT
        | TASKS_LIST
        | TASKS_CANCEL
        | NOTIFICATION_TASKS_STATUS
        | NOTIFICATION_ELICITATION_COMPLETE => version == V::V2025_11_25,
        SERVER_DISCOVER | SUBSCRIPTIONS_LISTEN | NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED => {
            version == V::V2026_07_28
        }
        _ => false,
    }
}

/// Whether `method` may appear as an MRTR input request (2026-07-28 `InputRequiredResult`).
pub fn is_input_request(method: &str) -> bool {
    matches!(
        method,
        SAMPLING_CREATE_MESSAGE | ROOTS_LIST | ELICITATION_CREATE
    )
}

/// Whether `method` is a request the server sends to the client (legacy versions).
pub fn is_server_to_client_request(method: &str) -> bool {
    matches!(
        method,
        SAMPLING_CREATE_MESSAGE | ROOTS_LIST | ELICITATION_CREATE | PING
    ) || method.starts_with("tasks/")
}

/// Whether `method` is one of the 2026-07-28 requests that may be answered with an
/// `InputRequiredResult` (MR-1).
pub fn allows_input_required(method: &str) -> bool {
    matches!(method, TOOLS_CALL | RESOURCES_READ | PROMPTS_GET)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProtocolVersion as V;

    #[test]
    fn availability_table() {
        for v in V::ALL {
            assert!(available_in(TOOLS_CALL, v));
            assert!(available_in(COMPLETION_COMPLETE, v));
            assert_eq!(available_in(INITIALIZE, v), v.is_legacy());
            assert_eq!(available_in(PING, v), v.is_legacy());
            assert_eq!(available_in(LOGGING_SET_LEVEL, v), v.is_legacy());
            assert_eq!(available_in(RESOURCES_SUBSCRIBE, v), v.is_legacy());
            assert_eq!(available_in(SAMPLING_CREATE_MESSAGE, v), v.is_legacy());
            assert_eq!(available_in(TASKS_GET, v), v == V::V2025_11_25);
            assert_eq!(available_in(SERVER_DISCOVER, v), v == V::V2026_07_28);
            assert_eq!(available_in(SUBSCRIPTIONS_LISTEN, v), v == V::V2026_07_28);
        }
        assert!(!available_in(ELICITATION_CREATE, V::V2025_03_26));
        assert!(available_in(ELICITATION_CREATE, V::V2025_06_18));
        assert!(available_in(ELICITATION_CREATE, V::V2025_11_25));
        assert!(!available_in(ELICITATION_CREATE, V::V2026_07_28));
        assert!(is_input_request(ELICITATION_CREATE));
        assert!(!available_in("nope/nope", V::LATEST));
        // Every known name is available somewhere.
        for m in ALL_REQUESTS.iter().chain(ALL_NOTIFICATIONS.iter()) {
            assert!(V::ALL.into_iter().any(|v| available_in(m, v)), "{m}");
        }
    }
}
