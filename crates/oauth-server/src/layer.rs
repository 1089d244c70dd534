//! Putting the [`ResourceServer`] in front of the endpoint: as a tower layer, or as the front
//! of `mcp_http_server_http::serve` (AR-1). The operation (JSON-RPC method and tool name) comes
//! from the 2026-07-28 headers `Mcp-Method`/`Mcp-Name`, which the endpoint checks against the
//! body; a legacy POST is read (bounded) only when a scope depends on the operation (AR-2).

use std::pin::Pin;
use std::task::{Context, Poll};

use base64::Engine;
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Limited};
use mcp_http_server_http::{ResponseBody, StreamableHttpService};
use serde::Deserialize;

use crate::gate::{ResourceServer, Verdict};

/// A request body after the gate: the original, or the bytes it read to find the method.
#[derive(Debug)]
pub enum GateBody<B> {
    /// Read whole by the gate.
    Whole(Option<Bytes>),
    /// Untouched.
    Stream(B),
}

impl<B> Body for GateBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.get_mut() {
            GateBody::Whole(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            GateBody::Stream(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            GateBody::Whole(bytes) => bytes.is_none(),
            GateBody::Stream(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            GateBody::Whole(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            GateBody::Stream(body) => body.size_hint(),
        }
    }
}

#[derive(Deserialize)]
struct ProbeParams {
    name: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Probe {
    method: Option<String>,
    params: Option<ProbeParams>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Probes {
    One(Probe),
    Many(Vec<Probe>),
}

/// A header value, with the `=?base64?...?=` sentinel decoded (H-9).
fn header_text(value: &http::HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?.trim();
    match text
        .strip_prefix("=?base64?")
        .and_then(|t| t.strip_suffix("?="))
    {
        Some(b64) => {
            let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
            String::from_utf8(bytes).ok()
        }
        None => Some(text.to_owned()),
    }
}

fn too_large() -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::full("request body too large"));
    *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    response
}

impl ResourceServer {
    /// Decides about `request`: answers it (metadata, 401, 403, 400, 503) or hands it back with
    /// the [`crate::VerifiedToken`] and its `Principal` in the extensions.
    pub async fn admit<B>(
        &self,
        request: Request<B>,
    ) -> Result<Request<GateBody<B>>, Response<ResponseBody>>
    where
        B: Body<Data = Bytes> + Unpin,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.admit_also(request, |_| false).await
    }

    /// [`admit`](Self::admit), gating the paths `also` names as well as the endpoint's (the
    /// transports served beside it, BR-33, BR-36).
    pub async fn admit_also<B>(
        &self,
        request: Request<B>,
        also: impl Fn(&str) -> bool,
    ) -> Result<Request<GateBody<B>>, Response<ResponseBody>>
    where
        B: Body<Data = Bytes> + Unpin,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let inner = &self.inner;
        let (mut parts, body) = request.into_parts();
        if let Some(answer) = self.metadata(&parts.method, parts.uri.path()) {
            return Err(answer);
        }
        let gated = parts.uri.path() == inner.path || also(parts.uri.path());
        if !gated || parts.method == Method::OPTIONS {
            return Ok(Request::from_parts(parts, GateBody::Stream(body)));
        }
        let mut ops: Vec<(String, Option<String>)> = Vec::new();
        let mut body = GateBody::Stream(body);
        if parts.method == Method::POST && inner.policy.per_operation() {
            match parts.headers.get("mcp-method").and_then(header_text) {
                Some(method) => {
                    let name = parts.headers.get("mcp-name").and_then(header_text);
                    ops.push((method, name));
                }
                None => {
                    let GateBody::Stream(stream) = body else {
                        return Err(too_large());
                    };
                    let bytes = match Limited::new(stream, inner.max_body).collect().await {
                        Ok(collected) => collected.to_bytes(),
                        Err(_) => return Err(too_large()),
                    };
                    let probes = match serde_json::from_slice::<Probes>(&bytes) {
                        Ok(Probes::One(p)) => vec![p],
                        Ok(Probes::Many(ps)) => ps,
                        // Not JSON-RPC: the endpoint answers it (400) once authenticated.
                        Err(_) => Vec::new(),
                    };
                    for p in probes {
                        let name = p
                            .params
                            .and_then(|p| p.name)
                            .and_then(|n| n.as_str().map(str::to_owned));
                        ops.push((p.method.unwrap_or_default(), name));
                    }
                    body = GateBody::Whole(Some(bytes));
                }
            }
        }
        let needed = inner
            .policy
            .needed(ops.iter().map(|(m, n)| (m.as_str(), n.as_deref())));
        match self
            .check(&parts.method, self.resource(), &parts.headers, &needed)
            .await
        {
            Verdict::Answer(answer) => Err(*answer),
            Verdict::Pass(pass) => {
                let (token, principal) = *pass;
                parts.extensions.insert(principal);
                parts.extensions.insert(token);
                Ok(Request::from_parts(parts, body))
            }
        }
    }

    /// The front for `StreamableHttpServiceBuilder::front`, so `mcp_http_server_http::serve`
    /// serves the endpoint behind this resource server.
    pub fn front(
        &self,
    ) -> impl Fn(
        Request<hyper::body::Incoming>,
        StreamableHttpService,
    ) -> BoxFuture<'static, Response<ResponseBody>>
    + Send
    + Sync
    + 'static {
        let gate = self.clone();
        move |request, service| {
            let gate = gate.clone();
            Box::pin(async move {
                let origin = request.headers().get(http::header::ORIGIN).cloned();
                let beside = service.clone();
                let also = |path: &str| beside.serves_beside(path);
                match gate.admit_also(request, also).await {
                    Ok(request) => service.handle(request).await,
                    Err(mut answer) => {
                        // AR-12: with CORS on, a browser can read the challenge.
                        service.add_cors(origin.as_ref(), &mut answer);
                        answer
                    }
                }
            })
        }
    }
}

/// A tower layer that puts a [`ResourceServer`] in front of a service (the endpoint).
#[derive(Debug, Clone)]
pub struct OAuthLayer {
    gate: ResourceServer,
}

impl OAuthLayer {
    /// The layer for `gate`.
    pub fn new(gate: ResourceServer) -> Self {
        OAuthLayer { gate }
    }
}

impl<S> tower_layer::Layer<S> for OAuthLayer {
    type Service = OAuthService<S>;

    fn layer(&self, inner: S) -> OAuthService<S> {
        OAuthService {
            gate: self.gate.clone(),
            inner,
        }
    }
}

/// The service [`OAuthLayer`] makes.
#[derive(Debug, Clone)]
pub struct OAuthService<S> {
    gate: ResourceServer,
    inner: S,
}

impl<S, B> tower_service::Service<Request<B>> for OAuthService<S>
where
    S: tower_service::Service<Request<GateBody<B>>, Response = Response<ResponseBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: Body<Data = Bytes> + Unpin + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<ResponseBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<ResponseBody>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The ready service goes with this call; a clone waits for the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let gate = self.gate.clone();
        Box::pin(async move {
            match gate.admit(request).await {
                Ok(request) => inner.call(request).await,
                Err(answer) => Ok(answer),
            }
        })
    }
}
