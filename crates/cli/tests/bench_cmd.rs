//! `mcp-http bench` run as a user would: the real binary against our server on loopback, its
//! `--json` report read back. No timing is asserted, only counts, ordering and error kinds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use mcp_http_server::{Server, ToolDef, ToolError};
use mcp_http_server_http::{HttpConfig, ResponseMode};
use serde_json::Value;
use support::*;

/// Runs `mcp-http bench` with these arguments; returns the exit code and stdout as JSON.
async fn bench(args: &[&str]) -> (i32, Value) {
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-http"))
            .arg("bench")
            .args(args)
            .arg("--json")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("bench timed out")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap(), report)
}

fn assert_clean(report: &Value, requests: u64) {
    assert_eq!(report["requests"], requests, "{report:#}");
    assert_eq!(report["ok"], requests, "{report:#}");
    assert_eq!(report["errors"]["total"], 0, "{report:#}");
    let l = &report["latency_us"];
    let p = |k: &str| l[k].as_f64().unwrap();
    assert!(p("p50") > 0.0, "{report:#}");
    assert!(
        p("p50") <= p("p90")
            && p("p90") <= p("p99")
            && p("p99") <= p("p999")
            && p("p999") <= p("max"),
        "percentiles out of order: {l}"
    );
    assert!(report["throughput_rps"].as_f64().unwrap() > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateless_json_run_counts_every_call() {
    let server = start(
        HttpConfig::default()
            .stateless(true)
            .response_mode(ResponseMode::Json),
    )
    .await;
    let (code, report) = bench(&[&server.url, "--stateless", "-n", "300", "-c", "8"]).await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["mode"], "stateless");
    assert_clean(&report, 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateful_sse_run_spreads_workers_over_sessions() {
    let server = start(HttpConfig::default().response_mode(ResponseMode::Sse)).await;
    let (code, report) = bench(&[
        &server.url,
        "--sessions",
        "3",
        "-n",
        "300",
        "-c",
        "6",
        "--args",
        r#"{"message":"x"}"#,
    ])
    .await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["mode"], "stateful");
    assert_eq!(report["sessions"], 3);
    assert_clean(&report, 300);
    // The sessions were really initialized on the server.
    assert_eq!(server.session_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_counted_by_kind() {
    let failing = Server::builder("failing", "1")
        .tool(ToolDef::new(
            "fail",
            "Always fails",
            |_: serde_json::Value, _| async { Err::<String, _>(ToolError::failed("no")) },
        ))
        .build();
    let server = start_with(failing, HttpConfig::default()).await;

    // An unknown tool: a JSON-RPC error for every call.
    let (code, report) = bench(&[&server.url, "--tool", "nope", "-n", "20", "-c", "2"]).await;
    assert_eq!(code, 1, "errors make the exit code 1");
    assert_eq!(report["requests"], 20);
    assert_eq!(report["ok"], 0);
    assert_eq!(
        report["errors"]["by_kind"]["json-rpc -32602"], 20,
        "{report:#}"
    );

    // A tool that answers isError.
    let (_, report) = bench(&[&server.url, "--tool", "fail", "-n", "10"]).await;
    assert_eq!(
        report["errors"]["by_kind"]["tool isError"], 10,
        "{report:#}"
    );

    // No session against a stateful server: HTTP 400.
    let (_, report) = bench(&[&server.url, "--stateless", "-n", "5"]).await;
    assert_eq!(report["errors"]["by_kind"]["http 400"], 5, "{report:#}");

    // Nobody listening: transport errors, and the run still ends after its count.
    let dead = format!(
        "http://127.0.0.1:{}/mcp",
        mcp_http_test_support::ports::free_port()
    );
    let (_, report) = bench(&[&dead, "--stateless", "-n", "5", "--timeout", "2"]).await;
    assert_eq!(report["requests"], 5, "{report:#}");
    assert_eq!(report["errors"]["by_kind"]["transport"], 5, "{report:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duration_bounds_the_run() {
    let server = start(HttpConfig::default()).await;
    let (code, report) = bench(&[&server.url, "--duration", "0.5", "-c", "2"]).await;
    assert_eq!(code, 0, "{report:#}");
    let elapsed = report["elapsed_s"].as_f64().unwrap();
    assert!((0.5..5.0).contains(&elapsed), "{report:#}");
    assert!(report["ok"].as_u64().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_sessions_and_streams_stay_open() {
    let server = start(HttpConfig::default()).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-http"))
        .args([
            "bench",
            &server.url,
            "--hold-sessions",
            "20",
            "--get-streams",
        ])
        .args(["-c", "4", "--duration", "20", "--json"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("no ready line")
        .unwrap()
        .unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(ready["sessions"], 20, "{ready}");
    assert_eq!(ready["streams"], 20, "{ready}");
    assert_eq!(ready["errors"], 0, "{ready}");
    assert_eq!(server.session_count(), 20);
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_compare_reports_both_rates() {
    let server = start(HttpConfig::default()).await;
    let (code, report) = bench(&[&server.url, "--client-compare", "-n", "50"]).await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["era"], "legacy", "{report:#}");
    assert_eq!(report["calls"], 50);
    assert!(report["ours_rps"].as_f64().unwrap() > 0.0, "{report:#}");
    assert!(
        report["raw_hyper_rps"].as_f64().unwrap() > 0.0,
        "{report:#}"
    );
    assert!(report["ratio"].as_f64().unwrap() > 0.0, "{report:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_compare_speaks_the_modern_era() {
    let server = start(HttpConfig::default()).await;
    let (code, report) = bench(&[
        &server.url,
        "--client-compare",
        "--era",
        "modern",
        "-n",
        "50",
    ])
    .await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["era"], "modern", "{report:#}");
    assert_eq!(report["calls"], 50);
    assert!(report["ours_rps"].as_f64().unwrap() > 0.0, "{report:#}");
    assert!(
        report["raw_hyper_rps"].as_f64().unwrap() > 0.0,
        "{report:#}"
    );
    // Neither side opened a session: every call stood alone.
    assert_eq!(server.session_count(), 0, "{report:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_compare_runs_one_client_alone() {
    let server = start(HttpConfig::default()).await;
    for (only, ran, absent) in [
        ("ours", "ours_rps", "raw_hyper_rps"),
        ("raw", "raw_hyper_rps", "ours_rps"),
    ] {
        for era in ["legacy", "modern"] {
            let (code, report) = bench(&[
                &server.url,
                "--client-compare",
                "--era",
                era,
                "--only",
                only,
                "-n",
                "20",
            ])
            .await;
            assert_eq!(code, 0, "{report:#}");
            assert_eq!(report["era"], era, "{report:#}");
            assert!(report[ran].as_f64().unwrap() > 0.0, "{report:#}");
            assert!(report[absent].is_null(), "{report:#}");
            assert!(report["ratio"].is_null(), "{report:#}");
        }
    }
}

/// The soak's mixed workload (RL-52): every kind of operation ran and was checked, per window,
/// with no error; the abandoned sessions are then ended by the idle reaper, the deleted ones
/// are already gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_workload_runs_every_operation_without_error() {
    let server = start(
        HttpConfig::default()
            .retry(Duration::from_millis(50))
            .idle_timeout(Duration::from_millis(1500)),
    )
    .await;
    let (code, report) = bench(&[
        &server.url,
        "--mix",
        "--duration",
        "3",
        "--window",
        "1",
        "-c",
        "2",
    ])
    .await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["errors"], serde_json::json!({}), "{report:#}");
    for (op, n) in report["ops"].as_object().unwrap() {
        assert!(n.as_u64().unwrap() > 0, "no {op}: {report:#}");
    }
    let ops = &report["ops"];
    assert_eq!(
        ops["quick call"],
        ops["progress call"].as_u64().unwrap() * 16
    );
    let windows = report["windows"].as_array().unwrap();
    assert!(windows.len() >= 3, "{report:#}");
    assert!(windows[0]["quick_latency_us"]["p50"].as_f64().unwrap() > 0.0);
    // Abandoned sessions are reaped once idle; nothing else is left open.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while server.session_count() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} sessions left after the run",
            server.session_count()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
