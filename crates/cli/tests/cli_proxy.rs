//! Proxies from the environment, as the `mcp-http` client commands use them (the variables are
//! read by the real binary, run as a child process): plain HTTP goes to the proxy with the full
//! URL in the request line, https through a `CONNECT` tunnel with the proxy's credentials, and
//! `NO_PROXY` hosts directly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod forward_proxy;
mod support;

use forward_proxy::{PROXY_VARS, proxy};
use mcp_http_server_http::HttpConfig;
use support::*;

/// Runs `mcp-http ARGS...` with the given proxy variables, within 30 s: exit code and stderr.
async fn mcp(args: &[&str], vars: &[(&str, &str)]) -> (i32, String) {
    let mut env: Vec<(&str, Option<&str>)> = PROXY_VARS.iter().map(|name| (*name, None)).collect();
    env.extend(vars.iter().map(|(name, value)| (*name, Some(*value))));
    let run = run_cli(args, &env).await;
    (run.code, run.stderr)
}

#[tokio::test(flavor = "multi_thread")]
async fn proxies_from_the_environment() {
    let server = start(HttpConfig::default()).await;
    let upstream = server.url["http://".len()..]
        .trim_end_matches("/mcp")
        .to_owned();
    let port = upstream.rsplit(':').next().unwrap().to_owned();
    let (proxy_url, heads) = proxy(upstream).await;
    // A name the server accepts as Host, reached only through the proxy.
    let target = format!("http://localhost:{port}/mcp");

    let with_credentials = proxy_url.replace("http://", "http://user:pw@");
    let (code, stderr) = mcp(&["ping", &target], &[("HTTP_PROXY", &with_credentials)]).await;
    assert_eq!(code, 0, "{stderr}");
    let seen = heads.lock().unwrap().clone();
    assert!(!seen.is_empty(), "the proxy saw no request");
    for head in &seen {
        let line = head.lines().next().unwrap();
        assert!(
            line.ends_with(&format!(" {target} HTTP/1.1")),
            "a request to a proxy names the full URL: {line}"
        );
        // base64("user:pw")
        assert!(
            head.contains("proxy-authorization: Basic dXNlcjpwdw==\r\n"),
            "{head}"
        );
    }

    // NO_PROXY: straight to the server.
    heads.lock().unwrap().clear();
    let vars = [
        ("HTTP_PROXY", proxy_url.as_str()),
        ("NO_PROXY", "localhost"),
    ];
    let (code, stderr) = mcp(&["ping", &target], &vars).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        heads.lock().unwrap().is_empty(),
        "NO_PROXY was not honoured"
    );

    // https: a CONNECT tunnel, with the credentials of the proxy URL.
    let https = format!("https://localhost:{port}/mcp");
    let (code, stderr) = mcp(&["ping", &https], &[("HTTPS_PROXY", &with_credentials)]).await;
    assert_eq!(code, 1, "the proxy refused the tunnel: {stderr}");
    let seen = heads.lock().unwrap().clone();
    let head = seen.first().expect("the proxy saw no CONNECT");
    assert!(
        head.starts_with(&format!("CONNECT localhost:{port} HTTP/1.1\r\n")),
        "{head}"
    );
    assert!(
        head.contains("Proxy-Authorization: Basic dXNlcjpwdw==\r\n"),
        "{head}"
    );
}
