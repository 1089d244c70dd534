//! A child's request during a 2026-07-28 call becomes an input-required result (BR-20, BR-24):
//! the child's call stays in progress in the bridge, parked under a number sealed into the
//! `requestState` (sealed, bound to the request and its principal, single use: MR-2); the
//! retry's answer goes to the child's waiting request, and the retry waits for the call's next
//! event: its result, or another request of the child (another round). A parked call nobody
//! retries is cancelled at the child after the state's lifetime; the table is bounded.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use mcp_http_core::sync::lock;
use mcp_http_core::{
    CancellationToken, InputScope, RequestContext, RequestError, RequestStateKeys, RequestStates,
    run_with_input,
};
use mcp_http_proto::jsonrpc::Request;
use mcp_http_proto::{ErrorObject, InputRequest, InputRequests, error_code};
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};

use crate::upstream::Upstream;

/// How many calls may wait for a retry at once.
const MAX_PARKED: usize = 1024;

/// The answer a child's request waits for.
pub(crate) type Reply = oneshot::Sender<Result<Box<RawValue>, ErrorObject>>;

/// What a modern call in progress at the child does next.
pub(crate) enum Event {
    /// The child asks the client (sampling, elicitation, roots).
    Asked(Request, Reply),
    /// The child answered the call.
    Done(Result<Box<RawValue>, ErrorObject>),
}

/// A call waiting for the client's retry.
struct Parked {
    events: mpsc::UnboundedReceiver<Event>,
    /// The child's request, and where its answer goes.
    asked: InputRequest,
    reply: Reply,
    cancel: CancellationToken,
}

/// The parked calls of one bridge.
pub(crate) struct ParkedCalls {
    table: Mutex<HashMap<u64, Parked>>,
    next: AtomicU64,
    states: RequestStates,
}

impl Default for ParkedCalls {
    fn default() -> Self {
        ParkedCalls {
            table: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
            states: RequestStates::new(RequestStateKeys::ephemeral()),
        }
    }
}

fn error(message: impl Into<String>) -> ErrorObject {
    ErrorObject::new(error_code::INTERNAL_ERROR, message.into())
}

impl ParkedCalls {
    /// Serves the modern `request` at the child, turning the child's requests into
    /// input-required rounds.
    pub(crate) async fn serve(
        self: &Arc<Self>,
        upstream: Arc<Upstream>,
        request: Request,
        ctx: RequestContext,
        own_child: bool,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let target = target_of(&request);
        let (name, params) = (request.method.clone(), request.params.clone());
        let scope = InputScope::new(&name, &target, params.as_deref());
        let calls = self.clone();
        let mut first = Some(request);
        let run = || {
            let (calls, upstream, ctx, request) =
                (calls.clone(), upstream.clone(), ctx.clone(), first.take());
            async move { calls.round(upstream, request, ctx, own_child).await }
        };
        let outcome = run_with_input(&ctx, &scope, &self.states, run).await?;
        outcome.map_err(|e| match e {
            RequestError::Rpc(e) => e,
            other => other.to_error_object(),
        })
    }

    /// One round: the call started (first request) or resumed with the retry's answer, until
    /// its next event.
    async fn round(
        self: Arc<Self>,
        upstream: Arc<Upstream>,
        request: Option<Request>,
        ctx: RequestContext,
        own_child: bool,
    ) -> Result<Box<RawValue>, RequestError> {
        let (mut events, cancel) = match ctx.request_state() {
            Some(state) => {
                let parked = state
                    .parse::<u64>()
                    .ok()
                    .and_then(|id| lock(&self.table).remove(&id))
                    .ok_or_else(|| {
                        RequestError::Rpc(error(
                            "the bridged server's call is no longer waiting for this answer (it timed out); call again",
                        ))
                    })?;
                let answer = ctx
                    .gathered_answers()
                    .get(&answer_key(&state))
                    .and_then(|v| serde_json::value::to_raw_value(v).ok());
                match answer {
                    Some(answer) => {
                        let _ = parked.reply.send(Ok(answer));
                        (parked.events, parked.cancel)
                    }
                    // Not answered: asked again, the call still parked.
                    None => {
                        let asked = parked.asked.clone();
                        return Err(self.park(parked, asked, &ctx));
                    }
                }
            }
            None => {
                let request = request.ok_or_else(|| RequestError::Rpc(ErrorObject::internal()))?;
                start(upstream, request, &ctx, own_child)
            }
        };
        // The client gone before the next event (the request dropped): the call is cancelled
        // at the child; a parked call is kept.
        let guard = cancel.clone().drop_guard();
        match events.recv().await {
            Some(Event::Done(result)) => result.map_err(RequestError::Rpc),
            Some(Event::Asked(asked, reply)) => {
                let wire = serde_json::json!({"method": asked.method, "params": asked.params});
                let Ok(input) = serde_json::from_value::<InputRequest>(wire) else {
                    let _ = reply.send(Err(ErrorObject::method_not_found(&asked.method)));
                    return Err(RequestError::Rpc(error(format!(
                        "the bridged server asked the client {}, which a 2026-07-28 client cannot be asked",
                        asked.method
                    ))));
                };
                let parked = Parked {
                    events,
                    asked: input.clone(),
                    reply,
                    cancel: guard.disarm(),
                };
                Err(self.park(parked, input, &ctx))
            }
            None => Err(RequestError::Rpc(ErrorObject::internal())),
        }
    }

    /// Parks `parked` under a new number; the input-required answer naming it.
    fn park(
        self: &Arc<Self>,
        parked: Parked,
        asked: InputRequest,
        ctx: &RequestContext,
    ) -> RequestError {
        let mut table = lock(&self.table);
        if table.len() >= MAX_PARKED {
            parked.cancel.cancel();
            return RequestError::Rpc(error("the bridge has too many calls waiting for input"));
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        table.insert(id, parked);
        drop(table);
        // Not retried in time: cancelled at the child (the reply dropped fails its request).
        let (calls, ttl) = (Arc::downgrade(self), self.states.ttl());
        tokio::spawn(async move {
            tokio::time::sleep(ttl).await;
            if let Some(calls) = calls.upgrade()
                && let Some(parked) = lock(&calls.table).remove(&id)
            {
                parked.cancel.cancel();
            }
        });
        let state = id.to_string();
        let requests = InputRequests::from([(answer_key(&state), asked)]);
        ctx.input_required(requests, Some(state))
    }
}

/// The key of the input request of the call parked under `state`.
fn answer_key(state: &str) -> String {
    format!("bridged-{state}")
}

/// Starts `request` at the child in a task of its own; its events.
fn start(
    upstream: Arc<Upstream>,
    request: Request,
    ctx: &RequestContext,
    own_child: bool,
) -> (mpsc::UnboundedReceiver<Event>, CancellationToken) {
    let (tx, rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    // The call's progress and logs go to the first request's stream while it is open.
    let call_ctx = ctx.clone();
    tokio::spawn(async move {
        let key = upstream.attached.attach_modern(call_ctx.peer(), tx.clone());
        if own_child {
            // The request's log level is its own child's (BR-25).
            let _ = upstream.sync_level().await;
        }
        let result = tokio::select! {
            result = upstream.forward(key, request, &call_ctx) => result,
            () = stop.cancelled() => Err(error("the client did not answer the bridged server's request in time")),
        };
        upstream.attached.detach(key);
        let _ = tx.send(Event::Done(result));
        if own_child {
            upstream.child.stop().await;
        }
    });
    (rx, cancel)
}

/// The tool or prompt name, or the resource URI, of `request`.
fn target_of(request: &Request) -> String {
    #[derive(serde::Deserialize)]
    struct Params {
        name: Option<String>,
        uri: Option<String>,
    }
    request
        .params_as::<Params>()
        .ok()
        .and_then(|p| p.name.or(p.uri))
        .unwrap_or_default()
}
