//! `subscriptions/listen` (2026-07-28, SB-1): a POST whose SSE answer carries the server's
//! notifications for as long as the client keeps it open.
//!
//! The stream starts with `notifications/subscriptions/acknowledged` naming the part of the
//! client's filter the role can deliver; every frame carries `_meta` `subscriptionId` (the
//! listen request's id); only the kinds the client asked for are sent; progress and logs never
//! are. The events are the role's broadcasts ([`mcp_http_core::Broadcast`]), which reach every
//! instance over the message bus, so a listener on one instance hears a change made on another.
//! When the server shuts down gracefully each stream ends with the listen request's result
//! (`resultType: "complete"`), the reading both SDKs chose where the spec is inconsistent
//! (SB-1). The number of open listeners is bounded.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use bytes::{Bytes, BytesMut};
use mcp_http_proto::jsonrpc::{Message, Notification, Response as RpcResponse};
use mcp_http_proto::modern::META_SUBSCRIPTION_ID;
use mcp_http_proto::{
    RequestId, SubscriptionFilter, SubscriptionsAcknowledgedNotificationParams,
    SubscriptionsListenResult, method,
};
use serde_json::{Map, Value};

use crate::queue::{QueueRx, QueueTx, queue};
use crate::sse;

struct Listener {
    id: RequestId,
    filter: SubscriptionFilter,
    tx: QueueTx,
}

/// The open listen streams of this instance.
#[derive(Default)]
pub(crate) struct Listeners {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Listener>>,
}

/// Removes its listener when the stream's body is dropped (the client went away).
pub(crate) struct Leave {
    listeners: Weak<Listeners>,
    key: u64,
}

impl Drop for Leave {
    fn drop(&mut self) {
        if let Some(listeners) = self.listeners.upgrade() {
            mcp_http_core::sync::lock(&listeners.open).remove(&self.key);
        }
    }
}

/// One SSE frame (no event id: a listen stream is not resumed; the client listens again).
fn frame(json: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(json.len() + 16);
    sse::put_event(&mut out, None, json);
    out.freeze()
}

/// The `_meta` that tags a frame with its subscription.
fn tag(id: &RequestId) -> Map<String, Value> {
    let mut meta = Map::new();
    meta.insert(
        META_SUBSCRIPTION_ID.into(),
        serde_json::to_value(id).unwrap_or(Value::Null),
    );
    meta
}

/// Whether a notification of `method` (about `uri`) is one `filter` asked for.
fn wanted(filter: &SubscriptionFilter, method: &str, uri: Option<&str>) -> bool {
    match method {
        method::NOTIFICATION_TOOLS_LIST_CHANGED => filter.tools_list_changed == Some(true),
        method::NOTIFICATION_PROMPTS_LIST_CHANGED => filter.prompts_list_changed == Some(true),
        method::NOTIFICATION_RESOURCES_LIST_CHANGED => filter.resources_list_changed == Some(true),
        method::NOTIFICATION_RESOURCES_UPDATED => uri.is_some_and(|uri| {
            filter
                .resource_subscriptions
                .as_ref()
                .is_some_and(|uris| uris.iter().any(|u| u == uri))
        }),
        _ => false,
    }
}

impl Listeners {
    /// How many streams are open.
    pub(crate) fn count(&self) -> usize {
        mcp_http_core::sync::lock(&self.open).len()
    }

    /// Opens a stream for listen request `id` with the honoured filter: its first frame (the
    /// acknowledgement), the queue of later ones, and the guard that closes it. `None` when
    /// `max` streams are open.
    pub(crate) fn open(
        self: &Arc<Self>,
        id: RequestId,
        honoured: SubscriptionFilter,
        capacity: usize,
        max: usize,
    ) -> Option<(Bytes, QueueRx, Leave)> {
        let mut params = SubscriptionsAcknowledgedNotificationParams::default();
        params.notifications = honoured.clone();
        params.meta = Some(tag(&id));
        let ack = Message::Notification(Notification {
            method: method::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED.into(),
            params: mcp_http_proto::jsonrpc::to_raw(&params)
                .ok()
                .map(Into::into),
        });
        let first = frame(&ack.to_json_bytes());
        let (tx, rx) = queue(capacity);
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        {
            let mut open = mcp_http_core::sync::lock(&self.open);
            if open.len() >= max {
                return None;
            }
            open.insert(
                key,
                Listener {
                    id,
                    filter: honoured,
                    tx,
                },
            );
        }
        let leave = Leave {
            listeners: Arc::downgrade(self),
            key,
        };
        Some((first, rx, leave))
    }

    /// Hands a broadcast notification to every stream that asked for its kind, tagged with
    /// that stream's subscription id. A stream whose client stopped reading loses it.
    pub(crate) fn deliver(&self, message: &Bytes, subscribers_of: Option<&str>) {
        let open = mcp_http_core::sync::lock(&self.open);
        if open.is_empty() {
            return;
        }
        let Ok(Message::Notification(notification)) = Message::parse(message) else {
            return;
        };
        let mut params: Map<String, Value> = notification
            .params
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default();
        let uri = subscribers_of
            .map(str::to_owned)
            .or_else(|| params.get("uri").and_then(Value::as_str).map(str::to_owned));
        for listener in open.values() {
            if !wanted(&listener.filter, &notification.method, uri.as_deref()) {
                continue;
            }
            let mut meta = match params.get("_meta") {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            meta.extend(tag(&listener.id));
            params.insert("_meta".into(), Value::Object(meta));
            let json = serde_json::json!({
                "jsonrpc": "2.0",
                "method": notification.method,
                "params": params,
            });
            if let Ok(json) = serde_json::to_vec(&json)
                && listener.tx.try_send(frame(&json)).is_err()
            {
                tracing::debug!(id = %listener.id, "a listen stream missed a notification: its client is not reading");
            }
        }
    }

    /// Ends every stream with its listen request's result (a graceful shutdown).
    pub(crate) fn end_all(&self) {
        let ended: Vec<Listener> = mcp_http_core::sync::lock(&self.open)
            .drain()
            .map(|(_, l)| l)
            .collect();
        for listener in ended {
            let result = SubscriptionsListenResult::new(&listener.id);
            let response = Message::Response(RpcResponse {
                id: Some(listener.id.clone()),
                outcome: mcp_http_proto::jsonrpc::to_raw(&result)
                    .map_err(|_| mcp_http_proto::ErrorObject::internal()),
            });
            let _ = listener.tx.try_send(frame(&response.to_json_bytes()));
            // Dropping the sender ends the body once the result is written.
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn filter(tools: bool, uris: &[&str]) -> SubscriptionFilter {
        let mut f = SubscriptionFilter::default();
        f.tools_list_changed = tools.then_some(true);
        f.resource_subscriptions =
            (!uris.is_empty()).then(|| uris.iter().map(|u| (*u).to_owned()).collect());
        f
    }

    fn drain(rx: &mut QueueRx) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(frame) = rx.try_recv() {
            let text = String::from_utf8(frame.to_vec()).unwrap();
            let data = text
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap()
                .to_owned();
            out.push(serde_json::from_str(&data).unwrap());
        }
        out
    }

    #[test]
    fn only_the_kinds_asked_for_tagged_with_their_subscription() {
        let listeners = Arc::new(Listeners::default());
        let (ack, mut tools_rx, _a) = listeners
            .open(RequestId::Number(1), filter(true, &[]), 16, 8)
            .unwrap();
        let ack = String::from_utf8(ack.to_vec()).unwrap();
        assert!(
            ack.contains("notifications/subscriptions/acknowledged"),
            "{ack}"
        );
        assert!(
            ack.contains(r#""io.modelcontextprotocol/subscriptionId":1"#),
            "{ack}"
        );
        let (_, mut res_rx, _b) = listeners
            .open(
                RequestId::String("L".into()),
                filter(false, &["a://x"]),
                16,
                8,
            )
            .unwrap();
        let tools =
            Bytes::from_static(br#"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#);
        let updated = Bytes::from_static(
            br#"{"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"a://x"}}"#,
        );
        let other = Bytes::from_static(
            br#"{"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"a://y"}}"#,
        );
        for m in [&tools, &updated, &other] {
            listeners.deliver(m, None);
        }
        let got = drain(&mut tools_rx);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["method"], "notifications/tools/list_changed");
        assert_eq!(got[0]["params"]["_meta"][META_SUBSCRIPTION_ID], 1);
        let got = drain(&mut res_rx);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["params"]["uri"], "a://x");
        assert_eq!(got[0]["params"]["_meta"][META_SUBSCRIPTION_ID], "L");
    }

    #[test]
    fn bounded_and_released_when_the_client_leaves() {
        let listeners = Arc::new(Listeners::default());
        let first = listeners.open(RequestId::Number(1), filter(true, &[]), 4, 1);
        assert!(first.is_some());
        assert!(
            listeners
                .open(RequestId::Number(2), filter(true, &[]), 4, 1)
                .is_none()
        );
        drop(first);
        assert_eq!(listeners.count(), 0);
        assert!(
            listeners
                .open(RequestId::Number(3), filter(true, &[]), 4, 1)
                .is_some()
        );
    }

    #[test]
    fn a_graceful_end_sends_the_listen_result() {
        let listeners = Arc::new(Listeners::default());
        let (_, mut rx, _leave) = listeners
            .open(RequestId::Number(9), filter(true, &[]), 4, 4)
            .unwrap();
        listeners.end_all();
        let got = drain(&mut rx);
        assert_eq!(got[0]["id"], 9);
        assert_eq!(got[0]["result"]["resultType"], "complete");
        assert_eq!(got[0]["result"]["_meta"][META_SUBSCRIPTION_ID], 9);
        // The sender is gone: the stream ends after the result.
        let next = futures::executor::block_on(std::future::poll_fn(|cx| rx.poll_recv(cx)));
        assert!(next.is_none());
    }
}
