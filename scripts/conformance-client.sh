#!/usr/bin/env bash
# Runs the official MCP conformance suite in client mode against a client command.
#
#   scripts/conformance-client.sh "<client-command>" <label> [<auth-baseline.yml>]
#
# For each scenario the suite starts a mock server and runs `<client-command> <server-url>`
# (URL appended as the last argument, env MCP_CONFORMANCE_SCENARIO=<scenario>); the client must do
# what the scenario asks and exit by itself. The command is split on spaces: no quoting, no spaces
# in paths. Scenarios:
#   conformance@0.1.16:         initialize, tools_call, elicitation-sep1034-client-defaults, sse-retry
#   conformance@0.2.0-alpha.12: json-schema-2020-12-preservation, and at --spec-version
#                               2026-07-28 (the modern era): tools_call, request-metadata,
#                               sep-2322-client-request-state, http-standard-headers,
#                               http-custom-headers, http-invalid-tool-headers,
#                               json-schema-ref-no-deref
#   conformance@0.1.16 --suite auth: OAuth, only with <auth-baseline.yml>, judged by the suite
#                               against it (mcp-http passes them all now: interop.sh runs the
#                               stricter scripts/auth-conformance.sh instead)
# CONFORMANCE_CLIENT_MODERN=0 skips the 2026-07-28 ones.
# Each scenario runs under `timeout` ($CONFORMANCE_TIMEOUT s, default 120; the suite's own per-client
# timeout is 30 s). Output in target/conformance/<label>/client-<scenario>/ (stdout.txt, stderr.txt,
# rc, results/). Prints one line per scenario; exits 1 if any scenario failed or warned.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ $# -lt 2 || $# -gt 3 ]]; then
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
CMD=$1
LABEL=$2
AUTH_BASELINE=${3:-}
[[ $LABEL =~ ^[A-Za-z0-9._-]+$ ]] || { echo "conformance-client.sh: label must match [A-Za-z0-9._-]+" >&2; exit 2; }
TIMEOUT=${CONFORMANCE_TIMEOUT:-120}

peers_env=$("$REPO/scripts/peers.sh" --env)
eval "$peers_env"

OUT="$REPO/target/conformance/$LABEL"
mkdir -p "$OUT"

passed=0
failed=0
# suite-binary scenario [spec-version]
run_scenario() {
  local bin=$1 scenario=$2 spec=${3:-} rc=0 verdict
  local dir="$OUT/client-${scenario//\//_}${spec:+-$spec}"
  local version=()
  [[ -n $spec ]] && version=(--spec-version "$spec")
  rm -rf "$dir"
  mkdir -p "$dir/results"
  timeout -k 5 "$TIMEOUT" "$bin" client --command "$CMD" --scenario "$scenario" "${version[@]}" \
    -o "$dir/results" </dev/null >"$dir/stdout.txt" 2>"$dir/stderr.txt" || rc=$?
  echo "$rc" >"$dir/rc"
  # Client mode exits 1 on failures *and* warnings; checks.json is read as well, so nothing is missed.
  verdict=$(python3 - "$dir/results" <<'EOF'
import json, sys
from pathlib import Path
bad, n = [], 0
for f in Path(sys.argv[1]).glob("**/checks.json"):
    for c in json.loads(f.read_text()):
        n += 1
        if c.get("status") in ("FAILURE", "WARNING"):
            bad.append(f"{c['status']} [{c.get('id')}] {c.get('errorMessage') or c.get('description') or ''}")
print("no checks.json" if n == 0 else "; ".join(bad))
EOF
  )
  if [[ $rc -eq 0 && -z $verdict ]]; then
    echo "PASS    client $scenario${spec:+ at $spec}"
    passed=$((passed + 1))
  else
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then
      verdict="timeout after ${TIMEOUT}s; $verdict"
    fi
    echo "FAILED  client $scenario${spec:+ at $spec} (suite exit $rc) ${verdict}"
    grep -E 'OVERALL|Error|error' "$dir/stderr.txt" "$dir/stdout.txt" 2>/dev/null | head -n 5 | sed 's/^/          /' || true
    failed=$((failed + 1))
  fi
}

for s in initialize tools_call elicitation-sep1034-client-defaults sse-retry; do
  run_scenario "$CONF" "$s"
done
run_scenario "$CONF2" json-schema-2020-12-preservation
# The 2026-07-28 era, one at a time (the suite runs a whole set in parallel, too much for a
# small machine); without --spec-version tools_call would run at the legacy wire.
# CONFORMANCE_CLIENT_MODERN=0 leaves them out (for a client of the legacy era only).
if [[ ${CONFORMANCE_CLIENT_MODERN:-1} != 0 ]]; then
  for s in tools_call request-metadata sep-2322-client-request-state http-standard-headers \
           http-custom-headers http-invalid-tool-headers json-schema-ref-no-deref; do
    run_scenario "$CONF2" "$s" 2026-07-28
  done
fi

# The OAuth scenarios (0.1.16 --suite auth), judged by the suite against the given baseline: it
# fails on an unexpected failure and on a listed scenario that passes.
if [[ -n $AUTH_BASELINE ]]; then
  dir="$OUT/client-auth-suite"
  rm -rf "$dir"
  mkdir -p "$dir/results"
  rc=0
  timeout -k 5 "$TIMEOUT" "$CONF" client --command "$CMD" --suite auth \
    --expected-failures "$AUTH_BASELINE" -o "$dir/results" \
    </dev/null >"$dir/stdout.txt" 2>"$dir/stderr.txt" || rc=$?
  if [[ $rc -eq 0 ]] && grep -q "Baseline check passed" "$dir/stdout.txt"; then
    echo "PASS    client --suite auth (as $AUTH_BASELINE expects)"
    passed=$((passed + 1))
  else
    echo "FAILED  client --suite auth (suite exit $rc): not as $AUTH_BASELINE expects"
    grep -Ei 'unexpected|stale' "$dir/stdout.txt" | head -n 10 | sed 's/^/          /' || true
    failed=$((failed + 1))
  fi
fi

echo "results in $OUT"
echo "conformance-client: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
