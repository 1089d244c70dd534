#!/usr/bin/env bash
# Runs the interop client checks against an already running server:
#   Python SDK client --mode legacy, Python SDK client --mode auto, TypeScript SDK client (1.x,
#   legacy only); with --modern also the 2026-07-28 checks of the Python SDK client (auto mode)
#   and the TypeScript SDK v2 client (versionNegotiation auto).
#
#   scripts/interop-clients.sh <server-url> [--expect-auto-version V] [--modern]
#     [--per-instance-fixtures] [--no-resume-check]
#
# --no-resume-check: test_reconnection checks the result only, not that the client resumed with
#   GET + Last-Event-ID (a stdio server behind `mcp-http bridge` cannot close the HTTP stream).
# --expect-auto-version: the protocol version the Python client's auto mode must negotiate
#   (2026-07-28 for mcp-http, which answers server/discover, and for the Python stand-in;
#   2025-11-25 for the stand-in with --legacy-only). The `python legacy` run is always pinned to
#   the initialize handshake (2025-11-25).
# --modern: also runs interop/python/modern_client_check.py and interop/node/modern_client_check.mjs
#   (tools, MRTR elicitation and sampling, subscriptions/listen, cancel by closing the stream).
#   They use mcp-http's built-in tools (ask_user, sample_llm, test_trigger_tool_change,
#   long_running_operation, test_cancellation_count), so they are for `mcp-http serve` only.
# --per-instance-fixtures: several `serve` instances behind a balancer; the modern checks match the
#   cancellation counts by the instance that ran the call and do not compare tools/list around
#   test_trigger_tool_change (that fixture changes the list of its own instance only).
# Each client runs under `timeout` ($INTEROP_TIMEOUT s, default 120). Exits 1 if any check of
# any client failed.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ $# -lt 1 ]]; then
  sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
URL=$1
shift
auto_args=()
resume_args=()
modern=0
modern_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --expect-auto-version)
      [[ $# -ge 2 ]] || { echo "interop-clients.sh: --expect-auto-version needs a value" >&2; exit 2; }
      auto_args+=(--expect-version "$2")
      shift 2
      ;;
    --modern) modern=1; shift ;;
    --per-instance-fixtures) modern_args+=(--per-instance-fixtures); shift ;;
    --no-resume-check) resume_args+=(--no-resume-check); shift ;;
    *) echo "interop-clients.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
TIMEOUT=${INTEROP_TIMEOUT:-120}

peers_env=$("$REPO/scripts/peers.sh" --env)
eval "$peers_env"

passed=0
failed=0
run() { # label command...
  local label=$1 rc=0
  shift
  echo "== $label"
  timeout -k 5 "$TIMEOUT" "$@" </dev/null || rc=$?
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1))
  else
    [[ $rc -eq 124 || $rc -eq 137 ]] && echo "FAIL $label: timed out after ${TIMEOUT}s"
    failed=$((failed + 1))
  fi
}

run "python legacy" "$PEERS_PY" "$REPO/interop/python/client_check.py" "$URL" --mode legacy --expect-version 2025-11-25 \
  "${resume_args[@]}"
run "python auto" "$PEERS_PY" "$REPO/interop/python/client_check.py" "$URL" --mode auto "${auto_args[@]}" \
  "${resume_args[@]}"
run "node (TS SDK)" "$NODE" "$REPO/interop/node/client_check.mjs" "$URL" "${resume_args[@]}"
if [[ $modern -eq 1 ]]; then
  run "python modern (auto)" "$PEERS_PY" "$REPO/interop/python/modern_client_check.py" "$URL" --mode auto "${modern_args[@]}"
  run "node modern (TS SDK v2, auto)" "$NODE" "$REPO/interop/node/modern_client_check.mjs" "$URL" "${modern_args[@]}"
fi
echo "interop-clients: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
