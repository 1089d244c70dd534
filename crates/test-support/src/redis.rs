//! A real `redis-server` for tests, on a free loopback port ([`crate::ports::free_port`]), with
//! its own config and directory (no persistence, nothing system-wide), stopped when dropped. A
//! machine without `redis-server` fails the test that asks for one (scripts/test.sh installs the
//! Debian package).
//!
//! [`RedisServer::command`] speaks enough RESP for what tests ask (`INFO`, `EXISTS`, `HSET`, ...).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`.
pub struct RedisServer {
    /// Its address on loopback.
    pub addr: SocketAddr,
    /// Its password (`requirepass`), different for each server: a process of another test that
    /// reaches this port (taken again after a kill) cannot use it.
    password: String,
    child: Option<Child>,
    dir: PathBuf,
}

/// One RESP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`, or a bulk string.
    Text(String),
    /// An integer.
    Int(i64),
    /// Nil.
    Nil,
    /// An array.
    Array(Vec<Reply>),
    /// An error reply.
    Error(String),
}

impl Reply {
    /// The integer, or a panic naming the reply.
    pub fn int(&self) -> i64 {
        match self {
            Reply::Int(n) => *n,
            other => panic!("not an integer: {other:?}"),
        }
    }

    /// The text, or a panic naming the reply.
    pub fn text(&self) -> &str {
        match self {
            Reply::Text(t) => t,
            other => panic!("not text: {other:?}"),
        }
    }
}

pub use crate::ports::free_port;

impl RedisServer {
    /// Starts `redis-server` on a free port and waits until it answers `PING`.
    pub fn start() -> RedisServer {
        for _ in 0..5 {
            let port = free_port();
            if let Some(server) = Self::start_on(port) {
                return server;
            }
        }
        panic!("redis-server did not start (see the log in the temp directory)");
    }

    fn start_on(port: u16) -> Option<RedisServer> {
        let dir =
            std::env::temp_dir().join(format!("mcp-http-redis-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let password = format!("t{:x}{port:x}{nanos:x}", std::process::id());
        let config = format!(
            "bind 127.0.0.1\nport {port}\nprotected-mode yes\ndaemonize no\nsave \"\"\n\
             appendonly no\ndir {}\nlogfile {}\ndatabases 1\nrequirepass {password}\n",
            dir.display(),
            dir.join("redis.log").display()
        );
        let conf = dir.join("redis.conf");
        std::fs::write(&conf, config).unwrap();
        let child = match Command::new("redis-server")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => panic!(
                "cannot run redis-server ({e}): install it (apt-get install -y redis-server; \
                 scripts/test.sh does)"
            ),
        };
        let mut server = RedisServer {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            password,
            child: Some(child),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(child) = server.child.as_mut()
                && let Ok(Some(_)) = child.try_wait()
            {
                return None; // exited: the port was taken after all
            }
            if let Ok(reply) = server.try_command(&["PING"])
                && reply == Reply::Text("PONG".into())
            {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Its URL, `redis://:PASSWORD@127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://:{}@{}/", self.password, self.addr)
    }

    /// Runs one command and returns its reply.
    pub fn command(&self, args: &[&str]) -> Reply {
        self.try_command(args)
            .unwrap_or_else(|e| panic!("redis {args:?}: {e}"))
    }

    fn try_command(&self, args: &[&str]) -> std::io::Result<Reply> {
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut request = format!(
            "*2\r\n$4\r\nAUTH\r\n${}\r\n{}\r\n",
            self.password.len(),
            self.password
        );
        request.push_str(&format!("*{}\r\n", args.len()));
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream.write_all(request.as_bytes())?;
        let mut reader = BufReader::new(stream);
        let auth = read_reply(&mut reader)?;
        if auth != Reply::Text("OK".into()) {
            return Err(std::io::Error::other(format!("AUTH: {auth:?}")));
        }
        read_reply(&mut reader)
    }

    /// How many times each command ran since the start or the last `CONFIG RESETSTAT`
    /// (`INFO commandstats`), by lowercase name; `AUTH` (each connection's first command) is
    /// left out.
    pub fn command_counts(&self) -> std::collections::BTreeMap<String, u64> {
        let info = self.command(&["INFO", "commandstats"]);
        info.text()
            .lines()
            .filter_map(|line| {
                let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
                let calls = rest.strip_prefix("calls=")?.split(',').next()?;
                Some((name.to_owned(), calls.parse().ok()?))
            })
            .filter(|(name, _)| name != "auth")
            .collect()
    }

    /// Starts the server again on the same port after [`RedisServer::kill`], empty (nothing is
    /// persisted), as a Redis restarted after losing its data.
    pub fn restart(&mut self) {
        self.kill();
        let conf = self.dir.join("redis.conf");
        for _ in 0..100 {
            let child = Command::new("redis-server")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server runs");
            self.child = Some(child);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Some(child) = self.child.as_mut()
                    && let Ok(Some(_)) = child.try_wait()
                {
                    break; // the port is not free yet
                }
                if self
                    .try_command(&["PING"])
                    .is_ok_and(|r| r == Reply::Text("PONG".into()))
                {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            self.child = None;
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start again on {}", self.addr);
    }

    /// Stops the server now (kill), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn read_reply(reader: &mut impl BufRead) -> std::io::Result<Reply> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let line = line.trim_end_matches("\r\n");
    let bad = || std::io::Error::other(format!("bad RESP line {line:?}"));
    let (kind, rest) = line.split_at_checked(1).ok_or_else(bad)?;
    Ok(match kind {
        "+" => Reply::Text(rest.to_owned()),
        "-" => Reply::Error(rest.to_owned()),
        ":" => Reply::Int(rest.parse().map_err(|_| bad())?),
        "$" => {
            let len: i64 = rest.parse().map_err(|_| bad())?;
            if len < 0 {
                return Ok(Reply::Nil);
            }
            let mut data = vec![0; len as usize + 2];
            reader.read_exact(&mut data)?;
            data.truncate(len as usize);
            Reply::Text(String::from_utf8_lossy(&data).into_owned())
        }
        "*" => {
            let len: i64 = rest.parse().map_err(|_| bad())?;
            if len < 0 {
                return Ok(Reply::Nil);
            }
            let mut items = Vec::new();
            for _ in 0..len {
                items.push(read_reply(reader)?);
            }
            Reply::Array(items)
        }
        _ => return Err(bad()),
    })
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
