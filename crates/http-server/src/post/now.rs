//! A POST from its read body to its handler's first poll, as one plain call (PF-107): the
//! message is read, routed and, for a session's request, its session found and its handler run
//! where they are, on the call's own stack. The POST's future holds only what waits: the body
//! being read, and what [`Step`] says comes next.

use super::*;

/// What a POST does once [`StreamableHttpService::post_now`] is done with its body.
pub(super) enum Step<M, S> {
    /// Answered (or refused).
    Answered(Result<HttpResponse, Rejection>),
    /// A 2026-07-28 request whose handler waits: the rest of its exchange, boxed (PF-94).
    Modern(std::pin::Pin<Box<M>>),
    /// A stateless request answered in JSON whose handler waits, boxed (PF-103).
    StatelessWaits(std::pin::Pin<Box<S>>),
    /// Another stateless message: [`StreamableHttpService::post_stateless`] serves it.
    Stateless(Parsed, Extensions, Places),
    /// A session's request whose handler's first poll gave no answer to return at once:
    /// [`StreamableHttpService::answer_next`] waits for it (PF-104).
    Waits(Arc<Session>, Next),
    /// Any other message to a session (an `initialize`, a notification or response, a batch,
    /// a request that changes the session's record, a session not loaded on this instance):
    /// [`StreamableHttpService::post_session`] serves it.
    Session(Parsed, (Extensions, Option<Principal>), Places),
}

impl StreamableHttpService {
    /// Reads the POSTed message in `bytes` and serves it as far as it goes without waiting.
    /// Not inlined into the POST's future (PF-107): its values live in this call's frame, built
    /// where they are used, where in the future's state each would be moved through slots of
    /// its own.
    #[inline(never)]
    #[allow(clippy::type_complexity)] // two `impl Future`s, which a `type` cannot name on stable
    pub(super) fn post_now<'a>(
        &'a self,
        headers: &'a checks::Headers<'_>,
        bytes: &'a Bytes,
        (extensions, principal): (Extensions, Option<Principal>),
        permit: CountedPlace,
        label: Option<&mut crate::metrics::MethodLabel>,
        span: &tracing::Span,
    ) -> Step<
        impl Future<Output = Result<HttpResponse, Rejection>> + Send + use<'a>,
        impl Future<Output = Result<(HttpResponse, Option<()>), Rejection>> + use<'a>,
    > {
        let config = self.inner.config();
        // A body that may claim the 2026-07-28 era is read in one pass with the params' members
        // the ladder checks, its params a range of the body (PF-50, PF-51). Another body's
        // params are copied: for a legacy call's short params a copy costs less than reading
        // the shared range as text again where it is decoded (measured, BENCHMARKS.md); a
        // legacy request written as clients write it is read by its bytes, only its params by
        // serde (PF-11). One search of the body tells both, and where it found the key tells
        // the route whether the params hold it (PF-58).
        let mentions = match config.eras.modern() {
            true => crate::modern::ladder::Mention::of(bytes),
            false => crate::modern::ladder::Mention::none(),
        };
        let (mut parsed, members) = match mentions.found() {
            true => match mcp_http_proto::modern_read::read(bytes) {
                Ok(read) => read,
                Err(invalid) => return Step::Answered(Err(Rejection::InvalidMessage(invalid))),
            },
            false => match mcp_http_proto::legacy_read::read(bytes) {
                Ok(parsed) => (parsed, None),
                Err(invalid) => return Step::Answered(Err(Rejection::InvalidMessage(invalid))),
            },
        };
        if let (Some(label), Some(metrics)) = (label, &self.inner.sessions.metrics) {
            *label = metrics.classify(bytes, &parsed);
        }
        if !span.is_disabled() {
            record_message(span, &parsed);
        }
        let mut extensions = extensions;
        // The handler's context holds the permit until the handler is done (RL-6); not the
        // extensions, which would cost a map and boxes per request.
        let mut places = Places::default().with_permit_place(permit);
        if config.eras.modern() {
            match crate::modern::route(headers, &parsed, mentions, config.eras) {
                Ok(false) => {}
                Err(rejection) => return Step::Answered(Err(rejection)),
                Ok(true) => {
                    let Parsed::Single(message) = parsed else {
                        return Step::Answered(Err(Rejection::ModernBatch));
                    };
                    let read = (message, members);
                    // Served at once unless its handler waits: then the rest of it is boxed, so
                    // that it does not size every POST's future (PF-65, PF-94).
                    match self.post_modern(headers, read, extensions, places) {
                        Err(rejection) => return Step::Answered(Err(rejection)),
                        Ok(crate::modern::Served::Answered(response)) => {
                            span.record("era", "2026-07-28");
                            return Step::Answered(Ok(response));
                        }
                        Ok(crate::modern::Served::Waits(rest)) => return Step::Modern(rest),
                        Ok(crate::modern::Served::NotModern(message, given_back, held)) => {
                            parsed = Parsed::Single(message);
                            extensions = given_back;
                            places = held;
                        }
                    }
                }
            }
        }
        span.record("era", "legacy");
        if config.stateless {
            // No session to bind to a principal; handlers still see the extensions. A request
            // answered in JSON only runs its handler's first poll before any future of its own;
            // only one that waits gets the boxed rest (PF-103).
            return match self.stateless_at_once(headers, parsed, extensions, places) {
                stateless::AtOnce::Answered(answered) => Step::Answered(answered),
                stateless::AtOnce::Waits(rest) => Step::StatelessWaits(rest),
                stateless::AtOnce::Other(parsed, extensions, places) => {
                    Step::Stateless(parsed, extensions, places)
                }
            };
        }
        // A session's plain request (PF-107): its session found without a future, when this
        // instance serves it; everything else as `post_session` always served it.
        let request = match parsed {
            Parsed::Single(Message::Request(request))
                if request.method != method::INITIALIZE
                    && !changes_record(&request.method)
                    && !(is_modern_probe(&request, config.eras) && headers.session.is_none()) =>
            {
                request
            }
            other => return Step::Session(other, (extensions, principal), places),
        };
        let session = match self.session_now(headers, principal.as_ref()) {
            Some(Ok(session)) => session,
            Some(Err(rejection)) => return Step::Answered(Err(rejection)),
            // Made by another instance: `post_session` loads it from the store.
            None => {
                let parsed = Parsed::Single(Message::Request(request));
                return Step::Session(parsed, (extensions, principal), places);
            }
        };
        session.follows_from(span);
        match self.session_request(&session, request, (extensions, places)) {
            Now::Answered(answered) => Step::Answered(answered),
            Now::Next(next) => Step::Waits(session, next),
        }
    }

    /// A session's request run to the end of its handler's first poll: answered, or what its
    /// POST waits for.
    fn session_request(
        &self,
        session: &Session,
        request: RpcRequest,
        (extensions, places): (Extensions, Places),
    ) -> Now {
        // PG-2: a ping is answered at once, however busy the session is.
        let places = match request.method != method::PING {
            true => match self.session_slot(session, &request.id) {
                Ok(slot) => places.with_counted(slot),
                Err(rejection) => return Now::Answered(Err(rejection)),
            },
            false => places,
        };
        let (router, peer) = (&session.router, &session.peer);
        // PF-104: an answer the handler's first poll gave is returned here, with no future
        // polled for it; anything else waits as before.
        let next = self.first_poll(router, peer, request, (extensions, places), false, false);
        self.answered_now(next)
    }

    /// A session's message that is not a plain request served by
    /// [`post_now`](Self::post_now): its session found (loaded from the store when another
    /// instance made it), and the message served.
    pub(super) async fn post_session(
        &self,
        headers: &checks::Headers<'_>,
        principal: Option<Principal>,
        parsed: Parsed,
        (extensions, places): (Extensions, Places),
        span: &tracing::Span,
    ) -> Result<HttpResponse, Rejection> {
        let config = self.inner.config();
        // Handlers see the request's extensions through their context.
        match parsed {
            // Once per session: boxed, so that its future does not size every POST's.
            Parsed::Single(Message::Request(request)) if request.method == method::INITIALIZE => {
                let initialize =
                    self.initialize(headers, principal, request, extensions, places, span);
                Box::pin(initialize).await
            }
            Parsed::Single(Message::Request(request))
                if is_modern_probe(&request, config.eras) && headers.session.is_none() =>
            {
                Err(Rejection::ModernRequest(request.id))
            }
            Parsed::Single(message) => {
                let session = self.session(headers, principal.as_ref()).await?;
                session.follows_from(span);
                match message {
                    Message::Request(request) if request.method == method::INITIALIZE => {
                        Err(Rejection::AlreadyInitialized(request.id))
                    }
                    Message::Request(request) if changes_record(&request.method) => {
                        let places = places.with_counted(self.session_slot(&session, &request.id)?);
                        // The level and the subscriptions are part of the session's record:
                        // every instance applies them.
                        let (router, peer) = (&session.router, &session.peer);
                        let answered = self
                            .answer(router, peer, request, (extensions, places), false)
                            .await;
                        // Rare: boxed, so that it does not size every POST's future (PF-33).
                        Box::pin(self.inner.sessions.sync(&session)).await;
                        answered
                    }
                    Message::Request(request) => {
                        let handed = (extensions, places);
                        match self.session_request(&session, request, handed) {
                            Now::Answered(answered) => answered,
                            Now::Next(next) => {
                                self.answer_next(&session.router, Ok(next), false, false)
                                    .await
                            }
                        }
                    }
                    // T-5: notifications and responses are accepted with 202 and no body.
                    other => Box::pin(self.accept(&session, other)).await,
                }
            }
            Parsed::Batch(items) => {
                Box::pin(self.batch(headers, principal, items, extensions, places)).await
            }
        }
    }
}
