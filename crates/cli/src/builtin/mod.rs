//! The built-in server that `mcp-http serve` runs: every tool, resource and prompt the official
//! conformance suite expects (docs/conformance.md section 3), plus practical ones (`echo`, `add`,
//! a long-running tool with progress and logs, a tool that samples, a tool that elicits).

mod modern;
mod prompts;
mod resources;
mod tasks;
mod tools;

use mcp_http_server::{RequestStates, Server};

/// A 1x1 red PNG pixel.
pub const TEST_IMAGE_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A minimal WAV file.
pub const TEST_AUDIO_BASE64: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// Builds the built-in server.
///
/// ```
/// let server = mcp_http::builtin::server();
/// assert!(server.tool_names().iter().any(|n| n == "echo"));
/// ```
pub fn server() -> Server {
    server_with(RequestStates::default())
}

/// The built-in server, sealing `requestState` with `states` (keys shared by every instance
/// behind one endpoint, so a retry may land on any of them).
pub fn server_with(states: RequestStates) -> Server {
    server_with_tasks(states, None)
}

/// [`server_with`], its tasks kept in `task_store` (a store the instances behind one endpoint share,
/// RB-21) rather than in memory.
pub fn server_with_tasks(
    states: RequestStates,
    task_store: Option<std::sync::Arc<dyn mcp_http_server::TaskStore>>,
) -> Server {
    let mut builder = Server::builder("mcp-http", env!("CARGO_PKG_VERSION"));
    if let Some(store) = task_store {
        builder = builder.task_store(store);
    }
    let builder = builder.request_states(states).instructions(
        "The mcp-http built-in server: conformance test tools, resources and prompts, plus echo, add, \
         a long-running operation with progress, and tools that sample and elicit.",
    );
    let builder = modern::register(tools::register(builder));
    let builder = tasks::register(resources::register(builder));
    let server = prompts::register(builder).build();
    server.add_tool(tools::resource_update_tool(server.downgrade()));
    for tool in modern::list_changers(&server.downgrade()) {
        server.add_tool(tool);
    }
    server
}
