//! A remote MCP endpoint that answers what a test tells it to, for the bridge's bad-input
//! cases: plain HTTP/1.1 on loopback, one JSON answer per POST (`Content-Length` bodies only),
//! 405 to anything else, and a record of every JSON-RPC method and body it received.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The answer to a request: the HTTP status and the JSON body. A body whose `id` is
/// `"__ID__"` gets the request's id.
pub type Answer = (u16, Value);

/// `result` as the response to the request.
pub fn result(result: Value) -> Answer {
    (
        200,
        json!({"jsonrpc": "2.0", "id": "__ID__", "result": result}),
    )
}

/// A valid 2026-07-28 `server/discover` result with tools.
pub fn discover() -> Answer {
    result(json!({
        "supportedVersions": ["2026-07-28"],
        "capabilities": {"tools": {}},
        "resultType": "complete",
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "scripted", "version": "1"}}
    }))
}

/// A running scripted remote; it stops with the test's runtime.
pub struct Remote {
    port: u16,
    seen: Arc<Mutex<Vec<Value>>>,
}

impl Remote {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    /// The method of every JSON-RPC message received, in order.
    pub fn methods(&self) -> Vec<String> {
        self.bodies()
            .iter()
            .map(|b| b["method"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// How many messages of `method` were received.
    pub fn count(&self, method: &str) -> usize {
        self.methods().iter().filter(|m| *m == method).count()
    }

    /// Every JSON-RPC message received, in order, with its HTTP headers (lowercase names) in
    /// `__headers`.
    pub fn bodies(&self) -> Vec<Value> {
        self.seen.lock().unwrap().clone()
    }
}

/// A 2026-07-28 remote with no tools: `server/discover` and `tools/list` answered, every other
/// request with `answer(params)`.
pub async fn modern(answer: impl Fn(&Value) -> Answer + Send + Sync + 'static) -> Remote {
    start(move |method, params| match method {
        "server/discover" => discover(),
        "tools/list" => result(json!({"tools": [], "resultType": "complete"})),
        _ => answer(params),
    })
    .await
}

/// Starts a remote that answers each request with `answer(method, params)`; notifications
/// get 202.
pub async fn start(answer: impl Fn(&str, &Value) -> Answer + Send + Sync + 'static) -> Remote {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let answer = Arc::new(answer);
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (answer, record) = (answer.clone(), record.clone());
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut read = BufReader::new(read);
                loop {
                    let mut line = String::new();
                    if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let post = line.starts_with("POST ");
                    let mut length = 0usize;
                    let mut headers = serde_json::Map::new();
                    loop {
                        let mut header = String::new();
                        if read.read_line(&mut header).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let header = header.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':') {
                            if name.eq_ignore_ascii_case("content-length") {
                                length = value.trim().parse().unwrap_or(0);
                            }
                            headers.insert(name.to_ascii_lowercase(), json!(value.trim()));
                        }
                    }
                    let mut body = vec![0; length];
                    if read.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let (status, reply) = match serde_json::from_slice::<Value>(&body) {
                        Ok(message) if post => {
                            let mut kept = message.clone();
                            kept["__headers"] = Value::Object(headers);
                            record.lock().unwrap().push(kept);
                            let method = message["method"].as_str().unwrap_or_default();
                            match message.get("id") {
                                None => (202, None),
                                Some(id) => {
                                    let (status, mut reply) = answer(method, &message["params"]);
                                    if reply["id"] == "__ID__" {
                                        reply["id"] = id.clone();
                                    }
                                    (status, Some(reply.to_string()))
                                }
                            }
                        }
                        _ => (405, None),
                    };
                    let body = reply.unwrap_or_default();
                    let head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    if write.write_all(head.as_bytes()).await.is_err()
                        || write.write_all(body.as_bytes()).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    Remote { port, seen }
}
