//! `subscriptions/listen` (SB-1) as a stream: the listen request stays open, its stream
//! carries the acknowledgement (the honoured filter) then the notifications, each tagged with
//! the listen request's id in `_meta["io.modelcontextprotocol/subscriptionId"]`, until the
//! final result. An abrupt close is followed by a new listen after a bounded backoff.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::Stream;
use mcp_http_core::sync::lock;
use mcp_http_core::{RequestError, RequestOptions};
use mcp_http_proto::jsonrpc::{Notification, RequestId};
use mcp_http_proto::method;
use mcp_http_proto::modern::{META_SUBSCRIPTION_ID, SubscriptionFilter};
use tokio::sync::{mpsc, oneshot};

use crate::modern::Context;

/// How many times in a row a broken listen is started again before the stream gives up.
const MAX_RECONNECTS: u32 = 5;
/// The first wait before listening again; doubled per failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait before listening again.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long one listen request may stay open.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// One item of a [`crate::Client::listen`] stream.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ListenEvent {
    /// The server acknowledged the listen: the part of the filter it will honour. Comes
    /// first, and again after each reconnection.
    Acknowledged(SubscriptionFilter),
    /// A notification the filter asked for (a list changed, a resource updated).
    Notification(Notification),
}

type Events = mpsc::UnboundedSender<Result<ListenEvent, RequestError>>;

/// A listen waiting for its acknowledgement, which tells its subscription id.
struct Waiting {
    token: u64,
    events: Events,
    acknowledged: oneshot::Sender<()>,
}

/// The open listens of a client, by subscription id, and the one being started.
#[derive(Default)]
pub(crate) struct Listeners {
    state: Mutex<State>,
    /// Held from a listen's request until its acknowledgement: an acknowledgement with an id
    /// not seen before belongs to the one listen being started.
    starting: tokio::sync::Mutex<()>,
    next_token: AtomicU64,
}

#[derive(Default)]
struct State {
    open: HashMap<RequestId, (u64, Events)>,
    waiting: VecDeque<Waiting>,
}

#[derive(serde::Deserialize)]
struct Tagged {
    #[serde(rename = "_meta", default)]
    meta: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    notifications: Option<SubscriptionFilter>,
}

impl Listeners {
    /// Delivers a notification of a listen stream to its listener; gives back any other.
    pub(crate) fn route(&self, notification: Notification) -> Option<Notification> {
        let tagged: Option<Tagged> = notification.params_as().ok();
        let Some(id) = tagged
            .as_ref()
            .and_then(|t| t.meta.as_ref())
            .and_then(|m| m.get(META_SUBSCRIPTION_ID))
            .and_then(|v| serde_json::from_value::<RequestId>(v.clone()).ok())
        else {
            return Some(notification);
        };
        let mut state = lock(&self.state);
        if notification.method == method::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED {
            let filter = tagged.and_then(|t| t.notifications).unwrap_or_default();
            if !state.open.contains_key(&id)
                && let Some(waiting) = state.waiting.pop_front()
            {
                let _ = waiting.acknowledged.send(());
                state
                    .open
                    .insert(id.clone(), (waiting.token, waiting.events));
            }
            if let Some((_, events)) = state.open.get(&id) {
                let _ = events.send(Ok(ListenEvent::Acknowledged(filter)));
            }
            return None;
        }
        match state.open.get(&id) {
            Some((_, events)) => {
                let _ = events.send(Ok(ListenEvent::Notification(notification)));
            }
            None => tracing::debug!(%id, "notification of a listen that ended, ignored"),
        }
        None
    }

    fn forget(&self, token: u64) {
        let mut state = lock(&self.state);
        state.open.retain(|_, (t, _)| *t != token);
        state.waiting.retain(|w| w.token != token);
    }
}

/// Runs the listens of one stream until the final result, a failure, or the stream's end.
pub(crate) fn stream(
    context: Context,
    filter: SubscriptionFilter,
    listeners: std::sync::Arc<Listeners>,
) -> impl Stream<Item = Result<ListenEvent, RequestError>> + Send + 'static {
    let (events, received) = mpsc::unbounded_channel();
    tokio::spawn(run(context, filter, listeners, events));
    futures::stream::unfold(received, |mut received| async move {
        received.recv().await.map(|event| (event, received))
    })
}

async fn run(
    context: Context,
    filter: SubscriptionFilter,
    listeners: std::sync::Arc<Listeners>,
    events: Events,
) {
    let params =
        match mcp_http_proto::jsonrpc::to_raw(&serde_json::json!({ "notifications": filter })) {
            Ok(params) => params,
            Err(e) => {
                let _ = events.send(Err(RequestError::Encode(e.to_string())));
                return;
            }
        };
    let token = listeners.next_token.fetch_add(1, Ordering::Relaxed);
    let mut failures = 0u32;
    loop {
        let (acknowledged, on_ack) = oneshot::channel();
        let starting = listeners.starting.lock().await;
        lock(&listeners.state).waiting.push_back(Waiting {
            token,
            events: events.clone(),
            acknowledged,
        });
        let options = RequestOptions::default()
            .timeout(LISTEN_TIMEOUT)
            .max_total(LISTEN_TIMEOUT);
        let mut request =
            std::pin::pin!(context.request(method::SUBSCRIPTIONS_LISTEN, params.clone(), options));
        let mut starting = Some(starting);
        let mut on_ack = std::pin::pin!(on_ack);
        let mut acked = false;
        let outcome = loop {
            tokio::select! {
                outcome = &mut request => break Some(outcome),
                // H-5: the caller dropped the stream: dropping the request closes it.
                _ = events.closed() => break None,
                ok = &mut on_ack, if !acked => {
                    acked = ok.is_ok();
                    starting = None;
                }
            }
        };
        drop(starting);
        listeners.forget(token);
        match outcome {
            None | Some(Ok(_)) => return,
            Some(Err(RequestError::Closed | RequestError::Cancelled)) => return,
            Some(Err(RequestError::Transport(e))) if !e.is_status() => {
                // SB-1: the client MAY listen again after an abrupt close.
                failures = if acked { 1 } else { failures + 1 };
                if failures > MAX_RECONNECTS {
                    let _ = events.send(Err(RequestError::Transport(e)));
                    return;
                }
                let wait = FIRST_BACKOFF
                    .saturating_mul(1 << (failures - 1).min(16))
                    .min(MAX_BACKOFF);
                tracing::debug!(error = %e, ?wait, "the listen stream broke; listening again");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = events.closed() => return,
                }
            }
            Some(Err(e)) => {
                let _ = events.send(Err(e));
                return;
            }
        }
    }
}
