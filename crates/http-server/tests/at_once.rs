//! The quick-call path over HTTP (PF-40, PF-41, PF-43): a handler that answers in place, one
//! that panics there, and one that sends a message before its result in its first poll, in
//! every response mode; the answers are whole JSON-RPC responses and SSE events numbered as
//! when nothing was written ahead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::StatusCode;
use http_body_util::BodyExt;
use mcp_http_core::peer::{AtOnce, ResultWriter};
use mcp_http_core::{Handler, RequestContext};
use mcp_http_proto::ErrorObject;
use mcp_http_proto::jsonrpc::Request as RpcRequest;
use mcp_http_server_http::{HttpConfig, ResponseMode, StreamableHttpService};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use support::{Custom, open_session, post};

/// `Custom`, plus `inplace` answered in place (counting its runs) and `explode` panicking
/// there; everything else goes to `Custom` (whose `chatty` logs before its result).
#[derive(Default)]
struct InPlace {
    custom: Custom,
    runs: Arc<AtomicUsize>,
}

impl Handler for InPlace {
    fn handle_request(
        &self,
        request: RpcRequest,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        self.custom.handle_request(request, ctx)
    }

    fn handle_request_at_once(
        &self,
        request: RpcRequest,
        ctx: RequestContext,
        out: ResultWriter<'_>,
    ) -> AtOnce {
        match request.method.as_str() {
            "inplace" => {
                let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
                out.write(&json!({"runs": n, "id": ctx.request_id()}))
            }
            "explode" => panic!("handler bug with a secret"),
            // Answers the same as `inplace`, after a wait that sends nothing.
            "later" => {
                let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
                let id = ctx.request_id().clone();
                AtOnce::Waits(Box::pin(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    Ok(serde_json::value::to_raw_value(&json!({"runs": n, "id": id})).unwrap())
                }))
            }
            _ => AtOnce::Waits(self.handle_request(request, ctx)),
        }
    }
}

fn service(config: HttpConfig) -> StreamableHttpService {
    let handler: Arc<dyn Handler> = Arc::new(InPlace::default());
    StreamableHttpService::new(handler, config)
}

fn call(id: Value, method: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method})
}

/// The body's text and its content type.
async fn answer(
    service: &StreamableHttpService,
    body: Value,
    session: Option<&str>,
) -> (String, String) {
    let mut request = post(body, session);
    if session.is_none() {
        request
            .headers_mut()
            .insert("mcp-protocol-version", "2025-11-25".parse().unwrap());
    }
    let response = service.handle(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes: Bytes = response.into_body().collect().await.unwrap().to_bytes();
    (String::from_utf8(bytes.to_vec()).unwrap(), kind)
}

/// Each SSE event's `id` (if any) and data, in order.
fn events(text: &str) -> Vec<(Option<String>, String)> {
    text.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|event| {
            let field = |name: &str| {
                event
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(str::to_owned)
            };
            (field("id: "), field("data: ").unwrap_or_default())
        })
        .collect()
}

/// The numbers that end event ids: `{tag}.{stream}.{seq}`.
fn seqs(events: &[(Option<String>, String)]) -> Vec<u64> {
    events
        .iter()
        .map(|(id, _)| {
            id.as_deref()
                .unwrap()
                .rsplit('.')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect()
}

/// The modes a legacy request is answered in: stateless JSON, then a session in each response
/// mode.
const MODES: [(bool, ResponseMode); 4] = [
    (true, ResponseMode::Json),
    (false, ResponseMode::Json),
    (false, ResponseMode::Adaptive),
    (false, ResponseMode::Sse),
];

/// A service in one of [`MODES`], and its session unless it is stateless.
async fn in_mode(stateless: bool, mode: ResponseMode) -> (StreamableHttpService, Option<String>) {
    let config = HttpConfig::default()
        .stateless(stateless)
        .response_mode(mode);
    let service = service(config);
    let session = match stateless {
        true => None,
        false => Some(open_session(&service, "2025-11-25").await),
    };
    (service, session)
}

#[tokio::test]
async fn a_result_written_in_place_is_a_whole_response_in_every_mode() {
    for (stateless, mode) in MODES {
        let (service, session) = in_mode(stateless, mode).await;
        for (n, id) in [json!(1), json!("a\"b")].into_iter().enumerate() {
            let (text, kind) =
                answer(&service, call(id.clone(), "inplace"), session.as_deref()).await;
            let json = match mode {
                ResponseMode::Sse => {
                    assert_eq!(kind, "text/event-stream", "{mode:?}");
                    let events = events(&text);
                    // The priming event, then the response: numbered 0 and 1 on their stream.
                    assert_eq!(events.len(), 2, "{text}");
                    assert_eq!(events[0].1, "");
                    assert_eq!(seqs(&events), [0, 1], "{text}");
                    events[1].1.clone()
                }
                _ => {
                    assert_eq!(kind, "application/json", "{mode:?}");
                    text
                }
            };
            let response: Value = serde_json::from_str(&json).unwrap();
            let runs = n + 1;
            assert_eq!(
                response,
                json!({"jsonrpc": "2.0", "id": id, "result": {"runs": runs, "id": id}}),
                "{mode:?} stateless {stateless}"
            );
        }
    }
}

#[tokio::test]
async fn a_handler_panicking_in_place_gets_an_internal_error_and_the_session_goes_on() {
    for mode in [ResponseMode::Json, ResponseMode::Sse] {
        let service = service(HttpConfig::default().response_mode(mode));
        let session = open_session(&service, "2025-11-25").await;
        let (text, _) = answer(&service, call(json!(7), "explode"), Some(&session)).await;
        let json = match mode {
            ResponseMode::Sse => events(&text).pop().unwrap().1,
            _ => text,
        };
        let response: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(response["id"], 7);
        assert_eq!(response["error"]["code"], -32603);
        assert!(!json.contains("secret"), "{json}");
        let (text, _) = answer(&service, call(json!(8), "inplace"), Some(&session)).await;
        assert!(text.contains("\"runs\":1"), "{text}");
    }
}

#[tokio::test]
async fn a_message_sent_before_the_result_in_the_first_poll_comes_first_numbered_in_order() {
    let service = service(HttpConfig::default().response_mode(ResponseMode::Sse));
    let session = open_session(&service, "2025-11-25").await;
    let level = json!({"jsonrpc": "2.0", "id": 1, "method": "logging/setLevel", "params": {"level": "info"}});
    answer(&service, level, Some(&session)).await;
    // `chatty` logs, then answers, both in its first poll: the event head written for an
    // answer alone is dropped, and the log comes before the response.
    let (text, _) = answer(&service, call(json!(2), "chatty"), Some(&session)).await;
    let events = events(&text);
    assert_eq!(events.len(), 3, "{text}");
    assert_eq!(seqs(&events), [0, 1, 2], "{text}");
    let log: Value = serde_json::from_str(&events[1].1).unwrap();
    assert_eq!(log["method"], "notifications/message");
    let response: Value = serde_json::from_str(&events[2].1).unwrap();
    assert_eq!(
        response,
        json!({"jsonrpc": "2.0", "id": 2, "result": {"done": true}})
    );
}

/// A 2026-07-28 request for `method`: its status, content type and the last JSON-RPC message
/// of its body.
async fn modern(service: &StreamableHttpService, id: i64, method: &str) -> (u16, String, Value) {
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {"_meta": meta}});
    let mut request = post(body, None);
    let headers = request.headers_mut();
    headers.insert("mcp-protocol-version", "2026-07-28".parse().unwrap());
    headers.insert("mcp-method", method.parse().unwrap());
    let response = service.handle(request).await;
    let status = response.status().as_u16();
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes: Bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let json = match kind.as_str() {
        "text/event-stream" => events(&text).last().unwrap().1.clone(),
        _ => text,
    };
    (status, kind, serde_json::from_str(&json).unwrap())
}

/// PF-94: a 2026-07-28 request its handler answers in its first poll is served at once, one
/// whose handler sends something first or waits goes on (its future boxed) as before, and an
/// error keeps its status, in every response mode.
#[tokio::test]
async fn a_modern_request_is_served_alike_at_once_or_after_its_handler_waits() {
    for mode in [
        ResponseMode::Json,
        ResponseMode::Adaptive,
        ResponseMode::Sse,
    ] {
        let service = service(HttpConfig::default().response_mode(mode));
        let json_kind = match mode {
            ResponseMode::Sse => "text/event-stream",
            _ => "application/json",
        };
        let (status, kind, answer) = modern(&service, 1, "inplace").await;
        assert_eq!((status, kind.as_str()), (200, json_kind), "{mode:?}");
        assert_eq!(answer["result"], json!({"runs": 1, "id": 1}), "{mode:?}");
        let (status, kind, answer) = modern(&service, 2, "slow").await;
        assert_eq!(status, 200, "{mode:?}");
        // It logs first: a stream unless the mode is JSON only.
        let waited_kind = match mode {
            ResponseMode::Json => "application/json",
            _ => "text/event-stream",
        };
        assert_eq!(kind, waited_kind, "{mode:?}");
        assert_eq!(answer["id"], 2);
        assert_eq!(answer["result"], json!({"slow": true}), "{mode:?}");
        let (status, _, answer) = modern(&service, 3, "nosuch").await;
        assert_eq!(status, 404, "{mode:?}");
        assert_eq!(answer["error"]["code"], -32601, "{mode:?}");
        assert_eq!(answer["id"], 3);
    }
}

/// The JSON-RPC response in an answer's body: the body itself, or its last SSE event's data.
fn response_of(text: &str, kind: &str) -> Value {
    let data = match kind {
        "text/event-stream" => events(text).pop().unwrap().1,
        _ => text.to_owned(),
    };
    serde_json::from_str(&data).unwrap()
}

#[tokio::test]
async fn a_legacy_request_is_answered_alike_at_once_or_after_its_handler_waits() {
    // PF-103, PF-104: the answer given in the first poll with no future of the POST's own is
    // the one the waiting path gives, in every mode.
    for (stateless, mode) in MODES {
        let (service, session) = in_mode(stateless, mode).await;
        let (quick, kind) = answer(&service, call(json!(7), "inplace"), session.as_deref()).await;
        let quick = response_of(&quick, &kind);
        let (waited, kind) = answer(&service, call(json!(7), "later"), session.as_deref()).await;
        let waited = response_of(&waited, &kind);
        assert_eq!(quick["result"]["id"], 7, "{stateless} {mode:?}");
        assert_eq!(quick["id"], waited["id"], "{stateless} {mode:?}");
        assert_eq!(quick["result"]["runs"], 1, "{stateless} {mode:?}");
        assert_eq!(waited["result"]["runs"], 2, "{stateless} {mode:?}");
        assert_eq!(quick["result"]["id"], waited["result"]["id"]);
        // Refused alike before the handler runs: a protocol version the server does not know.
        let mut request = post(call(json!(8), "inplace"), session.as_deref());
        request
            .headers_mut()
            .insert("mcp-protocol-version", "1999-01-01".parse().unwrap());
        let response = service.handle(request).await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{stateless} {mode:?}"
        );
    }
}
