//! The floor: what answering an MCP `tools/call` over HTTP costs with no MCP logic at all. A raw
//! hyper 1 HTTP/1.1 server that parses the JSON-RPC body with serde_json and writes the reply:
//! plain JSON, or (with `--sse`) a one-event SSE response written in one piece, as a stateful
//! server answers. `TCP_NODELAY` is set on every socket.
//!
//! It also gives the floor of the memory measurements: `initialize` answers carry an
//! `Mcp-Session-Id` (with `--sse`; no state is kept), and GET opens an SSE stream held open until
//! the client leaves.
//!
//! With `--session` (JSON answers), `initialize` answers carry an `Mcp-Session-Id` too, so a
//! client sends every call the same headers as to a stateful server answering JSON (the session
//! id and the protocol version): the floor of a stateful JSON answer parses the same request.
//!
//! Usage: `floor PORT [--sse | --session]`.

use std::borrow::Cow;
use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The allocator `mcp-http`'s binary uses, so the comparison measures the code, not the allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Deserialize)]
struct Rpc<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow, default)]
    params: Option<Params<'a>>,
}

#[derive(Deserialize)]
struct Params<'a> {
    #[serde(borrow, default)]
    arguments: Option<Args<'a>>,
}

#[derive(Deserialize)]
struct Args<'a> {
    #[serde(borrow, default)]
    message: Cow<'a, str>,
}

#[derive(Serialize)]
struct Reply<'a, R> {
    jsonrpc: &'static str,
    id: &'a RawValue,
    result: R,
}

#[derive(Serialize)]
struct Text<'a> {
    r#type: &'static str,
    text: &'a str,
}

#[derive(Serialize)]
struct CallResult<'a> {
    content: [Text<'a>; 1],
}

const INIT_RESULT: &str = r#"{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"floor","version":"0"}}"#;

type Body = Either<
    Full<Bytes>,
    StreamBody<futures_util::stream::Pending<Result<Frame<Bytes>, Infallible>>>,
>;

fn plain(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Either::Left(Full::new(Bytes::new())));
    *response.status_mut() = status;
    response
}

async fn handle(
    request: Request<Incoming>,
    sse: bool,
    session: bool,
) -> Result<Response<Body>, Infallible> {
    if request.method() == Method::GET {
        if !sse {
            return Ok(plain(StatusCode::METHOD_NOT_ALLOWED));
        }
        let body = StreamBody::new(futures_util::stream::pending());
        let response = Response::builder()
            .header("content-type", "text/event-stream")
            .body(Either::Right(body));
        return Ok(response.unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR)));
    }
    if request.method() != Method::POST {
        return Ok(plain(StatusCode::METHOD_NOT_ALLOWED));
    }
    let bytes = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Ok(plain(StatusCode::BAD_REQUEST)),
    };
    let rpc: Rpc<'_> = match serde_json::from_slice(&bytes) {
        Ok(rpc) => rpc,
        Err(_) => return Ok(plain(StatusCode::BAD_REQUEST)),
    };
    let Some(id) = rpc.id else {
        return Ok(plain(StatusCode::ACCEPTED));
    };
    let initialize = rpc.method == "initialize";
    let json = if initialize {
        let result = RawValue::from_string(INIT_RESULT.to_owned()).ok();
        serde_json::to_vec(&Reply {
            jsonrpc: "2.0",
            id,
            result,
        })
    } else {
        let message = rpc
            .params
            .and_then(|p| p.arguments)
            .map(|a| a.message)
            .unwrap_or_default();
        let result = CallResult {
            content: [Text {
                r#type: "text",
                text: &message,
            }],
        };
        serde_json::to_vec(&Reply {
            jsonrpc: "2.0",
            id,
            result,
        })
    };
    let Ok(json) = json else {
        return Ok(plain(StatusCode::INTERNAL_SERVER_ERROR));
    };
    let mut response = Response::builder();
    if initialize && (sse || session) {
        response = response.header("mcp-session-id", "floor");
    }
    let body = if sse {
        let mut event = Vec::with_capacity(json.len() + 24);
        event.extend_from_slice(b"event: message\ndata: ");
        event.extend_from_slice(&json);
        event.extend_from_slice(b"\n\n");
        response = response.header("content-type", "text/event-stream");
        event
    } else {
        response = response.header("content-type", "application/json");
        json
    };
    Ok(response
        .body(Either::Left(Full::new(Bytes::from(body))))
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args
        .next()
        .ok_or("usage: floor PORT [--sse | --session]")?
        .parse()?;
    let flags: Vec<String> = args.collect();
    let sse = flags.iter().any(|a| a == "--sse");
    let session = flags.iter().any(|a| a == "--session");
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    eprintln!("floor: http://{}/mcp (sse: {sse})", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |r| handle(r, sse, session));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
