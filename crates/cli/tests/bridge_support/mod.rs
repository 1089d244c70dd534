//! What the bridge's tests share: the real `mcp-http bridge` started as a process on a free
//! port, its process tree read from /proc (children, zombies), and a client of ours that
//! answers sampling and elicitation with its own name.

#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_http_client::Client;
use mcp_http_client_http::StreamableHttpClient;
use mcp_http_proto::{CreateMessageResult, ElicitResult};
use serde_json::json;

/// Ports the bridge's tests name before a process listens (outside the ephemeral range).
pub use mcp_http_test_support::ports::free_port;

pub const BIN: &str = env!("CARGO_BIN_EXE_mcp-http");

pub fn fixture() -> String {
    format!(
        "{}/tests/fixtures/misbehaving_server.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Waits (up to 10 s) until `process` accepts connections on `port`.
pub async fn listening(process: &mut Child, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(process.try_wait().unwrap().is_none(), "the process exited");
        assert!(
            Instant::now() < deadline,
            "the process did not start listening"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `mcp-http serve --port PORT --drain-timeout 0 ARGS...` (the remote of `bridge URL` tests, or
/// a server of the other transports' tests), once it listens.
pub async fn serve_on(port: u16, args: &[&str]) -> Child {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", &port.to_string(), "--drain-timeout", "0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    listening(&mut child, port).await;
    child
}

/// A running `mcp-http bridge`; SIGTERM and reaped when dropped.
pub struct Bridged {
    pub process: Child,
    pub port: u16,
}

impl Bridged {
    /// `mcp-http bridge --port 0 ARGS...`, once it listens (see [`announced`]).
    pub async fn start(args: &[&str]) -> Bridged {
        let (process, port) = announced(
            &[&["bridge", "--port", "0"], args].concat(),
            "mcp-http: bridging `",
        )
        .await;
        Bridged { process, port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// SIGTERM, then waits for the exit (within 15 s); the exit code.
    pub fn terminate(&mut self) -> i32 {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.process.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "the bridge did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Bridged {
    fn drop(&mut self) {
        if self.process.try_wait().ok().flatten().is_none() {
            self.terminate();
        }
    }
}

/// `mcp-http ARGS...` (with `--port 0`), once it listens: the port is the one it bound and
/// printed on the stderr line starting with `prefix` and naming `http://HOST:PORT` (a port
/// picked by the test and bound later could be taken by another test meanwhile). Its stderr is
/// passed on to the test's.
pub async fn announced(args: &[&str], prefix: &'static str) -> (Child, u16) {
    let mut process = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = process.stderr.take().unwrap();
    let (tell, told) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut tell = Some(tell);
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(port) = line.strip_prefix(prefix).and_then(port_in)
                && let Some(tell) = tell.take()
            {
                let _ = tell.send(port);
            }
            eprintln!("{line}");
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let port = loop {
        if let Ok(port) = told.try_recv() {
            break port;
        }
        assert!(process.try_wait().unwrap().is_none(), "the process exited");
        assert!(
            Instant::now() < deadline,
            "the process did not say where it listens within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    listening(&mut process, port).await;
    (process, port)
}

/// The port of the first `http://HOST:PORT` in `text`.
fn port_in(text: &str) -> Option<u16> {
    let (_, url) = text.split_once("http://")?;
    let authority = url.split('/').next()?;
    authority.rsplit_once(':')?.1.parse().ok()
}

/// `mcp-http serve --port 0 --drain-timeout 0 ARGS...` once it listens, and its port.
pub async fn serve_any(args: &[&str]) -> (Child, u16) {
    announced(
        &[&["serve", "--port", "0", "--drain-timeout", "0"], args].concat(),
        "mcp-http: serving MCP on ",
    )
    .await
}

/// (pid, parent pid, state) of every process.
fn processes() -> Vec<(u32, u32, char)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": the command may hold spaces, so read after the last ')'.
        let Some(rest) = stat
            .rsplit_once(')')
            .map(|(_, r)| r.trim_start().to_owned())
        else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        all.push((pid, ppid, state));
    }
    all
}

/// The live (not zombie) children of `pid`.
pub fn children(pid: u32) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|(_, ppid, state)| *ppid == pid && *state != 'Z')
        .map(|(p, _, _)| p)
        .collect()
}

/// The zombie children of `pid` (exited, never reaped).
pub fn zombies(pid: u32) -> usize {
    processes()
        .into_iter()
        .filter(|(_, ppid, state)| *ppid == pid && *state == 'Z')
        .count()
}

/// Whether process `pid` is alive (and not a zombie).
pub fn alive(pid: u32) -> bool {
    processes()
        .iter()
        .any(|(p, _, state)| *p == pid && *state != 'Z')
}

/// Waits (up to `within`) until `check` holds.
/// Waits until every child of `pid` that exited has been reaped (a child that just exited is a
/// zombie for a moment, until the bridge waits for it); fails after 5 s.
pub async fn all_reaped(pid: u32) {
    eventually(
        Duration::from_secs(5),
        "every exited child reaped (no zombie)",
        || zombies(pid) == 0,
    )
    .await;
}

pub async fn eventually(within: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A client that answers sampling and elicitation with `name`, and keeps the logs it gets.
pub async fn client(url: &str, name: &str, logs: Arc<Mutex<Vec<String>>>) -> Client {
    client_builder(name, logs)
        .connect(StreamableHttpClient::new(url).unwrap())
        .await
        .unwrap()
}

/// The builder of [`client`], for any transport.
pub fn client_builder(name: &str, logs: Arc<Mutex<Vec<String>>>) -> mcp_http_client::ClientBuilder {
    let (sampled, elicited) = (name.to_owned(), name.to_owned());
    Client::builder(name, "1.0")
        .on_log(move |l| logs.lock().unwrap().push(l.data.to_string()))
        .sampling(move |_, _| {
            let text = sampled.clone();
            async move {
                Ok(serde_json::from_value::<CreateMessageResult>(json!({
                    "role": "assistant", "model": "m", "content": {"type": "text", "text": text}}))
                .unwrap())
            }
        })
        .elicitation(move |_, _| {
            let name = elicited.clone();
            async move {
                let mut content = serde_json::Map::new();
                content.insert("name".into(), json!(name));
                content.insert("proceed".into(), json!(true));
                Ok(ElicitResult::accept(content))
            }
        })
}

/// The text of a tool result's first content block.
pub fn text(result: &mcp_http_proto::CallToolResult) -> String {
    serde_json::to_value(&result.content[0]).unwrap()["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `long_running_operation` (0.3 s, 3 steps) called with a progress callback: its text and
/// the progress values seen.
pub async fn three_steps(client: &Client) -> (String, Vec<f64>) {
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let options = mcp_http_core::RequestOptions::default()
        .on_progress(move |p| seen.lock().unwrap().push(p.progress));
    let done = client
        .call_tool_with(
            "long_running_operation",
            json!({"duration": 0.3, "steps": 3}),
            options,
        )
        .await
        .unwrap();
    let steps = progress.lock().unwrap().clone();
    (text(&done), steps)
}

/// Through a client built by [`client_builder`] named `name`: the debug level set, then
/// `long_running_operation` with its progress and logs, and a sampling and an elicitation round
/// trip answered by the client.
pub async fn progress_logs_sampling_and_elicitation(
    client: &Client,
    logs: &Arc<Mutex<Vec<String>>>,
    name: &str,
) {
    client
        .set_logging_level(mcp_http_proto::LoggingLevel::Debug)
        .await
        .unwrap();
    let (done, steps) = three_steps(client).await;
    assert!(done.contains("3 steps"), "{done}");
    assert_eq!(steps, [1.0, 2.0, 3.0]);
    let got = logs.lock().unwrap().clone();
    assert!(got.iter().any(|l| l.contains("step 3 of 3")), "{got:?}");
    let sampled = client
        .call_tool("sample_llm", json!({"prompt": "hi"}))
        .await
        .unwrap();
    assert_eq!(text(&sampled), format!("LLM response: {name}"));
    let elicited = client
        .call_tool("ask_user", json!({"message": "name?"}))
        .await
        .unwrap();
    assert!(text(&elicited).contains(name), "{}", text(&elicited));
}
