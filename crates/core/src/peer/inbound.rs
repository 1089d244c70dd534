//! Requests this side receives: run where they arrived, answered at once when the handler
//! answers in its first poll (PF-40, PF-41), else on a task of their own, registered as in
//! flight with a cancellation token (X-1..X-8), refused past the limit (RL-29).

use super::*;

impl Peer {
    /// Handles one received request and gives back its response, serialized, when it is there
    /// at once (the handler answered in its first poll, a ping, a duplicate id): the transport
    /// sends it itself, as an HTTP POST answers with it directly, no stream needed. `None`: the
    /// handler waits, and its response will come through the transport's sink (or there is
    /// none: a closed connection, a cancelled request).
    /// `places` are held by the request's context (see [`Peer::receive_request`]).
    pub fn answer_request(
        &self,
        request: Request,
        extensions: Extensions,
        places: Places,
    ) -> Option<Outbound> {
        let id = request.id.clone();
        let mut out = Vec::new();
        self.answer_request_into(request, extensions, places, &mut out)
            .then(|| response_outbound(out, id))
    }

    /// [`Peer::answer_request`], with the response appended to `out` (after whatever the
    /// transport put there first: an SSE event's framing) when it is there at once; returns
    /// whether it is. A handler that answers in place writes its result straight after the
    /// envelope's prefix (PF-41, [`Handler::handle_request_at_once`]). When it is not there at
    /// once, `out` is left as it was and the handler continues on a task of its own, which
    /// sends the response through the sink when it comes.
    pub fn answer_request_into(
        &self,
        request: Request,
        extensions: Extensions,
        places: Places,
        out: &mut Vec<u8>,
    ) -> bool {
        let id = request.id.clone();
        if self.is_closed() {
            return false;
        }
        if request.method == method::PING {
            // PG-2: answer promptly, whatever the handler is doing.
            let _ = at_once::result_writer(out, &id);
            out.extend_from_slice(b"{}}");
            return true;
        }
        {
            let inflight = lock(&self.inner.inflight);
            // A request whose id is in flight is answered, not run: its state is the first one's.
            if inflight.contains_key(&id) {
                drop(inflight);
                at_once::put_response(out, id.clone(), Err(duplicate(&id)));
                return true;
            }
            // RL-29: past the limit a request is refused before it runs (a half-run handler,
            // a prompt shown then dropped, would be worse than a clear error).
            if inflight.len() >= self.inner.config.max_inbound_requests {
                drop(inflight);
                refuse(&request, self.inner.config.max_inbound_requests, out);
                return true;
            }
        }
        let ctx = RequestContext::new(
            self.clone(),
            id.clone(),
            progress_token(request.params.as_ref()),
            None,
            (extensions, None),
            places,
        );
        let span = tracing::debug_span!("request", %id, method = %request.method);
        match first_poll(&*self.inner.handler, request, &ctx, &id, &span, out) {
            First::Answered => true,
            First::Waits(run) => self.go_on(ctx, id, run, span, out),
        }
    }

    /// The rest of a request whose handler did not answer in its first poll: registered as in
    /// flight with its cancellation token (made now unless the handler asked for it already),
    /// it runs on in a task of its own, which sends the response through the sink. Returns
    /// whether a response is in `out` after all (the same id arrived twice at once).
    pub(super) fn go_on(
        &self,
        ctx: RequestContext,
        id: RequestId,
        run: BoxFuture<'static, Result<Box<RawValue>, ErrorObject>>,
        span: tracing::Span,
        out: &mut Vec<u8>,
    ) -> bool {
        let token = ctx.cancellation().clone();
        let repeated = match lock(&self.inner.inflight).entry(id.clone()) {
            std::collections::hash_map::Entry::Occupied(_) => true,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(token.clone());
                false
            }
        };
        if repeated {
            // The same id arrived twice at once: the later one stops here.
            drop(run);
            ctx.finish();
            at_once::put_response(out, id.clone(), Err(duplicate(&id)));
            return true;
        }
        if self.is_closed() {
            // Closed before the insert: `close` may have missed it.
            token.cancel();
        }
        let peer = self.clone();
        tokio::spawn(
            async move {
                let outcome = tokio::select! {
                    biased;
                    _ = token.cancelled() => None,
                    outcome = AssertUnwindSafe(run).catch_unwind() => Some(outcome),
                };
                match outcome {
                    Some(outcome) => peer.finish_request(&ctx, id, outcome).await,
                    // a cancelled request gets no response; its transport lets go of
                    // what waited for one (RL-53). A closing peer's transport ends it all.
                    None => {
                        peer.forget_request(&ctx, &id);
                        if !peer.is_closed() {
                            peer.inner.sink.end_unanswered(&id);
                        }
                    }
                }
            }
            .instrument(span),
        );
        false
    }

    /// Ends an inbound request: no more progress (P-4), out of the in-flight table.
    fn forget_request(&self, ctx: &RequestContext, id: &RequestId) {
        ctx.finish();
        lock(&self.inner.inflight).remove(id);
    }

    /// Ends a handled request and sends its response.
    fn finish_request(
        &self,
        ctx: &RequestContext,
        id: RequestId,
        outcome: std::thread::Result<Result<Box<RawValue>, ErrorObject>>,
    ) -> impl Future<Output = ()> + Send + '_ {
        self.forget_request(ctx, &id);
        let related = Some(id.clone());
        self.send_response(response_of(id, outcome), related)
    }
}

/// Refuses `request`: `max` requests are in progress already (RL-29).
pub(super) fn refuse(request: &Request, max: usize, out: &mut Vec<u8>) {
    let id = &request.id;
    tracing::debug!(%id, method = %request.method, "too many requests in progress; refused");
    let error = ErrorObject::new(
        mcp_http_proto::error_code::INTERNAL_ERROR,
        format!("too many requests in progress (at most {max})"),
    );
    at_once::put_response(out, id.clone(), Err(error));
}

/// What a handler did in its first poll.
pub(super) enum First {
    /// Its response is in the buffer; the context is finished.
    Answered,
    /// It has to wait: this future finishes the request.
    Waits(BoxFuture<'static, Result<Box<RawValue>, ErrorObject>>),
}

/// The quick-call path (PF-40): `handler` answers in place, writing its result after the
/// envelope's prefix in `out`, here, where the request arrived; one that has to wait gives back
/// the future that finishes it, polled once here. Most handlers answer in their first poll: no
/// task, no wake-up, no hand-off, and neither in-flight entry nor cancellation token (only a
/// handler that has to wait needs them).
pub(super) fn first_poll(
    handler: &dyn Handler,
    request: Request,
    ctx: &RequestContext,
    id: &RequestId,
    span: &tracing::Span,
    out: &mut Vec<u8>,
) -> First {
    let start = out.len();
    let handled = {
        let _entered = span.enter();
        let writer = at_once::result_writer(out, id);
        let ctx = ctx.clone();
        std::panic::catch_unwind(AssertUnwindSafe(move || {
            handler.handle_request_at_once(request, ctx, writer)
        }))
    };
    let mut run = match handled {
        Ok(AtOnce::Written(_)) => {
            // Answered in place: never registered, nothing to remove.
            out.push(b'}');
            ctx.finish();
            return First::Answered;
        }
        Ok(AtOnce::Failed(error)) => {
            out.truncate(start);
            ctx.finish();
            at_once::put_response(out, id.clone(), Err(error));
            return First::Answered;
        }
        Ok(AtOnce::Waits(run)) => {
            out.truncate(start);
            run
        }
        Err(panic) => {
            out.truncate(start);
            ctx.finish();
            let outcome = outcome_of(id, Err(panic));
            at_once::put_response(out, id.clone(), outcome);
            return First::Answered;
        }
    };
    match poll_once_catching(&mut run, span) {
        Poll::Ready(outcome) => {
            // Answered in the first poll: never registered, nothing to remove.
            ctx.finish();
            let outcome = outcome_of(id, outcome);
            at_once::put_response(out, id.clone(), outcome);
            First::Answered
        }
        Poll::Pending => First::Waits(run),
    }
}

/// Polls a handler's future once, turning a panic into an error outcome. The waker does
/// nothing: a handler that has to wait is polled again on its own task, which registers that
/// task's waker (a future must accept a new waker on every poll).
fn poll_once_catching(
    run: &mut BoxFuture<'static, Result<Box<RawValue>, ErrorObject>>,
    span: &tracing::Span,
) -> Poll<std::thread::Result<Result<Box<RawValue>, ErrorObject>>> {
    let _entered = span.enter();
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::panic::catch_unwind(AssertUnwindSafe(|| run.as_mut().poll(&mut cx))) {
        Ok(Poll::Ready(outcome)) => Poll::Ready(Ok(outcome)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(panic) => Poll::Ready(Err(panic)),
    }
}
