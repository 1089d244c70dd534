#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::future::BoxFuture;
use mcp_http_proto::jsonrpc::{Params, Request};
use mcp_http_proto::{
    ElicitRequestFormParams, ErrorObject, Implementation, ProtocolVersion, RequestId,
    SamplingMessage,
};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::context::{Extensions, Principal};
use crate::input::{InputScope, run_with_input};
use crate::lifecycle::SharedClient;
use crate::peer::{Handler, Peer, PeerConfig};
use crate::request_state::{RequestStateKeys, RequestStates};

/// Answers the server's input requests as a client would.
struct Client;

impl Handler for Client {
    fn handle_request(
        &self,
        request: Request,
        _ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Box<RawValue>, ErrorObject>> {
        let answer = match request.method.as_str() {
            "elicitation/create" => json!({"action": "accept", "content": {"name": "Ada"}}),
            "sampling/createMessage" => json!({
                "role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m"
            }),
            "roots/list" => json!({"roots": [{"uri": "file:///r"}]}),
            other => {
                let error = ErrorObject::method_not_found(other);
                return Box::pin(async move { Err(error) });
            }
        };
        Box::pin(async move { Ok(serde_json::value::to_raw_value(&answer).unwrap()) })
    }
}

/// A server peer in `version` whose client declared `caps`, and the client peer behind it.
fn peers(version: ProtocolVersion, caps: Value) -> (Peer, Peer) {
    let (a, b) = crate::memory::pair();
    let server = Peer::connect(a, Arc::new(Client), PeerConfig::default());
    let client = Peer::connect(b, Arc::new(Client), PeerConfig::default());
    let raw = serde_json::value::to_raw_value(&caps).unwrap();
    let shared = SharedClient::from_raw(Implementation::new("c", "1"), Some(Arc::from(raw)));
    server.state().set_shared_client(version, &shared);
    server.state().set_initialized();
    (server, client)
}

fn new_ctx(peer: &Peer, principal: Option<&str>) -> RequestContext {
    let mut extensions = Extensions::new();
    if let Some(p) = principal {
        extensions.insert(Principal::new(p));
    }
    RequestContext::new(
        peer.clone(),
        RequestId::Number(1),
        None,
        Some(CancellationToken::new()),
        (extensions, None),
        crate::Places::default(),
    )
}

fn keys() -> RequestStates {
    RequestStates::new(RequestStateKeys::from_secrets([[3u8; 32]]).unwrap())
}

fn form(message: &str) -> ElicitRequestParams {
    ElicitRequestParams::Form(ElicitRequestFormParams::new(
        message,
        json!({"type": "object", "properties": {"name": {"type": "string"}}}),
    ))
}

/// A tool written once: elicit, then sample, then roots.
async fn three(ctx: RequestContext) -> Result<Box<RawValue>, RequestError> {
    let who = ctx.elicit(form("Name?")).await?;
    let said = ctx
        .sample(CreateMessageRequestParams::new(
            vec![SamplingMessage::user_text("hello")],
            10,
        ))
        .await?;
    let roots = ctx.roots().await?;
    let name = who.content.and_then(|c| c.get("name").cloned());
    Ok(serde_json::value::to_raw_value(&json!({
        "name": name, "model": said.model, "roots": roots.roots.len()
    }))
    .unwrap())
}

const ALL: &str = r#"{"sampling": {}, "elicitation": {}, "roots": {}}"#;

/// One `tools/call` of the tool `three` with `params`; the answer as JSON.
async fn call(
    peer: &Peer,
    states: &RequestStates,
    params: Value,
    principal: Option<&str>,
) -> Result<Value, ErrorObject> {
    let raw = serde_json::value::to_raw_value(&params).unwrap();
    let ctx = new_ctx(peer, principal);
    let sent = Params::from_raw(raw.clone());
    let scope = InputScope::new("tools/call", "three", Some(&sent));
    let outcome = run_with_input(&ctx, &scope, states, || three(ctx.clone())).await?;
    let answer = outcome.map_err(|e| e.to_error_object())?;
    assert!(ctx.round().is_none(), "nothing is left for a later run");
    Ok(serde_json::from_str(answer.get()).unwrap())
}

fn retry(state: &Value, responses: Value) -> Value {
    let mut params = json!({"name": "three", "arguments": {}, "inputResponses": responses});
    if let Some(state) = state.get("requestState") {
        params["requestState"] = state.clone();
    }
    params
}

fn elicited() -> Value {
    json!({"action": "accept", "content": {"name": "Ada"}})
}

fn sampled() -> Value {
    json!({"role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m"})
}

#[tokio::test]
async fn a_modern_handler_asks_one_round_per_call_and_completes_on_the_last_retry() {
    let (peer, _client) = peers(
        ProtocolVersion::V2026_07_28,
        serde_json::from_str(ALL).unwrap(),
    );
    let states = keys();
    let first = json!({"name": "three", "arguments": {}});
    let r1 = call(&peer, &states, first, Some("alice")).await.unwrap();
    assert_eq!(r1["resultType"], "input_required");
    assert_eq!(
        r1["inputRequests"]["elicitation-0"]["method"],
        "elicitation/create"
    );
    assert!(r1.get("requestState").is_none(), "nothing to carry yet");

    let r2 = call(
        &peer,
        &states,
        retry(&r1, json!({"elicitation-0": elicited()})),
        Some("alice"),
    );
    let r2 = r2.await.unwrap();
    assert_eq!(
        r2["inputRequests"]["sampling-1"]["method"],
        "sampling/createMessage"
    );
    assert!(
        r2["requestState"].is_string(),
        "the elicitation answer travels sealed"
    );

    let r3 = call(
        &peer,
        &states,
        retry(&r2, json!({"sampling-1": sampled()})),
        Some("alice"),
    );
    let r3 = r3.await.unwrap();
    assert_eq!(
        r3["inputRequests"]["roots-2"],
        json!({"method": "roots/list", "params": {}})
    );
    assert_ne!(r3["requestState"], r2["requestState"]);

    let roots = json!({"roots-2": {"roots": [{"uri": "file:///a"}, {"uri": "file:///b"}]}});
    let done = call(&peer, &states, retry(&r3, roots), Some("alice"))
        .await
        .unwrap();
    assert_eq!(done, json!({"name": "Ada", "model": "m", "roots": 2}));
}

#[tokio::test]
async fn missing_wrong_and_extra_answers_get_a_new_input_required_result() {
    let (peer, _client) = peers(
        ProtocolVersion::V2026_07_28,
        serde_json::from_str(ALL).unwrap(),
    );
    let states = keys();
    for responses in [
        json!({"wrong_key": elicited()}),
        json!({"elicitation-0": 12345}),
        json!({"elicitation-0": sampled()}),
    ] {
        let params = json!({"name": "three", "inputResponses": responses});
        let answer = call(&peer, &states, params, None).await.unwrap();
        assert_eq!(answer["resultType"], "input_required", "{responses}");
        assert!(answer["inputRequests"]["elicitation-0"].is_object());
    }
    // An answer plus keys nobody asked for: the answer is used, the rest ignored.
    let params =
        json!({"name": "three", "inputResponses": {"elicitation-0": elicited(), "x": {"y": 1}}});
    let answer = call(&peer, &states, params, None).await.unwrap();
    assert!(answer["inputRequests"]["sampling-1"].is_object());
    // Malformed members are a protocol error.
    let params = json!({"name": "three", "inputResponses": "nope"});
    let error = call(&peer, &states, params, None).await.unwrap_err();
    assert_eq!(error.code, -32602);
}

#[tokio::test]
async fn refused_states_get_one_undetailed_error() {
    let (peer, _client) = peers(
        ProtocolVersion::V2026_07_28,
        serde_json::from_str(ALL).unwrap(),
    );
    let states = keys();
    let r1 = json!({});
    let r2 = call(
        &peer,
        &states,
        retry(&r1, json!({"elicitation-0": elicited()})),
        Some("alice"),
    );
    let r2 = r2.await.unwrap();
    let next = json!({"sampling-1": sampled()});

    let mut tampered = r2.clone();
    tampered["requestState"] = json!(format!("{}-TAMPERED", r2["requestState"].as_str().unwrap()));
    let mut other_args = retry(&r2, next.clone());
    other_args["arguments"] = json!({"a": 1});
    for (params, principal) in [
        (retry(&tampered, next.clone()), Some("alice")),
        (retry(&r2, next.clone()), Some("mallory")),
        (other_args, Some("alice")),
    ] {
        let error = call(&peer, &states, params, principal).await.unwrap_err();
        let message = error.message.as_str();
        assert_eq!(
            (error.code, message),
            (-32602, "Invalid or expired requestState")
        );
        assert!(error.data.is_none());
    }
    let good = call(&peer, &states, retry(&r2, next.clone()), Some("alice")).await;
    assert!(good.unwrap()["inputRequests"]["roots-2"].is_object());
    let replay = call(&peer, &states, retry(&r2, next), Some("alice"))
        .await
        .unwrap_err();
    assert_eq!(replay.code, -32602, "a state is single use");
}

#[tokio::test]
async fn a_state_whose_retry_was_cancelled_can_be_sent_again() {
    let (peer, _client) = peers(
        ProtocolVersion::V2026_07_28,
        serde_json::from_str(ALL).unwrap(),
    );
    let states = keys();
    let r2 = call(
        &peer,
        &states,
        retry(&json!({}), json!({"elicitation-0": elicited()})),
        None,
    );
    let r2 = r2.await.unwrap();
    let params = serde_json::value::to_raw_value(&retry(&r2, json!({}))).unwrap();
    let ctx = new_ctx(&peer, None);
    let sent = Params::from_raw(params.clone());
    let scope = InputScope::new("tools/call", "three", Some(&sent));
    let never = || async { std::future::pending::<Result<Box<RawValue>, RequestError>>().await };
    let run = run_with_input(&ctx, &scope, &states, never);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(20), run)
            .await
            .is_err()
    );
    tokio::task::yield_now().await;
    let again = call(
        &peer,
        &states,
        retry(&r2, json!({"sampling-1": sampled()})),
        None,
    );
    assert_eq!(
        again.await.unwrap()["inputRequests"]["roots-2"]["method"],
        "roots/list"
    );
}

#[tokio::test]
async fn an_undeclared_capability_is_answered_minus_32021_whatever_asked_for_it() {
    let (peer, _client) = peers(ProtocolVersion::V2026_07_28, json!({"elicitation": {}}));
    let states = keys();
    let params = json!({"name": "three", "inputResponses": {"elicitation-0": elicited()}});
    let error = call(&peer, &states, params, None).await.unwrap_err();
    assert_eq!(error.code, -32021);
    assert_eq!(
        error.data,
        Some(json!({"requiredCapabilities": {"sampling": {}}}))
    );

    // Explicit and grouped requests are checked too.
    let raw = serde_json::value::to_raw_value(&json!({"name": "x"})).unwrap();
    let ctx = new_ctx(&peer, None);
    let sent = Params::from_raw(raw.clone());
    let scope = InputScope::new("tools/call", "x", Some(&sent));
    let run = || {
        let ctx = ctx.clone();
        async move {
            let mut asks = InputRequests::new();
            asks.insert("r".into(), InputRequest::ListRoots(None));
            asks.insert("e".into(), InputRequest::Elicit(form("?")));
            Err::<Box<RawValue>, _>(ctx.input_required(asks, Some("s".into())))
        }
    };
    let error = run_with_input(&ctx, &scope, &states, run)
        .await
        .unwrap_err();
    assert_eq!(
        error.data,
        Some(json!({"requiredCapabilities": {"roots": {}}}))
    );

    // A handler that falls back keeps its result.
    let fallback = || {
        let ctx = ctx.clone();
        async move {
            match ctx.roots().await {
                Err(RequestError::CapabilityNotSupported("roots")) => {
                    Ok(RawValue::from_string("{\"fallback\":true}".into()).unwrap())
                }
                other => Err(RequestError::InvalidResponse(format!("{other:?}"))),
            }
        }
    };
    let answer = run_with_input(&ctx, &scope, &states, fallback)
        .await
        .unwrap();
    assert_eq!(answer.unwrap().get(), "{\"fallback\":true}");
}

#[tokio::test]
async fn a_request_that_asks_for_nothing_allocates_no_round() {
    let (peer, _client) = peers(ProtocolVersion::V2026_07_28, json!({}));
    let raw = serde_json::value::to_raw_value(&json!({"name": "t", "arguments": {}})).unwrap();
    let ctx = new_ctx(&peer, None);
    let sent = Params::from_raw(raw.clone());
    let scope = InputScope::new("tools/call", "t", Some(&sent));
    let run = || {
        let ctx = ctx.clone();
        async move {
            assert!(ctx.round().is_none());
            Ok::<_, RequestError>(RawValue::from_string("{}".into()).unwrap())
        }
    };
    let answer = run_with_input(&ctx, &scope, &RequestStates::default(), run).await;
    assert_eq!(answer.unwrap().unwrap().get(), "{}");
    assert!(ctx.round().is_none());
}

/// An explicit handler, TypeScript style: its own keys, its own state.
async fn explicit(
    ctx: RequestContext,
    runs: Arc<AtomicUsize>,
) -> Result<Box<RawValue>, RequestError> {
    runs.fetch_add(1, Ordering::SeqCst);
    match (ctx.input_response("who"), ctx.request_state()) {
        (Some(InputResponse::Elicit(who)), Some(state)) => {
            let text = format!("{state}:{}", who.content.unwrap_or_default()["name"]);
            Ok(serde_json::value::to_raw_value(&json!({"text": text})).unwrap())
        }
        _ => {
            let mut asks = InputRequests::new();
            asks.insert("who".into(), InputRequest::Elicit(form("Name?")));
            asks.insert("where".into(), InputRequest::ListRoots(None));
            Err(ctx.input_required(asks, Some("state-ok".into())))
        }
    }
}

#[tokio::test]
async fn an_explicit_input_required_result_serves_both_eras() {
    let states = keys();
    let runs = Arc::new(AtomicUsize::new(0));
    let raw = serde_json::value::to_raw_value(&json!({"name": "x"})).unwrap();
    let sent = Params::from_raw(raw.clone());
    let scope = InputScope::new("tools/call", "x", Some(&sent));

    // Legacy: the engine asks the client with real requests and runs the handler again.
    let (legacy, _client) = peers(
        ProtocolVersion::LATEST_LEGACY,
        serde_json::from_str(ALL).unwrap(),
    );
    let ctx = new_ctx(&legacy, None);
    let run = || explicit(ctx.clone(), runs.clone());
    let answer = run_with_input(&ctx, &scope, &states, run)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer.get(), r#"{"text":"state-ok:\"Ada\""}"#);
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    // Modern: an InputRequiredResult with the handler's keys and a sealed state.
    let (modern, _client) = peers(
        ProtocolVersion::V2026_07_28,
        serde_json::from_str(ALL).unwrap(),
    );
    let ctx = new_ctx(&modern, None);
    let run = || explicit(ctx.clone(), runs.clone());
    let answer = run_with_input(&ctx, &scope, &states, run)
        .await
        .unwrap()
        .unwrap();
    let r1: Value = serde_json::from_str(answer.get()).unwrap();
    assert_eq!(r1["inputRequests"]["who"]["method"], "elicitation/create");
    assert!(!r1["requestState"].as_str().unwrap().contains("state-ok"));
    let retry = json!({"name": "x", "requestState": r1["requestState"], "inputResponses": {"who": elicited()}});
    let raw = serde_json::value::to_raw_value(&retry).unwrap();
    let sent = Params::from_raw(raw.clone());
    let scope = InputScope::new("tools/call", "x", Some(&sent));
    let ctx = new_ctx(&modern, None);
    let run = || explicit(ctx.clone(), runs.clone());
    let answer = run_with_input(&ctx, &scope, &states, run)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer.get(), r#"{"text":"state-ok:\"Ada\""}"#);
}

#[tokio::test]
async fn a_legacy_handler_that_keeps_asking_stops_after_eight_rounds() {
    let (legacy, _client) = peers(
        ProtocolVersion::LATEST_LEGACY,
        serde_json::from_str(ALL).unwrap(),
    );
    let ctx = new_ctx(&legacy, None);
    let runs = Arc::new(AtomicUsize::new(0));
    let raw = serde_json::value::to_raw_value(&json!({"name": "x"})).unwrap();
    let sent = Params::from_raw(raw.clone());
    let scope = InputScope::new("tools/call", "x", Some(&sent));
    let run = || {
        let ctx = ctx.clone();
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            let mut asks = InputRequests::new();
            asks.insert("again".into(), InputRequest::ListRoots(None));
            Err::<Box<RawValue>, _>(ctx.input_required(asks, None))
        }
    };
    let error = run_with_input(&ctx, &scope, &keys(), run)
        .await
        .unwrap_err();
    assert_eq!(error.code, -32603);
    assert_eq!(runs.load(Ordering::SeqCst), MAX_LEGACY_ROUNDS + 1);
}

#[tokio::test]
async fn ask_all_is_one_round_in_modern_and_concurrent_requests_in_legacy() {
    let asks = || {
        let mut asks = InputRequests::new();
        asks.insert("e".into(), InputRequest::Elicit(form("Name?")));
        asks.insert(
            "s".into(),
            InputRequest::CreateMessage(CreateMessageRequestParams::new(
                vec![SamplingMessage::user_text("hi")],
                5,
            )),
        );
        asks.insert("r".into(), InputRequest::ListRoots(None));
        asks
    };
    let (legacy, _client) = peers(
        ProtocolVersion::LATEST_LEGACY,
        serde_json::from_str(ALL).unwrap(),
    );
    let answers = new_ctx(&legacy, None).ask_all(asks()).await.unwrap();
    assert_eq!(answers.len(), 3);
    assert!(matches!(
        answers.get("r"),
        Some(InputResponse::ListRoots(_))
    ));

    let (modern, _client) = peers(
        ProtocolVersion::V2026_07_28,
        serde_json::from_str(ALL).unwrap(),
    );
    let ctx = new_ctx(&modern, None);
    assert!(matches!(
        ctx.ask_all(asks()).await,
        Err(RequestError::InputRequired)
    ));
    let round = ctx.round().take().unwrap();
    assert_eq!(round.requests.len(), 3);
}

#[tokio::test]
async fn the_handlers_state_stays_until_it_sets_another() {
    let (peer, _client) = peers(
        ProtocolVersion::V2026_07_28,
        serde_json::from_str(ALL).unwrap(),
    );
    let states = keys();
    // Sets its state in the first round only, then asks twice.
    let handler = |ctx: RequestContext| async move {
        if ctx.request_state().is_none() {
            ctx.set_request_state("first");
        }
        let a = ctx.roots().await?;
        let b = ctx.roots().await?;
        let text = format!(
            "{:?} {} {}",
            ctx.request_state(),
            a.roots.len(),
            b.roots.len()
        );
        Ok::<_, RequestError>(serde_json::value::to_raw_value(&text).unwrap())
    };
    let mut params = json!({"name": "s"});
    let mut last = Value::Null;
    for key in ["roots-0", "roots-1", ""] {
        let raw = serde_json::value::to_raw_value(&params).unwrap();
        let ctx = new_ctx(&peer, None);
        let sent = Params::from_raw(raw.clone());
        let scope = InputScope::new("tools/call", "s", Some(&sent));
        let answer = run_with_input(&ctx, &scope, &states, || handler(ctx.clone())).await;
        last = serde_json::from_str(answer.unwrap().unwrap().get()).unwrap();
        if key.is_empty() {
            break;
        }
        assert!(last["requestState"].is_string(), "{last}");
        params = json!({
            "name": "s",
            "requestState": last["requestState"],
            "inputResponses": {key: {"roots": []}},
        });
    }
    assert_eq!(last, json!("Some(\"first\") 0 0"));
}

/// The quick path stays small: a request future is moved once per request (ARCHITECTURE.md,
/// "Small request futures"); the retry's opening and the legacy shim are boxed.
#[test]
fn the_engine_adds_little_to_a_request_future() {
    let (a, _b) = crate::memory::pair();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let peer = Peer::connect(a, Arc::new(Client), PeerConfig::default());
    let ctx = new_ctx(&peer, None);
    let states = RequestStates::default();
    let run = || async { Ok::<_, RequestError>(RawValue::from_string("{}".into()).unwrap()) };
    let alone = std::mem::size_of_val(&run());
    let driven = std::mem::size_of_val(&run_with_input(
        &ctx,
        &InputScope::new("tools/call", "t", None),
        &states,
        run,
    ));
    assert!(
        driven <= alone + 80,
        "the engine adds {} bytes",
        driven - alone
    );
}

#[test]
fn a_legacy_input_request_carries_its_key_in_meta() {
    // BR-73: the key goes into `_meta`, next to what was there; nothing else changes.
    let params = json!({"message": "name?", "_meta": {"other": 1}});
    let keyed = with_input_key(params, Some("user_name"));
    assert_eq!(keyed["message"], "name?");
    assert_eq!(keyed["_meta"]["other"], 1);
    assert_eq!(keyed["_meta"][META_INPUT_KEY], "user_name");
    let bare = with_input_key(json!({}), Some("k"));
    assert_eq!(bare, json!({"_meta": {META_INPUT_KEY: "k"}}));
    assert_eq!(with_input_key(json!({"a": 1}), None), json!({"a": 1}));
}

/// MR-1: a retry's members are told by a scan of the params, the one the engine and the
/// 2026-07-28 quick call share: any mention of either name sends the request on to the parse.
#[test]
fn a_retry_is_told_by_a_scan_of_its_params() {
    let params = |text: &str| Params::from_raw(RawValue::from_string(text.to_owned()).unwrap());
    for (text, may) in [
        (r#"{"name":"echo","arguments":{"m":"x"}}"#, false),
        (r#"{"name":"echo","inputResponses":{}}"#, true),
        (r#"{"name":"echo","requestState":"s"}"#, true),
        // Only mentioned, in the arguments: still sent on to the parse, which finds none.
        (r#"{"name":"echo","arguments":{"m":"requestState"}}"#, true),
        // An escaped name is not found by the scan (nor was it before).
        (r#"{"name":"echo","input\u0052esponses":{}}"#, false),
    ] {
        assert_eq!(crate::may_be_retry(&params(text)), may, "{text}");
    }
}
