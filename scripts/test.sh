#!/usr/bin/env bash
# The project's test command: formatting, requirement ids (docs/requirements.md), lints, then
# every test of the workspace.
# Installs redis-server and nginx from Debian's packages when they are missing (the Redis backend's
# tests and scripts/nginx-cluster.sh start their own on loopback, with their own config and
# directory: nothing system-wide); later steps
# that need peers (Node, the conformance suite, the Python SDK) install them pinned into .peers/
# themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
# A one-off build: incremental compilation's caches would double the disk a clean run needs.
export CARGO_INCREMENTAL=0
echo "== cargo fmt --check"
cargo fmt --all --check
echo "== requirement ids"
./scripts/check-requirements.sh
echo "== cargo clippy"
# The interop feature only adds test targets (run by interop.sh), and otel the OpenTelemetry
# exporter (tested below); lint them in the same pass.
cargo clippy --workspace --all-targets --features mcp-http/interop,mcp-http/otel --locked -- -D warnings
echo "== cargo deny"
# Licenses, duplicate versions and sources of the main workspace (deny.toml); advisories when the
# RustSec database can be fetched. Installs cargo-deny, pinned, on a machine without it.
./scripts/deny.sh
echo "== redis-server, nginx, curl, python3 and apache2"
PATH=$PATH:/usr/sbin
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
# The OAuth tests' headless "browser" (crates/cli/tests/oauth_cli.rs, oauth_e2e.rs: --browser-command).
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The bridge's fault tests run a misbehaving stdio server written in Python (no packages).
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# crates/cli/tests/bridge_password.rs: Apache httpd's Digest and Basic authentication in front
# of `serve` (BR-39), started on loopback with its own config.
command -v apache2 >/dev/null 2>&1 || missing+=(apache2-bin)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
if [[ ${#missing[@]} -gt 0 ]]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
redis-server --version
nginx -v
echo "== peers for the cargo tests"
# The OAuth tests (crates/cli/tests/oauth_serve.rs, oauth_e2e.rs, oauth_gate_rules.rs) start the
# pinned oidc-provider.
./scripts/peers.sh
echo "== cargo test"
cargo test --workspace --locked
echo "== OpenTelemetry export (the otel feature, off by default): spans reach a loopback collector"
cargo test --locked -p mcp-http --features otel --test otel
echo "== the HTTP tests again, each endpoint three instances over one memory store, log and bus"
# Round-robin per request (crates/test-support/src/server.rs). Three tests check limits that are per
# instance by design, so they are left out here: the session cap and the stream cap bound one
# process's memory, and a duplicate in-flight request id is detected within one instance only.
MCP_HTTP_TEST_INSTANCES=3 cargo test --locked -p mcp-http \
  --test http_errors --test http_session_rules --test http_streams --test http_client --test http_modern \
  --test cli_client --test bench_cmd -- \
  --skip session_cap_answers_503_with_retry_after \
  --skip duplicate_inflight_id_gets_an_error_not_a_hang \
  --skip streams_per_session_are_capped
echo "== the same HTTP tests, the three instances sharing a Redis backend (a redis-server per endpoint)"
MCP_HTTP_TEST_INSTANCES=3 MCP_HTTP_TEST_REDIS=1 cargo test --locked -p mcp-http \
  --test http_errors --test http_session_rules --test http_streams --test http_client --test http_modern \
  --test cli_client --test bench_cmd --test http_cluster -- \
  --skip session_cap_answers_503_with_retry_after \
  --skip duplicate_inflight_id_gets_an_error_not_a_hang \
  --skip streams_per_session_are_capped
# The HTTP client's recovery tests live with the client transport (their server comes from
# mcp-http-test-support, which reads the same variable).
MCP_HTTP_TEST_INSTANCES=3 cargo test --locked -p mcp-http-client-http --test http_client_recovery
echo "== fuzz smoke: every target for 15 s (scripts/fuzz.sh SECONDS for a real run)"
./scripts/fuzz.sh 15
echo "== soak smoke: the mixed workload for 20 s beside 200 sessions holding GET streams (scripts/soak.sh for a real run)"
SOAK_PROFILE=debug SOAK_WORKERS=4 ./scripts/soak.sh 20 200
echo "== interop: official conformance suite and SDK clients against mcp-http serve"
./scripts/interop.sh
echo "== release build: the quick start's binary, its hot code first in .text, serving every mode"
./scripts/release-check.sh
