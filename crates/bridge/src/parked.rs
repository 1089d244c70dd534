//! A child's request during a 2026-07-28 call becomes an input-required result (BR-20, BR-24):
//! the child's call stays in progress in the bridge, parked under a number sealed into the
//! `requestState` (sealed, bound to the request and its principal, single use: MR-2); the
//! retry's answers go to the child's waiting requests, and the retry waits for the call's next
//! event: its result, or more requests of the child (another round). A parked call nobody
//! retries is cancelled at the child after the state's lifetime; the table is bounded.
//!
//! - One round carries every request the child has outstanding for the call: after its first
//!   request the bridge gathers more until the child has been quiet for [`GATHER_QUIET`]
//!   (at most [`GATHER_MAX`], [`MAX_ASKS`] requests, BR-71). Each is keyed by the key the
//!   child's handler chose when the child says it (`_meta` `dev.mcp-http/inputKey`, sent by
//!   `mcp-http serve`), else `elicitation-N`, `sampling-N`, `roots-N` (BR-73). An answer the
//!   request already carries under that key (`inputResponses` of a first call) answers the
//!   child's request at once, without a round.
//! - Calls that may ask run one at a time on a shared child (BR-70): a call holds the child's
//!   `asking` lock from its start (or its retry) until it completes or parks, so a request of
//!   the child is known to be the one running call's. Parked calls do not hold it.
//! - The call's progress and logs go to the request that carries it now: the first, then each
//!   retry (BR-72).
//! - A request of the child that the call's client did not declare the capability for ends the
//!   call with -32021 (`data.requiredCapabilities`), and the child's request fails (BR-74).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mcp_http_core::sync::lock;
use mcp_http_core::{
    CancellationToken, InputScope, RequestContext, RequestError, RequestStateKeys, RequestStates,
    run_with_input,
};
use mcp_http_proto::jsonrpc::Request;
use mcp_http_proto::modern::META_INPUT_KEY;
use mcp_http_proto::{
    CreateMessageResult, ElicitResult, ErrorObject, InputRequest, InputRequests, ListRootsResult,
    error_code, method,
};
use serde_json::value::RawValue;
use tokio::sync::{OwnedMutexGuard, mpsc, oneshot};

use crate::relay::Reporter;
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

/// How long the child must be quiet before a round is answered (its requests of one moment
/// arrive together).
const GATHER_QUIET: Duration = Duration::from_millis(100);

/// How long one round gathers the child's requests at most.
const GATHER_MAX: Duration = Duration::from_secs(1);

/// How long a call's own child lives on after its answer (BR-25).
const CALL_CHILD_GRACE: Duration = Duration::from_millis(200);

/// How many of the child's requests one round carries at most.
const MAX_ASKS: usize = 32;

/// A request of the child, waiting for the client's answer.
struct Asked {
    key: String,
    input: InputRequest,
    reply: Reply,
}

/// A call in progress at the child, across its rounds.
struct Call {
    events: mpsc::UnboundedReceiver<Event>,
    cancel: CancellationToken,
    upstream: Arc<Upstream>,
    /// The call's slot in the child's attached list.
    slot: u64,
    /// The request that carries the call now (its progress goes there, BR-72).
    current: Arc<Mutex<RequestContext>>,
    /// The number of the next generated key.
    next_key: u64,
    /// The keys whose answers the child got already (an answer is given once).
    answered: HashSet<String>,
}

/// A call waiting for the client's retry.
struct Parked {
    call: Call,
    asked: Vec<Asked>,
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
        let scope = InputScope::new(&name, &target, params.as_ref());
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

    /// One round: the call started (first request) or resumed with the retry's answers, until
    /// its next event.
    async fn round(
        self: Arc<Self>,
        upstream: Arc<Upstream>,
        request: Option<Request>,
        ctx: RequestContext,
        own_child: bool,
    ) -> Result<Box<RawValue>, RequestError> {
        let given = ctx.gathered_answers();
        let (mut call, gate) = match ctx.request_state() {
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
                let answers: Option<Vec<Box<RawValue>>> = parked
                    .asked
                    .iter()
                    .map(|a| answer_to(&a.input, given.get(&a.key)?))
                    .collect();
                // Not every request answered (or an answer of the wrong shape): all asked
                // again, the call still parked.
                let Some(answers) = answers else {
                    let Parked { call, asked } = parked;
                    return Err(self.park(call, asked, &ctx, None));
                };
                let Parked { mut call, asked } = parked;
                // BR-70: the child resumes only while no other call may ask.
                let gate = acquire(&call.upstream).await?;
                resume(&mut call, &ctx).await;
                for (asked, answer) in asked.into_iter().zip(answers) {
                    call.answered.insert(asked.key);
                    let _ = asked.reply.send(Ok(answer));
                }
                (call, gate)
            }
            None => {
                let request = request.ok_or_else(|| RequestError::Rpc(ErrorObject::internal()))?;
                let gate = acquire(&upstream).await?;
                (start(upstream, request, &ctx, own_child), gate)
            }
        };
        // The client gone before the next event (the request dropped): the call is cancelled
        // at the child; a parked call is kept.
        let guard = call.cancel.clone().drop_guard();
        let mut asked: Vec<Asked> = Vec::new();
        let began = Instant::now();
        loop {
            let event = if asked.is_empty() {
                call.events.recv().await
            } else {
                let left = GATHER_MAX.saturating_sub(began.elapsed()).min(GATHER_QUIET);
                match tokio::time::timeout(left, call.events.recv()).await {
                    Ok(event) => event,
                    Err(_) => break,
                }
            };
            match event {
                Some(Event::Asked(request, reply)) => {
                    if let Some(one) = accept(&mut call, request, reply, &given) {
                        // BR-74: an undeclared capability ends the call at once (-32021).
                        if ctx.check_declared(&one.input).is_err() {
                            let single =
                                InputRequests::from([(one.key.clone(), one.input.clone())]);
                            let refused = ctx.input_required(single, None);
                            refuse(asked.into_iter().chain([one]), &refused);
                            return Err(refused);
                        }
                        asked.push(one);
                    }
                    if asked.len() >= MAX_ASKS {
                        break;
                    }
                }
                Some(Event::Done(result)) => {
                    for one in asked {
                        let _ = one.reply.send(Err(error("the call it belonged to ended")));
                    }
                    return result.map_err(RequestError::Rpc);
                }
                None => return Err(RequestError::Rpc(ErrorObject::internal())),
            }
        }
        call.cancel = guard.disarm();
        Err(self.park(call, asked, &ctx, Some(gate)))
    }

    /// Parks `call` with the child's requests `asked` under a new number; the input-required
    /// answer naming it (or -32021 when the request did not declare what the child asks, and
    /// the call ends: BR-74). The asking lock is let go once the call is parked.
    fn park(
        self: &Arc<Self>,
        call: Call,
        asked: Vec<Asked>,
        ctx: &RequestContext,
        gate: Option<OwnedMutexGuard<()>>,
    ) -> RequestError {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let state = id.to_string();
        let requests: InputRequests = asked
            .iter()
            .map(|a| (a.key.clone(), a.input.clone()))
            .collect();
        let answer = ctx.input_required(requests, Some(state));
        if let RequestError::CapabilityNotSupported(_) = &answer {
            refuse(asked, &answer);
            call.cancel.cancel();
            return answer;
        }
        let mut table = lock(&self.table);
        if table.len() >= MAX_PARKED {
            call.cancel.cancel();
            return RequestError::Rpc(error("the bridge has too many calls waiting for input"));
        }
        call.upstream.attached.set_parked(call.slot, true);
        table.insert(id, Parked { call, asked });
        drop(table);
        drop(gate);
        // Not retried in time: cancelled at the child (the replies dropped fail its requests).
        let (calls, ttl) = (Arc::downgrade(self), self.states.ttl());
        tokio::spawn(async move {
            tokio::time::sleep(ttl).await;
            if let Some(calls) = calls.upgrade()
                && let Some(parked) = lock(&calls.table).remove(&id)
            {
                parked.call.cancel.cancel();
            }
        });
        answer
    }
}

/// Takes the child's asking lock (BR-70): waits while another call that may ask runs there, up
/// to the request timeout.
async fn acquire(upstream: &Arc<Upstream>) -> Result<OwnedMutexGuard<()>, RequestError> {
    let lock = upstream.asking.clone().lock_owned();
    tokio::time::timeout(upstream.request_timeout, lock)
        .await
        .map_err(|_| {
            RequestError::Rpc(error(format!(
                "the bridged server `{}` was busy with other calls that may ask their clients for input for {} s (serve it with --child-per-session to run such calls at once)",
                upstream.child.name,
                upstream.request_timeout.as_secs()
            )))
        })
}

/// The call continues on the retry `ctx`: its progress and logs go there (BR-72), it may be
/// asked again, and the retry's log level joins the child's.
async fn resume(call: &mut Call, ctx: &RequestContext) {
    *lock(&call.current) = ctx.clone();
    let attached = &call.upstream.attached;
    attached.rebind(call.slot, ctx.peer(), ctx.request_id());
    attached.set_parked(call.slot, false);
    let _ = call.upstream.sync_level().await;
}

/// A request of the child during the call: answered at once when the request carries its
/// answer (`given`, under its key, not given before), refused when the era cannot ask it, else
/// kept for the round.
fn accept(
    call: &mut Call,
    request: Request,
    reply: Reply,
    given: &serde_json::Map<String, serde_json::Value>,
) -> Option<Asked> {
    let mut params = request
        .params
        .as_deref()
        .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
        .unwrap_or(serde_json::Value::Null);
    let hint = params
        .get_mut("_meta")
        .and_then(serde_json::Value::as_object_mut)
        .and_then(|meta| meta.remove(META_INPUT_KEY))
        .and_then(|k| k.as_str().map(str::to_owned))
        .filter(|k| !k.is_empty());
    let wire = serde_json::json!({"method": request.method, "params": params});
    let Ok(input) = serde_json::from_value::<InputRequest>(wire) else {
        let _ = reply.send(Err(ErrorObject::method_not_found(&request.method)));
        return None;
    };
    let key = match hint {
        Some(key) => key,
        None => {
            call.next_key += 1;
            let kind = match request.method.as_str() {
                method::SAMPLING_CREATE_MESSAGE => "sampling",
                method::ROOTS_LIST => "roots",
                _ => "elicitation",
            };
            format!("{kind}-{}", call.next_key)
        }
    };
    if !call.answered.contains(&key)
        && let Some(answer) = given.get(&key).and_then(|a| answer_to(&input, a))
    {
        call.answered.insert(key);
        let _ = reply.send(Ok(answer));
        return None;
    }
    Some(Asked { key, input, reply })
}

/// The child's requests `asked` fail: the request did not declare what they need.
fn refuse(asked: impl IntoIterator<Item = Asked>, why: &RequestError) {
    for one in asked {
        let _ = one.reply.send(Err(error(format!(
            "the bridge's client cannot answer: {why}"
        ))));
    }
}

/// `answer` as the answer of `input`, when it has that request's result shape (an answer of
/// another shape is not given to the child: the client is asked again).
fn answer_to(input: &InputRequest, answer: &serde_json::Value) -> Option<Box<RawValue>> {
    let fits = match input {
        InputRequest::Elicit(_) => serde_json::from_value::<ElicitResult>(answer.clone()).is_ok(),
        InputRequest::CreateMessage(_) => {
            serde_json::from_value::<CreateMessageResult>(answer.clone()).is_ok()
        }
        InputRequest::ListRoots(_) => {
            serde_json::from_value::<ListRootsResult>(answer.clone()).is_ok()
        }
        _ => false,
    };
    fits.then(|| serde_json::value::to_raw_value(answer).ok())
        .flatten()
}

/// Starts `request` at the child in a task of its own.
fn start(upstream: Arc<Upstream>, request: Request, ctx: &RequestContext, own_child: bool) -> Call {
    let (tx, rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let current = Arc::new(Mutex::new(ctx.clone()));
    let slot = upstream.attached.attach_modern(ctx.peer(), tx.clone());
    let call_ctx = ctx.clone();
    let (task_upstream, task_current) = (upstream.clone(), current.clone());
    tokio::spawn(async move {
        let upstream = task_upstream;
        // The request's log level joins the child's (BR-20; its own child's, BR-25).
        let _ = upstream.sync_level().await;
        let report = Reporter::Current(&task_current);
        let result = tokio::select! {
            result = upstream.forward_reporting(slot, request, &call_ctx, report) => result,
            () = stop.cancelled() => Err(error("the client did not answer the bridged server's request in time")),
        };
        upstream.attached.detach(slot);
        let _ = tx.send(Event::Done(result));
        if own_child {
            // What the child tells after its answer (a list change it made, sent in the
            // background) still reaches the listeners (BR-76).
            tokio::time::sleep(CALL_CHILD_GRACE).await;
            upstream.child.stop().await;
        }
    });
    Call {
        events: rx,
        cancel,
        upstream,
        slot,
        current,
        next_key: 0,
        answered: HashSet::new(),
    }
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
