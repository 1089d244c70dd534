//! One request relayed to another peer, both directions' common step (BR-1, BR-2): the
//! params go as they came; the receiving peer numbers the request (so ids from many senders
//! never collide) and, when the sender asked for progress, puts a token of its own in
//! `_meta.progressToken`; the progress that comes back under that token goes out again under
//! the sender's, in order and before the result. Dropping the future (the sender cancelled)
//! sends `notifications/cancelled` on.

use mcp_http_proto::jsonrpc::Params;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use mcp_http_core::sync::lock;
use mcp_http_core::{Peer, ProgressUpdate, RequestContext, RequestError, RequestOptions};
use mcp_http_proto::jsonrpc::Request;
use serde_json::value::RawValue;

/// Where a relayed request's progress goes: to the request itself, or, for a 2026-07-28 call
/// that spans several retries, to the request that carries the call now (BR-72).
#[derive(Clone, Copy)]
pub(crate) enum Reporter<'a> {
    /// The request relayed.
    Request(&'a RequestContext),
    /// Whichever request is set now.
    Current(&'a Mutex<RequestContext>),
}

impl Reporter<'_> {
    fn ctx(&self) -> RequestContext {
        match self {
            Reporter::Request(ctx) => (*ctx).clone(),
            Reporter::Current(current) => lock(current).clone(),
        }
    }

    async fn progress(&self, update: &ProgressUpdate) {
        let ctx = self.ctx();
        let _ = ctx
            .progress(update.progress, update.total, update.message.as_deref())
            .await;
    }
}

/// Relays `request`, received with `ctx`, to `target`; `timeout` without progress.
pub(crate) async fn relay_request(
    target: &Peer,
    request: Request,
    ctx: &RequestContext,
    timeout: Duration,
) -> Result<Box<RawValue>, RequestError> {
    relay_reporting(target, request, ctx, timeout, Reporter::Request(ctx)).await
}

/// [`relay_request`], with the progress going where `report` says.
pub(crate) async fn relay_reporting(
    target: &Peer,
    request: Request,
    ctx: &RequestContext,
    timeout: Duration,
    report: Reporter<'_>,
) -> Result<Box<RawValue>, RequestError> {
    let options = RequestOptions::default()
        .timeout(timeout)
        .max_total(timeout * 6);
    progress_to(ctx, report, options, |options| {
        target.request_raw(
            &request.method,
            request.params.map(Params::into_raw),
            options,
        )
    })
    .await
}

/// Runs `call` with `options` plus, when the sender asked for progress, a callback whose
/// updates go out to the sender under its own token, in order and before the result.
pub(crate) async fn with_progress<F, Fut>(
    ctx: &RequestContext,
    options: RequestOptions,
    call: F,
) -> Result<Box<RawValue>, RequestError>
where
    F: FnOnce(RequestOptions) -> Fut,
    Fut: Future<Output = Result<Box<RawValue>, RequestError>>,
{
    progress_to(ctx, Reporter::Request(ctx), options, call).await
}

/// [`with_progress`], with the progress going where `report` says.
async fn progress_to<F, Fut>(
    ctx: &RequestContext,
    report: Reporter<'_>,
    mut options: RequestOptions,
    call: F,
) -> Result<Box<RawValue>, RequestError>
where
    F: FnOnce(RequestOptions) -> Fut,
    Fut: Future<Output = Result<Box<RawValue>, RequestError>>,
{
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    if ctx.progress_token().is_some() {
        options = options.on_progress(move |update| {
            let _ = tx.send(update);
        });
    }
    let call = call(options);
    tokio::pin!(call);
    let outcome = loop {
        tokio::select! {
            biased;
            Some(update) = rx.recv() => report.progress(&update).await,
            outcome = &mut call => break outcome,
        }
    };
    // Progress that came just before the result still goes first.
    while let Ok(update) = rx.try_recv() {
        report.progress(&update).await;
    }
    outcome
}
