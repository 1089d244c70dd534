//! `mcp-http listen`: `subscriptions/listen` (SB-1) on a 2026-07-28 server; each notification
//! printed as one JSON line on stdout as it arrives, the acknowledgement noted on stderr.

use futures::StreamExt;
use mcp_http_client::proto::SubscriptionFilter;
use mcp_http_client::{CancellationToken, ListenEvent};
use serde_json::json;

use super::CliError;
use super::session::Session;

/// Listens until Ctrl-C (`cancel`) or the server's final result.
pub(crate) async fn run(
    session: &Session,
    filter: SubscriptionFilter,
    cancel: CancellationToken,
) -> Result<(), CliError> {
    let stream = session.client().listen(filter).map_err(|e| {
        CliError::failed(format!(
            "{} cannot listen: {e} (subscriptions/listen needs a 2026-07-28 server)",
            session.server_name()
        ))
    })?;
    let mut stream = std::pin::pin!(stream);
    loop {
        let event = tokio::select! {
            event = stream.next() => event,
            _ = cancel.cancelled() => return Ok(()),
        };
        match event {
            None => return Ok(()),
            Some(Ok(ListenEvent::Acknowledged(honoured))) => {
                eprintln!("listening for {}", json!(honoured));
            }
            Some(Ok(ListenEvent::Notification(n))) => {
                let line = json!({ "method": n.method, "params": n.params_as::<serde_json::Value>().ok() });
                super::emit(&format!("{line}\n"))?;
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(CliError::failed(format!("listen: {e}"))),
        }
    }
}
