#![allow(clippy::unwrap_used)]
use futures::future::BoxFuture;
use http_body_util::Full;
use mcp_http_core::{Handler, RequestContext};

use super::*;
use crate::HttpConfig;

/// A handler that refuses every request (method not found).
pub(crate) struct Nothing;

impl Handler for Nothing {
    fn handle_request(
        &self,
        request: RpcRequest,
        _ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        let error = ErrorObject::method_not_found(&request.method);
        Box::pin(async move { Err(error) })
    }
}

fn post(body: &str) -> http::Request<Full<Bytes>> {
    http::Request::post("/mcp")
        .header("host", "localhost")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

/// PF-65: the future a POST is answered by is made and moved into its box per request, so
/// it is kept small: 2,440 bytes in a debug build (a release build's, before and after
/// PF-65, are in BENCHMARKS.md).
#[tokio::test]
async fn the_future_a_post_is_answered_by_is_small() {
    const LIMIT: usize = 2560;
    let handler: Arc<dyn Handler> = Arc::new(Nothing);
    let service = StreamableHttpService::new(handler, HttpConfig::default());
    let future = service.handle_boxed(post("{}"), None);
    let size = std::mem::size_of_val(&*future);
    println!("the future is {size} bytes");
    assert!(size <= LIMIT, "the future is {size} bytes, over {LIMIT}");
}

/// PF-79: the boxed future (`serve`'s and the tower `Service`'s) answers as `handle` does,
/// byte for byte: a call refused by its handler, a body that is not JSON-RPC, an unknown path.
#[tokio::test]
async fn the_boxed_future_answers_as_handle_does() {
    let handler: Arc<dyn Handler> = Arc::new(Nothing);
    let config = HttpConfig::default()
        .stateless(true)
        .response_mode(ResponseMode::Json);
    let service = StreamableHttpService::new(handler, config);
    let requests = [
        || post(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
        || post("[not json"),
        || {
            let mut request = post("{}");
            *request.uri_mut() = http::Uri::from_static("/elsewhere");
            request
        },
    ];
    for request in requests {
        let handled = service.handle(request()).await;
        let Ok(boxed) = service.clone().handle_boxed(request(), None).await;
        assert_eq!(handled.status(), boxed.status());
        assert_eq!(handled.headers(), boxed.headers());
        assert!(!handled.body().is_stream() && !boxed.body().is_stream());
        assert_eq!(handled.body().full_bytes(), boxed.body().full_bytes());
    }
}

/// Regression: a failing system RNG panicked when making a session id but gave the
/// stateless tag zeros; both now refuse the request with 503.
#[tokio::test]
async fn a_failing_random_generator_refuses_the_request_with_503() {
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#;
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let handler: Arc<dyn Handler> = Arc::new(Nothing);
    let sessions = StreamableHttpService::new(handler.clone(), HttpConfig::default());
    let stateless = StreamableHttpService::new(handler, HttpConfig::default().stateless(true));
    crate::random::FAIL.with(|f| f.set(true));
    let refused = [
        sessions.handle(post(init)).await,
        stateless.handle(post(call)).await,
    ];
    crate::random::FAIL.with(|f| f.set(false));
    for response in refused {
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "5");
    }
    assert_eq!(sessions.session_count(), 0);
    // The generator is back: the same requests are served.
    let answered = stateless.handle(post(call)).await;
    assert_eq!(answered.status(), StatusCode::OK);
}

/// [`Nothing`], but for `initialize`, which it negotiates.
struct Negotiates;

impl Handler for Negotiates {
    fn handle_request(
        &self,
        request: RpcRequest,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        if request.method != method::INITIALIZE {
            return Nothing.handle_request(request, ctx);
        }
        let info = mcp_http_proto::Implementation::new("t", "1");
        let capabilities = mcp_http_proto::ClientCapabilities::default();
        let state = ctx.peer().state();
        state.set_client(ProtocolVersion::V2025_06_18, info, capabilities);
        let result = r#"{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"t","version":"1"}}"#;
        let result = RawValue::from_string(result.to_owned()).map_err(|_| ErrorObject::internal());
        Box::pin(async move { result })
    }
}

/// A POST of `body` to session `session` (none when `None`), with protocol version `version`.
fn session_post(body: &str, session: Option<&str>, version: &str) -> http::Request<Full<Bytes>> {
    let mut request = post(body);
    let headers = request.headers_mut();
    headers.insert(
        "mcp-protocol-version",
        HeaderValue::from_str(version).unwrap(),
    );
    if let Some(session) = session {
        headers.insert(SESSION_HEADER, HeaderValue::from_str(session).unwrap());
    }
    request
}

/// PF-107: a session's plain request, served up to its handler's first poll by one plain call
/// (`post_now`, the session found without a future), is answered as the general path
/// (`post_session`, which every other message to a session takes) answers it, byte for byte,
/// and refused alike: no session named, an unknown one, a version the endpoint does not speak.
#[tokio::test]
async fn a_session_request_is_answered_by_the_plain_call_as_by_the_general_path() {
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    for mode in [ResponseMode::Adaptive, ResponseMode::Json] {
        let handler: Arc<dyn Handler> = Arc::new(Negotiates);
        let service =
            StreamableHttpService::new(handler, HttpConfig::default().response_mode(mode));
        let initialized = service.handle(session_post(init, None, "2025-06-18")).await;
        assert_eq!(initialized.status(), StatusCode::OK);
        let id = initialized.headers()[SESSION_HEADER]
            .to_str()
            .unwrap()
            .to_owned();
        let ping = r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#;
        let refused = r#"{"jsonrpc":"2.0","id":"x","method":"tools/list","params":{}}"#;
        let cases = [
            (ping, Some(id.as_str()), "2025-06-18", StatusCode::OK),
            (refused, Some(id.as_str()), "2025-06-18", StatusCode::OK),
            (
                ping,
                Some("no-such-session"),
                "2025-06-18",
                StatusCode::NOT_FOUND,
            ),
            (ping, None, "2025-06-18", StatusCode::BAD_REQUEST),
            (
                ping,
                Some(id.as_str()),
                "1999-01-01",
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (body, session, version, status) in cases {
            let quick = service.handle(session_post(body, session, version)).await;
            let request = session_post(body, session, version);
            let headers = checks::Headers::read(request.headers());
            let parsed = mcp_http_proto::legacy_read::read(body.as_bytes()).unwrap();
            let permit = service.inner.in_flight.try_take().unwrap();
            let places = Places::default().with_permit_place(permit);
            let handed = (mcp_http_core::Extensions::new(), places);
            let span = tracing::Span::none();
            let general = service
                .post_session(&headers, None, parsed, handed, &span)
                .await
                .unwrap_or_else(Rejection::into_response);
            assert_eq!(quick.status(), status, "{body} to {session:?} ({mode:?})");
            assert_eq!(quick.status(), general.status(), "{body} to {session:?}");
            assert!(!quick.body().is_stream() && !general.body().is_stream());
            assert_eq!(quick.body().full_bytes(), general.body().full_bytes());
        }
    }
}
