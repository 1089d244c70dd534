//! Runs of a handler that may park on input instead of answering an input-required result: the
//! work of a task of the tasks extension (TK-5). A run is given the answers gathered so far; when
//! it asks for input it did not get, the caller parks the task with the requests and runs it
//! again once every one of them is answered.

use std::future::Future;

use mcp_http_proto::{ErrorObject, InputRequests};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::Round;
use super::driver::missing_capability;
use crate::context::RequestContext;

/// How one parked run ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Parked<E> {
    /// The handler answered (it asked for nothing it was not given).
    Done(Result<Box<RawValue>, E>),
    /// The handler needs these inputs first; the run's outcome was dropped.
    NeedsInput(InputRequests),
}

/// Runs `run` once on `ctx` (a 2026-07-28 context, usually [`RequestContext::detached`]) with
/// `answers` (raw `inputResponses` by key) as the answers its `ctx.elicit(..)`, `ctx.ask_all(..)`
/// and kin get. `Err` is -32021 when it failed for want of a capability the request did not
/// declare (M-3).
pub async fn run_parked<E, F, Fut>(
    ctx: &RequestContext,
    answers: Map<String, Value>,
    run: F,
) -> Result<Parked<E>, ErrorObject>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Box<RawValue>, E>>,
{
    *ctx.round() = Some(Box::new(Round {
        answers,
        ..Round::default()
    }));
    let outcome = run().await;
    let Some(mut round) = ctx.round().take() else {
        return Ok(Parked::Done(outcome));
    };
    if let Some(missing) = round.missing.take()
        && outcome.is_err()
    {
        return Err(missing_capability(missing));
    }
    if !round.asked {
        return Ok(Parked::Done(outcome));
    }
    Ok(Parked::NeedsInput(std::mem::take(&mut round.requests)))
}

impl RequestContext {
    /// Every answer this run was given, raw, by key (earlier rounds' and this retry's): what a
    /// call that continues as a task (TK-6) hands over to the task's runs.
    pub fn gathered_answers(&self) -> Map<String, Value> {
        self.round()
            .as_ref()
            .map(|round| round.answers.clone())
            .unwrap_or_default()
    }
}
