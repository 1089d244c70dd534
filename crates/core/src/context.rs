//! The context a handler gets with each request: progress, logs, requests back to the other side
//! and a cancellation signal.
//!
//! The same calls serve both protocol eras (design.md idea 8): in the legacy era `sample`,
//! `elicit` and `roots` are real requests to the client, sent on the stream of the request being
//! handled; in the 2026-07-28 era they become an input-required result and the handler runs
//! again with the client's answers. Handlers propagate the error of these calls with `?`. Those
//! calls and the rest of the input API live in [`crate::input`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use mcp_http_proto::{LoggingLevel, RequestId, method};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

pub use http::Extensions;

use crate::error::RequestError;
use crate::input::Round;
use crate::lifecycle::SessionState;
use crate::options::RequestOptions;
use crate::peer::{Peer, Unmade};
use crate::places::Places;
use crate::tool_call::{FIRST_CALL, FirstCall, HandedCall, ToolCallView};
use crate::transport::TransportError;

/// What a request handler can do besides returning a result. Cheap to clone.
#[derive(Clone)]
pub struct RequestContext {
    inner: Arc<Inner<dyn PeerSlot>>,
}

struct Inner<P: ?Sized> {
    id: RequestId,
    progress_token: Option<RequestId>,
    /// Made on first use: a handler that answers in its first poll and never asks needs none
    /// (the peer makes it when the handler has to wait, to register it as in flight).
    cancel: std::sync::OnceLock<CancellationToken>,
    last_progress: Mutex<Option<f64>>,
    finished: AtomicBool,
    /// The transport's extensions, without the handed call.
    extensions: Extensions,
    /// A `tools/call`'s name and arguments the transport read already, as a field (PF-70).
    call: Option<HandedCall>,
    /// `extensions` with the handed call put in, made the first time they are read whole
    /// (PF-70): a quick call that reads the call by [`RequestContext::extension`] makes none.
    shown: OnceLock<Extensions>,
    /// The request's places among the limits on requests in progress, held as long as the
    /// context (RL-6, RL-7).
    places: Places,
    /// What this run asked for and was given (MR-1); boxed on first use.
    input: Mutex<Option<Box<Round>>>,
    /// The connection: last, so that a context of a made peer is no larger than it was, and
    /// one whose peer is made on first need (PF-52) holds how in the same allocation.
    peer: P,
}

/// The connection a request came from: a peer, or one made on first need (PF-52).
pub(crate) trait PeerSlot: Send + Sync {
    /// The peer, made now if it is not yet (`answered`: the request was answered before).
    fn peer(&self, id: &RequestId, answered: &AtomicBool) -> &Peer;
    /// The peer, if it exists.
    fn made(&self) -> Option<&Peer>;
    /// The negotiated state, read without making the peer.
    fn state(&self) -> &SessionState;
}

impl PeerSlot for Peer {
    fn peer(&self, _: &RequestId, _: &AtomicBool) -> &Peer {
        self
    }

    fn made(&self) -> Option<&Peer> {
        Some(self)
    }

    fn state(&self) -> &SessionState {
        Peer::state(self)
    }
}

/// A request the transport answers before any peer exists: its peer is made by
/// [`RequestContext::peer`] when something needs it (a message to send, the handler waits).
pub(crate) struct UnmadePeer {
    made: OnceLock<Peer>,
    how: Unmade,
}

impl UnmadePeer {
    pub(crate) fn new(how: Unmade) -> Self {
        UnmadePeer {
            made: OnceLock::new(),
            how,
        }
    }
}

impl PeerSlot for UnmadePeer {
    fn peer(&self, id: &RequestId, answered: &AtomicBool) -> &Peer {
        self.made.get_or_init(|| {
            // Made after the request was answered: a message of its handler's now has no
            // stream to open (RL-47).
            self.how.make(id, answered.load(Ordering::Acquire))
        })
    }

    fn made(&self) -> Option<&Peer> {
        self.made.get()
    }

    fn state(&self) -> &SessionState {
        self.made.get().map_or(self.how.state(), Peer::state)
    }
}

/// Who made a request, as authentication in front of the server established it: a tower layer
/// (an auth layer) inserts it into the HTTP request's extensions, a session belongs to the
/// principal that created it (SEC-6), and handlers read it with [`RequestContext::principal`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal(Arc<str>);

impl Principal {
    /// A principal named `id` (a user or client identifier: a token's `sub`, say).
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        Principal(id.into())
    }

    /// The principal's identifier.
    pub fn id(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("id", &self.inner.id)
            .finish_non_exhaustive()
    }
}

impl RequestContext {
    pub(crate) fn new(
        peer: impl PeerSlot + 'static,
        id: RequestId,
        progress_token: Option<RequestId>,
        cancel: Option<CancellationToken>,
        (extensions, call): (Extensions, Option<HandedCall>),
        places: Places,
    ) -> Self {
        let once = OnceLock::new();
        if let Some(cancel) = cancel {
            let _ = once.set(cancel);
        }
        let inner: Arc<Inner<dyn PeerSlot>> = Arc::new(Inner {
            id,
            progress_token,
            cancel: once,
            last_progress: Mutex::new(None),
            finished: AtomicBool::new(false),
            extensions,
            call,
            shown: OnceLock::new(),
            places,
            input: Mutex::new(None),
            peer,
        });
        RequestContext { inner }
    }

    /// A context for work this side does for one of its own requests rather than for an
    /// inbound one: a client answering the input requests of a 2026-07-28
    /// `InputRequiredResult` (MR-1) through the same sampling, elicitation and roots handlers
    /// as server-to-client requests. `id` names the input request; it has no progress token.
    pub fn detached(peer: Peer, id: RequestId, cancel: CancellationToken) -> Self {
        Self::new(
            peer,
            id,
            None,
            Some(cancel),
            (Extensions::new(), None),
            Places::default(),
        )
    }

    /// A context for work that outlives the request (a task of the tasks extension, TK-3): the
    /// same connection, id and request extensions plus `extensions`, but its own cancellation
    /// (`cancel`), no progress token and no input state yet. Closing the request's stream does
    /// not cancel it. It shares the request's places among the limits on requests in progress:
    /// they are given back when the request's context and every outliving one are gone.
    pub fn outliving(&self, cancel: CancellationToken, extensions: Extensions) -> RequestContext {
        let mut all = self.extensions().clone();
        all.extend(extensions);
        let places = match self.inner.places.is_empty() {
            true => Places::default(),
            false => Places::default().with_shared(Arc::new(self.clone())),
        };
        RequestContext::new(
            self.peer().clone(),
            self.inner.id.clone(),
            None,
            Some(cancel),
            (all, None),
            places,
        )
    }

    /// Marks the request finished: later progress is dropped (P-4).
    pub(crate) fn finish(&self) {
        self.inner.finished.store(true, Ordering::Release);
    }

    /// The id of the request being handled.
    pub fn request_id(&self) -> &RequestId {
        &self.inner.id
    }

    /// The connection this request came from. A transport may answer a request before it
    /// makes its peer (PF-52): the peer is then made here, the first time it is asked for.
    pub fn peer(&self) -> &Peer {
        self.inner.peer.peer(&self.inner.id, &self.inner.finished)
    }

    /// The peer, if it exists (see [`RequestContext::peer`]).
    pub(crate) fn made_peer(&self) -> Option<&Peer> {
        self.inner.peer.made()
    }

    /// The negotiated state of the request's connection (`ctx.peer().state()`), read without
    /// making a peer that is not made yet (PF-52).
    pub fn state(&self) -> &SessionState {
        self.inner.peer.state()
    }

    /// What the transport knew of the request: over HTTP, the request's extensions (set by tower
    /// layers in front of the server); empty over stdio.
    /// A 2026-07-28 `tools/call`'s [`ToolCallView`] and [`FirstCall`] are among them; a
    /// transport hands them over as fields (PF-70), put in the map the first time it is read
    /// (reading one value, [`RequestContext::extension`] makes no map).
    pub fn extensions(&self) -> &Extensions {
        let Some(call) = &self.inner.call else {
            return &self.inner.extensions;
        };
        self.inner.shown.get_or_init(|| {
            let mut shown = self.inner.extensions.clone();
            shown.insert(call.view.clone());
            if call.first {
                shown.insert(FirstCall);
            }
            shown
        })
    }

    /// The value of type `T` in the request's extensions, as `ctx.extensions().get::<T>()`
    /// finds it, without putting what the transport handed over as fields in a map (PF-70).
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        if let Some(call) = &self.inner.call {
            let any: &dyn std::any::Any = &call.view;
            if let Some(view) = any.downcast_ref::<T>() {
                return Some(view);
            }
            let any: &dyn std::any::Any = &FIRST_CALL;
            if let Some(first) = any.downcast_ref::<T>().filter(|_| call.first) {
                return Some(first);
            }
        }
        self.inner.extensions.get::<T>()
    }

    /// The `tools/call` name and arguments the transport read already, if it did
    /// (`ctx.extension::<ToolCallView>()`).
    pub fn tool_call(&self) -> Option<&ToolCallView> {
        self.extension::<ToolCallView>()
    }

    /// Who made the request, when authentication in front of the server said so (see
    /// [`Principal`]).
    pub fn principal(&self) -> Option<&Principal> {
        self.extension::<Principal>()
    }

    /// The progress token the requester sent, if it asked for progress (P-1).
    pub fn progress_token(&self) -> Option<&RequestId> {
        self.inner.progress_token.as_ref()
    }

    /// The token that is cancelled when the requester cancels the request or the connection
    /// closes.
    pub fn cancellation(&self) -> &CancellationToken {
        self.inner.cancel.get_or_init(CancellationToken::new)
    }

    /// Closes the connection that carries this request's stream without ending the stream, so the
    /// client reconnects and resumes it (SSE polling on Streamable HTTP, T-12). Later messages,
    /// the result included, are replayed on the resumed stream. Returns whether the transport did
    /// so (stdio and non-resumable streams do not).
    pub fn close_stream(&self) -> bool {
        self.peer().close_stream(&self.inner.id)
    }

    /// Whether the request has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.inner
            .cancel
            .get()
            .is_some_and(CancellationToken::is_cancelled)
    }

    /// Resolves when the request is cancelled.
    pub async fn cancelled(&self) {
        self.cancellation().cancelled().await
    }

    /// Reports progress (P-2). Does nothing when the requester asked for no progress, after the
    /// request finished (P-4), or when `progress` does not increase (P-3).
    pub async fn progress(
        &self,
        progress: f64,
        total: Option<f64>,
        message: Option<&str>,
    ) -> Result<(), TransportError> {
        let Some(token) = &self.inner.progress_token else {
            return Ok(());
        };
        if self.inner.finished.load(Ordering::Acquire) {
            return Ok(());
        }
        {
            let mut last = crate::sync::lock(&self.inner.last_progress);
            if last.is_some_and(|l| progress <= l) {
                return Ok(());
            }
            *last = Some(progress);
        }
        #[derive(Serialize)]
        struct Params<'a> {
            #[serde(rename = "progressToken")]
            token: &'a RequestId,
            progress: f64,
            #[serde(skip_serializing_if = "Option::is_none")]
            total: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            message: Option<&'a str>,
        }
        let params = Params {
            token,
            progress,
            total,
            message,
        };
        self.notify(method::NOTIFICATION_PROGRESS, &params).await
    }

    /// Sends a log message (`notifications/message`) on this request's stream, if the client's
    /// `logging/setLevel` lets `level` through (LG-2). Never put secrets in `data` (LG-5).
    pub async fn log<D: Serialize + ?Sized>(
        &self,
        level: LoggingLevel,
        logger: Option<&str>,
        data: &D,
    ) -> Result<(), TransportError> {
        if !self.state().log_enabled(level) {
            return Ok(());
        }
        #[derive(Serialize)]
        struct Params<'a, D: ?Sized> {
            level: LoggingLevel,
            #[serde(skip_serializing_if = "Option::is_none")]
            logger: Option<&'a str>,
            data: &'a D,
        }
        self.notify(
            method::NOTIFICATION_MESSAGE,
            &Params {
                level,
                logger,
                data,
            },
        )
        .await
    }

    /// Sends a notification related to this request (it travels on this request's stream).
    pub async fn notify<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<(), TransportError> {
        self.peer()
            .notify(method, params, Some(self.inner.id.clone()))
            .await
    }

    /// Sends a request to the other side on behalf of this request. It is cancelled when this
    /// request is cancelled.
    pub async fn request<P: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: &str,
        params: &P,
        options: RequestOptions,
    ) -> Result<R, RequestError> {
        let options = options
            .related_to(self.inner.id.clone())
            .cancel_token(self.cancellation().child_token());
        self.peer().request(method, params, options).await
    }

    /// Whether this run asked for input or was given some (MR-1): its outcome is then for the
    /// input engine ([`crate::run_with_input`]) to settle, not to be answered as it is. A
    /// handler that answers in place checks it (PF-42).
    pub fn has_input_round(&self) -> bool {
        self.round().is_some()
    }

    /// The input state of this run (see [`crate::input`]): `None` until the handler asks for
    /// input or a retry brings answers.
    pub(crate) fn round(&self) -> std::sync::MutexGuard<'_, Option<Box<Round>>> {
        crate::sync::lock(&self.inner.input)
    }
}
