#!/usr/bin/env bash
# Interop of OUR CLI (mcp-http list/call/ping/listen, --era auto) against 2026-07-28 servers:
#   - ts-v2: the official TypeScript SDK v2 (@modelcontextprotocol/server 2.4.0,
#     interop/node/modern_server.mjs, createMcpHandler);
#   - py: the official Python SDK (mcp 2.3.0's MCPServer, interop/python/standin_server.py),
#     which serves 2026-07-28 next to its legacy sessions.
# Checks, each one `mcp-http` command as a user types it:
#   era          `ping` says it used the modern era (server/discover, no initialize)
#   tools        `list` shows the fixture tools; `call echo` answers
#   mrtr_elicit  `call ask_name --elicit accept-defaults`: an input-required result answered by
#                elicitation and the call retried (MR-1): "Hello, Ada"
#   mrtr_sample  `call sample_llm --sampling-reply ...`: the same with sampling
#   listen       `listen --tools` prints notifications/tools/list_changed, tagged with its
#                subscription id, after `call trigger_tool_change`
#   cancel       `call slow seconds=5 --timeout 1` gives up by closing the stream (H-5), and the
#                server saw the cancellation (`call last_cancelled`)
#
#   scripts/interop-modern.sh [LABEL...]      (labels: ts-v2 py)
#
# Prints one line per check, then a table; exits 1 on any FAIL. Logs: target/interop-modern/.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
ALL_LABELS=(ts-v2 py)
for l in "$@"; do
  [[ " ${ALL_LABELS[*]} " == *" $l "* ]] || { echo "interop-modern.sh: unknown label $l (${ALL_LABELS[*]})" >&2; exit 2; }
done
SELECTED=("$@")
sel() { [[ ${#SELECTED[@]} -eq 0 || " ${SELECTED[*]} " == *" $1 "* ]]; }
out=$(scripts/peers.sh --env)
eval "$out"
cargo build --locked -q -p mcp-http
BIN=$REPO/target/debug/mcp-http
LOGS=$REPO/target/interop-modern
mkdir -p "$LOGS"

SERVER_PID=""
LISTEN_PID=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [[ -n $LISTEN_PID ]]; then kill "$LISTEN_PID" 2>/dev/null || true; fi
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM

free_port() {
  "$PEERS_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

declare -A RESULT
CHECKS=(era tools mrtr_elicit mrtr_sample listen cancel)
passed=0
failed=0
record() { # status check detail
  RESULT[$label,$2]=$1
  if [[ $1 == PASS ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  echo "$1 $label $2: $3"
}
# expect CHECK PATTERN CMD...: runs `mcp-http CMD...`; PASS when stdout matches PATTERN.
expect() {
  local check=$1 pattern=$2 got
  shift 2
  got=$(timeout 60 "$BIN" "$@" 2>>"$LOGS/$label.cli.log") || true
  if grep -qE "$pattern" <<<"$got"; then
    record PASS "$check" "$* -> $(head -c 120 <<<"$got" | tr '\n' ' ')"
  else
    record FAIL "$check" "$* printed '$(head -c 300 <<<"$got" | tr '\n' ' ')', expected /$pattern/ (see $LOGS/$label.cli.log)"
  fi
}

run_peer() { # label; SERVER_CMD set
  label=$1
  local port url
  port=$(free_port)
  url="http://127.0.0.1:$port/mcp"
  : >"$LOGS/$label.server.log"
  : >"$LOGS/$label.cli.log"
  echo "== $label ($url): ${SERVER_CMD[*]}"
  "${SERVER_CMD[@]//@PORT@/$port}" >>"$LOGS/$label.server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  expect era 'modern era, protocol 2026-07-28' ping "$url"
  expect tools '^echo\(' list "$url"
  expect tools '^hi$' call "$url" echo message=hi
  expect mrtr_elicit 'Hello, Ada' call "$url" ask_name --elicit accept-defaults
  expect mrtr_sample 'hello from the client' call "$url" sample_llm prompt=hi --sampling-reply "hello from the client"
  # listen: a stream of its own, then a change, then what it printed.
  "$BIN" listen "$url" --tools >"$LOGS/$label.listen.out" 2>>"$LOGS/$label.cli.log" &
  LISTEN_PID=$!
  for _ in $(seq 1 50); do
    grep -q 'listening for' "$LOGS/$label.cli.log" && break
    sleep 0.1
  done
  "$BIN" call "$url" trigger_tool_change >/dev/null 2>>"$LOGS/$label.cli.log" || true
  for _ in $(seq 1 50); do
    grep -q 'tools/list_changed' "$LOGS/$label.listen.out" && break
    sleep 0.1
  done
  kill "$LISTEN_PID" 2>/dev/null || true
  wait "$LISTEN_PID" 2>/dev/null || true
  LISTEN_PID=""
  if grep -q '"method":"notifications/tools/list_changed".*subscriptionId' "$LOGS/$label.listen.out"; then
    record PASS listen "$(head -c 160 "$LOGS/$label.listen.out")"
  else
    record FAIL listen "no tagged tools/list_changed line (see $LOGS/$label.listen.out)"
  fi
  # cancel: the CLI gives up after 1 s by closing the stream; the server must have noticed.
  "$BIN" call "$url" slow seconds=5 --timeout 1 >/dev/null 2>>"$LOGS/$label.cli.log" || true
  sleep 0.5
  expect cancel '^cancelled$' call "$url" last_cancelled
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

LABELS=()
if sel ts-v2; then
  LABELS+=(ts-v2)
  SERVER_CMD=("$NODE" "$REPO/interop/node/modern_server.mjs" @PORT@)
  run_peer ts-v2
fi
if sel py; then
  LABELS+=(py)
  SERVER_CMD=("$PEERS_PY" "$REPO/interop/python/standin_server.py" @PORT@)
  run_peer py
fi

echo
printf '%-14s' "check"
for l in "${LABELS[@]}"; do printf '%-10s' "$l"; done
echo
for c in "${CHECKS[@]}"; do
  printf '%-14s' "$c"
  for l in "${LABELS[@]}"; do printf '%-10s' "${RESULT[$l,$c]:--}"; done
  echo
done
echo "interop-modern: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
