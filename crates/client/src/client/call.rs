//! `tools/call`: the params written once, and the result decoded where the transport read it
//! when it can be (PF-35); its `_meta` decoded only when asked for (PF-88).

use std::borrow::Cow;

use mcp_http_core::reply::{read_result, result_text};
use mcp_http_core::{RequestError, RequestOptions};
use mcp_http_proto::jsonrpc::RequestId;
use mcp_http_proto::{CallToolResult, method};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Client;
use super::reply::{Lazy, ToolReply, quick};
use crate::capability::Needs;
use crate::modern::EnvelopedCall;

impl Client {
    /// `tools/call` with the given arguments (any value that serializes to a JSON object).
    pub async fn call_tool<A: Serialize>(
        &self,
        name: &str,
        arguments: A,
    ) -> Result<CallToolResult, RequestError> {
        self.call_tool_with(name, arguments, RequestOptions::default())
            .await
    }

    /// `tools/call` with options: a timeout, a progress callback, a cancellation token.
    pub async fn call_tool_with<A: Serialize>(
        &self,
        name: &str,
        arguments: A,
        options: RequestOptions,
    ) -> Result<CallToolResult, RequestError> {
        // PF-110: a result read by its bytes has its `_meta` decoded at once, as serde would.
        let quick = |text: &str| ToolReply::from(quick(text)?).into_result().ok();
        self.call_tool_as::<A, CallToolResult>(name, arguments, options, quick)
            .await
    }

    /// [`Client::call_tool`] whose result's `_meta` is decoded only when asked for
    /// ([`ToolReply::meta`]): a caller that does not read it does not pay for it (PF-88).
    pub async fn call_tool_reply<A: Serialize>(
        &self,
        name: &str,
        arguments: A,
    ) -> Result<ToolReply, RequestError> {
        self.call_tool_reply_with(name, arguments, RequestOptions::default())
            .await
    }

    /// [`Client::call_tool_reply`] with options, as [`Client::call_tool_with`].
    pub async fn call_tool_reply_with<A: Serialize>(
        &self,
        name: &str,
        arguments: A,
        options: RequestOptions,
    ) -> Result<ToolReply, RequestError> {
        self.call_tool_as::<A, Lazy>(name, arguments, options, quick)
            .await
            .map(ToolReply::from)
    }

    /// `tools/call`, its result read as `R` (a [`CallToolResult`] or the same read lazily):
    /// by `quick` from the result's text when the answer is laid out as servers write it
    /// (PF-110), by serde otherwise.
    async fn call_tool_as<A: Serialize, R: DeserializeOwned + Send>(
        &self,
        name: &str,
        arguments: A,
        options: RequestOptions,
        quick: fn(&str) -> Option<R>,
    ) -> Result<R, RequestError> {
        /// The params, encoded straight from the caller's arguments (no `Value` in between).
        #[derive(Serialize)]
        struct CallParams<'a, A> {
            name: &'a str,
            arguments: A,
        }
        self.require(Needs::Tools)?;
        let params = CallParams { name, arguments };
        // PF-35: the result decoded where the transport read it, in one pass, when it can
        // be; what comes back raw is decoded from that, as before.
        let mut typed: Option<R> = None;
        let mut take = |id: &RequestId, body: &[u8]| {
            // The result's text found once: the quick reader, else serde on that text. A body
            // of that layout whose result text does not read alone (a member after the
            // result, say) is left here and decoded from the raw result below.
            typed = match result_text(id, body) {
                Some(text) => quick(text).or_else(|| serde_json::from_str(text).ok()),
                None => read_result(id, body),
            };
            typed.is_some()
        };
        let raw = match self.context() {
            Some(context) => {
                // PF-29, PF-37, PF-105: the envelope goes in with the params' one
                // serialization, written straight into the request's message.
                let (version, meta) = context.modern.version_and_meta();
                let call = EnvelopedCall {
                    name,
                    arguments: &params.arguments,
                    meta: &meta,
                };
                context
                    .call_tool_enveloped(&call, version, options, &mut take)
                    .await?
            }
            None => {
                let about = Some(Cow::Owned(name.to_owned()));
                self.peer
                    .request_about_reading(
                        method::TOOLS_CALL,
                        Some(&params),
                        about,
                        options,
                        &mut take,
                    )
                    .await?
            }
        };
        match (typed, raw) {
            (Some(result), None) => Ok(result),
            (_, Some(raw)) => serde_json::from_str(raw.get())
                .map_err(|e| RequestError::InvalidResponse(e.to_string())),
            (None, None) => Err(RequestError::InvalidResponse(
                "the answer was taken but not decoded".to_owned(),
            )),
        }
    }
}
