#!/usr/bin/env bash
# Runs the interop client checks against an already running server:
#   Python SDK client --mode legacy, Python SDK client --mode auto, TypeScript SDK client.
#
#   scripts/interop-clients.sh <server-url> [--expect-auto-version V]
#
# --expect-auto-version: the protocol version auto mode must negotiate (2025-11-25 for mcp-http;
# the Python stand-in without --legacy-only negotiates 2026-07-28). Each client runs under
# `timeout` ($INTEROP_TIMEOUT s, default 120). Exits 1 if any check of any client failed.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ $# -lt 1 ]]; then
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
URL=$1
shift
auto_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --expect-auto-version)
      [[ $# -ge 2 ]] || { echo "interop-clients.sh: --expect-auto-version needs a value" >&2; exit 2; }
      auto_args+=(--expect-version "$2")
      shift 2
      ;;
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

run "python legacy" "$PEERS_PY" "$REPO/interop/python/client_check.py" "$URL" --mode legacy
run "python auto" "$PEERS_PY" "$REPO/interop/python/client_check.py" "$URL" --mode auto "${auto_args[@]}"
run "node (TS SDK)" "$NODE" "$REPO/interop/node/client_check.mjs" "$URL"
echo "interop-clients: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
