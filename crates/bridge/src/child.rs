//! One stdio server as a child process: spawned in a process group of its own, spoken to
//! through the stdio framing of `mcp-http-transport` by a core [`Peer`] (which numbers the
//! requests sent to it, so the ids of many clients never collide, BR-2), and stopped by
//! signalling the whole group, then reaped, so nothing it started outlives it (BR-5).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_http_core::{Handler, Peer, PeerConfig};
use mcp_http_transport::LineTransport;
use tokio_util::sync::CancellationToken;

/// How a child is started: the command, its arguments, environment and working directory.
///
/// ```
/// use mcp_http_bridge::ChildSpec;
/// let spec = ChildSpec::new("python3", ["server.py"]).env("DEBUG", "1").cwd("/tmp");
/// assert_eq!(spec.args, ["server.py"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChildSpec {
    /// The program (looked up on `PATH`).
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Variables set for it, on top of this process's environment.
    pub env: Vec<(String, String)>,
    /// Its working directory (default: this process's).
    pub cwd: Option<PathBuf>,
}

impl ChildSpec {
    /// A child running `command` with `args`.
    pub fn new(
        command: impl Into<String>,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        ChildSpec {
            command: command.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            cwd: None,
        }
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets the child's working directory.
    pub fn cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// The command line, for messages.
    pub fn display(&self) -> String {
        std::iter::once(self.command.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// How long a stopped child has after SIGTERM before its group gets SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(2);

/// A running child: the peer that talks to it, and its lifetime.
pub(crate) struct Child {
    /// The peer whose other side is the child.
    pub(crate) peer: Peer,
    /// Cancelled to stop the child (its group gets SIGTERM, then SIGKILL).
    stop: CancellationToken,
    /// Cancelled once the child has exited and been reaped.
    exited: CancellationToken,
    /// How it ended, once it did: "exit status 3", "killed by signal 9".
    status: Arc<Mutex<Option<String>>>,
    /// The server's name, for metrics and messages.
    pub(crate) name: Arc<str>,
}

impl Child {
    /// Spawns the child and connects `handler` (what the child's own requests and
    /// notifications go to) to it.
    pub(crate) fn spawn(
        name: Arc<str>,
        spec: &ChildSpec,
        handler: Arc<dyn Handler>,
        config: PeerConfig,
    ) -> std::io::Result<Child> {
        let mut command = tokio::process::Command::new(&spec.command);
        command
            .args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            // BR-5: a group of its own, so a stop reaches what the child started too.
            .process_group(0)
            .kill_on_drop(true);
        if let Some(cwd) = &spec.cwd {
            command.current_dir(cwd);
        }
        let mut child = command.spawn()?;
        let pid = child.id();
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(std::io::Error::other(
                "the child's stdin or stdout is not piped",
            ));
        };
        let peer = Peer::connect(LineTransport::new(stdout, stdin), handler, config);
        let stop = CancellationToken::new();
        let exited = CancellationToken::new();
        let status = Arc::new(Mutex::new(None));
        metrics::gauge!("mcp_http_bridge_children", "server" => name.to_string()).increment(1.0);
        tracing::info!(server = %name, pid, command = %spec.display(), "child started");
        // Its stdout closing (it exited, or closed it) stops it.
        {
            let (peer, stop) = (peer.clone(), stop.clone());
            tokio::spawn(async move {
                tokio::select! {
                    _ = peer.closed() => stop.cancel(),
                    _ = stop.cancelled() => {}
                }
            });
        }
        {
            let (peer, stop, exited, status, name) = (
                peer.clone(),
                stop.clone(),
                exited.clone(),
                status.clone(),
                name.clone(),
            );
            tokio::spawn(async move {
                let ended = tokio::select! {
                    ended = child.wait() => ended,
                    _ = stop.cancelled() => {
                        signal_group(pid, rustix::process::Signal::TERM);
                        match tokio::time::timeout(TERM_GRACE, child.wait()).await {
                            Ok(ended) => ended,
                            Err(_) => {
                                signal_group(pid, rustix::process::Signal::KILL);
                                child.wait().await
                            }
                        }
                    }
                };
                // Whatever the child left in its group goes with it.
                signal_group(pid, rustix::process::Signal::KILL);
                let described = match ended {
                    Ok(s) => describe(s),
                    Err(e) => format!("could not be waited for ({e})"),
                };
                tracing::info!(server = %name, pid, status = %described, "child ended");
                if let Ok(mut slot) = status.lock() {
                    *slot = Some(described);
                }
                metrics::gauge!("mcp_http_bridge_children", "server" => name.to_string())
                    .decrement(1.0);
                peer.close();
                exited.cancel();
            });
        }
        Ok(Child {
            peer,
            stop,
            exited,
            status,
            name,
        })
    }

    /// Stops the child (SIGTERM to its group, SIGKILL after a grace period) and waits until
    /// it is reaped.
    pub(crate) async fn stop(&self) {
        self.stop.cancel();
        self.exited.cancelled().await;
    }

    /// Resolves once the child has exited and been reaped.
    pub(crate) async fn exited(&self) {
        self.exited.cancelled().await;
    }

    /// Whether the child is gone (or going: its pipe closed).
    pub(crate) fn is_gone(&self) -> bool {
        self.peer.is_closed() || self.exited.is_cancelled()
    }

    /// How it ended, if it did.
    pub(crate) fn status(&self) -> Option<String> {
        self.status.lock().ok().and_then(|s| s.clone())
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Sends `signal` to the process group led by `pid`; a group already gone is fine.
fn signal_group(pid: Option<u32>, signal: rustix::process::Signal) {
    let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) else {
        return;
    };
    if let Some(pid) = rustix::process::Pid::from_raw(pid) {
        let _ = rustix::process::kill_process_group(pid, signal);
    }
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}
