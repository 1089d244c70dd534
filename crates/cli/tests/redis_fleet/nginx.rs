//! A real nginx in front of a fleet, on loopback, with the config of scripts/nginx-cluster.sh
//! (scripts/nginx-cluster.conf.in, read here too: one source of truth, RB-28).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcp_http_test_support::redis::free_port;

/// The template both the script and these tests fill in.
const TEMPLATE: &str = include_str!("../../../../scripts/nginx-cluster.conf.in");

/// An nginx master process and its directory; stopped and removed when dropped.
pub struct Nginx {
    /// The MCP endpoint through nginx.
    pub url: String,
    child: Child,
    dir: PathBuf,
}

/// The nginx binary, if it is installed (Debian puts it in /usr/sbin).
pub fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
}

impl Nginx {
    /// nginx round-robin over `upstreams` (`host:port` each), once it accepts connections.
    pub async fn start(binary: &PathBuf, upstreams: &[String]) -> Nginx {
        let servers: Vec<String> = upstreams
            .iter()
            .map(|addr| format!("    server {addr} max_fails=1 fail_timeout=10s;"))
            .collect();
        for attempt in 0..5 {
            let port = free_port();
            let dir = std::env::temp_dir().join(format!(
                "mcp-http-nginx-{}-{port}-{attempt}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("logs")).unwrap();
            std::fs::create_dir_all(dir.join("tmp")).unwrap();
            let conf = TEMPLATE
                .replace("@DIR@", &dir.display().to_string())
                .replace("@UPSTREAMS@", &servers.join("\n"))
                .replace("@LISTEN@", &format!("127.0.0.1:{port}"));
            std::fs::write(dir.join("nginx.conf"), conf).unwrap();
            let mut child = Command::new(binary)
                .arg("-p")
                .arg(&dir)
                .arg("-c")
                .arg(dir.join("nginx.conf"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            if super::listening(&mut child, port).await {
                return Nginx {
                    url: format!("http://127.0.0.1:{port}/mcp"),
                    child,
                    dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            eprintln!(
                "nginx did not start: {}",
                std::fs::read_to_string(dir.join("logs/error.log")).unwrap_or_default()
            );
        }
        panic!("nginx did not start");
    }

    /// The access log so far (one line per request answered).
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("logs/access.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers too (a SIGKILL would leave them behind).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = std::fs::remove_dir_all(&self.dir);
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
