//! The transports `serve` and `bridge` offer beside Streamable HTTP: the 2024-11-05 HTTP+SSE
//! transport for old clients (BR-33), and WebSocket (BR-36).

use mcp_http_server_http::{HttpConfig, LegacySse};

/// Transports served beside the Streamable HTTP endpoint.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Other transports")]
pub(crate) struct TransportArgs {
    /// Also serve the 2024-11-05 HTTP+SSE transport: GET on --sse-path opens a session's
    /// stream, whose `endpoint` event names the address for its POSTs (--messages-path).
    #[arg(long)]
    legacy_sse: bool,
    /// The 2024-11-05 transport's stream path.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/sse",
        requires = "legacy_sse"
    )]
    sse_path: String,
    /// The 2024-11-05 transport's POST path.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/messages",
        requires = "legacy_sse"
    )]
    messages_path: String,
    /// Also serve MCP over WebSocket (one JSON-RPC message per text frame, a session per
    /// connection, subprotocol `mcp`) at --ws-path.
    #[arg(long)]
    websocket: bool,
    /// The WebSocket path.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/ws",
        requires = "websocket"
    )]
    ws_path: String,
}

impl TransportArgs {
    /// `config` with these transports.
    pub(crate) fn apply(&self, config: HttpConfig) -> HttpConfig {
        let legacy = self
            .legacy_sse
            .then(|| LegacySse::new(self.sse_path.clone(), self.messages_path.clone()));
        let websocket = self.websocket.then(|| self.ws_path.clone());
        config.legacy_sse(legacy).websocket(websocket)
    }
}
