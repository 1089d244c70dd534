//! Idle connections against a server's promptness (`--idle-connections`, RL-10): opens N
//! connections that stay idle (half never send a byte, half after one request, kept alive),
//! then times new clients one after another, each on a fresh connection, from connect to its
//! `initialize` answer, and says how many idle connections were still open at the end.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::conn::{Conn, Target};
use super::rpc::initialize;

/// What to open and how many new clients to time.
pub(crate) struct IdlePlan {
    pub(crate) target: Target,
    pub(crate) idle: usize,
    pub(crate) probes: usize,
    pub(crate) concurrency: usize,
    pub(crate) version: String,
    pub(crate) timeout: Duration,
}

/// The report.
#[derive(Serialize)]
pub(crate) struct IdleReport {
    url: String,
    idle_requested: usize,
    idle_opened: usize,
    idle_failed: usize,
    first_error: Option<String>,
    /// Idle connections the server still held open after the probes.
    idle_still_open: usize,
    probes: usize,
    served: usize,
    wait_ms_min: f64,
    wait_ms_median: f64,
    wait_ms_max: f64,
}

impl IdleReport {
    /// The report as text.
    pub(crate) fn text(&self) -> String {
        format!(
            "{} idle connections open ({} failed{}), {} still open after the probes\n\
             new clients served: {}/{}; time from connect to the initialize answer: \
             min {:.2} ms, median {:.2} ms, max {:.2} ms\n",
            self.idle_opened,
            self.idle_failed,
            self.first_error
                .as_ref()
                .map(|e| format!(", first: {e}"))
                .unwrap_or_default(),
            self.idle_still_open,
            self.served,
            self.probes,
            self.wait_ms_min,
            self.wait_ms_median,
            self.wait_ms_max,
        )
    }

    /// Whether every connection opened and every new client was served.
    pub(crate) fn ok(&self) -> bool {
        self.idle_failed == 0 && self.served == self.probes
    }
}

/// Opens the idle connections, times the probes, and reports.
pub(crate) async fn run(plan: IdlePlan) -> Result<IdleReport, String> {
    let target = &plan.target;
    let opens = (0..plan.idle).map(|i| open_idle(target, i % 2 == 1, plan.timeout));
    let mut opens = futures::stream::iter(opens).buffer_unordered(plan.concurrency.max(1));
    let mut idle = Vec::with_capacity(plan.idle);
    let (mut failed, mut first_error) = (0, None);
    while let Some(opened) = opens.next().await {
        match opened {
            Ok(tcp) => idle.push(tcp),
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    // Let the server take in the last of them before the first probe.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let next_id = AtomicU64::new(1);
    let mut waits = Vec::with_capacity(plan.probes);
    for _ in 0..plan.probes {
        let started = Instant::now();
        let served = async {
            let mut conn = Conn::open(target, plan.timeout).await.ok()?;
            let id = next_id.fetch_add(1, Ordering::Relaxed);
            initialize(&mut conn, target, &plan.version, id, plan.timeout)
                .await
                .ok()
        };
        if served.await.is_some() {
            waits.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let idle_still_open = idle.iter().filter(|tcp| is_open(tcp)).count();
    waits.sort_by(f64::total_cmp);
    Ok(IdleReport {
        url: target.url.clone(),
        idle_requested: plan.idle,
        idle_opened: idle.len(),
        idle_failed: failed,
        first_error,
        idle_still_open,
        probes: plan.probes,
        served: waits.len(),
        wait_ms_min: waits.first().copied().unwrap_or(f64::NAN),
        wait_ms_median: waits.get(waits.len() / 2).copied().unwrap_or(f64::NAN),
        wait_ms_max: waits.last().copied().unwrap_or(f64::NAN),
    })
}

/// One idle connection: connected, and with `request`, after one answered request (a GET of the
/// endpoint with no session, which the server refuses and keeps the connection).
async fn open_idle(target: &Target, request: bool, timeout: Duration) -> Result<TcpStream, String> {
    let open = async {
        let mut tcp = TcpStream::connect(target.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        if request {
            let host = target.host.to_str().unwrap_or("localhost");
            let head = format!(
                "GET {} HTTP/1.1\r\nhost: {host}\r\naccept: text/event-stream\r\n\r\n",
                target.path
            );
            tcp.write_all(head.as_bytes())
                .await
                .map_err(|e| format!("write: {e}"))?;
            let mut answer = [0u8; 1024];
            match tcp.read(&mut answer).await {
                Ok(n) if n > 0 => {}
                Ok(_) => return Err("closed before answering".to_owned()),
                Err(e) => return Err(format!("read: {e}")),
            }
        }
        Ok(tcp)
    };
    tokio::time::timeout(timeout, open)
        .await
        .map_err(|_| "timed out".to_owned())?
}

/// Whether the server still holds the connection open (nothing to read, and no end).
fn is_open(tcp: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(tcp.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}
