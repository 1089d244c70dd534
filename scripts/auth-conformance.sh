#!/usr/bin/env bash
# Runs the official MCP conformance suite's authorization scenarios (client mode) against a
# client command, one scenario at a time (the strict single-scenario verdict: no FAILURE, no
# WARNING, no client timeout, a zero exit unless the scenario expects the client to give up),
# and prints "auth conformance: P passed, F failed" (AC-2). Adapted from the project's study runner:
# the suite comes from the pinned peers (scripts/peers.sh), not from npm at run time.
#
#   scripts/auth-conformance.sh [options] "<client command>"
#
#   --set NAMES       comma list of: core, draft, backcompat, extensions, all   (default: core,draft)
#   --scenario NAME   run only this scenario (repeatable; overrides --set)
#   --exclude NAME    leave this scenario out (repeatable)
#   --conformance V   0.2.0-alpha.12 (default, .peers/conf2) or 0.1.16 (.peers/conf)
#   --spec-version V  passed to the suite (with --force where it has it): every scenario on that
#                     wire. Default: each scenario on the suite's own default wire.
#   --out DIR         per-scenario logs and checks.json (default: ./target/auth-conformance)
#
# CI (scripts/interop.sh) runs: --set all with the two extensions nobody implements excluded
# (enterprise-managed-authorization, wif-jwt-bearer): 31 scenarios, dpop and dpop-nonce among them.
# Env: AUTH_CONF_TIMEOUT_MS (the suite's per-client timeout, default 30000).
# Exit status: 0 when every selected scenario passed, 1 otherwise, 2 on usage errors.
set -euo pipefail

usage() { sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

SETS=core,draft
SCENARIOS=()
EXCLUDE=()
CONF_VERSION=0.2.0-alpha.12
SPEC_VERSION=
OUT=./target/auth-conformance
CMD=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --set) SETS=$2; shift 2 ;;
    --scenario) SCENARIOS+=("$2"); shift 2 ;;
    --exclude) EXCLUDE+=("$2"); shift 2 ;;
    --conformance) CONF_VERSION=$2; shift 2 ;;
    --spec-version) SPEC_VERSION=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h | --help) usage ;;
    -*) echo "auth-conformance.sh: unknown option $1" >&2; usage ;;
    *) [[ -z $CMD ]] || usage; CMD=$1; shift ;;
  esac
done
[[ -n $CMD ]] || usage
[[ $CONF_VERSION =~ ^[0-9A-Za-z.-]+$ ]] || { echo "bad --conformance $CONF_VERSION" >&2; exit 2; }
TIMEOUT_MS=${AUTH_CONF_TIMEOUT_MS:-30000}
log() { echo "auth-conformance.sh: $*" >&2; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
eval "$("$REPO/scripts/peers.sh" --env)"
case $CONF_VERSION in
  0.2.0-alpha.12) CONF=$CONF2 ;;
  0.1.16) ;;
  *) log "--conformance must be 0.2.0-alpha.12 or 0.1.16 (the pinned peers)"; exit 2 ;;
esac

# --- Scenario selection, from the suite's own list and its applicability tags --------------------
if [[ ${#SCENARIOS[@]} -eq 0 ]]; then
  listing=$("$CONF" list --client)
  select_set() { # set-name -> scenario names on stdout
    printf '%s\n' "$listing" | sed -n 's/^ *- \(auth\/[^ ]*\) \[\(.*\)\]$/\1 \2/p' |
      while read -r name tags; do
        case "$1" in
          all) echo "$name" ;;
          extensions) [[ $tags == *extension* ]] && echo "$name" ;;
          backcompat) [[ $tags == 2025-03-26 ]] && echo "$name" ;;
          core) [[ $tags == *2025-11-25* || $tags == *2025-06-18* ]] && echo "$name" ;;
          draft) [[ $tags == draft || $tags == 2026-07-28 ]] && echo "$name" ;;
          *) echo "auth-conformance.sh: unknown set $1" >&2; return 2 ;;
        esac
      done || true
  }
  IFS=, read -r -a set_list <<<"$SETS"
  mapfile -t SCENARIOS < <(for s in "${set_list[@]}"; do select_set "$s"; done | awk '!seen[$0]++')
fi
if [[ ${#EXCLUDE[@]} -gt 0 ]]; then
  mapfile -t SCENARIOS < <(printf '%s\n' "${SCENARIOS[@]}" | grep -vxF -f <(printf '%s\n' "${EXCLUDE[@]}") || true)
fi
[[ ${#SCENARIOS[@]} -gt 0 ]] || { log "no scenarios selected"; exit 2; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
extra=()
if [[ -n $SPEC_VERSION ]]; then
  extra=(--spec-version "$SPEC_VERSION")
  # 0.2.x skips scenarios outside their applicability window unless --force; 0.1.x has no --force.
  "$CONF" client --help | grep -q -- '--force' && extra+=(--force)
fi

passed=0 failed=0 skipped=0
for scenario in "${SCENARIOS[@]}"; do
  dir=$OUT/${scenario//\//_}
  rm -rf "$dir"
  mkdir -p "$dir/results"
  rc=0
  timeout -k 5 $((TIMEOUT_MS / 1000 + 60)) "$CONF" client --command "$CMD" --scenario "$scenario" \
    --timeout "$TIMEOUT_MS" -o "$dir/results" "${extra[@]}" \
    </dev/null >"$dir/stdout.txt" 2>"$dir/stderr.txt" || rc=$?
  echo "$rc" >"$dir/rc"
  if grep -q '^SKIPPED' "$dir/stdout.txt"; then
    echo "SKIP  $scenario (not applicable at $SPEC_VERSION)"
    skipped=$((skipped + 1))
    continue
  fi
  # The failing checks, for the log line (checks.json: [{id,status,...}]).
  bad=$(node -e '
    const fs = require("fs"), path = require("path");
    const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(d, e.name)) : e.name === "checks.json" ? [path.join(d, e.name)] : []);
    const bad = new Set();
    for (const f of walk(process.argv[1]))
      for (const c of JSON.parse(fs.readFileSync(f, "utf8")))
        if (c.status === "FAILURE" || c.status === "WARNING") bad.add(c.status + ":" + c.id);
    console.log([...bad].join(" "));' "$dir/results" 2>/dev/null || true)
  notes=
  grep -q 'CLIENT TIMED OUT' "$dir/stderr.txt" && notes+="client timed out; "
  grep -q 'CLIENT EXITED WITH ERROR' "$dir/stderr.txt" && notes+="client exited non-zero; "
  if [[ $rc -eq 0 ]] && grep -q 'OVERALL: PASSED' "$dir/stderr.txt"; then
    echo "PASS  $scenario"
    passed=$((passed + 1))
  else
    echo "FAIL  $scenario ${notes}${bad:+checks: $bad}"
    failed=$((failed + 1))
  fi
done

echo "logs in $OUT"
if [[ $skipped -gt 0 ]]; then
  echo "auth conformance: $passed passed, $failed failed ($skipped skipped)"
else
  echo "auth conformance: $passed passed, $failed failed"
fi
[[ $failed -eq 0 ]]
