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
