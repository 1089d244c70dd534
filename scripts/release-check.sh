#!/usr/bin/env bash
# The release build, as the README's quick start makes it, checked (PF-115): it links, the
# quick call's code is first in its `.text` in the order of crates/cli/hot-path.ld (a build made
# in any directory), and the binary serves quick calls in every mode and both eras.
#
#   scripts/release-check.sh
#
# A failed layout check after a change to the request path means the list is stale: make it
# again with scripts/hot-order.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
work=$(mktemp -d /tmp/release-check-XXXX)
LOGS=$work
PIDS=()
trap 'interop_cleanup; rm -rf "$work"' EXIT

echo "== release build (cargo build --release -p mcp-http), with its link map"
MCP_HTTP_LINK_MAP=$work/mcp-http.map cargo build --release --locked -q -p mcp-http --bin mcp-http
bin=target/release/mcp-http

if [[ $(uname -sm) == "Linux x86_64" ]]; then
  echo "== the quick call's code first in .text (crates/cli/hot-path.ld)"
  python3 bench/hot_order.py --check crates/cli/hot-path.ld "$work/mcp-http.map"
else
  echo "== layout not checked: crates/cli/hot-path.ld is used on x86_64 Linux only"
fi

# Starts the release binary's server with ARGS; sets URL.
serve() {
  local label=serve-${#PIDS[@]}
  spawn "$label" "$bin" serve --port 0 "$@"
  wait_url "$LOGS/$label.log" '^mcp-http: serving MCP on '
}

# 2,000 quick calls, every answer checked by `mcp-http bench` (it fails on any error).
calls() {
  "$bin" bench -n 2000 -c 4 "$@"
}

echo "== the release binary serves quick calls"
serve
calls "$URL"
calls --era modern "$URL"
serve --response sse
calls "$URL"
serve --stateless --response json
calls --stateless "$URL"
echo "release-check.sh: passed"
