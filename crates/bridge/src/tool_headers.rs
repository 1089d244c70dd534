//! The `x-mcp-header` annotations of the shared child's tools (BR-75): learned from the child's
//! `tools/list` before its first 2026-07-28 `tools/call` and again on its
//! `notifications/tools/list_changed`, so that such a call through the bridge gets its
//! `Mcp-Param-*` headers checked as `serve` checks them (H-10, -32020 and HTTP 400 on a
//! mismatch) before it reaches the child. A bridge serving only legacy sessions never lists.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use mcp_http_core::{ParamHeaders, Peer, RequestContext, RequestOptions, ToolCallView};
use mcp_http_proto::jsonrpc::Request;
use mcp_http_proto::x_mcp_header::{self, ParamHeader};
use mcp_http_proto::{ErrorObject, JsonObject, method};
use serde_json::value::RawValue;

/// How many pages of `tools/list` are read at most (a child paging forever is not followed).
const MAX_PAGES: usize = 100;

/// How long the child may take for one page.
const PAGE_TIMEOUT: Duration = Duration::from_secs(10);

/// The annotated arguments of each of the child's tools (tools without any are left out).
#[derive(Default)]
pub(crate) struct ToolHeaders {
    tools: RwLock<HashMap<String, Vec<ParamHeader>>>,
    /// Set once the first listing is done.
    learned: tokio::sync::OnceCell<()>,
}

#[derive(serde::Deserialize)]
struct ListedTool {
    name: String,
    #[serde(rename = "inputSchema", default)]
    input_schema: JsonObject,
}

#[derive(serde::Deserialize)]
struct ListPage {
    #[serde(default)]
    tools: Vec<ListedTool>,
    #[serde(rename = "nextCursor", default)]
    next_cursor: Option<String>,
}

impl ToolHeaders {
    /// Reads the child's tools (every page, bounded) and keeps their annotations. A tool whose
    /// annotations break a rule of H-10 is kept with none (its calls go unchecked, as a client
    /// drops such a tool) and a warning is logged. When the child cannot list, what was known
    /// stays.
    async fn learn(&self, child: &Peer) {
        let mut found = HashMap::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = cursor
                .as_ref()
                .map(|c| serde_json::json!({ "cursor": c }))
                .and_then(|p| serde_json::value::to_raw_value(&p).ok());
            let options = RequestOptions::default()
                .timeout(PAGE_TIMEOUT)
                .max_total(PAGE_TIMEOUT);
            let Ok(page) = child.request_raw(method::TOOLS_LIST, params, options).await else {
                return;
            };
            let Ok(page) = serde_json::from_str::<ListPage>(page.get()) else {
                return;
            };
            for tool in page.tools {
                match x_mcp_header::annotations(&tool.input_schema) {
                    Ok(headers) if headers.is_empty() => {}
                    Ok(headers) => {
                        found.insert(tool.name, headers);
                    }
                    Err(e) => {
                        tracing::warn!(tool = %tool.name, reason = %e.0, "the bridged server's tool has invalid x-mcp-header annotations; its headers are not checked");
                    }
                }
            }
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        *self.tools.write().unwrap_or_else(|e| e.into_inner()) = found;
    }

    /// Lists the child's tools again when they were listed before (its list changed).
    pub(crate) async fn relearn(&self, child: &Peer) {
        if self.learned.initialized() {
            self.learn(child).await;
        }
    }

    /// Checks the `Mcp-Param-*` headers of a 2026-07-28 `tools/call` (H-10; the rules are
    /// [`ParamHeaders::check`]'s, shared with `serve`), listing the child's tools first if
    /// that was not done yet.
    pub(crate) async fn check(
        &self,
        request: &Request,
        ctx: &RequestContext,
        child: &Peer,
    ) -> Result<(), ErrorObject> {
        self.learned.get_or_init(|| self.learn(child)).await;
        #[derive(serde::Deserialize)]
        struct Call {
            name: String,
            arguments: Option<Box<RawValue>>,
        }
        let (name, arguments) = match ctx.extension::<ToolCallView>() {
            Some(view) => (view.name.to_string(), view.arguments.clone()),
            None => match request.params_as::<Call>() {
                Ok(call) => (call.name, call.arguments),
                // The child says what is wrong with the params.
                Err(_) => return Ok(()),
            },
        };
        let tools = self.tools.read().unwrap_or_else(|e| e.into_inner());
        let Some(declared) = tools.get(&name) else {
            return Ok(());
        };
        let none = ParamHeaders::default();
        let sent = ctx.extension::<ParamHeaders>().unwrap_or(&none);
        sent.check(declared, arguments.as_deref())
    }
}
