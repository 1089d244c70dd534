//! `mcp-http bridge URL` to a 2026-07-28 server (BR-50..BR-58): a stdio client of ours (a
//! legacy client as far as the bridge's stdin and stdout go) drives the real bridge process
//! against `mcp-http serve --era modern`, which refuses `initialize`, so everything that works
//! went through the 2026-07-28 path: tools, progress and logs, sampling and elicitation through
//! input-required results, cancellation, list changes and resource updates through listen
//! streams, `--ignore-tool`, parameter headers. Bad remotes are small HTTP servers of the test
//! (`bad_remote`) that answer what the case needs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_remote;
mod bridge_support;

use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_support::*;
use mcp_http_client::{Client, Era, RequestError};
use mcp_http_proto::ProtocolVersion;
use serde_json::{Value, json};

async fn serve_modern(port: u16) -> Child {
    serve_on(port, &["--era", "modern"]).await
}

/// The bridge to `url` with `args`, as a stdio transport.
fn bridge(url: &str, args: &[&str]) -> impl mcp_http_core::Transport {
    let mut bridge = tokio::process::Command::new(BIN);
    bridge.args(["bridge", url]).args(args);
    mcp_http_transport::stdio::child(bridge).unwrap()
}

/// `serve --era modern` on a free port, and its URL.
async fn modern_upstream() -> (Child, String) {
    let (upstream, port) = serve_any(&["--era", "modern"]).await;
    (upstream, format!("http://127.0.0.1:{port}/mcp"))
}

fn stop(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

fn rpc_error(e: RequestError) -> mcp_http_proto::ErrorObject {
    match e {
        RequestError::Rpc(e) => e,
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_legacy_stdio_client_reaches_a_2026_server_through_the_bridge() {
    let (upstream, url) = modern_upstream().await;

    // The server really is modern-only: the legacy era pinned on the bridge gets nowhere.
    let refused = client_builder("legacy", Arc::new(Mutex::new(Vec::new())))
        .connect(bridge(&url, &["--era", "legacy"]))
        .await;
    assert!(refused.is_err(), "a modern-only server took initialize");

    let logs = Arc::new(Mutex::new(Vec::new()));
    let client = client_builder("stdio", logs.clone())
        .connect(bridge(
            &url,
            &["--header", "X-Bridge-Test: ${PATH}", "--ignore-tool", "add"],
        ))
        .await
        .unwrap();
    // The stdio side is legacy: initialize, answered from server/discover.
    assert_eq!(client.era(), Era::Legacy);
    assert_eq!(client.protocol_version(), ProtocolVersion::LATEST_LEGACY);
    assert_eq!(client.server_info().unwrap().name, "mcp-http");
    client.ping().await.unwrap();

    let names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert!(names.iter().any(|n| n == "echo"), "{names:?}");
    assert!(!names.iter().any(|n| n == "add"), "{names:?}");
    let refused = client.call_tool("add", json!({"a": 1, "b": 2})).await;
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("unknown tool: add"),
        "--ignore-tool"
    );
    let echoed = client.call_tool("echo", json!({"message": "hi"})).await;
    assert_eq!(text(&echoed.unwrap()), "hi");

    // Mcp-Param-Region, mirrored from the tool's x-mcp-header: the server checks it.
    let region = client
        .call_tool(
            "test_x_mcp_header",
            json!({"region": "us-west1", "note": "n"}),
        )
        .await
        .unwrap();
    assert_eq!(text(&region), "ran in us-west1 (n)");

    // Progress under the stdio client's token; logs once it set a level (in `_meta`);
    // ctx.sample / ctx.elicit become input-required results, the bridge asks the stdio client.
    progress_logs_sampling_and_elicitation(&client, &logs, "stdio").await;
    let two_rounds = client
        .call_tool("test_input_required_result_multi_round", json!({}))
        .await
        .unwrap();
    assert!(
        text(&two_rounds).starts_with("Hello, stdio!"),
        "{}",
        text(&two_rounds)
    );
    // Roots were not declared by this stdio client, and its capabilities are what `_meta`
    // carries: the server's own -32021 comes back unchanged.
    let no_roots = client
        .call_tool("test_input_required_result_list_roots", json!({}))
        .await
        .unwrap_err();
    let no_roots = rpc_error(no_roots);
    assert_eq!(no_roots.code, -32021, "{no_roots:?}");
    assert!(no_roots.message.contains("roots"), "{}", no_roots.message);
    client.shutdown().await;
    stop(upstream);
}

/// `notifications/cancelled` of the stdio client closes the remote request's stream (BR-55):
/// the server's run ends before its last step.
#[tokio::test]
async fn a_cancelled_call_closes_its_remote_stream() {
    let (upstream, url) = modern_upstream().await;
    let client = client_builder("stdio", Arc::new(Mutex::new(Vec::new())))
        .connect(bridge(&url, &[]))
        .await
        .unwrap();
    let cancel = mcp_http_client::CancellationToken::new();
    let (first, progressed) = tokio::sync::oneshot::channel();
    let first = Mutex::new(Some(first));
    let options = mcp_http_client::RequestOptions::default()
        .cancel_token(cancel.clone())
        .on_progress(move |_| {
            if let Some(tx) = first.lock().unwrap().take() {
                let _ = tx.send(());
            }
        });
    let call = client.call_tool_with(
        "long_running_operation",
        json!({"duration": 20, "steps": 100}),
        options,
    );
    let canceller = async {
        tokio::time::timeout(Duration::from_secs(10), progressed)
            .await
            .expect("no progress within 10 s")
            .unwrap();
        cancel.cancel();
    };
    let (outcome, ()) = tokio::join!(call, canceller);
    assert!(outcome.is_err(), "the cancelled call completed");
    let mut counts = Value::Null;
    for _ in 0..100 {
        let snapshot = client
            .call_tool("test_cancellation_count", json!({}))
            .await
            .unwrap();
        counts = serde_json::from_str(&text(&snapshot)).unwrap();
        if counts["cancelled"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(counts["started"], 1, "{counts}");
    assert_eq!(counts["cancelled"], 1, "{counts}");
    assert_eq!(counts["completed"], 0, "{counts}");
    client.shutdown().await;
    stop(upstream);
}

/// List changes and resource updates come from listen streams as legacy notifications
/// (BR-56), and the listens come back after the remote restarts (an abrupt close).
#[tokio::test]
async fn list_changes_and_resource_updates_arrive_through_listen_streams() {
    let port = free_port();
    let upstream = serve_modern(port).await;
    let url = format!("http://127.0.0.1:{port}/mcp");
    let seen = Arc::new(Mutex::new(Vec::<(String, Value)>::new()));
    let kept = seen.clone();
    let client = client_builder("stdio", Arc::new(Mutex::new(Vec::new())))
        .on_notification(move |n| {
            let params = n
                .params
                .as_deref()
                .map(|p| serde_json::from_str(p).unwrap())
                .unwrap_or(Value::Null);
            kept.lock().unwrap().push((n.method.clone(), params));
        })
        .connect(bridge(&url, &[]))
        .await
        .unwrap();
    let count = |method: &str| {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|(m, _)| m == method)
            .count()
    };
    client
        .call_tool("test_trigger_tool_change", json!({}))
        .await
        .unwrap();
    eventually(Duration::from_secs(5), "tools/list_changed relayed", || {
        count("notifications/tools/list_changed") == 1
    })
    .await;

    let uri = "test://static-resource";
    client.subscribe(uri).await.unwrap();
    client
        .call_tool("update_resource", json!({"uri": uri}))
        .await
        .unwrap();
    eventually(Duration::from_secs(5), "resources/updated relayed", || {
        count("notifications/resources/updated") == 1
    })
    .await;
    let (_, params) = seen
        .lock()
        .unwrap()
        .iter()
        .find(|(m, _)| m == "notifications/resources/updated")
        .cloned()
        .unwrap();
    assert_eq!(params["uri"], uri);
    // Legacy-shaped: no listen stream's subscription id.
    assert!(params.get("_meta").is_none(), "{params}");

    client.unsubscribe(uri).await.unwrap();
    client
        .call_tool("update_resource", json!({"uri": uri}))
        .await
        .unwrap();

    // The remote goes away and comes back on the same port: the list listen reconnects.
    stop(upstream);
    let upstream = serve_modern(port).await;
    let mut relayed = false;
    for _ in 0..40 {
        client
            .call_tool("test_trigger_tool_change", json!({}))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        if count("notifications/tools/list_changed") >= 2 {
            relayed = true;
            break;
        }
    }
    assert!(relayed, "no list change relayed after the remote restarted");
    // Unsubscribed: the second update was not relayed.
    assert_eq!(count("notifications/resources/updated"), 1);
    client.shutdown().await;
    stop(upstream);
}

/// A stdio client that never answers the elicitation: the call fails with a clear error
/// after `--remote-request-timeout` (BR-53).
#[tokio::test]
async fn an_unanswered_elicitation_times_out_with_a_clear_error() {
    let (upstream, url) = modern_upstream().await;
    let client = Client::builder("silent", "1")
        .elicitation(|_, _| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Err(mcp_http_proto::ErrorObject::internal())
        })
        .connect(bridge(&url, &["--remote-request-timeout", "1"]))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let error = client
        .call_tool("ask_user", json!({"message": "name?"}))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    let error = rpc_error(error);
    assert!(
        error
            .message
            .contains("did not answer the remote server's elicitation/create within 1 s"),
        "{}",
        error.message
    );
    client.shutdown().await;
    stop(upstream);
}

/// A remote that answers `server/discover` with something that is not a discover result is
/// a legacy one for `--era auto` (it then gets `initialize`) and an error for `--era modern`.
#[tokio::test]
async fn garbage_discover_means_legacy_in_auto_and_an_error_in_modern() {
    let remote = bad_remote::start(|method, _| match method {
        "server/discover" => bad_remote::result(json!({"hello": "world"})),
        "initialize" => bad_remote::result(json!({
            "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
            "serverInfo": {"name": "old", "version": "1"}})),
        "tools/list" => bad_remote::result(json!({"tools": []})),
        _ => bad_remote::result(json!({})),
    })
    .await;
    let pinned = Client::builder("c", "1")
        .connect(bridge(&remote.url(), &["--era", "modern"]))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        pinned.contains("does not speak protocol version 2026-07-28"),
        "{pinned}"
    );
    assert!(!remote.methods().contains(&"initialize".to_owned()));
    let client = Client::builder("c", "1")
        .connect(bridge(&remote.url(), &[]))
        .await
        .unwrap();
    assert_eq!(client.server_info().unwrap().name, "old");
    assert!(client.list_tools(None).await.unwrap().tools.is_empty());
    client.shutdown().await;
    let methods = remote.methods();
    let discover = methods
        .iter()
        .rposition(|m| m == "server/discover")
        .unwrap();
    let initialize = methods.iter().position(|m| m == "initialize").unwrap();
    assert!(discover < initialize, "{methods:?}");
}

/// 401 to `server/discover` says nothing about the era: no fall back to `initialize`.
#[tokio::test]
async fn an_unauthorized_probe_is_an_error_not_a_fallback() {
    let remote = bad_remote::start(|_, _| (401, json!({"error": "no"}))).await;
    let error = Client::builder("c", "1")
        .connect(bridge(&remote.url(), &["--no-auth"]))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("401"), "{error}");
    assert_eq!(remote.methods(), ["server/discover"]);
}

/// An input-required loop that never ends stops after a bounded number of rounds, with a
/// clear error; each round's question reached the stdio client (BR-53).
#[tokio::test]
async fn an_endless_input_required_loop_is_bounded() {
    let remote = bad_remote::modern(|params| {
        bad_remote::result(json!({
            "resultType": "input_required",
            "inputRequests": {"again": {"method": "elicitation/create", "params": {
                "mode": "form", "message": "once more?",
                "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}}}},
            "requestState": format!("round-{}", params["inputResponses"].as_object().map_or(0, |_| 1)),
        }))
    })
    .await;
    let asked = Arc::new(Mutex::new(0));
    let counted = asked.clone();
    let client = Client::builder("c", "1")
        .elicitation(move |_, _| {
            *counted.lock().unwrap() += 1;
            async {
                let mut content = serde_json::Map::new();
                content.insert("name".into(), json!("x"));
                Ok(mcp_http_proto::ElicitResult::accept(content))
            }
        })
        .connect(bridge(&remote.url(), &[]))
        .await
        .unwrap();
    let error = client.call_tool("ask", json!({})).await.unwrap_err();
    let message = rpc_error(error).message;
    assert!(
        message.contains("still asked for input after 8 rounds"),
        "{message}"
    );
    assert_eq!(*asked.lock().unwrap(), 8);
    assert_eq!(remote.count("tools/call"), 9);
    // Each retry echoed the state exactly.
    assert!(
        remote
            .bodies()
            .iter()
            .any(|b| b["params"]["requestState"] == "round-1")
    );
    client.shutdown().await;
}

/// An input request for a capability the stdio client did not declare is not put to it: the
/// call fails with -32021 naming the capability (BR-53).
#[tokio::test]
async fn an_input_request_the_stdio_client_cannot_answer_is_refused() {
    let remote = bad_remote::modern(|_| {
        bad_remote::result(json!({
            "resultType": "input_required",
            "inputRequests": {"roots": {"method": "roots/list"}},
        }))
    })
    .await;
    let client = Client::builder("c", "1")
        .connect(bridge(&remote.url(), &[]))
        .await
        .unwrap();
    let error = rpc_error(client.call_tool("anything", json!({})).await.unwrap_err());
    assert_eq!(error.code, -32021);
    assert!(
        error
            .message
            .contains("`roots` capability; the local client did not declare it"),
        "{}",
        error.message
    );
    assert_eq!(remote.count("tools/call"), 1);
    client.shutdown().await;
}

/// -32022 naming no version the bridge speaks: relayed unchanged, not retried in a loop.
#[tokio::test]
async fn an_unsupported_version_error_without_a_common_version_is_relayed() {
    let remote = bad_remote::modern(|_| {
        (
            400,
            json!({"jsonrpc": "2.0", "id": null, "error": {
            "code": -32022, "message": "Unsupported protocol version",
            "data": {"supported": ["2099-01-01"], "requested": "2026-07-28"}}}),
        )
    })
    .await;
    let client = Client::builder("c", "1")
        .connect(bridge(&remote.url(), &["--header", "X-Bridge-Test: yes"]))
        .await
        .unwrap();
    let error = rpc_error(client.call_tool("anything", json!({})).await.unwrap_err());
    assert_eq!(error.code, -32022);
    // What the call carried (BR-52): the era's headers, the configured one, and the stdio
    // client's info in `_meta`.
    let bodies = remote.bodies();
    let call = bodies.iter().find(|b| b["method"] == "tools/call").unwrap();
    let headers = &call["__headers"];
    assert_eq!(headers["mcp-method"], "tools/call", "{headers}");
    assert_eq!(headers["mcp-name"], "anything", "{headers}");
    assert_eq!(headers["mcp-protocol-version"], "2026-07-28", "{headers}");
    assert_eq!(headers["x-bridge-test"], "yes", "{headers}");
    assert!(headers.get("mcp-session-id").is_none(), "{headers}");
    let meta = &call["params"]["_meta"];
    assert_eq!(
        meta["io.modelcontextprotocol/clientInfo"]["name"], "c",
        "{meta}"
    );
    assert_eq!(
        meta["io.modelcontextprotocol/protocolVersion"], "2026-07-28",
        "{meta}"
    );
    assert_eq!(error.data.unwrap()["supported"], json!(["2099-01-01"]));
    assert_eq!(remote.count("tools/call"), 1);
    client.shutdown().await;
}

/// -32020 (a header that does not match) is answered by one fresh `tools/list` and one retry,
/// whose `Mcp-Param-Region` comes from the tool's `x-mcp-header` as listed (BR-52).
#[tokio::test]
async fn a_header_mismatch_is_retried_once_after_a_fresh_tools_list() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = calls.clone();
    let remote = bad_remote::start(move |method, _| match method {
        "server/discover" => bad_remote::discover(),
        "tools/list" => bad_remote::result(json!({"resultType": "complete", "tools": [{
            "name": "where", "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"}}}}]})),
        "tools/call" if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 => (
            400,
            json!({"jsonrpc": "2.0", "id": "__ID__", "error": {
                "code": -32020, "message": "Mcp-Param-Region does not match"}}),
        ),
        _ => bad_remote::result(json!({"resultType": "complete",
            "content": [{"type": "text", "text": "ran"}]})),
    })
    .await;
    let client = Client::builder("c", "1")
        .connect(bridge(&remote.url(), &[]))
        .await
        .unwrap();
    let ran = client
        .call_tool("where", json!({"region": "eu"}))
        .await
        .unwrap();
    assert_eq!(text(&ran), "ran");
    assert_eq!(remote.count("tools/call"), 2);
    let methods = remote.methods();
    let first = methods.iter().position(|m| m == "tools/call").unwrap();
    let retry = methods.iter().rposition(|m| m == "tools/call").unwrap();
    assert!(
        methods[first..retry].iter().any(|m| m == "tools/list"),
        "no tools/list between the call and its retry: {methods:?}"
    );
    let bodies = remote.bodies();
    assert_eq!(bodies[retry]["__headers"]["mcp-param-region"], "eu");
    client.shutdown().await;
}
