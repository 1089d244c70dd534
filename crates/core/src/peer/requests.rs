//! Requests this side sends: ids, the pending table, timeouts that reset on progress under a
//! hard cap (TO-1..TO-3), and cancellation when the caller stops waiting (X-1).

use super::*;
use crate::reply::{Answered, ReplyReader};

impl Peer {
    /// Sends a request and decodes its result.
    ///
    /// ```no_run
    /// # async fn f(peer: mcp_http_core::Peer) -> Result<(), mcp_http_core::RequestError> {
    /// use mcp_http_core::RequestOptions;
    /// let pong: serde_json::Value = peer.request("ping", &serde_json::json!({}), RequestOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn request<P: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: &str,
        params: &P,
        options: RequestOptions,
    ) -> Result<R, RequestError> {
        // Taken from the typed params, so no transport parses the JSON for it.
        let name = crate::request_name::of_params(method, params);
        let raw = self
            .send_request(method, Some(params), 128, name, options)
            .await?;
        serde_json::from_str(raw.get()).map_err(|e| RequestError::InvalidResponse(e.to_string()))
    }

    /// Sends a request with raw params and returns its raw result.
    pub async fn request_raw(
        &self,
        method: &str,
        params: Option<Box<RawValue>>,
        options: RequestOptions,
    ) -> Result<Box<RawValue>, RequestError> {
        let name = crate::request_name::of_raw(method, params.as_deref());
        self.request_raw_about(method, params.as_deref(), name, options)
            .await
    }

    /// [`Peer::request_raw`] of a request about `name` (the tool of a `tools/call`, the URI of
    /// a `resources/read`, the prompt of a `prompts/get`; see [`Outbound::name`]), which the
    /// caller knows: the params are not read for it, and they are borrowed, written once into
    /// the message (PF-21).
    pub async fn request_raw_about(
        &self,
        method: &str,
        params: Option<&RawValue>,
        name: Option<Cow<'static, str>>,
        options: RequestOptions,
    ) -> Result<Box<RawValue>, RequestError> {
        self.request_raw_about_reading(method, params, name, options, None)
            .await?
            // Without a reader nothing is taken: the answer is always the raw result.
            .ok_or(RequestError::Closed)
    }

    /// [`Peer::request_raw_about`] with typed params (written straight into the message, as
    /// [`Peer::request`] writes them), whose answer `read` may take where the transport read
    /// it (PF-35): `Ok(None)` when it did, and the caller has the result from it; otherwise the
    /// raw result, exactly as [`Peer::request_raw_about`] returns it.
    ///
    /// ```no_run
    /// # async fn f(peer: mcp_http_core::Peer) -> Result<(), mcp_http_core::RequestError> {
    /// use mcp_http_core::{reply::read_result, RequestOptions};
    /// let mut pong: Option<serde_json::Value> = None;
    /// let mut read = |id: &_, body: &[u8]| {
    ///     pong = read_result(id, body);
    ///     pong.is_some()
    /// };
    /// let params = serde_json::json!({});
    /// let raw = peer
    ///     .request_about_reading("ping", Some(&params), None, RequestOptions::default(), &mut read)
    ///     .await?;
    /// let pong = match raw {
    ///     None => pong,
    ///     Some(raw) => serde_json::from_str(raw.get()).ok(),
    /// };
    /// # Ok(()) }
    /// ```
    pub async fn request_about_reading<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: Option<&P>,
        name: Option<Cow<'static, str>>,
        options: RequestOptions,
        read: &mut ReplyReader<'_>,
    ) -> Result<Option<Box<RawValue>>, RequestError> {
        self.request_about_reading_sized(method, params, 128, name, options, read)
            .await
    }

    /// [`Peer::request_about_reading`] whose params' text is expected to take about `size`
    /// bytes, so the message's buffer is made once at its size (PF-105).
    pub async fn request_about_reading_sized<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: Option<&P>,
        size: usize,
        name: Option<Cow<'static, str>>,
        options: RequestOptions,
        read: &mut ReplyReader<'_>,
    ) -> Result<Option<Box<RawValue>>, RequestError> {
        self.send_request_reading(method, params, size, name, options, Some(read))
            .await
    }

    /// [`Peer::request_about_reading`] with params that are JSON already (borrowed, written
    /// once into the message, as [`Peer::request_raw_about`] writes them); `read` is optional.
    pub async fn request_raw_about_reading(
        &self,
        method: &str,
        params: Option<&RawValue>,
        name: Option<Cow<'static, str>>,
        options: RequestOptions,
        read: Option<&mut ReplyReader<'_>>,
    ) -> Result<Option<Box<RawValue>>, RequestError> {
        let size = params.map_or(0, |p| p.get().len());
        self.send_request_reading(method, params, size, name, options, read)
            .await
    }

    /// Sends a request whose message is written in one pass from its params (PF-21), about
    /// `name` (see [`Outbound::name`]), and returns its raw result. `size` is what the params'
    /// text is expected to take.
    async fn send_request<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: Option<&P>,
        size: usize,
        name: Option<Cow<'static, str>>,
        options: RequestOptions,
    ) -> Result<Box<RawValue>, RequestError> {
        self.send_request_reading(method, params, size, name, options, None)
            .await?
            // Without a reader nothing is taken: the answer is always the raw result.
            .ok_or(RequestError::Closed)
    }

    /// [`Peer::send_request`], offering the answer to `read` (PF-35): `Ok(None)` when it took
    /// it.
    async fn send_request_reading<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: Option<&P>,
        size: usize,
        name: Option<Cow<'static, str>>,
        options: RequestOptions,
        read: Option<&mut ReplyReader<'_>>,
    ) -> Result<Option<Box<RawValue>>, RequestError> {
        if self.is_closed() {
            return Err(RequestError::Closed);
        }
        let id = self.next_request_id();
        let json = request_json(&id, method, params, size, options.on_progress.is_some())?;
        self.send_written(id, method, json, name, options, read)
            .await
    }

    /// Sends request `id`, written as `json`, and waits for its answer: `None` when `read`
    /// took it.
    async fn send_written(
        &self,
        id: RequestId,
        method: &str,
        json: Vec<u8>,
        name: Option<Cow<'static, str>>,
        options: RequestOptions,
        read: Option<&mut ReplyReader<'_>>,
    ) -> Result<Option<Box<RawValue>>, RequestError> {
        let progressed = options
            .on_progress
            .as_ref()
            .map(|_| Arc::new(Notify::new()));
        // PF-106: a request without a progress callback (whose entry would only take its
        // answer) waits on its own exchange, which brings the answer when its transport reads
        // it there; it goes into the table only when its send ends without it. Counted before
        // it is sent, so an answer routed through the stream before then is parked for it.
        let mut tabled = options.on_progress.is_some();
        if tabled {
            lock(&self.inner.pending).insert(
                id.clone(),
                Pending {
                    answer: None,
                    parked: false,
                    waker: None,
                    on_progress: options.on_progress.clone(),
                    progressed: progressed.clone(),
                },
            );
        } else {
            // Each waiting request is a future of its own: never near 2^30 of them.
            self.inner.closed.flag.fetch_add(1, Ordering::AcqRel);
        }
        let mut guard = PendingGuard {
            peer: self.clone(),
            id: id.clone(),
            armed: true,
            sent: false,
            // L-7: initialize is never cancelled. H-5: a modern request is cancelled by
            // closing its stream, which dropping the send does.
            may_cancel: method != method::INITIALIZE && options.modern.is_none(),
            direct: !tabled,
        };
        // PF-22: a close clears the table and wakes whom it finds there; one that came between
        // the check before and this insert is seen here (the flag is set before the clear).
        if self.is_closed() {
            guard.armed = false;
            if tabled {
                lock(&self.inner.pending).remove(&id);
            }
            return Err(RequestError::Closed);
        }
        // The send runs inside the timing loop: over HTTP it may not return until the server
        // answers (a JSON response), and the timeout and cancellation must still apply. Once it
        // has started, the other side may have the request, so giving up sends a cancellation
        // (X-5 makes that harmless if it never arrived).
        let mut message = Outbound::new(Bytes::from(json), OutboundKind::Request)
            .id(id.clone())
            .method(known_method(method));
        message.related = options.related.clone();
        message.name = name;
        message.modern = options.modern.clone();
        // PF-19: the transport hands back the answer its exchange read (an HTTP POST's JSON
        // body or one-event stream), which is returned from here: it never goes through the
        // table. Only an answer that comes through the message stream is put there.
        let mut send = std::pin::pin!(self.inner.sink.send_request_reading(message, read));
        let mut watch = Watch {
            seen: self.inner.answered.load(Ordering::Acquire),
            waker: None,
        };
        let mut sending = true;
        guard.sent = true;

        let timeout = options.timeout.unwrap_or(self.inner.config.request_timeout);
        let hard_cap = options
            .max_total
            .unwrap_or(self.inner.config.max_request_timeout);
        let start = Instant::now();
        let hard_deadline = start + hard_cap;
        // One timer for the whole request, moved on progress (not one armed per wake-up).
        let mut sleep = std::pin::pin!(tokio::time::sleep_until(
            (start + timeout).min(hard_deadline)
        ));
        let mut caller_cancel = std::pin::pin!(async {
            match &options.cancel {
                Some(token) => token.cancelled().await,
                None => std::future::pending().await,
            }
        });
        loop {
            tokio::select! {
                biased;
                sent = &mut send, if sending => {
                    sending = false;
                    match sent {
                        Err(e) => {
                            guard.sent = false;
                            return Err(e.into());
                        }
                        Ok(Some(Answered::Response(response)))
                            if response.id.as_ref() == Some(&id) =>
                        {
                            guard.disarm(tabled);
                            return response.outcome.map(Some).map_err(RequestError::Rpc);
                        }
                        Ok(Some(Answered::Read)) => {
                            // PF-35: the reader has the result; the table never saw it.
                            guard.disarm(tabled);
                            return Ok(None);
                        }
                        Ok(Some(Answered::Response(other))) => self.resolve(other),
                        Ok(None) => {}
                    }
                    if !tabled {
                        // PF-106: the answer comes (or came) through the message stream.
                        tabled = true;
                        if let Some(answer) = self.parked_or_entry(&id) {
                            guard.armed = false;
                            return answer.map(Some).map_err(RequestError::Rpc);
                        }
                    }
                }
                outcome = self.answer_of(&id, &mut watch), if tabled => {
                    guard.armed = false;
                    return match outcome {
                        Some(Ok(raw)) => Ok(Some(raw)),
                        Some(Err(e)) => Err(RequestError::Rpc(e)),
                        None => Err(RequestError::Closed),
                    };
                }
                // PF-22: a direct request, which no entry wakes, learns of a close here.
                _ = self.inner.closed.wait(), if !tabled => {
                    guard.armed = false;
                    return Err(RequestError::Closed);
                }
                _ = &mut caller_cancel => {
                    guard.cancel_now("cancelled by the caller").await;
                    return Err(RequestError::Cancelled);
                }
                _ = wait_progress(progressed.as_deref()), if options.reset_on_progress => {
                    // TO-3: progress restarts the clock, but never past the hard cap.
                    sleep.as_mut().reset((Instant::now() + timeout).min(hard_deadline));
                }
                _ = &mut sleep => {
                    guard.cancel_now("timed out").await;
                    return Err(RequestError::Timeout(start.elapsed()));
                }
            }
        }
    }

    /// PF-106: the answer of direct request `id` when the stream brought it before its send
    /// ended (taken from the parked ones); otherwise its entry is put into the table, unless
    /// the peer closed (then the waiter finds none and fails as closed).
    fn parked_or_entry(&self, id: &RequestId) -> Option<Result<Box<RawValue>, ErrorObject>> {
        let mut pending = lock(&self.inner.pending);
        if pending.get(id).is_some_and(|p| p.parked) {
            return pending.remove(id).and_then(|p| p.answer);
        }
        if !self.is_closed() {
            pending.insert(
                id.clone(),
                Pending {
                    answer: None,
                    parked: false,
                    waker: None,
                    on_progress: None,
                    progressed: None,
                },
            );
        }
        None
    }
}

/// How many answers are parked at most: a direct request's waiter takes its own as soon as
/// its send ends, so only a server answering requests no one waits on fills it (X-4, X-5:
/// those are ignored, as before).
const MAX_PARKED: usize = 16;

/// Parks `answer` to request `id`, which has no entry, for a direct request's waiter to take
/// (PF-106), and marks `flag` as having parked answers; called under the table's lock.
pub(super) fn park(
    flag: &AtomicU32,
    pending: &mut HashMap<RequestId, Pending>,
    id: RequestId,
    answer: Result<Box<RawValue>, ErrorObject>,
) {
    if pending.values().filter(|p| p.parked).count() >= MAX_PARKED {
        tracing::debug!(%id, "response to an unknown or finished request ignored");
        return;
    }
    pending.insert(
        id,
        Pending {
            answer: Some(answer),
            parked: true,
            waker: None,
            on_progress: None,
            progressed: None,
        },
    );
    flag.fetch_or(PARKED, Ordering::AcqRel);
}

/// What a request's waiter knows of its entry in the table: the count of answers when it last
/// looked, and the waker it left there.
struct Watch {
    seen: u64,
    waker: Option<std::task::Waker>,
}

impl Peer {
    /// The answer to request `id` once the message stream has brought it (taken out of the
    /// table), or `None` when the peer closed and the table was cleared. The table is looked
    /// into only when an answer has come since the last look or the waker changed: a request
    /// answered with its send never locks it here.
    fn answer_of<'a>(
        &'a self,
        id: &'a RequestId,
        watch: &'a mut Watch,
    ) -> impl Future<Output = Option<Result<Box<RawValue>, ErrorObject>>> + 'a {
        std::future::poll_fn(move |cx| {
            let now = self.inner.answered.load(Ordering::Acquire);
            if now == watch.seen
                && watch
                    .waker
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
            {
                return Poll::Pending;
            }
            let mut pending = lock(&self.inner.pending);
            let Some(waiting) = pending.get_mut(id) else {
                return Poll::Ready(None);
            };
            watch.seen = now;
            if let Some(answer) = waiting.answer.take() {
                pending.remove(id);
                return Poll::Ready(Some(answer));
            }
            let waker = cx.waker().clone();
            waiting.waker = Some(waker.clone());
            watch.waker = Some(waker);
            Poll::Pending
        })
    }
}

/// The JSON of request `id`: the envelope, then its params serialized straight into it (no
/// intermediate raw value to copy in again), with `_meta.progressToken` added when `progress`
/// (P-1). The same text as serializing the [`Request`] (PF-21).
fn request_json<P: Serialize + ?Sized>(
    id: &RequestId,
    method: &str,
    params: Option<&P>,
    size: usize,
    progress: bool,
) -> Result<Vec<u8>, RequestError> {
    let encode = |e: serde_json::Error| RequestError::Encode(e.to_string());
    let mut out = Vec::with_capacity(size + method.len() + 64);
    out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    serde_json::to_writer(&mut out, id).map_err(encode)?;
    out.extend_from_slice(b",\"method\":");
    serde_json::to_writer(&mut out, method).map_err(encode)?;
    if progress {
        let raw = match params {
            Some(p) => Some(mcp_http_proto::jsonrpc::to_raw(p).map_err(encode)?),
            None => None,
        };
        let with_token = with_progress_token(raw, id)?;
        out.extend_from_slice(b",\"params\":");
        out.extend_from_slice(with_token.get().as_bytes());
    } else if let Some(p) = params {
        out.extend_from_slice(b",\"params\":");
        serde_json::to_writer(&mut out, p).map_err(encode)?;
    }
    out.push(b'}');
    Ok(out)
}

/// The method's name, borrowed from the protocol's when it is one of them: a request's
/// message then carries no copy of it (PF-91).
fn known_method(method: &str) -> Cow<'static, str> {
    match method {
        method::TOOLS_CALL => Cow::Borrowed(method::TOOLS_CALL),
        _ => match method::ALL_REQUESTS.iter().find(|known| **known == method) {
            Some(known) => Cow::Borrowed(known),
            None => Cow::Owned(method.to_owned()),
        },
    }
}

async fn wait_progress(notify: Option<&Notify>) {
    match notify {
        Some(n) => n.notified().await,
        None => std::future::pending().await,
    }
}

/// Adds `_meta.progressToken` to params (P-1); the token is the request id, unique among active
/// requests by construction.
fn with_progress_token(
    params: Option<Box<RawValue>>,
    id: &RequestId,
) -> Result<Box<RawValue>, RequestError> {
    let mut value: serde_json::Map<String, serde_json::Value> = match params {
        Some(raw) => {
            serde_json::from_str(raw.get()).map_err(|e| RequestError::Encode(e.to_string()))?
        }
        None => serde_json::Map::new(),
    };
    let meta = value
        .entry("_meta")
        .or_insert_with(|| serde_json::Value::Object(Default::default()));
    if let serde_json::Value::Object(meta) = meta {
        meta.insert(
            "progressToken".into(),
            serde_json::to_value(id).unwrap_or_default(),
        );
    }
    mcp_http_proto::jsonrpc::to_raw(&value).map_err(|e| RequestError::Encode(e.to_string()))
}

/// Removes a pending request when its waiter stops waiting, and tells the other side (X-1).
struct PendingGuard {
    peer: Peer,
    id: RequestId,
    armed: bool,
    sent: bool,
    may_cancel: bool,
    /// Counted in `direct` (PF-106) until dropped.
    direct: bool,
}

/// How long a caller whose request timed out or was cancelled waits for the cancellation to
/// go out. It is best effort (X-5) and goes on in the background after that: an other side
/// that takes no messages must not hold the caller past its own timeout (RL-25).
const CANCEL_WAIT: Duration = Duration::from_secs(1);

impl PendingGuard {
    /// The answer came with the send: nothing to cancel, and the entry (if `tabled`) goes.
    fn disarm(&mut self, tabled: bool) {
        self.armed = false;
        if tabled {
            lock(&self.peer.inner.pending).remove(&self.id);
        }
    }

    async fn cancel_now(&mut self, reason: &'static str) {
        self.armed = false;
        lock(&self.peer.inner.pending).remove(&self.id);
        if self.sent && self.may_cancel {
            let (peer, id) = (self.peer.clone(), self.id.clone());
            let sending = tokio::spawn(async move { send_cancelled(&peer, &id, reason).await });
            let _ = tokio::time::timeout(CANCEL_WAIT, sending).await;
        }
    }
}

async fn send_cancelled(peer: &Peer, id: &RequestId, reason: &str) {
    let params = serde_json::json!({ "requestId": id, "reason": reason });
    if let Err(e) = peer
        .notify(method::NOTIFICATION_CANCELLED, &params, None)
        .await
    {
        tracing::debug!(error = %e, "could not send a cancellation");
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if self.direct {
            let flag = &self.peer.inner.closed.flag;
            let was = flag.fetch_sub(1, Ordering::AcqRel);
            if was & DIRECT == 1 && was & PARKED != 0 {
                // PF-106: the last direct request gone, no parked answer will be taken;
                // checked again under the lock a new one's answer would be parked under.
                let mut pending = lock(&self.peer.inner.pending);
                if flag.load(Ordering::Acquire) & DIRECT == 0 {
                    pending.retain(|_, p| !p.parked);
                    flag.fetch_and(!PARKED, Ordering::AcqRel);
                }
            }
        }
        if !self.armed {
            return;
        }
        lock(&self.peer.inner.pending).remove(&self.id);
        if self.sent && self.may_cancel && !self.peer.is_closed() {
            // The caller dropped the request future: tell the other side to stop working on it.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let peer = self.peer.clone();
                let id = self.id.clone();
                rt.spawn(
                    async move { send_cancelled(&peer, &id, "the caller stopped waiting").await },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message as the serializer of [`Message`] writes it.
    fn serialized(id: RequestId, method: &str, params: Option<&str>) -> Vec<u8> {
        let params = params.map(|p| RawValue::from_string(p.to_owned()).unwrap());
        Message::Request(Request {
            id,
            method: method.to_owned(),
            params: params.map(Into::into),
        })
        .to_json_bytes()
    }

    #[test]
    fn a_request_written_in_one_pass_is_the_serialized_message() {
        let cases: [(RequestId, &str, Option<&str>); 4] = [
            (
                RequestId::Number(7),
                "tools/call",
                Some(r#"{"name":"echo","arguments":{"a":[1,"x"]}}"#),
            ),
            (RequestId::String("c-1".into()), "ping", None),
            (
                RequestId::String("quote\"d\n".into()),
                "we\"ird/método",
                Some("{}"),
            ),
            (
                RequestId::Number(-3),
                "resources/read",
                Some(r#"{"uri":"file:///é"}"#),
            ),
        ];
        for (id, method, params) in cases {
            let raw = params.map(|p| RawValue::from_string(p.to_owned()).unwrap());
            let written = request_json(&id, method, raw.as_deref(), 0, false).unwrap();
            assert_eq!(written, serialized(id.clone(), method, params), "{method}");
            // Typed params give what serializing them first, then the message, gave.
            if let Some(p) = params {
                let typed: serde_json::Value = serde_json::from_str(p).unwrap();
                let written = request_json(&id, method, Some(&typed), 0, false).unwrap();
                let text = serde_json::to_string(&typed).unwrap();
                assert_eq!(
                    written,
                    serialized(id.clone(), method, Some(&text)),
                    "{method}"
                );
            }
        }
    }

    #[test]
    fn a_request_with_progress_carries_its_token() {
        let id = RequestId::Number(5);
        let params = serde_json::json!({ "name": "slow", "_meta": { "k": 1 } });
        let written = request_json(&id, "tools/call", Some(&params), 0, true).unwrap();
        let Ok(Message::Request(request)) = Message::parse(&written) else {
            panic!("not a request: {}", String::from_utf8_lossy(&written));
        };
        assert_eq!(request.id, id);
        let params: serde_json::Value =
            serde_json::from_str(request.params.unwrap().get()).unwrap();
        assert_eq!(params["_meta"]["progressToken"], 5);
        assert_eq!(params["_meta"]["k"], 1);
        assert_eq!(params["name"], "slow");
        let none = request_json::<RawValue>(&id, "ping", None, 0, true).unwrap();
        let Ok(Message::Request(request)) = Message::parse(&none) else {
            panic!("not a request");
        };
        assert_eq!(
            request.params.unwrap().get(),
            r#"{"_meta":{"progressToken":5}}"#
        );
    }

    #[test]
    fn a_known_method_is_borrowed_and_any_other_copied() {
        for known in method::ALL_REQUESTS {
            // A name of the caller's own: what comes back borrows none of it.
            let asked = String::from(known);
            let name = known_method(&asked);
            assert!(
                matches!(name, Cow::Borrowed(b) if b == known && b.as_ptr() != asked.as_ptr()),
                "{known}"
            );
        }
        for other in ["tools/cal", "x/y", "", "we\"ird/método"] {
            let name = known_method(other);
            assert!(matches!(name, Cow::Owned(_)), "{other}");
            assert_eq!(name, other);
        }
    }
}

#[cfg(test)]
mod direct_tests;
