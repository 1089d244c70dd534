//! The `mcp-http` client commands, run as the real binary against our server on loopback:
//! readable and `--json` output of list, call, read, prompt and ping; `key=value` typed by the
//! tool's schema and `--args`; progress lines and logs on stderr; `--header`; `--timeout`;
//! elicitation and sampling answers; exit codes and one-line errors; and, on a pseudo-terminal
//! (util-linux `script`), the interactive elicitation prompt and the progress bar.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_http_proto::Tool;
use mcp_http_server::{Json, ToolDef};
use mcp_http_server_http::HttpConfig;
use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

/// Runs `mcp-http ARGS...` with stdin empty (no terminal), within 30 s.
async fn mcp(args: &[&str]) -> Run {
    run_cli(args, &[]).await
}

/// A tool that returns its arguments as structured content, to see exactly what was sent.
fn show_args() -> ToolDef {
    let schema = json!({"type": "object", "properties": {
        "name": {"type": "string"}, "count": {"type": "integer"}, "ratio": {"type": "number"},
        "flag": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}},
        "either": {"type": ["integer", "string"]}, "anything": {}
    }});
    ToolDef::raw(Tool::new("show_args", schema), |args, _| async move {
        Json(Value::Object(args))
    })
}

async fn server() -> TestServer {
    let server = mcp_http::builtin::server();
    server.add_tool(show_args());
    start_with(server, HttpConfig::default()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn list_shows_each_kind_readably_and_as_json() {
    let server = server().await;
    let url = server.url.as_str();

    let tools = mcp(&["list", url]).await;
    assert_eq!(tools.code, 0, "{tools:?}");
    assert!(
        tools
            .stdout
            .contains("add(a: number, b: number)\n    Adds two numbers and returns the sum\n"),
        "{tools:?}"
    );
    assert!(
        tools.stdout.contains("echo(message: string)\n"),
        "{tools:?}"
    );
    assert_eq!(tools.stderr, "");
    let json = mcp(&["list", url, "tools", "--json"]).await.json();
    let names: Vec<&str> = json["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"echo") && names.contains(&"show_args"),
        "{names:?}"
    );
    assert_eq!(json["tools"][0]["inputSchema"]["type"], "object");

    let resources = mcp(&["list", url, "resources"]).await;
    assert!(
        resources
            .stdout
            .contains("test://static-text  static-text (text/plain)\n"),
        "{resources:?}"
    );
    let json = mcp(&["list", url, "resources", "--json"]).await.json();
    assert_eq!(json["resources"].as_array().unwrap().len(), 3);

    let templates = mcp(&["list", url, "templates"]).await;
    assert!(
        templates
            .stdout
            .starts_with("test://template/{id}/data  template (application/json)\n"),
        "{templates:?}"
    );
    let json = mcp(&["list", url, "templates", "--json"]).await.json();
    assert_eq!(
        json["resourceTemplates"][0]["uriTemplate"],
        "test://template/{id}/data"
    );

    let prompts = mcp(&["list", url, "prompts"]).await;
    assert!(
        prompts.stdout.contains(
            "test_prompt_with_arguments(arg1, arg2)\n    A prompt with required arguments\n"
        ),
        "{prompts:?}"
    );
    let json = mcp(&["list", url, "prompts", "--json"]).await.json();
    assert_eq!(json["prompts"].as_array().unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn call_prints_the_text_or_the_raw_result() {
    let server = server().await;
    let url = server.url.as_str();
    let run = mcp(&["call", url, "add", "a=20", "b=22"]).await;
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "42\n", "")
    );
    let run = mcp(&["call", url, "add", "a=20", "b=22", "--json"]).await;
    assert_eq!(run.code, 0);
    // Exactly what the server sent: in the 2026-07-28 era (the default against our server)
    // that includes `resultType` and the server's info in `_meta`.
    let raw = run.json();
    assert_eq!(raw["content"], json!([{"type": "text", "text": "42"}]));
    assert_eq!(raw["resultType"], "complete");
    assert_eq!(
        raw["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "mcp-http"
    );
    let run = mcp(&[
        "call", url, "add", "a=20", "b=22", "--json", "--era", "legacy",
    ])
    .await;
    assert_eq!(
        run.json(),
        json!({"content": [{"type": "text", "text": "42"}]})
    );
    // Content other than text is summarized.
    let run = mcp(&["call", url, "test_image_content"]).await;
    assert!(
        run.stdout.starts_with("[image: image/png, ") && run.stdout.ends_with(" bytes]\n"),
        "{run:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn key_value_arguments_take_the_type_of_the_schema() {
    let server = server().await;
    let url = server.url.as_str();
    let run = mcp(&[
        "call",
        url,
        "show_args",
        "name=1",
        "count=2",
        "ratio=0.5",
        "flag=true",
        r#"tags=["a","b"]"#,
        "either=7",
        "anything=null",
        "extra=hello",
    ])
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    // Structured content prints as pretty JSON (and its text twin is not repeated).
    assert!(run.stdout.starts_with("{\n  \""), "{run:?}");
    assert_eq!(
        run.json(),
        json!({"name": "1", "count": 2, "ratio": 0.5, "flag": true, "tags": ["a", "b"],
               "either": 7, "anything": null, "extra": "hello"})
    );
    let run = mcp(&["call", url, "show_args", "either=seven", "name=true"]).await;
    assert_eq!(run.json(), json!({"either": "seven", "name": "true"}));

    // --args merges in, and its members win.
    let run = mcp(&[
        "call",
        url,
        "show_args",
        "name=x",
        "count=1",
        "--args",
        r#"{"name": "y", "nested": {"k": [1, 2]}}"#,
    ])
    .await;
    assert_eq!(
        run.json(),
        json!({"name": "y", "count": 1, "nested": {"k": [1, 2]}})
    );

    // A value the schema's type cannot take is refused before the call.
    let run = mcp(&["call", url, "show_args", "count=many"]).await;
    assert_eq!(
        run.one_line_error(2),
        r#"mcp-http: error: argument count: expected integer, got "many""#
    );
    let run = mcp(&["call", url, "show_args", "--args", "[1]"]).await;
    assert_eq!(
        run.one_line_error(2),
        "mcp-http: error: --args must be a JSON object"
    );
    let run = mcp(&["call", url, "show_args", "oops"]).await;
    run.one_line_error(2);
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_and_logs_go_to_stderr_as_lines_without_a_terminal() {
    let server = server().await;
    let run = mcp(&[
        "call",
        &server.url,
        "long_running_operation",
        "duration=0.3",
        "steps=3",
    ])
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "Long running operation completed: 3 steps in 0.3 s\n"
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    for step in 1..=3 {
        let progress = format!("progress {step}/3 step {step} of 3");
        let log = format!("[info] long_running_operation: step {step} of 3");
        assert!(lines.contains(&progress.as_str()), "{progress}: {run:?}");
        assert!(lines.contains(&log.as_str()), "{log}: {run:?}");
    }
    assert_eq!(lines.len(), 6, "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn read_prompt_and_ping() {
    let server = server().await;
    let url = server.url.as_str();
    let run = mcp(&["read", url, "test://static-text"]).await;
    assert_eq!(
        run.stdout,
        "This is the content of the static text resource.\n"
    );
    let json = mcp(&["read", url, "test://static-text", "--json"])
        .await
        .json();
    assert_eq!(json["contents"][0]["uri"], "test://static-text");
    let run = mcp(&["read", url, "test://static-binary"]).await;
    assert!(
        run.stdout
            .starts_with("[resource: test://static-binary (image/png), "),
        "{run:?}"
    );

    let run = mcp(&[
        "prompt",
        url,
        "test_prompt_with_arguments",
        "arg1=x",
        "arg2=2",
    ])
    .await;
    assert_eq!(
        run.stdout, "[user]\nPrompt with arguments: arg1='x', arg2='2'\n",
        "{run:?}"
    );
    let json = mcp(&["prompt", url, "test_simple_prompt", "--json"])
        .await
        .json();
    assert_eq!(json["messages"][0]["role"], "user");

    let run = mcp(&["ping", url]).await;
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("pong from mcp-http "), "{run:?}");
    assert_eq!(
        mcp(&["ping", url, "--json", "--era", "legacy"])
            .await
            .json(),
        json!({})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn headers_reach_the_server_on_every_request() {
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let record = seen.clone();
    // The principal hook sees every request's headers; a session is also bound to the
    // principal, so a request without the header would be refused (SEC-6).
    let principal = move |parts: &http::request::Parts| {
        let get = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let authorization = get("authorization");
        record
            .lock()
            .unwrap()
            .push((authorization.clone(), get("x-trace")));
        Some(mcp_http_server_http::Principal::new(authorization))
    };
    let service = mcp_http_server_http::StreamableHttpService::builder(mcp_http::builtin::server())
        .principal(principal)
        .build();
    let server = start_service(service).await;
    let run = mcp(&[
        "call",
        &server.url,
        "echo",
        "message=hi",
        "--header",
        "Authorization: Bearer alice",
        "-H",
        "X-Trace:  t-1 ",
    ])
    .await;
    assert_eq!((run.code, run.stdout.as_str()), (0, "hi\n"), "{run:?}");
    let seen = seen.lock().unwrap().clone();
    // server/discover, tools/list (for the schema), tools/call (2026-07-28, the default here).
    assert!(seen.len() >= 3, "{seen:?}");
    for (authorization, trace) in &seen {
        assert_eq!(
            (authorization.as_str(), trace.as_str()),
            ("Bearer alice", "t-1")
        );
    }

    let run = mcp(&["ping", &server.url, "--header", "no colon"]).await;
    assert_eq!(
        run.one_line_error(2),
        r#"mcp-http: error: invalid --header "no colon": expected 'Name: value'"#
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timeout_ends_the_call_with_a_clear_error() {
    let server = server().await;
    let started = Instant::now();
    let run = mcp(&[
        "call",
        &server.url,
        "long_running_operation",
        "duration=60",
        "steps=1",
        "--timeout",
        "0.5",
    ])
    .await;
    // Ended by the timeout, not by the tool (60 s), with room for a loaded machine's start.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        run.one_line_error(1),
        "mcp-http: error: tools/call long_running_operation: no answer within 0.5 s (see --timeout)"
    );
    let run = mcp(&["ping", &server.url, "--timeout", "0"]).await;
    assert_eq!(run.code, 2, "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn elicitation_is_accepted_with_defaults_or_declined() {
    let server = server().await;
    let url = server.url.as_str();
    let run = mcp(&[
        "call",
        url,
        "ask_user",
        "message=Who?",
        "--elicit",
        "accept-defaults",
    ])
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "User answered: action=accept, content={\"proceed\":true}\n"
    );
    assert_eq!(
        run.stderr,
        "elicitation: \"Who?\": accepted with the schema's defaults (--elicit accept-defaults)\n"
    );

    let run = mcp(&[
        "call",
        url,
        "ask_user",
        "message=Who?",
        "--elicit",
        "decline",
    ])
    .await;
    assert_eq!(run.stdout, "User answered: action=decline, content={}\n");

    // No terminal and no --elicit: declined, and stderr says why.
    let run = mcp(&["call", url, "ask_user", "message=Who?"]).await;
    assert_eq!(run.stdout, "User answered: action=decline, content={}\n");
    assert!(
        run.stderr.contains("declined, no terminal to ask on"),
        "{run:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sampling_is_answered_with_the_reply_given() {
    let server = server().await;
    let url = server.url.as_str();
    let run = mcp(&[
        "call",
        url,
        "sample_llm",
        "prompt=Hi",
        "--sampling-reply",
        "Hello there",
    ])
    .await;
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "LLM response: Hello there\n"),
        "{run:?}"
    );
    assert_eq!(run.stderr, "sampling: answered with --sampling-reply\n");
    // Without a reply the capability is not declared: in the 2026-07-28 era the server refuses
    // the call with -32021 naming it (M-3); in a legacy session the tool reports it.
    let run = mcp(&["call", url, "sample_llm", "prompt=Hi"]).await;
    let line = run.one_line_error(1);
    assert!(
        line.contains("-32021") && line.contains("sampling"),
        "{line}"
    );
    let run = mcp(&["call", url, "sample_llm", "prompt=Hi", "--era", "legacy"]).await;
    let line = run.one_line_error(1);
    assert!(
        line.starts_with("mcp-http: error: tool sample_llm reported an error: "),
        "{line}"
    );
    assert!(line.contains("sampling"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_exit_non_zero_with_one_line() {
    let server = server().await;
    let url = server.url.as_str();
    // An isError result: its text is the reason; --json still prints the result.
    let run = mcp(&["call", url, "test_error_handling"]).await;
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.one_line_error(1),
        "mcp-http: error: tool test_error_handling reported an error: This tool intentionally returns an error for testing"
    );
    let run = mcp(&["call", url, "test_error_handling", "--json"]).await;
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["isError"], true);

    let run = mcp(&["call", url, "no_such_tool"]).await;
    let line = run.one_line_error(1);
    assert!(
        line.starts_with(
            "mcp-http: error: tools/call no_such_tool: the server answered with error -32602"
        ),
        "{line}"
    );
    let run = mcp(&["read", url, "test://nowhere"]).await;
    assert!(
        run.one_line_error(1)
            .starts_with("mcp-http: error: resources/read: "),
        "{run:?}"
    );

    // Nothing listens on a port just freed.
    let port = mcp_http_test_support::ports::free_port();
    let refused = format!("http://127.0.0.1:{port}/mcp");
    let run = mcp(&["ping", &refused]).await;
    let line = run.one_line_error(1);
    assert!(
        line.starts_with(&format!(
            "mcp-http: error: cannot connect to {refused}: Connection refused"
        )),
        "{line}"
    );

    // A server without prompts or resources: said plainly, not "method not found".
    let tools_only = mcp_http_server::Server::builder("tools-only", "1.0")
        .tool(show_args())
        .build();
    let tools_only = start_with(tools_only, HttpConfig::default()).await;
    let run = mcp(&["list", &tools_only.url, "prompts"]).await;
    assert_eq!(
        run.one_line_error(1),
        "mcp-http: error: tools-only 1.0 does not offer prompts (no prompts capability)"
    );
    let run = mcp(&["read", &tools_only.url, "test://static-text"]).await;
    assert!(
        run.one_line_error(1).ends_with("(no resources capability)"),
        "{run:?}"
    );

    let run = mcp(&["list", "not a url"]).await;
    assert!(
        run.one_line_error(2)
            .starts_with("mcp-http: error: invalid URL \"not a url\"")
    );
    let run = mcp(&["list", "ftp://127.0.0.1/mcp"]).await;
    assert!(
        run.one_line_error(2)
            .contains("the scheme must be http or https")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_cancels_the_call_in_flight() {
    // The server sits behind a layer that keeps the POSTed `notifications/cancelled`.
    let cancellations: Arc<Mutex<Vec<Value>>> = Arc::default();
    let keep = cancellations.clone();
    let service = mcp_http_server_http::StreamableHttpService::new(
        mcp_http::builtin::server(),
        HttpConfig::default(),
    );
    let app = mcp_http_server_http::axum_router(service).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let keep = keep.clone();
            async move {
                let (parts, body) = request.into_parts();
                let bytes = axum::body::to_bytes(body, 1 << 20)
                    .await
                    .unwrap_or_default();
                if let Ok(message) = serde_json::from_slice::<Value>(&bytes)
                    && message["method"] == "notifications/cancelled"
                {
                    keep.lock().unwrap().push(message);
                }
                let request =
                    axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
                next.run(request).await
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    // A legacy session: there, cancelling is a notification (a 2026-07-28 call is cancelled by
    // closing its stream, which crates/cli/tests/http_modern.rs and interop-modern.sh check).
    let mut child = tokio::process::Command::new(BIN)
        .args([
            "call",
            &url,
            "long_running_operation",
            "duration=10",
            "steps=20",
            "--era",
            "legacy",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // The first progress line says the call is in flight (and Ctrl-C is being watched).
    let mut stderr = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), stderr.next_line())
        .await
        .expect("no progress within 10 s")
        .unwrap();
    assert_eq!(first.as_deref(), Some("progress 1/20 step 1 of 20"));
    let pid = child.id().unwrap().to_string();
    let kill = tokio::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap();
    assert!(kill.success());
    let output = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("mcp-http did not stop after SIGINT")
        .unwrap();
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    let mut rest = Vec::new();
    while let Ok(Some(line)) = stderr.next_line().await {
        rest.push(line);
    }
    assert_eq!(
        rest.last().map(String::as_str),
        Some("mcp-http: error: interrupted"),
        "{rest:?}"
    );
    // The call was cancelled, not just abandoned (X-1): `notifications/cancelled` for its id.
    let cancellations = cancellations.lock().unwrap().clone();
    assert_eq!(cancellations.len(), 1, "{cancellations:?}");
    assert!(
        cancellations[0]["params"]["requestId"].is_number(),
        "{cancellations:?}"
    );
}

/// Runs `mcp-http ARGS...` on a pseudo-terminal (util-linux `script`), typing `input`; returns
/// what the terminal showed.
async fn on_terminal(args: &[&str], input: &str) -> (i32, String) {
    let quoted: Vec<String> = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let mut child = tokio::process::Command::new("script")
        .args(["-q", "-e", "-c", &quoted.join(" "), "/dev/null"])
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("util-linux `script` runs the terminal tests; install it (bsdutils)");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("mcp-http on a terminal did not finish within 30 s")
        .unwrap();
    drop(stdin);
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_elicitation_is_asked_field_by_field() {
    let server = server().await;
    let (code, shown) = on_terminal(
        &["call", &server.url, "ask_user", "message=Who are you?"],
        "y\nRusty\nn\n",
    )
    .await;
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("The server asks: Who are you?"), "{shown}");
    assert!(
        shown.contains("Answer? [Y]es, [n]o to decline, [c]ancel: "),
        "{shown}"
    );
    assert!(
        shown.contains("name (string; required) - Your name: "),
        "{shown}"
    );
    assert!(
        shown.contains("proceed (y/n; default true) - Continue?: "),
        "{shown}"
    );
    assert!(
        shown.contains(
            "User answered: action=accept, content={\"name\":\"Rusty\",\"proceed\":false}"
        ),
        "{shown}"
    );

    let (_, shown) = on_terminal(&["call", &server.url, "ask_user", "message=Who?"], "n\n").await;
    assert!(shown.contains("User answered: action=decline"), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_progress_is_a_bar_that_is_cleared() {
    let server = server().await;
    let (code, shown) = on_terminal(
        &[
            "call",
            &server.url,
            "long_running_operation",
            "duration=0.6",
            "steps=3",
        ],
        "",
    )
    .await;
    assert_eq!(code, 0, "{shown}");
    // The bar redraws in place (erase-line sequences), shows the message, and no plain
    // progress lines are written.
    assert!(shown.contains("\u{1b}[2K"), "{shown:?}");
    assert!(shown.contains("3/3 step 3 of 3"), "{shown:?}");
    assert!(!shown.contains("progress 1/3"), "{shown:?}");
    // Logs still print as lines, and the result ends the output on a clean line.
    assert!(
        shown.contains("[info] long_running_operation: step 2 of 3\n"),
        "{shown:?}"
    );
    assert!(
        shown.ends_with("\u{1b}[2KLong running operation completed: 3 steps in 0.6 s\n"),
        "{shown:?}"
    );
}
