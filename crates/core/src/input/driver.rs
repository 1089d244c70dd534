//! The engine of input-required results: runs the handler of `tools/call`, `resources/read` or
//! `prompts/get` (MR-1) in either era.
//!
//! - 2026-07-28: opens the retry's `requestState` (sealed, bound, unexpired, single use: MR-1,
//!   MR-2), gives the handler the answers of earlier rounds and of this retry, runs it once, and
//!   when it asked for input answers an `InputRequiredResult` with a freshly sealed state instead
//!   of whatever the handler returned.
//! - Legacy sessions: when the handler answered an explicit input-required result, asks the
//!   client with real requests on the request's stream and runs the handler again with the
//!   answers, at most [`MAX_LEGACY_ROUNDS`] times (MR-3).

use std::future::Future;

use mcp_http_proto::jsonrpc::Params;
use mcp_http_proto::{ErrorObject, InputRequiredResult, error_code, method};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::Round;
use crate::context::RequestContext;
use crate::error::RequestError;
use crate::request_state::{Binding, RequestStates, StateNonce, UsedStates, invalid_state};

/// How many times a legacy session's handler may answer input-required before the request
/// fails (the TypeScript SDK's shim has the same bound).
pub const MAX_LEGACY_ROUNDS: usize = 8;

/// The request a handler runs for: its method, its target (the tool or prompt name, or the
/// resource URI) and its params as received (they carry the retry's `inputResponses` and
/// `requestState`, and are what a sealed state is bound to).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct InputScope<'a> {
    /// `tools/call`, `resources/read` or `prompts/get`.
    pub method: &'a str,
    /// The tool or prompt name, or the resource URI.
    pub target: &'a str,
    /// The request's params.
    pub params: Option<&'a Params>,
}

impl<'a> InputScope<'a> {
    /// The scope of a request.
    pub fn new(method: &'a str, target: &'a str, params: Option<&'a Params>) -> Self {
        InputScope {
            method,
            target,
            params,
        }
    }

    fn binding(&self, ctx: &RequestContext) -> Binding {
        Binding::new(
            self.method,
            self.target,
            self.params.map(Params::get),
            ctx.principal().map(|p| p.id()),
        )
    }
}

/// Whether `params` may carry the members of a retry (`inputResponses`, `requestState`, MR-1):
/// a byte scan, not a parse. A params text that only mentions the names (in a tool's arguments,
/// say) answers `true` too; what reads the members then finds none. Every request pays it, so
/// a first call (most requests) is told without a parse.
pub fn may_be_retry(params: &Params) -> bool {
    // Searchers built once: making one costs more than searching a request's params.
    static MEMBERS: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 2]> =
        std::sync::LazyLock::new(|| {
            [b"inputResponses".as_slice(), b"requestState"].map(memchr::memmem::Finder::new)
        });
    let text = params.as_bytes();
    MEMBERS.iter().any(|m| m.find(text).is_some())
}

/// The MRTR members of a retry.
#[derive(Deserialize, Default)]
struct Retry {
    #[serde(rename = "inputResponses", default)]
    input_responses: Option<Map<String, Value>>,
    #[serde(rename = "requestState", default)]
    request_state: Option<String>,
}

impl Retry {
    /// The retry members of `params`; a first call (most requests) is told by a scan, not a
    /// parse.
    fn of(params: Option<&Params>) -> Result<Option<Retry>, ErrorObject> {
        let Some(params) = params else {
            return Ok(None);
        };
        if !may_be_retry(params) {
            return Ok(None);
        }
        let retry: Retry = serde_json::from_str(params.get()).map_err(|_| {
            ErrorObject::invalid_params(
                "Invalid params: inputResponses must be an object and requestState a string",
            )
        })?;
        Ok((retry.input_responses.is_some() || retry.request_state.is_some()).then_some(retry))
    }
}

/// Runs `run` (the handler, one run per call) for the request `scope` names, in the era of
/// `ctx`, and returns what to answer: `Ok` with the handler's own outcome (or an
/// `InputRequiredResult` in its place), or `Err` with a protocol error of the engine: -32602 for
/// a refused `requestState`, -32021 for an input the client did not declare a capability for
/// (M-3), -32603 when a legacy handler still asks after [`MAX_LEGACY_ROUNDS`] rounds. A legacy
/// input request that fails comes back as the handler's error (`E::from`), as a failed
/// `ctx.elicit(..)?` would.
///
/// Requests of other methods run once, untouched. A request that asks for nothing costs one
/// scan of its params and one uncontended lock.
pub async fn run_with_input<E, F, Fut>(
    ctx: &RequestContext,
    scope: &InputScope<'_>,
    states: &RequestStates,
    mut run: F,
) -> Result<Result<Box<RawValue>, E>, ErrorObject>
where
    E: From<RequestError>,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Box<RawValue>, E>>,
{
    if !method::allows_input_required(scope.method) {
        return Ok(run().await);
    }
    let modern = ctx.is_modern();
    // A retry is rare next to a first call: its opening is boxed, so that the future of every
    // request does not carry its state.
    let opening = match modern {
        true => Retry::of(scope.params)?.map(|retry| Box::pin(open(ctx, scope, states, retry))),
        false => None,
    };
    let mut opened = match opening {
        Some(opening) => Some(opening.await?),
        None => None,
    };
    let outcome = run().await;
    // Answered: the use of the state stands.
    if let Some(release) = opened.as_mut().and_then(|o| o.release.as_mut()) {
        release.armed = false;
    }
    let Some(mut round) = ctx.round().take() else {
        return Ok(outcome);
    };
    if modern {
        return finish_modern(ctx, scope, states, opened, &mut round, outcome);
    }
    if !round.asked {
        return Ok(outcome);
    }
    // Not kept in this future across the shim's.
    drop(outcome);
    // MR-3: rare, and its future is large: boxed.
    Box::pin(legacy(ctx, &mut run, round)).await
}

/// The answer of a 2026-07-28 run that asked for input or was given some: -32021 when it failed
/// for want of a capability (M-3), an `InputRequiredResult` with a freshly sealed state when it
/// asked, else its own outcome.
fn finish_modern<E>(
    ctx: &RequestContext,
    scope: &InputScope<'_>,
    states: &RequestStates,
    opened: Option<Box<Opened>>,
    round: &mut Round,
    outcome: Result<Box<RawValue>, E>,
) -> Result<Result<Box<RawValue>, E>, ErrorObject> {
    if let Some(missing) = round.missing.take()
        && outcome.is_err()
    {
        return Err(missing_capability(missing));
    }
    if !round.asked {
        return Ok(outcome);
    }
    let kept = round.kept_answers();
    // The handler's state stays until it sets another.
    let handler_state = round.state_out.take().or(round.state_in.take());
    let state = match (kept.is_empty(), handler_state) {
        (true, None) => None,
        (_, handler_state) => {
            let binding = match opened.and_then(|o| o.binding) {
                Some(binding) => binding,
                None => scope.binding(ctx),
            };
            let sealed = states
                .seal(binding.claims(kept, handler_state))
                .map_err(|reason| {
                    tracing::warn!(?reason, "a requestState could not be sealed");
                    ErrorObject::internal()
                })?;
            Some(sealed)
        }
    };
    let mut result = InputRequiredResult::new(std::mem::take(&mut round.requests), state);
    if result.input_requests.as_ref().is_some_and(|r| r.is_empty()) {
        result.input_requests = None;
    }
    mcp_http_proto::jsonrpc::to_raw(&result)
        .map(Ok)
        .map_err(|_| ErrorObject::internal())
}

/// What opening a retry left for after the run: the binding (to seal the next state) and the
/// use of the state (given back if the run is dropped before it answers).
#[derive(Default)]
struct Opened {
    binding: Option<Binding>,
    release: Option<Release>,
}

/// Opens a retry: checks its `requestState` (MR-1, MR-2) and hands the handler the answers of
/// earlier rounds and of this retry.
async fn open(
    ctx: &RequestContext,
    scope: &InputScope<'_>,
    states: &RequestStates,
    retry: Retry,
) -> Result<Box<Opened>, ErrorObject> {
    let mut opened = Box::<Opened>::default();
    let mut round = Round::default();
    if let Some(text) = &retry.request_state {
        let bound = opened.binding.insert(scope.binding(ctx));
        let claims = states.open(text, bound).map_err(|reason| {
            tracing::debug!(?reason, "requestState refused");
            invalid_state()
        })?;
        let Some((nonce, expires_at)) = claims.nonce() else {
            tracing::debug!("requestState refused: no nonce");
            return Err(invalid_state());
        };
        // MR-2: each state is accepted once.
        if !states.used_states().first_use(nonce, expires_at).await {
            tracing::debug!(%nonce, "requestState refused: already used");
            return Err(invalid_state());
        }
        opened.release = Some(Release {
            used: states.used_states().clone(),
            nonce,
            armed: true,
        });
        round.answers = claims.r;
        round.state_in = claims.s;
    }
    // This retry's answers win over earlier rounds' under the same key; answers nobody asks for
    // are never read (MR-1).
    round
        .answers
        .extend(retry.input_responses.unwrap_or_default());
    *ctx.round() = Some(Box::new(round));
    Ok(opened)
}

/// The legacy shim (MR-3): the handler answered input-required (`round`); its inputs become real
/// requests to the client and the handler runs again with the answers, until it answers
/// otherwise or [`MAX_LEGACY_ROUNDS`] rounds have passed.
async fn legacy<E, F, Fut>(
    ctx: &RequestContext,
    run: &mut F,
    mut round: Box<Round>,
) -> Result<Result<Box<RawValue>, E>, ErrorObject>
where
    E: From<RequestError>,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Box<RawValue>, E>>,
{
    let mut answers = Map::new();
    for _ in 0..MAX_LEGACY_ROUNDS {
        let given = match ctx.send_inputs(std::mem::take(&mut round.requests)).await {
            Ok(given) => given,
            Err(error) => return Ok(Err(E::from(error))),
        };
        for (key, answer) in given {
            answers.insert(key, serde_json::to_value(answer).unwrap_or(Value::Null));
        }
        *ctx.round() = Some(Box::new(Round {
            answers: answers.clone(),
            state_in: round.state_out.take().or(round.state_in.take()),
            ..Round::default()
        }));
        let outcome = run().await;
        round = match ctx.round().take() {
            Some(next) if next.asked => next,
            _ => return Ok(outcome),
        };
    }
    tracing::warn!(
        rounds = MAX_LEGACY_ROUNDS,
        "a handler still asked for input after the last round"
    );
    Err(ErrorObject::new(
        error_code::INTERNAL_ERROR,
        format!("the request still needed input after {MAX_LEGACY_ROUNDS} rounds"),
    ))
}

/// -32021 with the capabilities the request needed (M-3).
pub(super) fn missing_capability(required: Map<String, Value>) -> ErrorObject {
    let names: Vec<&str> = required.keys().map(String::as_str).collect();
    ErrorObject::new(
        error_code::MISSING_REQUIRED_CLIENT_CAPABILITY,
        format!(
            "Missing required client capability: {} (declare it in _meta's clientCapabilities)",
            names.join(", ")
        ),
    )
    .with_data(serde_json::json!({ "requiredCapabilities": required }))
}

/// Gives a used state back when the retry that used it is dropped before it answered (its
/// client got nothing and may send the same state again).
struct Release {
    used: std::sync::Arc<dyn UsedStates>,
    nonce: StateNonce,
    armed: bool,
}

impl Drop for Release {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let used = self.used.clone();
        let nonce = self.nonce;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { used.release(nonce).await });
        }
    }
}
