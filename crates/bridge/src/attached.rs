//! The HTTP sessions attached to one child, and where what the child sends on its own goes
//! (BR-3): its requests (sampling, elicitation, roots) to the session whose call is waiting
//! on it, its progress to the call that asked for it (the peer engine matches the token),
//! its log messages to every session whose level lets them through, a resource's update to
//! the sessions subscribed to it, anything else to every session.

use mcp_http_proto::jsonrpc::Params;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use mcp_http_core::peer::WeakPeer;
use mcp_http_core::sync::lock;
use mcp_http_core::{
    Broadcast, Broadcaster, Handler, Peer, RequestContext, RequestError, RequestOptions,
};
use mcp_http_proto::jsonrpc::{Message, Notification, Request, RequestId};
use mcp_http_proto::{ErrorObject, LoggingLevel, error_code, method};
use serde_json::value::RawValue;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;

use crate::parked::Event;
use crate::tool_headers::ToolHeaders;

/// One attached session (or one stateless exchange) and its calls waiting on the child.
struct Slot {
    key: u64,
    peer: WeakPeer,
    /// (order started, the client's request id) of each call in progress.
    calls: Vec<(u64, RequestId)>,
    /// What a 2026-07-28 request may be asked.
    modern: Modern,
}

/// The part a 2026-07-28 request plays in routing the child's requests.
enum Modern {
    /// A legacy session or exchange.
    No,
    /// A call that may be asked (`tools/call`, `prompts/get`, `resources/read`): the child's
    /// requests become input-required rounds (BR-24); none while it is parked, waiting for the
    /// client's retry (BR-70).
    Call {
        asks: UnboundedSender<Event>,
        parked: bool,
    },
    /// Any other 2026-07-28 request: never asked (the era has no server-to-client requests).
    Quiet,
}

/// Where a request of the child goes.
enum Target {
    /// A legacy session, on the stream of its latest call.
    Session(Peer, Option<RequestId>),
    /// A 2026-07-28 call, as an input-required round.
    Modern(UnboundedSender<Event>),
}

/// The sessions attached to one child.
#[derive(Default)]
pub(crate) struct Attached {
    slots: Mutex<Vec<Slot>>,
    next: AtomicU64,
}

/// Removes a call from its slot when the call ends, however it ends.
pub(crate) struct CallGuard {
    attached: Arc<Attached>,
    key: u64,
    seq: u64,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        let mut slots = lock(&self.attached.slots);
        if let Some(slot) = slots.iter_mut().find(|s| s.key == self.key) {
            slot.calls.retain(|(seq, _)| *seq != self.seq);
        }
    }
}

impl Attached {
    fn push(&self, peer: &Peer, modern: Modern) -> u64 {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        lock(&self.slots).push(Slot {
            key,
            peer: peer.downgrade(),
            calls: Vec::new(),
            modern,
        });
        key
    }

    /// Attaches a session (or a legacy stateless exchange); its key.
    pub(crate) fn attach(&self, peer: &Peer) -> u64 {
        self.push(peer, Modern::No)
    }

    /// Attaches a 2026-07-28 request that cannot be asked anything: it gets its logs and
    /// progress, and is never taken for the asker of a child's request; its key.
    pub(crate) fn attach_quiet(&self, peer: &Peer) -> u64 {
        self.push(peer, Modern::Quiet)
    }

    /// Attaches a 2026-07-28 call, whose child's requests go to `asks` (BR-24); its key.
    pub(crate) fn attach_modern(&self, peer: &Peer, asks: UnboundedSender<Event>) -> u64 {
        self.push(
            peer,
            Modern::Call {
                asks,
                parked: false,
            },
        )
    }

    /// Marks the 2026-07-28 call `key` parked (waiting for the client's retry: none of the
    /// child's requests are its) or running again (BR-70).
    pub(crate) fn set_parked(&self, key: u64, now: bool) {
        if let Some(slot) = lock(&self.slots).iter_mut().find(|s| s.key == key)
            && let Modern::Call { parked, .. } = &mut slot.modern
        {
            *parked = now;
        }
    }

    /// The 2026-07-28 call `key` continues on a retry: its logs go to the retry's peer and its
    /// calls carry the retry's id (BR-72).
    pub(crate) fn rebind(&self, key: u64, peer: &Peer, id: &RequestId) {
        if let Some(slot) = lock(&self.slots).iter_mut().find(|s| s.key == key) {
            slot.peer = peer.downgrade();
            for (_, call) in &mut slot.calls {
                *call = id.clone();
            }
        }
    }

    /// Detaches a session (it ended).
    pub(crate) fn detach(&self, key: u64) {
        lock(&self.slots).retain(|s| s.key != key);
    }

    /// How many sessions are attached.
    pub(crate) fn len(&self) -> usize {
        lock(&self.slots).len()
    }

    /// Records a call of session `key` as waiting on the child until the guard drops.
    pub(crate) fn call(self: &Arc<Self>, key: u64, id: RequestId) -> CallGuard {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        if let Some(slot) = lock(&self.slots).iter_mut().find(|s| s.key == key) {
            slot.calls.push((seq, id));
        }
        CallGuard {
            attached: self.clone(),
            key,
            seq,
        }
    }

    /// The log level the child should use: the most verbose any session asked for, `None`
    /// while none asked (BR-2: each session's own level filters what it gets).
    pub(crate) fn lowest_level(&self) -> Option<LoggingLevel> {
        let slots = lock(&self.slots);
        slots
            .iter()
            .filter_map(|s| s.peer.upgrade()?.state().log_level())
            .min_by_key(|l| mcp_http_core::lifecycle::level_rank(*l))
    }

    /// The session a request of the child goes to (BR-3): the one session whose calls wait
    /// on the child, or, while none waits, the one session attached. A request of a shared
    /// child while several sessions wait on it cannot be told apart (stdio carries no hint of
    /// the call it belongs to), so it is refused rather than risk asking another user's client.
    fn target(&self) -> Result<Target, &'static str> {
        let slots = lock(&self.slots);
        // A 2026-07-28 call outlives its first request's exchange; a parked one and any other
        // 2026-07-28 request are never the asker (BR-70).
        let live = |s: &&Slot| match &s.modern {
            Modern::Call { asks, parked } => !parked && !asks.is_closed(),
            Modern::Quiet => false,
            Modern::No => s.peer.upgrade().is_some_and(|p| !p.is_closed()),
        };
        let mut waiting = slots.iter().filter(live).filter(|s| !s.calls.is_empty());
        let pick = match (waiting.next(), waiting.next()) {
            (Some(one), None) => one,
            (Some(_), Some(_)) => {
                return Err(
                    "several sessions are waiting on the shared server, and its request cannot be told to belong to one of them (serve it with --child-per-session)",
                );
            }
            (None, _) => {
                let mut attached = slots.iter().filter(live);
                match (attached.next(), attached.next()) {
                    (Some(one), None) => one,
                    (Some(_), Some(_)) => {
                        return Err(
                            "no call is waiting on the shared server and several sessions use it (serve it with --child-per-session)",
                        );
                    }
                    (None, _) => return Err("no client session is connected"),
                }
            }
        };
        if let Modern::Call { asks, .. } = &pick.modern {
            return Ok(Target::Modern(asks.clone()));
        }
        let latest = pick
            .calls
            .iter()
            .max_by_key(|(seq, _)| *seq)
            .map(|(_, id)| id.clone());
        pick.peer
            .upgrade()
            .map(|p| Target::Session(p, latest))
            .ok_or("no client session is connected")
    }

    /// Every live session, with its latest call (a notification goes on that call's stream,
    /// so a client without a GET stream still gets it).
    fn each(&self) -> Vec<(Peer, Option<RequestId>)> {
        lock(&self.slots)
            .iter()
            .filter_map(|s| {
                let peer = s.peer.upgrade().filter(|p| !p.is_closed())?;
                let latest = s.calls.iter().max_by_key(|(seq, _)| *seq);
                Some((peer, latest.map(|(_, id)| id.clone())))
            })
            .collect()
    }

    /// Closes every attached session once its calls have been answered (their child is gone:
    /// later requests get 404 and the clients start new sessions, BR-6).
    pub(crate) async fn close_all(&self) {
        let peers: Vec<Peer> = {
            let mut slots = lock(&self.slots);
            slots.drain(..).filter_map(|s| s.peer.upgrade()).collect()
        };
        // Bounded: the calls fail at once when the child's pipe closes.
        for _ in 0..100 {
            if peers.iter().all(|p| p.inflight_count() == 0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The responses just sent reach their streams before the sessions close.
        tokio::time::sleep(Duration::from_millis(100)).await;
        for peer in peers {
            peer.close();
        }
    }
}

/// Where the endpoint's broadcaster is kept once it hands one; the latest wins (a service built
/// and dropped before the served one leaves a broadcaster that reaches nothing).
pub(crate) type BroadcastSlot = Arc<Mutex<Option<Broadcaster>>>;

/// The handler of the child's peer: what the child sends on its own, routed to the sessions.
pub(crate) struct ChildHandler {
    pub(crate) attached: Arc<Attached>,
    /// How long a request of the child may wait for the client (a person answering an
    /// elicitation).
    pub(crate) client_timeout: Duration,
    /// The shared child's: its tools' `x-mcp-header` annotations, learned again when its tool
    /// list changes (BR-75).
    pub(crate) tool_headers: Option<Arc<ToolHeaders>>,
    /// The shared child's: the endpoint's broadcaster, once it handed one (with the 2026-07-28
    /// era on), through which its list changes and resource updates reach every session and
    /// every `subscriptions/listen` stream (BR-76).
    pub(crate) broadcast: Option<BroadcastSlot>,
}

impl Handler for ChildHandler {
    fn handle_request(
        &self,
        request: Request,
        _ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        metrics::counter!("mcp_http_bridge_relayed_messages_total", "direction" => "from_child")
            .increment(1);
        let target = self.attached.target();
        let timeout = self.client_timeout;
        Box::pin(async move {
            let asked = request.method.clone();
            let cannot = |why: &str| {
                ErrorObject::new(
                    error_code::INTERNAL_ERROR,
                    format!("the bridge cannot pass {asked} on: {why}"),
                )
            };
            let (peer, related) = match target.map_err(cannot)? {
                Target::Session(peer, related) => (peer, related),
                Target::Modern(asks) => {
                    // BR-24: the call's request answers input-required; the retry's answer
                    // comes back here.
                    let (reply, answer) = oneshot::channel();
                    asks.send(Event::Asked(request, reply))
                        .map_err(|_| cannot("the call it belongs to ended"))?;
                    return answer.await.unwrap_or_else(|_| {
                        Err(ErrorObject::new(
                            error_code::INTERNAL_ERROR,
                            "the client did not answer in time",
                        ))
                    });
                }
            };
            let mut options = RequestOptions::default()
                .timeout(timeout)
                .max_total(timeout);
            if let Some(id) = related {
                options = options.related_to(id);
            }
            peer.request_raw(
                &request.method,
                request.params.map(Params::into_raw),
                options,
            )
            .await
            .map_err(|e| client_error(&e))
        })
    }

    fn handle_notification(
        &self,
        notification: Notification,
        child: Peer,
    ) -> BoxFuture<'static, ()> {
        metrics::counter!("mcp_http_bridge_relayed_messages_total", "direction" => "from_child")
            .increment(1);
        if notification.method == method::NOTIFICATION_TOOLS_LIST_CHANGED
            && let Some(headers) = self.tool_headers.clone()
        {
            let child = child.clone();
            tokio::spawn(async move { headers.relearn(&child).await });
        }
        let broadcaster = self.broadcast.as_ref().and_then(|b| lock(b).clone());
        if let Some(broadcaster) = broadcaster
            && let Some(broadcast) = as_broadcast(&notification)
        {
            // BR-76: every session (its GET stream) and every listen stream, once.
            broadcaster(broadcast);
            return Box::pin(async {});
        }
        let targets = self.attached.each();
        Box::pin(async move {
            let level = (notification.method == method::NOTIFICATION_MESSAGE)
                .then(|| level_of(&notification))
                .flatten();
            let uri = (notification.method == method::NOTIFICATION_RESOURCES_UPDATED)
                .then(|| uri_of(&notification))
                .flatten();
            for (peer, latest) in targets {
                let state = peer.state();
                if let Some(level) = level
                    && !state.log_enabled(level)
                {
                    continue;
                }
                if let Some(uri) = &uri
                    && !state.is_subscribed(uri)
                {
                    continue;
                }
                // Logs travel with the call in progress; list changes and updates are the
                // session's own (its GET stream).
                let related = level.and(latest);
                let _ = peer
                    .notify_raw(
                        &notification.method,
                        notification.params.clone().map(Params::into_raw),
                        related,
                    )
                    .await;
            }
        })
    }
}

/// The error a child's request gets when the client could not answer it.
fn client_error(error: &RequestError) -> ErrorObject {
    match error {
        RequestError::Rpc(e) => e.clone(),
        RequestError::Timeout(d) => ErrorObject::new(
            error_code::INTERNAL_ERROR,
            format!("the client did not answer within {} s", d.as_secs()),
        ),
        RequestError::Closed | RequestError::Cancelled => ErrorObject::new(
            error_code::INTERNAL_ERROR,
            "the client's session ended before it answered",
        ),
        other => other.to_error_object(),
    }
}

/// A list change or a resource update of the child, as the endpoint broadcasts it; `None` for
/// any other notification.
fn as_broadcast(notification: &Notification) -> Option<Broadcast> {
    let subscribers_of = match notification.method.as_str() {
        method::NOTIFICATION_TOOLS_LIST_CHANGED
        | method::NOTIFICATION_PROMPTS_LIST_CHANGED
        | method::NOTIFICATION_RESOURCES_LIST_CHANGED => None,
        method::NOTIFICATION_RESOURCES_UPDATED => Some(uri_of(notification)?),
        _ => return None,
    };
    let message = serde_json::to_vec(&Message::Notification(notification.clone())).ok()?;
    Some(Broadcast::new(message.into(), subscribers_of))
}

fn level_of(notification: &Notification) -> Option<LoggingLevel> {
    #[derive(serde::Deserialize)]
    struct Params {
        level: LoggingLevel,
    }
    notification.params_as::<Params>().ok().map(|p| p.level)
}

fn uri_of(notification: &Notification) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Params {
        uri: String,
    }
    notification.params_as::<Params>().ok().map(|p| p.uri)
}
