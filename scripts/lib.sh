# What the interop scripts share (sourced, not run): the peers' environment, the built CLI, a
# log directory, the processes to stop on exit, waiting for a started process's URL, and the
# pass/fail count.
#
#   source scripts/lib.sh
#   interop_setup target/interop/NAME    # cd to the repo; REPO, BIN, LOGS; peers on PATH
#   spawn LABEL CMD...                   # CMD in the background, stderr to $LOGS/LABEL.log
#   wait_url LOG SED_PATTERN             # URL = the first line of LOG matching, pattern removed
#   run NAME CMD...                      # counts CMD in $passed or $failed
#
# shellcheck shell=bash

interop_setup() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  REPO=$(pwd)
  local out
  out=$(scripts/peers.sh --env)
  eval "$out"
  cargo build --locked -q -p mcp-http
  BIN=$REPO/target/debug/mcp-http
  LOGS=$REPO/$1
  mkdir -p "$LOGS"
  PIDS=()
  trap interop_cleanup EXIT
  passed=0
  failed=0
}

# shellcheck disable=SC2317  # called by the trap
interop_cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
}

spawn() {
  local label=$1
  shift
  # The log exists before `wait_url` reads it: the background child opens it only when it runs,
  # which on a busy machine can be after the first read.
  : >"$LOGS/$label.log"
  "$@" 2>"$LOGS/$label.log" &
  PIDS+=($!)
}

wait_url() {
  local log=$1 pattern=$2
  URL=""
  for _ in $(seq 1 150); do
    URL=$(sed -n "s/$pattern//p" "$log" | head -n1)
    [[ -n $URL ]] && return 0
    sleep 0.1
  done
  echo "$(basename "$0"): nothing listened (see $log)" >&2
  cat "$log" >&2
  exit 1
}

run() {
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name" >&2; fi
}
