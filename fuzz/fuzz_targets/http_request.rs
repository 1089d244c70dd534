//! Whole HTTP requests through the tower service of a server with sessions: sequences of up to
//! eight requests whose method, path, headers (Accept, Content-Type, session id, Last-Event-ID,
//! protocol version, and the 2026-07-28 `Mcp-Method`, `Mcp-Name`, `Mcp-Param-Region`) and
//! bodies are generated from the shapes that reach deep code, with real session ids, event ids
//! and sealed `requestState`s carried from one answer to the next. Both eras: legacy sessions and
//! modern requests (the `_meta` envelope, the validation ladder, input-required rounds, the
//! `x-mcp-header` check). Nothing panics, every status is one the endpoint documents, and every
//! JSON answer is JSON.
#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use mcp_http_server::{RequestContext, Server, ToolDef, ToolError};
use mcp_http_server_http::{HttpConfig, ResponseMode, StreamableHttpService};

#[derive(Arbitrary, Debug)]
enum Method {
    Get,
    Post,
    Delete,
    Put,
    Options,
}

#[derive(Arbitrary, Debug)]
enum Value {
    /// The one the last answer gave (a session id, an event id), when there was one.
    Carried,
    /// The carried one with one character replaced (or cut short there): a sealed
    /// `requestState`, session id or event id that is nearly right reaches the deep checks
    /// (base64, the key id, the AEAD tag, the binding) that random text does not.
    Tampered { at: u16, with: u8, cut: bool },
    None,
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Body {
    Initialize(u8),
    Initialized,
    Call { id: i64, tool: u8, steps: u8 },
    List(i64),
    Cancel(i64),
    Response(i64),
    Batch(Vec<u8>),
    Raw(Vec<u8>),
    Text(String),
    /// A 2026-07-28 request: its method, whether its `_meta` is whole, the tool's argument, and
    /// the `requestState` (the last one the server sealed, or any text).
    Modern {
        id: i64,
        method: u8,
        meta: u8,
        region: Option<String>,
        state: Value,
        answer: bool,
    },
}

#[derive(Arbitrary, Debug)]
struct Step {
    method: Method,
    right_path: bool,
    accept: u8,
    json_content: bool,
    session: Value,
    last_event_id: Value,
    version: u8,
    /// `Mcp-Method` and `Mcp-Name` (the body's own when `Carried`), `Mcp-Param-Region`.
    mcp_method: Value,
    mcp_name: Value,
    mcp_param: Option<String>,
    body: Body,
}

#[derive(Arbitrary, Debug)]
struct Input {
    mode: u8,
    stateless: bool,
    steps: Vec<Step>,
}

const VERSIONS: [&str; 5] = [
    "2025-11-25",
    "2025-06-18",
    "2025-03-26",
    "2026-07-28",
    "1999-01-01",
];

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Steps {
    steps: u8,
}

fn server() -> Server {
    Server::builder("fuzz", "1")
        .tool(ToolDef::new(
            "echo",
            "echo",
            |a: serde_json::Value, _| async move { a.to_string() },
        ))
        .tool(ToolDef::new(
            "progress",
            "progress",
            |a: Steps, ctx: RequestContext| async move {
                for step in 0..a.steps.min(4) {
                    ctx.progress(f64::from(step), None, None).await?;
                    tokio::time::sleep(Duration::from_millis(60)).await;
                }
                Ok::<_, ToolError>("done")
            },
        ))
        .tool(
            ToolDef::new("region", "x-mcp-header", |a: Region, _| async move { a.region })
                .mcp_header("region", "Region"),
        )
        .tool(ToolDef::new("ask", "elicits twice", |_: serde_json::Value, ctx: RequestContext| async move {
            let params = serde_json::from_value(serde_json::json!({
                "mode": "form", "message": "name?",
                "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}}))?;
            let first = ctx.elicit(params).await?;
            let params = serde_json::from_value(serde_json::json!({
                "mode": "form", "message": "again?",
                "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}}))?;
            let second = ctx.elicit(params).await?;
            Ok::<_, ToolError>(format!("{first:?} {second:?}"))
        }))
        .build()
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Region {
    region: String,
}

/// The modern methods a request may name (removed and unknown ones included).
const MODERN_METHODS: [&str; 7] = [
    "tools/call",
    "tools/list",
    "server/discover",
    "subscriptions/listen",
    "ping",
    "initialize",
    "nope/nothing",
];

/// The body's method and name, for headers that copy them.
fn modern_target(body: &Body) -> (Option<&'static str>, Option<&'static str>) {
    match body {
        Body::Modern { method, region, .. } => {
            let m = MODERN_METHODS[usize::from(*method) % MODERN_METHODS.len()];
            let name = (m == "tools/call").then_some(if region.is_some() { "region" } else { "ask" });
            (Some(m), name)
        }
        _ => (None, None),
    }
}

fn modern(body: &Body, state: &Option<String>) -> serde_json::Value {
    let Body::Modern { id, meta, region, state: state_choice, answer, .. } = body else {
        return serde_json::Value::Null;
    };
    let (method, name) = modern_target(body);
    let envelope = match meta % 4 {
        0 => serde_json::json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
            "io.modelcontextprotocol/logLevel": "debug"}),
        1 => serde_json::json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}}),
        2 => serde_json::json!({"io.modelcontextprotocol/protocolVersion": "v9"}),
        _ => serde_json::json!([1, 2]),
    };
    let mut params = serde_json::json!({"_meta": envelope,
        "notifications": {"toolsListChanged": true}});
    if let Some(name) = name {
        params["name"] = name.into();
        params["arguments"] = match region {
            Some(r) => serde_json::json!({"region": r}),
            None => serde_json::json!({}),
        };
    }
    if let Some(state) = pick(state_choice, state) {
        params["requestState"] = state.into();
    }
    if *answer {
        params["inputResponses"] = serde_json::json!({
            "elicitation-0": {"action": "accept", "content": {"name": "a"}},
            "elicitation-1": {"action": "decline"}});
    }
    serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn body(body: &Body, state: &Option<String>) -> Vec<u8> {
    let call = |id: i64, tool: u8, steps: u8| {
        let name = ["echo", "progress", "nope"][usize::from(tool % 3)];
        serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
            "name": name, "arguments": {"steps": steps}, "_meta": {"progressToken": id}}})
    };
    let value = match body {
        Body::Initialize(v) => {
            serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": VERSIONS[usize::from(*v) % VERSIONS.len()],
            "capabilities": {"sampling": {}}, "clientInfo": {"name": "f", "version": "1"}}})
        }
        Body::Initialized => {
            serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
        }
        Body::Call { id, tool, steps } => call(*id, *tool, *steps),
        Body::List(id) => serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"}),
        Body::Cancel(id) => {
            serde_json::json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": id}})
        }
        Body::Response(id) => serde_json::json!({"jsonrpc": "2.0", "id": id, "result": {}}),
        Body::Batch(ids) => serde_json::Value::Array(
            ids.iter()
                .take(4)
                .map(|i| call(i64::from(*i), *i, 0))
                .collect(),
        ),
        Body::Modern { .. } => modern(body, state),
        Body::Raw(bytes) => return bytes.clone(),
        Body::Text(text) => return text.as_bytes().to_vec(),
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

fn pick(value: &Value, carried: &Option<String>) -> Option<String> {
    match value {
        Value::Carried => carried.clone(),
        Value::Tampered { at, with, cut } => carried.as_ref().map(|text| {
            let mut chars: Vec<char> = text.chars().collect();
            if !chars.is_empty() {
                let at = usize::from(*at) % chars.len();
                match cut {
                    true => chars.truncate(at),
                    // A printable ASCII character, as a real header or JSON string holds.
                    false => chars[at] = char::from(0x20 + with % 0x5f),
                }
            }
            chars.into_iter().collect()
        }),
        Value::None => None,
        Value::Text(text) => Some(text.clone()),
    }
}

fuzz_target!(|input: Input| {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
    else {
        return;
    };
    runtime.block_on(async move {
        let mode = [
            ResponseMode::Adaptive,
            ResponseMode::Sse,
            ResponseMode::Json,
        ][usize::from(input.mode % 3)];
        let config = HttpConfig::default()
            .response_mode(mode)
            .stateless(input.stateless);
        let service = StreamableHttpService::new(server(), config);
        let (mut session, mut event): (Option<String>, Option<String>) = (None, None);
        let mut state: Option<String> = None;
        for step in input.steps.iter().take(8) {
            let method = match step.method {
                Method::Get => http::Method::GET,
                Method::Post => http::Method::POST,
                Method::Delete => http::Method::DELETE,
                Method::Put => http::Method::PUT,
                Method::Options => http::Method::OPTIONS,
            };
            let accept = [
                "application/json, text/event-stream",
                "application/json",
                "text/event-stream",
                "*/*",
                "",
            ][usize::from(step.accept % 5)];
            let mut request = http::Request::builder()
                .method(method)
                .uri(if step.right_path { "/mcp" } else { "/other" })
                .header("host", "127.0.0.1")
                .header("accept", accept);
            if step.json_content {
                request = request.header("content-type", "application/json");
            }
            if let Some(id) = pick(&step.session, &session) {
                request = request.header("mcp-session-id", id);
            }
            if let Some(id) = pick(&step.last_event_id, &event) {
                request = request.header("last-event-id", id);
            }
            if let Some(version) = VERSIONS.get(usize::from(step.version)) {
                request = request.header("mcp-protocol-version", *version);
            }
            let (method_of_body, name_of_body) = modern_target(&step.body);
            let own = |v: Option<&str>| v.map(str::to_owned);
            if let Some(m) = pick(&step.mcp_method, &own(method_of_body)) {
                request = request.header("mcp-method", m);
            }
            if let Some(n) = pick(&step.mcp_name, &own(name_of_body)) {
                request = request.header("mcp-name", n);
            }
            if let Some(p) = &step.mcp_param {
                request = request.header("mcp-param-region", p.as_str());
            }
            // Header values the `http` crate refuses never reach a server.
            let Ok(request) = request.body(Full::new(Bytes::from(body(&step.body, &state)))) else {
                continue;
            };
            let response = service.handle(request).await;
            let status = response.status().as_u16();
            assert!(
                [200, 202, 204, 400, 403, 404, 405, 406, 413, 415, 429, 503].contains(&status),
                "undocumented status {status}"
            );
            if let Some(id) = response.headers().get("mcp-session-id") {
                session = id.to_str().ok().map(str::to_owned);
            }
            let is_json = response
                .headers()
                .get("content-type")
                .is_some_and(|v| v == "application/json");
            // An SSE body may stay open: read what comes within a (simulated) second.
            let mut body = response.into_body();
            let mut bytes = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                while let Some(Ok(frame)) = body.frame().await {
                    if let Ok(data) = frame.into_data() {
                        bytes.extend_from_slice(&data);
                    }
                }
            })
            .await;
            let text = String::from_utf8_lossy(&bytes);
            if is_json {
                assert!(
                    serde_json::from_str::<serde_json::Value>(&text).is_ok(),
                    "not JSON: {text}"
                );
            }
            if let Some(id) = text.lines().filter_map(|l| l.strip_prefix("id: ")).last() {
                event = Some(id.to_owned());
            }
            // A sealed state to send back (or to tamper with) next time.
            if let Some(at) = text.find("\"requestState\":\"") {
                let rest = &text[at + 16..];
                state = rest.split('"').next().map(str::to_owned);
            }
        }
    });
});
