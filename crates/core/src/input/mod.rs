//! Input from the client, for handlers written once for both eras (design idea 8, MR-1).
//!
//! A handler asks with [`RequestContext::elicit`], [`RequestContext::sample`] and
//! [`RequestContext::roots`] and propagates their error with `?`:
//!
//! - In a legacy session (up to 2025-11-25) they are real server-to-client requests, sent on the
//!   stream of the request being handled.
//! - In a 2026-07-28 request the server may not send requests (M-9). The first such call that
//!   has no answer yet ends the run: it records an input request and returns
//!   [`RequestError::InputRequired`]; the engine ([`run_with_input`]) answers an
//!   `InputRequiredResult`. When the client retries with `inputResponses`, the handler runs
//!   again from the start and the same calls return the answers. Calls are keyed by their
//!   order in the run and their kind: the n-th call (from 0) is `elicitation-n`, `sampling-n`
//!   or `roots-n`, so a handler must make the same calls in the same order on every run (let
//!   a call depend on earlier answers, not on time or randomness).
//!
//! **One round per call.** A run stops at the first call without an answer, so a handler that
//! asks three times in a row takes three rounds. The alternative, collecting every call of a
//! run into one round, cannot work for calls that depend on an earlier answer (the usual case:
//! what to ask next depends on what the user said), and running a handler on past a missing
//! answer would make it act on a made-up one. A handler whose inputs are independent asks for
//! them together with [`RequestContext::ask_all`]: one round for all of them (in a legacy
//! session, real requests sent concurrently).
//!
//! The answers of earlier rounds travel in the sealed `requestState` ([`crate::request_state`]),
//! so each retry carries every answer the run needs; a missing or malformed answer is asked for
//! again (a new `InputRequiredResult`, never an error), and answers nobody asked for are ignored.
//!
//! A handler can also answer an input-required result itself, with its own keys and its own
//! state: `return Err(ctx.input_required(requests, Some(state)).into())`, then read
//! [`RequestContext::input_response`] and [`RequestContext::request_state`] on the retry. In a
//! legacy session the engine turns that into real requests and runs the handler again with the
//! answers (at most 8 rounds, MR-3), so that style serves both eras too.
//!
//! Capabilities (M-3): an input request for a capability the client did not declare (in
//! 2026-07-28, the request's `_meta.clientCapabilities`) fails with
//! [`RequestError::CapabilityNotSupported`]; in 2026-07-28 it is also recorded, and a handler
//! that then fails is answered -32021 with `data.requiredCapabilities` (a handler that falls
//! back and completes keeps its result). That applies to every input request: implicit,
//! [`RequestContext::ask_all`] and [`RequestContext::input_required`].

use std::collections::BTreeSet;

use mcp_http_proto::modern::META_INPUT_KEY;
use mcp_http_proto::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult,
    InputRequest, InputRequests, InputResponse, InputResponses, ListRootsResult, RequestParams,
};
use serde::Deserialize as _;
use serde_json::{Map, Value, json};

use crate::context::RequestContext;
use crate::error::RequestError;
use crate::lifecycle::SessionState;
use crate::options::RequestOptions;

mod driver;
mod parked;

pub use driver::{InputScope, MAX_LEGACY_ROUNDS, may_be_retry, run_with_input};
pub use parked::{Parked, run_parked};

/// What one run of a handler asked for and was given. Made only when a handler asks for input
/// or a retry brings answers: a request that needs none never allocates it.
#[derive(Debug, Default)]
pub(crate) struct Round {
    /// The number of the next implicit call.
    next: u32,
    /// The answers this run can use: earlier rounds' and this retry's, by key.
    pub(crate) answers: Map<String, Value>,
    /// The keys of the answers the handler used (carried into the next round's state).
    pub(crate) used: BTreeSet<String>,
    /// Whether the run asked for input it did not get.
    pub(crate) asked: bool,
    /// What it asked for.
    pub(crate) requests: InputRequests,
    /// Capabilities it needed that the client did not declare, as `requiredCapabilities`.
    pub(crate) missing: Option<Map<String, Value>>,
    /// The handler's own state, from the previous round.
    pub(crate) state_in: Option<String>,
    /// The state the handler gave with `input_required`.
    pub(crate) state_out: Option<String>,
}

impl Round {
    /// Kept answers of this run (those the handler used), for the next round.
    pub(crate) fn kept_answers(&mut self) -> Map<String, Value> {
        let mut answers = std::mem::take(&mut self.answers);
        answers.retain(|key, _| self.used.contains(key));
        answers
    }

    fn add_missing(&mut self, required: Value) {
        let missing = self.missing.get_or_insert_with(Map::new);
        if let Value::Object(required) = required {
            merge(missing, required);
        }
    }

    /// The answer under `key`, if it is one to `request`.
    fn answer(&mut self, key: &str, request: &InputRequest) -> Option<InputResponse> {
        let answer = decode_answer(request, self.answers.get(key)?)?;
        self.used.insert(key.to_owned());
        Some(answer)
    }
}

fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(a)), Value::Object(b)) => merge(a, b),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// The key prefix of a kind of input.
fn kind(request: &InputRequest) -> &'static str {
    match request {
        InputRequest::Elicit(_) => "elicitation",
        InputRequest::CreateMessage(_) => "sampling",
        InputRequest::ListRoots(_) => "roots",
        _ => "input",
    }
}

/// A capability an input request needs and the client did not declare.
struct Undeclared {
    /// Its name, for [`RequestError::CapabilityNotSupported`].
    name: &'static str,
    /// The `requiredCapabilities` object of -32021.
    required: Value,
}

/// Whether the client declared what `request` needs (SM-1, EL-1, EL-2, C-3, M-3).
fn check_capability(state: &SessionState, request: &InputRequest) -> Result<(), Undeclared> {
    match request {
        InputRequest::CreateMessage(params) => {
            if !state.client_declares(&["sampling"]) {
                return Err(Undeclared {
                    name: "sampling",
                    required: json!({"sampling": {}}),
                });
            }
            let uses_tools = params.tools.is_some() || params.tool_choice.is_some();
            if uses_tools && !state.client_declares(&["sampling", "tools"]) {
                return Err(Undeclared {
                    name: "sampling.tools",
                    required: json!({"sampling": {"tools": {}}}),
                });
            }
            Ok(())
        }
        InputRequest::Elicit(ElicitRequestParams::Url(_)) => {
            if state.client_declares(&["elicitation", "url"]) {
                return Ok(());
            }
            Err(Undeclared {
                name: "elicitation.url",
                required: json!({"elicitation": {"url": {}}}),
            })
        }
        InputRequest::Elicit(_) => {
            // An empty `elicitation: {}` means form mode only (C-1).
            let declared = state.client_declares(&["elicitation", "form"])
                || (state.client_declares(&["elicitation"])
                    && !state.client_declares(&["elicitation", "url"]));
            if declared {
                return Ok(());
            }
            Err(Undeclared {
                name: "elicitation",
                required: json!({"elicitation": {}}),
            })
        }
        InputRequest::ListRoots(_) => {
            if state.client_declares(&["roots"]) {
                return Ok(());
            }
            Err(Undeclared {
                name: "roots",
                required: json!({"roots": {}}),
            })
        }
        // A kind added to the protocol later: `send_input` refuses it.
        _ => Ok(()),
    }
}

/// An answer read as the kind `request` asks for; `None` when it is not one.
fn decode_answer(request: &InputRequest, value: &Value) -> Option<InputResponse> {
    match request {
        InputRequest::Elicit(_) => ElicitResult::deserialize(value)
            .ok()
            .map(InputResponse::Elicit),
        InputRequest::CreateMessage(_) => CreateMessageResult::deserialize(value)
            .ok()
            .map(InputResponse::CreateMessage),
        InputRequest::ListRoots(_) => ListRootsResult::deserialize(value)
            .ok()
            .map(InputResponse::ListRoots),
        _ => None,
    }
}

impl RequestContext {
    /// Whether this request is served in the 2026-07-28 era (input becomes input-required
    /// results) rather than in a legacy session (input is asked with real requests).
    pub fn is_modern(&self) -> bool {
        self.state().is_modern()
    }

    /// Asks the user for input through the client (`elicitation/create`), in form or URL mode:
    /// a real request in a legacy session, an input request in 2026-07-28 (see the
    /// [module docs](crate::input)). Fails with [`RequestError::CapabilityNotSupported`] when
    /// the client did not declare the mode (EL-1, EL-2).
    pub async fn elicit(&self, params: ElicitRequestParams) -> Result<ElicitResult, RequestError> {
        match self.ask(InputRequest::Elicit(params)).await? {
            InputResponse::Elicit(result) => Ok(result),
            _ => Err(RequestError::InvalidResponse(
                "not an elicitation result".into(),
            )),
        }
    }

    /// Asks the client's model for a message (`sampling/createMessage`): a real request in a
    /// legacy session, an input request in 2026-07-28. Fails with
    /// [`RequestError::CapabilityNotSupported`] when the client did not declare `sampling`, or
    /// `sampling.tools` for a request with tools (SM-1).
    pub async fn sample(
        &self,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, RequestError> {
        match self.ask(InputRequest::CreateMessage(params)).await? {
            InputResponse::CreateMessage(result) => Ok(result),
            _ => Err(RequestError::InvalidResponse(
                "not a sampling result".into(),
            )),
        }
    }

    /// Asks the client for its roots (`roots/list`): a real request in a legacy session, an
    /// input request in 2026-07-28. Fails with [`RequestError::CapabilityNotSupported`] when the
    /// client did not declare `roots`.
    pub async fn roots(&self) -> Result<ListRootsResult, RequestError> {
        let request = InputRequest::ListRoots(Some(RequestParams::default()));
        match self.ask(request).await? {
            InputResponse::ListRoots(result) => Ok(result),
            _ => Err(RequestError::InvalidResponse("not a roots result".into())),
        }
    }

    /// Asks for several independent inputs at once, under the caller's keys. In 2026-07-28 the
    /// answers the retry brought are returned when all are there; otherwise every missing one
    /// goes into one `InputRequiredResult` ([`RequestError::InputRequired`]). In a legacy session
    /// they are real requests, sent concurrently. Keys should not look like the implicit ones
    /// (`elicitation-0`).
    pub async fn ask_all(&self, requests: InputRequests) -> Result<InputResponses, RequestError> {
        if !self.is_modern() {
            return self.send_inputs(requests).await;
        }
        let state = self.state();
        let mut slot = self.round();
        let round = slot.get_or_insert_with(Box::default);
        let mut undeclared = None;
        for request in requests.values() {
            if let Err(missing) = check_capability(state, request) {
                round.add_missing(missing.required);
                undeclared.get_or_insert(missing.name);
            }
        }
        if let Some(name) = undeclared {
            return Err(RequestError::CapabilityNotSupported(name));
        }
        let mut answers = InputResponses::new();
        let mut wanted = InputRequests::new();
        for (key, request) in requests {
            match round.answer(&key, &request) {
                Some(answer) => {
                    answers.insert(key, answer);
                }
                None => {
                    wanted.insert(key, request);
                }
            }
        }
        if wanted.is_empty() {
            return Ok(answers);
        }
        round.asked = true;
        round.requests.extend(wanted);
        Err(RequestError::InputRequired)
    }

    /// An input-required answer of the handler's own: return it (`Err(ctx.input_required(..))`,
    /// or with `?` into the handler's error type). `state` comes back on the retry as
    /// [`RequestContext::request_state`], sealed on the way (the client cannot read or change
    /// it). In a legacy session the engine asks the client with real requests and runs the
    /// handler again (MR-3). An input the client did not declare a capability for gives
    /// [`RequestError::CapabilityNotSupported`] instead (in 2026-07-28 answered -32021, M-3).
    pub fn input_required(&self, requests: InputRequests, state: Option<String>) -> RequestError {
        let modern = self.is_modern();
        let peer_state = self.state();
        let mut slot = self.round();
        let round = slot.get_or_insert_with(Box::default);
        let mut undeclared = None;
        for request in requests.values() {
            if let Err(missing) = check_capability(peer_state, request) {
                if modern {
                    round.add_missing(missing.required);
                }
                undeclared.get_or_insert(missing.name);
            }
        }
        if let Some(name) = undeclared {
            return RequestError::CapabilityNotSupported(name);
        }
        round.asked = true;
        round.requests.extend(requests);
        if state.is_some() {
            round.state_out = state;
        }
        RequestError::InputRequired
    }

    /// Whether the client declared the capability `request` needs (SM-1, EL-1, EL-2, C-3,
    /// M-3); `Err` names the one missing. Nothing is recorded: see
    /// [`RequestContext::input_required`] for the refusal.
    pub fn check_declared(&self, request: &InputRequest) -> Result<(), &'static str> {
        check_capability(self.state(), request).map_err(|missing| missing.name)
    }

    /// Sets the handler's own state for the next round: if this run ends with an input-required
    /// result (of any call: implicit, [`RequestContext::ask_all`] or
    /// [`RequestContext::input_required`]), the state is sealed into its `requestState` and
    /// comes back on the retry as [`RequestContext::request_state`], and on later rounds until the
    /// handler sets another. Unused when the run completes.
    pub fn set_request_state(&self, state: impl Into<String>) {
        self.round().get_or_insert_with(Box::default).state_out = Some(state.into());
    }

    /// Every answer this run was given (in 2026-07-28: earlier rounds' and this retry's), each
    /// read as the kind its members say; answers of no known shape are left out.
    pub fn input_responses(&self) -> InputResponses {
        let mut slot = self.round();
        let Some(round) = slot.as_mut() else {
            return InputResponses::new();
        };
        let mut responses = InputResponses::new();
        for (key, value) in &round.answers {
            if let Ok(response) = InputResponse::deserialize(value) {
                round.used.insert(key.clone());
                responses.insert(key.clone(), response);
            }
        }
        responses
    }

    /// The answer under `key`, if this run was given one of a known shape.
    pub fn input_response(&self, key: &str) -> Option<InputResponse> {
        let mut slot = self.round();
        let round = slot.as_mut()?;
        let response = InputResponse::deserialize(round.answers.get(key)?).ok()?;
        round.used.insert(key.to_owned());
        Some(response)
    }

    /// The state the handler gave with [`RequestContext::input_required`] last round, once the
    /// engine opened and checked it.
    pub fn request_state(&self) -> Option<String> {
        self.round().as_ref()?.state_in.clone()
    }

    /// One input: an input request in 2026-07-28, a real request in a legacy session.
    async fn ask(&self, request: InputRequest) -> Result<InputResponse, RequestError> {
        let state = self.state();
        if !state.is_modern() {
            check_capability(state, &request)
                .map_err(|missing| RequestError::CapabilityNotSupported(missing.name))?;
            return self.send_input(&request, None).await;
        }
        let mut slot = self.round();
        let round = slot.get_or_insert_with(Box::default);
        let key = format!("{}-{}", kind(&request), round.next);
        round.next += 1;
        if let Err(missing) = check_capability(state, &request) {
            round.add_missing(missing.required);
            return Err(RequestError::CapabilityNotSupported(missing.name));
        }
        if let Some(answer) = round.answer(&key, &request) {
            return Ok(answer);
        }
        round.asked = true;
        round.requests.insert(key, request);
        Err(RequestError::InputRequired)
    }

    /// Sends inputs as real requests, concurrently (legacy sessions); the capabilities are
    /// checked before any is sent.
    pub(crate) async fn send_inputs(
        &self,
        requests: InputRequests,
    ) -> Result<InputResponses, RequestError> {
        let state = self.state();
        for request in requests.values() {
            check_capability(state, request)
                .map_err(|missing| RequestError::CapabilityNotSupported(missing.name))?;
        }
        let sends = requests.into_iter().map(|(key, request)| async move {
            self.send_input(&request, Some(&key))
                .await
                .map(|answer| (key, answer))
        });
        Ok(futures::future::try_join_all(sends)
            .await?
            .into_iter()
            .collect())
    }

    /// Sends one input as a real request on this request's stream; `key`, the handler's key
    /// of the input, goes along in `_meta` (`META_INPUT_KEY`), so that a bridge serving this
    /// server to a 2026-07-28 client can name the input request as the handler did (BR-73).
    async fn send_input(
        &self,
        request: &InputRequest,
        key: Option<&str>,
    ) -> Result<InputResponse, RequestError> {
        let method = request.method();
        let options = RequestOptions::default();
        let keyed = |params: Value| with_input_key(params, key);
        let params = match request {
            InputRequest::Elicit(params) => serde_json::to_value(params),
            InputRequest::CreateMessage(params) => serde_json::to_value(params),
            InputRequest::ListRoots(params) => {
                serde_json::to_value(params.clone().unwrap_or_default())
            }
            _ => Ok(Value::Null),
        }
        .map(keyed)
        .map_err(|e| RequestError::Encode(e.to_string()))?;
        Ok(match request {
            InputRequest::Elicit(_) => {
                InputResponse::Elicit(self.request(method, &params, options).await?)
            }
            InputRequest::CreateMessage(_) => {
                InputResponse::CreateMessage(self.request(method, &params, options).await?)
            }
            InputRequest::ListRoots(_) => {
                InputResponse::ListRoots(self.request(method, &params, options).await?)
            }
            // A kind added to the protocol later: not one a handler here can ask for.
            _ => return Err(RequestError::Encode(format!("unsupported input {method}"))),
        })
    }
}

/// `params` with the input's `key` in its `_meta` (an object kept as it is otherwise).
fn with_input_key(mut params: Value, key: Option<&str>) -> Value {
    if let (Some(key), Value::Object(object)) = (key, &mut params)
        && let Value::Object(meta) = object
            .entry("_meta")
            .or_insert_with(|| Value::Object(serde_json::Map::new()))
    {
        meta.insert(META_INPUT_KEY.to_owned(), Value::from(key));
    }
    params
}

#[cfg(test)]
mod tests;
