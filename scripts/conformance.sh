#!/usr/bin/env bash
# Runs the official MCP conformance suite (server mode) against an already running server.
#
#   scripts/conformance.sh <server-url> <label> [--expected-failures FILE]
#
# Runs both
#   conformance@0.1.16         server --url URL --suite all
#   conformance@0.2.0-alpha.12 server --url URL --requirements 2025-11-25
# each under `timeout` ($CONFORMANCE_TIMEOUT seconds, default 120), saves everything to
# target/conformance/<label>/<suite-version>/ (stdout.txt, stderr.txt, rc, results/<scenario>/checks.json),
# prints the suites' SUMMARY lines, then judges every scenario from its checks.json
# (scripts/conformance_eval.py): exit 1 if any scenario has a FAILURE *or a WARNING* check.
# The suite itself exits 0 on warnings in server mode and its SUMMARY does not show them.
#
# Baseline (--expected-failures, the suite's YAML format; `server:` applies to both suites,
# `server-v0.1.16:` / `server-v0.2.0-alpha.12:` to one; `client:` is ignored):
#   server-v0.1.16: [server-sse-polling]
# A listed scenario that fails or warns is not counted; a listed scenario that passes is a
# failure (stale baseline), as is a listed name that neither suite ran.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 2 ]] || usage
URL=$1
LABEL=$2
shift 2
BASELINE=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --expected-failures)
      [[ $# -ge 2 ]] || usage
      BASELINE=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
      [[ -f $BASELINE ]] || { echo "conformance.sh: no such baseline: $2" >&2; exit 2; }
      shift 2
      ;;
    *) usage ;;
  esac
done
[[ $LABEL =~ ^[A-Za-z0-9._-]+$ ]] || { echo "conformance.sh: label must match [A-Za-z0-9._-]+" >&2; exit 2; }
[[ $URL =~ ^https?:// ]] || { echo "conformance.sh: url must be http(s)://..." >&2; exit 2; }
TIMEOUT=${CONFORMANCE_TIMEOUT:-120}

peers_env=$("$REPO/scripts/peers.sh" --env)
eval "$peers_env"

OUT="$REPO/target/conformance/$LABEL"
rm -rf "$OUT/v0.1.16" "$OUT/v0.2.0-alpha.12" "$OUT/verdict.txt"
mkdir -p "$OUT"

# suite-name binary args...
run_suite() {
  local name=$1 bin=$2
  shift 2
  local dir="$OUT/$name" rc=0
  mkdir -p "$dir/results"
  echo "== $name: conformance server --url $URL $* (timeout ${TIMEOUT}s)"
  timeout -k 5 "$TIMEOUT" "$bin" server --url "$URL" "$@" -o "$dir/results" \
    </dev/null >"$dir/stdout.txt" 2>"$dir/stderr.txt" || rc=$?
  echo "$rc" >"$dir/rc"
  # The SUMMARY block: scenario lines, Total, and the alpha's "Not scored" block.
  if grep -q '^=== SUMMARY ===' "$dir/stdout.txt"; then
    sed -n '/^=== SUMMARY ===/,$p' "$dir/stdout.txt" | grep -v '^[[:space:]]*$' | sed 's/^/   /'
  else
    echo "   (no SUMMARY; exit code $rc; last lines of the output:)"
    tail -n 15 "$dir/stdout.txt" "$dir/stderr.txt" | sed 's/^/   /'
  fi
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    echo "   TIMEOUT after ${TIMEOUT}s"
  fi
}

run_suite "v0.1.16" "$CONF" --suite all
run_suite "v0.2.0-alpha.12" "$CONF2" --requirements 2025-11-25

echo "== verdict (from checks.json; warnings count as failures)"
eval_args=()
if [[ -n $BASELINE ]]; then
  eval_args+=(--expected-failures "$BASELINE")
fi
status=0
python3 "$REPO/scripts/conformance_eval.py" "${eval_args[@]}" \
  "v0.1.16=$OUT/v0.1.16" "v0.2.0-alpha.12=$OUT/v0.2.0-alpha.12" | tee "$OUT/verdict.txt" || status=$?
echo "results in $OUT"
exit "$status"
