//! `mcp-http bridge URL --username U` with a real HTTP authentication implementation in front
//! of the remote: Apache httpd (Debian's `apache2-bin`: mod_auth_digest and mod_auth_basic,
//! reverse-proxying with mod_proxy_http to `mcp-http serve`), started on loopback with a config of
//! its own. Digest (RFC 7616 MD5, qop=auth) is answered, a stale nonce renewed (BR-39); Basic is
//! sent; a wrong password is a clear error to the stdio client, not a hang (BR-40); `call`
//! takes the same options.
//! scripts/test.sh installs `apache2-bin` and `apache2-utils` when missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bridge_support::*;
use serde_json::json;

const APACHE: &str = "/usr/sbin/apache2";
const MODULES: &str = "/usr/lib/apache2/modules";
const REALM: &str = "mcp";

/// Apache httpd on a free loopback port: `/digest/` and `/basic/` proxied to `upstream` (a
/// port on loopback), user `alice` with password `wonderland`, Digest nonces living 2 s.
struct Apache {
    process: Child,
    port: u16,
    dir: PathBuf,
}

impl Apache {
    fn start(upstream: u16) -> Apache {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("mcp-http-apache-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // htdigest's format: user:realm:MD5(user:realm:password).
        let ha1 = md5_hex(&format!("alice:{REALM}:wonderland"));
        std::fs::write(dir.join("digest.users"), format!("alice:{REALM}:{ha1}\n")).unwrap();
        let basic = Command::new("htpasswd")
            .args(["-nbB", "alice", "wonderland"])
            .output()
            .expect("htpasswd (apache2-utils) is installed");
        std::fs::write(dir.join("basic.users"), basic.stdout).unwrap();
        let modules = [
            ("mpm_event_module", "mod_mpm_event.so"),
            ("authn_core_module", "mod_authn_core.so"),
            ("authn_file_module", "mod_authn_file.so"),
            ("authz_core_module", "mod_authz_core.so"),
            ("authz_user_module", "mod_authz_user.so"),
            ("auth_basic_module", "mod_auth_basic.so"),
            ("auth_digest_module", "mod_auth_digest.so"),
            ("proxy_module", "mod_proxy.so"),
            ("proxy_http_module", "mod_proxy_http.so"),
        ]
        .iter()
        .map(|(name, file)| format!("LoadModule {name} {MODULES}/{file}\n"))
        .collect::<String>();
        let d = dir.display();
        let config = format!(
            r#"{modules}
ServerRoot "{d}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{d}/httpd.pid"
ErrorLog "{d}/error.log"
LogLevel warn
LogFormat "%>s %m %U" status
CustomLog "{d}/access.log" status
User nobody
Group nogroup
<Location "/digest/">
  AuthType Digest
  AuthName "{REALM}"
  AuthDigestDomain "/digest/"
  AuthDigestProvider file
  AuthUserFile "{d}/digest.users"
  AuthDigestNonceLifetime 2
  Require valid-user
  ProxyPass "http://127.0.0.1:{upstream}/" flushpackets=on
</Location>
<Location "/basic/">
  AuthType Basic
  AuthName "{REALM}"
  AuthBasicProvider file
  AuthUserFile "{d}/basic.users"
  Require valid-user
  ProxyPass "http://127.0.0.1:{upstream}/" flushpackets=on
</Location>
"#
        );
        std::fs::write(dir.join("httpd.conf"), config).unwrap();
        // httpd drops to `nobody`, who must read the files.
        let _ = Command::new("chmod")
            .args(["-R", "a+rX"])
            .arg(&dir)
            .status();
        let process = Command::new(APACHE)
            .args(["-X", "-f"])
            .arg(dir.join("httpd.conf"))
            .stdin(Stdio::null())
            .spawn()
            .expect("apache2 (apache2-bin) is installed");
        Apache { process, port, dir }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The statuses Apache answered, in order, for requests to paths starting with `prefix`.
    fn statuses(&self, prefix: &str) -> Vec<u16> {
        std::fs::read_to_string(self.dir.join("access.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut fields = l.split(' ');
                let status = fields.next()?.parse().ok()?;
                let path = fields.nth(1)?;
                path.starts_with(prefix).then_some(status)
            })
            .collect()
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// MD5 in hex, by Python's hashlib (no MD5 crate among the test's dependencies).
fn md5_hex(text: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import hashlib,sys; print(hashlib.md5(sys.argv[1].encode()).hexdigest())",
            text,
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Our client over the stdio of `mcp-http bridge URL ARGS...`, the password in the
/// environment (not argv).
async fn through_bridge(
    url: &str,
    args: &[&str],
    password: &str,
) -> Result<mcp_http_client::Client, String> {
    let mut bridge = tokio::process::Command::new(BIN);
    bridge
        .args(["bridge", url, "--ping-interval", "0"])
        .args(args)
        .env("MCP_HTTP_PASSWORD", password)
        .stderr(Stdio::piped());
    let transport = mcp_http_transport::stdio::child(bridge).unwrap();
    client_builder("stdio", Arc::new(Mutex::new(Vec::new())))
        .connect(transport)
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn digest_and_basic_through_apache_and_a_wrong_password_is_an_error() {
    let upstream_port = free_port();
    let mut upstream = serve_on(upstream_port, &[]).await;
    let mut apache = Apache::start(upstream_port);
    let port = apache.port;
    listening(&mut apache.process, port).await;

    // Digest: Apache's challenge answered, calls and progress relayed.
    let digest = apache.url("/digest/mcp");
    let client = through_bridge(&digest, &["--username", "alice", "--digest"], "wonderland")
        .await
        .unwrap();
    let echoed = client
        .call_tool("echo", json!({"message": "digest"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "digest");
    let (done, steps) = three_steps(&client).await;
    assert!(done.contains("3 steps"), "{done}");
    assert_eq!(steps, [1.0, 2.0, 3.0]);
    // The nonce lives 2 s: after that Apache answers stale=true and a new nonce is taken.
    let before = apache.statuses("/digest/").len();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let echoed = client
        .call_tool("echo", json!({"message": "after the nonce expired"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "after the nonce expired");
    // Apache logs a request when it has sent the answer's last byte, so the line of a call made
    // before the sleep can land after `before` on a loaded machine: look past those 200s. For
    // the same reason the answer's own line may come a moment after the call returned: wait
    // for it (up to 10 s), then judge what the log holds.
    let expected = |later: &[u16]| {
        let refused = later.iter().position(|s| *s == 401);
        refused.is_some_and(|at| {
            later[..at].iter().all(|s| *s == 200)
                && later[at + 1..].first() == Some(&200)
                && later[at + 1..].iter().all(|s| *s != 401)
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut later = apache.statuses("/digest/")[before..].to_vec();
    while !expected(&later) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        later = apache.statuses("/digest/")[before..].to_vec();
    }
    assert!(
        expected(&later),
        "a stale refusal, then answered with the new nonce: {later:?}"
    );
    let log = std::fs::read_to_string(apache.dir.join("error.log")).unwrap_or_default();
    assert!(!log.contains("user alice: password mismatch"), "{log}");
    client.shutdown().await;

    // Basic: sent with every request.
    let client = through_bridge(
        &apache.url("/basic/mcp"),
        &["--username", "alice"],
        "wonderland",
    )
    .await
    .unwrap();
    let echoed = client
        .call_tool("echo", json!({"message": "basic"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "basic");
    assert!(
        !apache.statuses("/basic/").contains(&401),
        "Basic needs no challenge"
    );
    client.shutdown().await;

    // `call` takes the same options (the transport's authorizer): Digest, the password from
    // a file.
    let file = apache.dir.join("password");
    std::fs::write(&file, "wonderland\n").unwrap();
    let call = Command::new(BIN)
        .args([
            "call",
            &digest,
            "echo",
            "message=called",
            "--username",
            "alice",
            "--digest",
        ])
        .arg("--password-file")
        .arg(&file)
        .env_remove("MCP_HTTP_PASSWORD")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&call.stdout);
    assert!(
        call.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&call.stderr)
    );
    assert!(out.contains("called"), "{out}");

    // A wrong password: the stdio client's initialize fails, within the test's bound, with
    // an error that says the remote refused the credentials.
    for (path, args) in [
        ("/digest/mcp", vec!["--username", "alice", "--digest"]),
        ("/basic/mcp", vec!["--username", "alice"]),
    ] {
        let refused = tokio::time::timeout(
            Duration::from_secs(20),
            through_bridge(&apache.url(path), &args, "looking-glass"),
        )
        .await
        .expect("an answer, not a hang");
        let Err(error) = refused else {
            panic!("{path}: a wrong password was accepted");
        };
        assert!(error.contains("401"), "{path}: {error}");
    }
    upstream.kill().unwrap();
    upstream.wait().unwrap();
}
