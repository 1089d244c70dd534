//! One request relayed to another peer, both directions' common step (BR-1, BR-2): the
//! params go as they came; the receiving peer numbers the request (so ids from many senders
//! never collide) and, when the sender asked for progress, puts a token of its own in
//! `_meta.progressToken`; the progress that comes back under that token goes out again under
//! the sender's, in order and before the result. Dropping the future (the sender cancelled)
//! sends `notifications/cancelled` on.

use std::future::Future;
use std::time::Duration;

use mcp_http_core::{Peer, RequestContext, RequestError, RequestOptions};
use mcp_http_proto::jsonrpc::Request;
use serde_json::value::RawValue;

/// Relays `request`, received with `ctx`, to `target`; `timeout` without progress.
pub(crate) async fn relay_request(
    target: &Peer,
    request: Request,
    ctx: &RequestContext,
    timeout: Duration,
) -> Result<Box<RawValue>, RequestError> {
    let options = RequestOptions::default()
        .timeout(timeout)
        .max_total(timeout * 6);
    with_progress(ctx, options, |options| {
        target.request_raw(&request.method, request.params, options)
    })
    .await
}

/// Runs `call` with `options` plus, when the sender asked for progress, a callback whose
/// updates go out to the sender under its own token, in order and before the result.
pub(crate) async fn with_progress<F, Fut>(
    ctx: &RequestContext,
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
            Some(update) = rx.recv() => {
                let _ = ctx.progress(update.progress, update.total, update.message.as_deref()).await;
            }
            outcome = &mut call => break outcome,
        }
    };
    // Progress that came just before the result still goes first.
    while let Ok(update) = rx.try_recv() {
        let _ = ctx
            .progress(update.progress, update.total, update.message.as_deref())
            .await;
    }
    outcome
}
