//! What the endpoint tests share: a handler of our own (no `mcp-http-server` crate) and helpers
//! that speak HTTP to a service.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use mcp_http_core::{Handler, RequestContext, RequestOptions};
use mcp_http_proto::jsonrpc::{Request as RpcRequest, to_raw};
use mcp_http_proto::{
    ErrorObject, InitializeRequestParams, LoggingLevel, ProtocolVersion, SetLevelRequestParams,
};
use mcp_http_server_http::{Principal, ResponseBody, StreamableHttpService};
use serde_json::value::RawValue;
use serde_json::{Value, json};

pub use mcp_http_test_support::initialize_request as initialize;
pub use mcp_http_test_support::sse::body_messages as parse;

/// Something a tower layer in front of the endpoint put into the request.
#[derive(Clone)]
pub struct TraceId(pub &'static str);

/// A hand-written handler: negotiates `initialize` itself; `whoami` answers with what it sees
/// of the HTTP request, `chatty` logs at info before its result, `ask` samples the client's
/// model, `wait` waits until it is cancelled (and counts that), `announce` sends a notification
/// that belongs to no request (it goes to the GET stream), `slow` logs, then answers
/// after 300 ms.
#[derive(Default)]
pub struct Custom {
    pub cancelled: Arc<AtomicUsize>,
}

impl Handler for Custom {
    fn handle_request(
        &self,
        request: RpcRequest,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        let cancelled = self.cancelled.clone();
        Box::pin(async move {
            let internal = |_| ErrorObject::internal();
            let result = match request.method.as_str() {
                "initialize" => {
                    let params: InitializeRequestParams = request.params_as()?;
                    let version = ProtocolVersion::parse(&params.protocol_version)
                        .ok_or_else(|| ErrorObject::invalid_params("unsupported version"))?;
                    ctx.peer()
                        .state()
                        .set_client(version, params.client_info, params.capabilities);
                    json!({
                        "protocolVersion": params.protocol_version,
                        "capabilities": {"logging": {}},
                        "serverInfo": {"name": "custom", "version": "1"}
                    })
                }
                "logging/setLevel" => {
                    let params: SetLevelRequestParams = request.params_as()?;
                    ctx.peer().state().set_log_level(params.level);
                    json!({})
                }
                "whoami" => json!({
                    "principal": ctx.principal().map(Principal::id),
                    "trace": ctx.extensions().get::<TraceId>().map(|t| t.0),
                }),
                "chatty" => {
                    ctx.log(LoggingLevel::Info, None, "working")
                        .await
                        .map_err(internal)?;
                    json!({"done": true})
                }
                "ask" => {
                    let params = json!({"messages": [{"role": "user",
                        "content": {"type": "text", "text": "hi"}}], "maxTokens": 5});
                    let answer: Value = ctx
                        .request("sampling/createMessage", &params, RequestOptions::default())
                        .await
                        .map_err(|e| e.to_error_object())?;
                    json!({"sampled": answer["content"]["text"]})
                }
                "wait" => {
                    // A cancelled handler is dropped where it waits: count that.
                    let _count = CountOnDrop(cancelled);
                    std::future::pending::<()>().await;
                    json!({})
                }
                "announce" => {
                    // Belongs to no request: it travels on the session's GET stream.
                    let peer = ctx.peer().clone();
                    peer.notify("notifications/tools/list_changed", &json!({}), None)
                        .await
                        .map_err(internal)?;
                    json!({})
                }
                "slow" => {
                    ctx.log(LoggingLevel::Info, None, "started")
                        .await
                        .map_err(internal)?;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    json!({"slow": true})
                }
                _ => return Err(ErrorObject::method_not_found(&request.method)),
            };
            to_raw(&result).map_err(|_| ErrorObject::internal())
        })
    }
}

struct CountOnDrop(Arc<AtomicUsize>);

impl Drop for CountOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

pub fn custom() -> Arc<dyn Handler> {
    Arc::new(Custom::default())
}

pub fn post(body: Value, session: Option<&str>) -> Request<Full<Bytes>> {
    let mut request = Request::post("/mcp")
        .header("host", "127.0.0.1")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json");
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    request
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

pub fn get(session: &str, last_event_id: Option<&str>) -> Request<Full<Bytes>> {
    let mut request = Request::get("/mcp")
        .header("host", "127.0.0.1")
        .header("accept", "text/event-stream")
        .header("mcp-session-id", session);
    if let Some(last) = last_event_id {
        request = request.header("last-event-id", last);
    }
    request.body(Full::new(Bytes::new())).unwrap()
}

pub fn delete(session: &str) -> Request<Full<Bytes>> {
    Request::delete("/mcp")
        .header("host", "127.0.0.1")
        .header("mcp-session-id", session)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

pub fn call(id: i64, method: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method})
}

/// The JSON-RPC messages of a whole body, JSON or SSE.
pub async fn messages(body: ResponseBody) -> Vec<Value> {
    let bytes = body.collect().await.unwrap().to_bytes();
    parse(std::str::from_utf8(&bytes).unwrap())
}

/// The next frame of a streaming body, as text.
pub async fn next_frame(body: &mut ResponseBody) -> String {
    let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("a frame in time")
        .expect("a frame")
        .unwrap();
    String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap()
}

/// Initializes a session on `first`, sends `notifications/initialized` to `second`.
pub async fn open_session_on(
    first: &StreamableHttpService,
    second: &StreamableHttpService,
    version: &str,
) -> String {
    let response = first.handle(post(initialize(version), None)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let id = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let response = second.handle(post(initialized, Some(&id))).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    id
}

pub async fn open_session(service: &StreamableHttpService, version: &str) -> String {
    open_session_on(service, service, version).await
}
