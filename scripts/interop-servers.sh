#!/usr/bin/env bash
# Interop of OUR client (mcp-http-client over mcp-http-client-http) against other servers:
#   - the official Python SDK server (mcp==2.3.0, interop/python/standin_server.py): stateful
#     with an event store, stateless_http=True, json_response=True;
#   - the official TypeScript SDK server (@modelcontextprotocol/sdk 1.32.2,
#     interop/node/sdk_server.mjs): stateful, with the SDK's InMemoryEventStore;
#   - @modelcontextprotocol/server-everything 2026.8.31 (streamableHttp), kept on 127.0.0.1 by
#     interop/node/loopback.cjs.
# For each, crates/cli/examples/client_check.rs runs initialize, the lists, echo, a call with
# progress and logs, sampling, elicitation and a resumed stream; then this script kills the
# server (SIGKILL), lets the same Client make one call, starts the server again on the same port
# and the same Client must recover with no user action.
#
#   scripts/interop-servers.sh [LABEL...]     (labels: py-stateful py-stateless py-json ts-sdk everything)
#
# Prints one line per check (PASS/FAIL/SKIP/XFAIL), then a table; exits 1 on any FAIL. A SKIP
# names what the server cannot do in that mode, an XFAIL a failure that is the server's doing
# (EXPECTED_FAIL below); neither counts as a pass. Logs: target/interop-servers/.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
ALL_LABELS=(py-stateful py-stateless py-json ts-sdk everything)
for l in "$@"; do
  [[ " ${ALL_LABELS[*]} " == *" $l "* ]] || { echo "interop-servers.sh: unknown label $l (${ALL_LABELS[*]})" >&2; exit 2; }
done
SELECTED=("$@")
sel() { [[ ${#SELECTED[@]} -eq 0 || " ${SELECTED[*]} " == *" $1 "* ]]; }
out=$(scripts/peers.sh --env)
eval "$out"
cargo build --locked -q -p mcp-http --example client_check
CHECK=$REPO/target/debug/examples/client_check
LOGS=$REPO/target/interop-servers
mkdir -p "$LOGS"
TIMEOUT=${INTEROP_TIMEOUT:-240}

SERVER_PID=""
CHK_PID=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [[ -n $CHK_PID ]]; then kill "$CHK_PID" 2>/dev/null || true; fi
  if [[ -n $SERVER_PID ]]; then kill -9 "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM

free_port() {
  "$PEERS_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts SERVER_CMD (@PORT@ replaced, and PORT in its environment) and waits until
# 127.0.0.1:PORT accepts connections.
start_server() {
  PORT=$port "${SERVER_CMD[@]//@PORT@/$port}" >>"$LOGS/$label.server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      # Every peer must listen on loopback only (server-everything through loopback.cjs).
      if command -v ss >/dev/null && ss -ltnH "sport = :$port" | grep -qvE '127\.0\.0\.1:'; then
        echo "interop-servers: $label listens beyond 127.0.0.1:" >&2
        ss -ltnH "sport = :$port" >&2
        return 1
      fi
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "interop-servers: the $label server did not start on port $port" >&2
  tail -20 "$LOGS/$label.server.log" >&2
  return 1
}

# Kills the server as a crash would (SIGKILL) and waits until the port is closed.
kill_server() {
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  for _ in $(seq 1 50); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || return 0
    sleep 0.1
  done
  echo "interop-servers: port $port still open after killing $label" >&2
  return 1
}

declare -A RESULT
CHECKS=(initialize list_tools list_resources list_prompts echo pooling progress logs sampling elicitation resume restart_down restart_recover)
# Failures that are the peer's doing, not our client's: printed as XFAIL with the reason. A
# listed check that passes fails the run, so a stale entry cannot linger.
declare -A EXPECTED_FAIL=(
)
LABELS=()
passed=0
failed=0
skipped=0
xfailed=0
record() { # status check detail
  local status=$1 detail=$3 expected=${EXPECTED_FAIL[$label,$2]:-}
  if [[ -n $expected && $status == FAIL ]]; then
    status=XFAIL
    detail="$detail (expected: $expected)"
  elif [[ -n $expected && $status == PASS ]]; then
    status=FAIL
    detail="passed, but is listed in EXPECTED_FAIL of $0: remove the entry ($detail)"
  fi
  RESULT[$label,$2]=$status
  case $status in
    PASS) passed=$((passed + 1)) ;;
    FAIL) failed=$((failed + 1)) ;;
    SKIP) skipped=$((skipped + 1)) ;;
    XFAIL) xfailed=$((xfailed + 1)) ;;
  esac
  echo "$status $label $2: $detail"
}

# run_peer LABEL FLAVOR [checker args...]; SERVER_CMD must be set.
run_peer() {
  label=$1
  local flavor=$2
  shift 2
  LABELS+=("$label")
  port=$(free_port)
  : >"$LOGS/$label.server.log"
  echo "== $label (http://127.0.0.1:$port/mcp): ${SERVER_CMD[*]}"
  if ! start_server; then
    for c in "${CHECKS[@]}"; do record FAIL "$c" "not run: the server did not start"; done
    return 0
  fi
  local to_checker from_checker line status rest
  coproc CHECKER {
    exec timeout -k 5 "$TIMEOUT" "$CHECK" "http://127.0.0.1:$port/mcp" --flavor "$flavor" --restart "$@" \
      2>"$LOGS/$label.checker.log"
  }
  CHK_PID=$CHECKER_PID
  # Keep our own copies: bash drops the coproc's variables as soon as it exits.
  exec {from_checker}<&"${CHECKER[0]}" {to_checker}>&"${CHECKER[1]}"
  while IFS= read -r -t "$TIMEOUT" -u "$from_checker" line; do
    case $line in
      "WAITING kill")
        if kill_server; then echo "   (killed $label)"; fi
        echo killed >&"$to_checker" || true
        ;;
      "WAITING start")
        if start_server; then echo "   (started $label again on port $port)"; else echo "   (could not start $label again)"; fi
        echo started >&"$to_checker" || true
        ;;
      PASS\ * | FAIL\ * | SKIP\ *)
        status=${line%% *}
        rest=${line#* }
        record "$status" "${rest%%:*}" "${rest#*: }"
        ;;
      *) echo "   $line" ;;
    esac
  done
  exec {from_checker}<&- {to_checker}>&-
  local rc=0
  wait "$CHK_PID" 2>/dev/null || rc=$?
  CHK_PID=""
  if [[ -n $SERVER_PID ]]; then kill_server || true; fi
  for c in "${CHECKS[@]}"; do
    [[ -n ${RESULT[$label,$c]:-} ]] || record FAIL "$c" "no result (the checker exited with $rc; see $LOGS/$label.checker.log)"
  done
  if [[ $rc -ne 0 && $rc -ne 1 ]]; then
    echo "interop-servers: the checker for $label exited with $rc" >&2
    failed=$((failed + 1))
  fi
}

py_cmd() { SERVER_CMD=("$PEERS_PY" "$REPO/interop/python/standin_server.py" @PORT@ "$@"); }

if sel py-stateful; then
  py_cmd
  run_peer py-stateful standin
fi
if sel py-stateless; then
  py_cmd --stateless
  run_peer py-stateless standin \
    --skip "sampling=the Python SDK has no back-channel for server-to-client requests with stateless_http=True (NoBackChannelError)" \
    --skip "elicitation=the Python SDK has no back-channel for server-to-client requests with stateless_http=True (NoBackChannelError)" \
    --skip "resume=the Python SDK uses no event store with stateless_http=True, so no stream can be resumed"
fi
if sel py-json; then
  py_cmd --json-response
  run_peer py-json standin \
    --skip "progress=the Python SDK drops every message related to a request with json_response=True (message router, #1764)" \
    --skip "logs=the Python SDK drops every message related to a request with json_response=True (message router, #1764)" \
    --skip "sampling=json_response=True has no back-channel for server-to-client requests (can_send_request=False)" \
    --skip "elicitation=json_response=True has no back-channel for server-to-client requests (can_send_request=False)" \
    --skip "resume=JSON answers have no SSE stream to resume"
fi
if sel ts-sdk; then
  SERVER_CMD=("$NODE" "$REPO/interop/node/sdk_server.mjs" @PORT@)
  run_peer ts-sdk standin
fi
if sel everything; then
  SERVER_CMD=("$NODE" --require "$REPO/interop/node/loopback.cjs" "$(readlink -f "$EVERYTHING")" streamableHttp)
  run_peer everything everything \
    --skip "resume=server-everything has no tool that closes a stream (no closeSSEStream call in its source)"
fi

echo
printf '%-16s' "check"
for l in "${LABELS[@]}"; do printf '%-14s' "$l"; done
echo
for c in "${CHECKS[@]}"; do
  printf '%-16s' "$c"
  for l in "${LABELS[@]}"; do printf '%-14s' "${RESULT[$l,$c]:--}"; done
  echo
done
echo "interop-servers: $passed passed, $failed failed, $skipped skipped, $xfailed expected failures"
[[ $failed -eq 0 ]]
