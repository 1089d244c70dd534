//! Requests this side sends: ids, the pending table, timeouts that reset on progress under a
//! hard cap (TO-1..TO-3), and cancellation when the caller stops waiting (X-1).

use super::*;

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
        let params = mcp_http_proto::jsonrpc::to_raw(params)
            .map_err(|e| RequestError::Encode(e.to_string()))?;
        let raw = self
            .send_request(method, Some(params), name, options)
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
        self.send_request(method, params, name, options).await
    }

    /// Sends a request about `name` (see [`Outbound::name`]) and returns its raw result.
    async fn send_request(
        &self,
        method: &str,
        params: Option<Box<RawValue>>,
        name: Option<Cow<'static, str>>,
        options: RequestOptions,
    ) -> Result<Box<RawValue>, RequestError> {
        if self.is_closed() {
            return Err(RequestError::Closed);
        }
        let id = self.next_request_id();
        let params = match &options.on_progress {
            Some(_) => Some(with_progress_token(params, &id)?),
            None => params,
        };
        let (tx, mut rx) = oneshot::channel();
        let progressed = options
            .on_progress
            .as_ref()
            .map(|_| Arc::new(Notify::new()));
        lock(&self.inner.pending).insert(
            id.clone(),
            Pending {
                tx,
                on_progress: options.on_progress.clone(),
                progressed: progressed.clone(),
            },
        );
        let mut guard = PendingGuard {
            peer: self.clone(),
            id: id.clone(),
            armed: true,
            sent: false,
            // L-7: initialize is never cancelled. H-5: a modern request is cancelled by
            // closing its stream, which dropping the send does.
            may_cancel: method != method::INITIALIZE && options.modern.is_none(),
        };
        let request = Request {
            id: id.clone(),
            method: method.to_owned(),
            params: params.map(Into::into),
        };
        // The send runs inside the timing loop: over HTTP it may not return until the server
        // answers (a JSON response), and the timeout and cancellation must still apply. Once it
        // has started, the other side may have the request, so giving up sends a cancellation
        // (X-5 makes that harmless if it never arrived).
        let mut message = outbound(Message::Request(request), options.related.clone());
        message.name = name;
        message.modern = options.modern.clone();
        let mut send = std::pin::pin!(self.send_message(message));
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
                    if let Err(e) = sent {
                        guard.sent = false;
                        return Err(e.into());
                    }
                }
                outcome = &mut rx => {
                    guard.armed = false;
                    return match outcome {
                        Ok(Ok(raw)) => Ok(raw),
                        Ok(Err(e)) => Err(RequestError::Rpc(e)),
                        Err(_) => Err(RequestError::Closed),
                    };
                }
                _ = &mut caller_cancel => {
                    guard.cancel_now("cancelled by the caller").await;
                    return Err(RequestError::Cancelled);
                }
                _ = self.inner.closed.wait() => {
                    guard.armed = false;
                    return Err(RequestError::Closed);
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
}

/// How long a caller whose request timed out or was cancelled waits for the cancellation to
/// go out. It is best effort (X-5) and goes on in the background after that: an other side
/// that takes no messages must not hold the caller past its own timeout (RL-25).
const CANCEL_WAIT: Duration = Duration::from_secs(1);

impl PendingGuard {
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
