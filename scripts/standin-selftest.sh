#!/usr/bin/env bash
# Self-test of the interop tooling against the Python stand-in server (no mcp-http needed):
# starts interop/python/standin_server.py on a free 127.0.0.1 port (twice: default and
# --legacy-only), runs scripts/conformance.sh (with interop/standin-expected-failures.yml),
# scripts/interop-clients.sh and scripts/conformance-client.sh with the Python reference client,
# and stops the servers on exit.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
peers_env=$("$REPO/scripts/peers.sh" --env)
eval "$peers_env"

pids=()
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  local p _
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  # uvicorn shuts down gracefully; give it 5 s, then SIGKILL.
  for _ in $(seq 1 50); do
    for p in "${pids[@]}"; do
      kill -0 "$p" 2>/dev/null && break
      p=""
    done
    [[ -z ${p:-} ]] && return 0
    sleep 0.1
  done
  for p in "${pids[@]}"; do
    kill -9 "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

free_port() {
  "$PEERS_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_standin() { # port extra-args... ; waits until it answers
  local port=$1
  shift
  mkdir -p "$REPO/target/conformance"
  "$PEERS_PY" "$REPO/interop/python/standin_server.py" "$port" "$@" \
    >"$REPO/target/conformance/standin-$port.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "standin-selftest: the stand-in did not start on port $port" >&2
  cat "$REPO/target/conformance/standin-$port.log" >&2
  return 1
}

status=0
port=$(free_port)
start_standin "$port"
url="http://localhost:$port/mcp"
"$REPO/scripts/conformance.sh" "$url" standin --expected-failures "$REPO/interop/standin-expected-failures.yml" || status=1
"$REPO/scripts/interop-clients.sh" "$url" --expect-auto-version 2026-07-28 || status=1

port2=$(free_port)
start_standin "$port2" --legacy-only
"$REPO/scripts/interop-clients.sh" "http://127.0.0.1:$port2/mcp" --expect-auto-version 2025-11-25 || status=1

# The reference client script knows the legacy scenarios only.
CONFORMANCE_CLIENT_MODERN=0 "$REPO/scripts/conformance-client.sh" "$PEERS_PY $REPO/interop/python/conformance_client.py" py-client || status=1

if [[ $status -eq 0 ]]; then
  echo "standin-selftest: all passed"
else
  echo "standin-selftest: FAILED"
fi
exit "$status"
