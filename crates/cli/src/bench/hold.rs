//! Holding sessions (and GET streams) open so a server's memory per session can be measured:
//! initialize N sessions, optionally open one standalone GET stream per session, say `ready` on
//! stdout, then hold everything for the given time.

use std::io::Write;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use futures::StreamExt;
use http::StatusCode;
use http_body_util::BodyExt;
use serde::Serialize;
use tokio::task::JoinSet;

use super::conn::{Conn, McpHeaders, Target};
use super::load::init_sessions;
use super::rpc::{Failure, within};

/// What to hold.
pub(crate) struct HoldPlan {
    pub(crate) target: Target,
    pub(crate) sessions: usize,
    pub(crate) get_streams: bool,
    pub(crate) concurrency: usize,
    pub(crate) hold: Duration,
    pub(crate) version: String,
    pub(crate) timeout: Duration,
    pub(crate) json: bool,
}

/// The `ready` line.
#[derive(Serialize)]
struct Ready {
    ready: bool,
    sessions: usize,
    streams: usize,
    errors: usize,
    first_error: Option<String>,
}

/// Opens everything, prints the `ready` line, holds, and returns whether every stream opened.
pub(crate) async fn run(plan: HoldPlan) -> Result<bool, String> {
    let next_id = AtomicU64::new(1);
    let sessions = init_sessions(
        &plan.target,
        plan.sessions,
        plan.concurrency,
        &plan.version,
        plan.timeout,
        &next_id,
    )
    .await?;
    let mut held = JoinSet::new();
    let mut streams = 0;
    let mut errors = 0;
    let mut first_error = None;
    if plan.get_streams {
        let opens = sessions
            .iter()
            .map(|s| open_stream(&plan.target, &s.headers, plan.timeout));
        let mut opens = futures::stream::iter(opens).buffer_unordered(plan.concurrency.max(1));
        while let Some(opened) = opens.next().await {
            match opened {
                Ok(drain) => {
                    held.spawn(drain);
                    streams += 1;
                }
                Err(failure) => {
                    errors += 1;
                    first_error.get_or_insert_with(|| failure.describe());
                }
            }
        }
    }
    // Let the server finish with the initializing connections before it is measured.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ready = Ready {
        ready: true,
        sessions: sessions.len(),
        streams,
        errors,
        first_error,
    };
    let line = if plan.json {
        serde_json::to_string(&ready).map_err(|e| e.to_string())?
    } else {
        format!(
            "ready: {} sessions, {} GET streams, {} errors{}",
            ready.sessions,
            ready.streams,
            ready.errors,
            ready
                .first_error
                .as_deref()
                .map_or(String::new(), |e| format!(" (first: {e})"))
        )
    };
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
    drop(stdout);
    tokio::time::sleep(plan.hold).await;
    held.abort_all();
    Ok(errors == 0)
}

/// Opens a GET stream; the returned future reads (and discards) it until it ends.
async fn open_stream(
    target: &Target,
    headers: &McpHeaders,
    timeout: Duration,
) -> Result<impl Future<Output = ()> + Send + 'static, Failure> {
    let mut conn = Conn::open(target, timeout).await?;
    let response = within(timeout, conn.get_stream(target, headers)).await?;
    if response.status() != StatusCode::OK {
        return Err(Failure::Http(response.status().as_u16()));
    }
    let mut body = response.into_body();
    Ok(async move {
        let _conn = conn;
        while let Some(Ok(_)) = body.frame().await {}
    })
}
