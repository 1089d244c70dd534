//! `mcp-http bridge URL` and the network between it and the remote: keep-alive pings reach the
//! remote at the interval asked for (BR-30), and the proxy variables of the environment are
//! honoured, `NO_PROXY` included (BR-31).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_support;
mod forward_proxy;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_support::*;
use serde_json::json;

/// Our client over the stdio of `mcp-http bridge URL ARGS...`, run with `vars` as its only
/// proxy variables.
async fn through_bridge(
    url: &str,
    args: &[&str],
    vars: &[(&str, &str)],
) -> mcp_http_client::Client {
    let mut bridge = tokio::process::Command::new(BIN);
    bridge.args(["bridge", url]).args(args);
    for name in forward_proxy::PROXY_VARS {
        bridge.env_remove(name);
    }
    for (name, value) in vars {
        bridge.env(name, value);
    }
    let transport = mcp_http_transport::stdio::child(bridge).unwrap();
    client_builder("stdio", Arc::new(Mutex::new(Vec::new())))
        .connect(transport)
        .await
        .unwrap()
}

/// The pings the remote answered, from its Prometheus scrape.
async fn pings(metrics: u16) -> f64 {
    let text = reqwest::get(format!("http://127.0.0.1:{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| {
            l.strip_prefix(r#"mcp_http_requests_total{method="ping",status="200"}"#)?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

/// BR-30: with `--ping-interval 0.2` the remote answers a ping about five times a second
/// while the stdio client is idle; with `--ping-interval 0` it gets none. Pings keep a legacy
/// session alive, so the bridge is pinned to that era (a 2026-07-28 remote has no session and
/// gets none; `serve` speaks both, and `--era auto` would pick 2026-07-28).
#[tokio::test]
async fn keep_alive_pings_reach_the_remote_and_stop_when_turned_off() {
    let (port, metrics) = (free_port(), free_port());
    let address = format!("127.0.0.1:{metrics}");
    let mut upstream = serve_on(port, &["--metrics", &address]).await;
    let url = format!("http://127.0.0.1:{port}/mcp");

    let client = through_bridge(&url, &["--era", "legacy", "--ping-interval", "0.2"], &[]).await;
    // 4 more pings come within 1 s here; a loaded machine's timers can run late, so the test
    // waits for them (up to 10 s): with no pings they never come.
    let before = pings(metrics).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let after = pings(metrics).await;
        if after - before >= 4.0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{before} pings, then {after} 10 s later"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client.shutdown().await;

    let client = through_bridge(&url, &["--era", "legacy", "--ping-interval", "0"], &[]).await;
    let before = pings(metrics).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        pings(metrics).await,
        before,
        "no pings with --ping-interval 0"
    );
    // The connection is alive all the same.
    let echoed = client
        .call_tool("echo", json!({"message": "idle"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "idle");
    client.shutdown().await;
    upstream.kill().unwrap();
    upstream.wait().unwrap();
}

/// BR-31: `HTTP_PROXY` (or `http_proxy`) sends every request of the bridge to the remote through
/// a real forward proxy, the full URL in each request line; `NO_PROXY` naming the host sends
/// them straight.
#[tokio::test]
async fn the_bridge_reaches_the_remote_through_the_proxy_of_the_environment() {
    let port = free_port();
    let mut upstream = serve_on(port, &[]).await;
    let (proxy_url, heads) = forward_proxy::proxy(format!("127.0.0.1:{port}")).await;
    // A name the server accepts as Host, reached only through the proxy.
    let target = format!("http://localhost:{port}/mcp");

    for variable in ["HTTP_PROXY", "http_proxy"] {
        heads.lock().unwrap().clear();
        let client = through_bridge(
            &target,
            &["--ping-interval", "0"],
            &[(variable, &proxy_url)],
        )
        .await;
        let echoed = client
            .call_tool("echo", json!({"message": "proxied"}))
            .await
            .unwrap();
        assert_eq!(text(&echoed), "proxied");
        client.shutdown().await;
        let seen = heads.lock().unwrap().clone();
        assert!(!seen.is_empty(), "{variable}: the proxy saw no request");
        for head in &seen {
            let line = head.lines().next().unwrap();
            assert!(
                line.ends_with(&format!(" {target} HTTP/1.1")),
                "{variable}: a request to a proxy names the full URL: {line}"
            );
        }
    }

    heads.lock().unwrap().clear();
    let vars = [
        ("HTTP_PROXY", proxy_url.as_str()),
        ("NO_PROXY", "localhost"),
    ];
    let client = through_bridge(&target, &["--ping-interval", "0"], &vars).await;
    let echoed = client
        .call_tool("echo", json!({"message": "direct"}))
        .await
        .unwrap();
    assert_eq!(text(&echoed), "direct");
    client.shutdown().await;
    assert!(
        heads.lock().unwrap().is_empty(),
        "NO_PROXY was not honoured"
    );
    upstream.kill().unwrap();
    upstream.wait().unwrap();
}
