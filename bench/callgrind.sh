#!/usr/bin/env bash
# Instructions and allocations per call of every server of compare.sh's table, counted by
# valgrind's callgrind on the same `mcp-http bench` workload. Close to deterministic (repeated
# runs of a server agreed within 0.2% where tried) where compare.sh's timings move by 10-20%:
# use it to judge a change to the request path. Not run by CI: run it by hand.
#
#   bench/callgrind.sh                                       # the whole table (about 6 min)
#   CG_SERVERS="floor-modern ours-modern" bench/callgrind.sh # a subset
#   CG_PROFILE=ours-modern CG_TOP=40 bench/callgrind.sh      # + where ours-modern's go
#   CG_METRICS=1 bench/callgrind.sh                          # our modes with --metrics off and on
#   CG_SERVERS="ours-modern ours-modern-oauth" bench/callgrind.sh   # + behind OAuth
#
# Knobs (environment): CG_SERVERS (a subset of the names below; all by default), CG_CALLS
# (calls measured, 40000), CG_WARMUP (calls before measuring, 2000), CG_SHORT (0; N > 0 adds a
# run of N calls, see below), CG_CONCURRENCY (16), CG_PROFILE (one server's name: also list its
# top functions), CG_TOP (how many, 30), CG_PORT (18700), CG_OUT (where results go),
# SERVER_CPU (0) and LOAD_CPU (1) for taskset, CG_BUILD (1; 0 uses the binaries already in
# CG_TARGET_DIR and CG_BENCH_TARGET_DIR, by default this checkout's target/ and bench/target/).
#
# Method: callgrind_control around the measured part. Each server runs once under
# `valgrind --tool=callgrind`, pinned to SERVER_CPU: CG_WARMUP calls, then
# `callgrind_control --zero`, CG_CALLS calls, a second's pause (the server finishes closing the
# run's connections), `callgrind_control --dump`. Per call = the dump's Ir / CG_CALLS: start-up,
# warm-up and shutdown are outside it. Every run is a fresh `mcp-http bench -n N -c
# CG_CONCURRENCY` with the server's flags from compare.sh's table, pinned to LOAD_CPU, and must
# get every answer. What a run pays once (accepting and closing its connections; initialize and
# the session's end in stateful modes) stays in the dump: about 0.1M Ir, under 3 Ir per call at
# 40000 calls, less than repeated runs of a server differ by. CG_SHORT=N removes it
# anyway: the same server then also runs N calls (zeroed and dumped the same way) before the
# CG_CALLS, and per call = (Ir of CG_CALLS - Ir of N) / (CG_CALLS - N).
#
# Counted (bench/callgrind_parse.py reads the dumps): Ir, callgrind's instruction count (what
# callgrind_annotate prints as PROGRAM TOTALS). Allocations: calls into the allocator from
# outside it (mi_malloc_aligned, mi_zalloc_aligned, mi_realloc_aligned: all three binaries use
# mimalloc as their #[global_allocator]; the malloc family would count for a binary on the
# system allocator). Rust's entry points __rust_alloc, __rust_alloc_zeroed and __rust_realloc
# are counted too (the table's last column), but they undercount: generic code instantiated in
# the crate that declares the #[global_allocator] gets the allocator shim inlined and calls
# mimalloc directly (6 of the floor's 10 allocations per call go through __rust_alloc). The
# table says which entry points were absent from a dump, and when no allocation was counted.
#
# Output: the table (server | Ir per call | allocations per call | vs its floor (Ir) | through
# __rust_alloc*) on stdout and in $out/callgrind.md, one JSON line per server in
# $out/callgrind.jsonl, the dumps ($out/cg-NAME.out.1, and .2 with CG_SHORT) for
# callgrind_annotate, and with CG_PROFILE the top functions by inclusive and by exclusive Ir per
# call in $out/top-NAME.md (and on stdout). A row's floor: floor-modern for a modern row,
# floor-sse for an SSE row, floor-json-session for the stateful JSON (adaptive) row (the same
# request headers: session id, protocol version), floor-json for the others.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
calls=${CG_CALLS:-40000}
short=${CG_SHORT:-0}
warmup=${CG_WARMUP:-2000}
concurrency=${CG_CONCURRENCY:-16}
cache_sim=; [ "${CG_CACHE_SIM:-0}" = 0 ] || cache_sim=1
profile=${CG_PROFILE:-}
top=${CG_TOP:-30}
port=${CG_PORT:-18700}
server_cpu=${SERVER_CPU:-0}
load_cpu=${LOAD_CPU:-1}
build=${CG_BUILD:-1}
target=${CG_TARGET_DIR:-$root/target}
bench_target=${CG_BENCH_TARGET_DIR:-$root/bench/target}
out=${CG_OUT:-$root/bench/results/callgrind-$(date +%Y%m%d-%H%M%S)}
# CG_METRICS=1: each of our modes twice, without and with `--metrics` (a Prometheus recorder
# installed, every metric recorded; nobody scrapes), the cost of MT-2 in one run.
if [ "${CG_METRICS:-0}" = 1 ] && [ -z "${CG_SERVERS:-}" ]; then
  CG_SERVERS="ours-stateless-json ours-stateless-json-metrics ours-stateful-sse ours-stateful-sse-metrics ours-stateful-adaptive ours-stateful-adaptive-metrics ours-modern ours-modern-metrics"
fi
selected=${CG_SERVERS:-floor-json floor-sse floor-json-session rmcp-stateless-json rmcp-stateful-sse ours-stateless-json ours-stateful-sse ours-stateful-adaptive floor-modern ours-modern}
if [ -n "$profile" ]; then
  case " $selected " in *" $profile "*) ;; *)
    echo "CG_PROFILE=$profile is not among the servers measured: $selected" >&2
    exit 2
    ;;
  esac
fi
if [ "$short" -ge "$calls" ]; then
  echo "CG_SHORT ($short) must be below CG_CALLS ($calls)" >&2
  exit 2
fi
mkdir -p "$out"

if [ "$build" = 1 ]; then
  echo "== building (release)" >&2
  (cd "$root" && cargo build --release --locked -p mcp-http) >&2
  (cd "$root/bench" && cargo build --release --locked) >&2
fi
ours=$target/release/mcp-http
rmcp=$bench_target/release/rmcp-echo
floor=$bench_target/release/floor

# name | command (PORT is replaced) | bench flags (compare.sh's table)
servers_all=(
  "floor-json|$floor PORT|--stateless"
  "floor-sse|$floor PORT --sse|"
  "floor-json-session|$floor PORT --session|"
  "rmcp-stateless-json|$rmcp PORT --stateless|--stateless"
  "rmcp-stateful-sse|$rmcp PORT|"
  "ours-stateless-json|$ours serve --port PORT --stateless --response json|--stateless"
  "ours-stateful-sse|$ours serve --port PORT --response sse|"
  "ours-stateful-adaptive|$ours serve --port PORT|"
  "floor-modern|$floor PORT|--era modern"
  "ours-modern|$ours serve --port PORT|--era modern"
  "ours-stateless-json-metrics|$ours serve --port PORT --stateless --response json --metrics 127.0.0.1:0|--stateless"
  "ours-stateful-sse-metrics|$ours serve --port PORT --response sse --metrics 127.0.0.1:0|"
  "ours-stateful-adaptive-metrics|$ours serve --port PORT --metrics 127.0.0.1:0|"
  "ours-modern-metrics|$ours serve --port PORT --metrics 127.0.0.1:0|--era modern"
)
# Behind the OAuth resource server (not in the default selection: they need the pinned peers
# for the authorization server, scripts/peers.sh). The server checks a JWT from oidc-provider
# (interop/node/oauth-as.mjs) against its JWKS once, then finds it in its cache: the rows count
# the gate with a cached verified token (AR-13) against the same rows without auth.
servers_all+=(
  "ours-stateless-json-oauth|$ours serve --port PORT --stateless --response json --auth-issuer ISSUER --auth-scope mcp:read|--stateless"
  "ours-modern-oauth|$ours serve --port PORT --auth-issuer ISSUER --auth-scope mcp:read --auth-tool-scope echo=mcp:read|--era modern"
)
issuer=
auth_args=()
as_pid=
start_issuer() { # oidc-provider and a token for the endpoint (aud = $url), once
  [ -z "$issuer" ] || return 0
  local env_out token_json
  env_out=$("$root/scripts/peers.sh" --env) && eval "$env_out"
  OIDC_MODULES=$OIDC_MODULES OAUTH_AS_ACCESS_TTL=86400 "$NODE" "$root/interop/node/oauth-as.mjs" 0 >"$out/as.out" 2>"$out/as.err" &
  as_pid=$!
  for _ in $(seq 1 300); do
    issuer=$(sed -n 's/.*"issuer":"\([^"]*\)".*/\1/p' "$out/as.out" 2>/dev/null | head -n1)
    [ -z "$issuer" ] || break
    sleep 0.1
  done
  [ -n "$issuer" ] || { echo "the authorization server did not start (see $out/as.err)" >&2; return 1; }
  token_json=$(curl -s -u cc-reader:reader-secret -d grant_type=client_credentials -d scope=mcp:read \
    --data-urlencode "resource=$url" "$issuer/token")
  auth_args=(-H "Authorization: Bearer $(jq -r .access_token <<<"$token_json")")
}
# With CG_REDIS_URL (a redis-server of your own), the stateful modes once more over the Redis
# backend: `CG_SERVERS="ours-stateful-sse ours-stateful-sse-redis"`. Only our process is counted,
# not redis-server's.
if [ -n "${CG_REDIS_URL:-}" ]; then
  servers_all+=(
    "ours-stateful-sse-redis|$ours serve --port PORT --response sse --redis $CG_REDIS_URL|"
    "ours-stateful-adaptive-redis|$ours serve --port PORT --redis $CG_REDIS_URL|"
  )
fi

server_pid=
start_server() { # name command
  local name=$1 cmd=${2//PORT/$port}
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use (CG_PORT picks another)" >&2
    return 1
  fi
  rm -f "$out/cg-$name.out" "$out/cg-$name.out".*
  # shellcheck disable=SC2086
  taskset -c "$server_cpu" valgrind --tool=callgrind ${cache_sim:+--cache-sim=yes} --callgrind-out-file="$out/cg-$name.out" \
    $cmd >>"$out/servers.log" 2>"$out/valgrind-$name.log" &
  server_pid=$!
  for _ in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "server did not start: $cmd (see $out/valgrind-$name.log)" >&2
  return 1
}
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
stop_all() {
  stop_server
  if [ -n "${as_pid:-}" ]; then kill "$as_pid" 2>/dev/null || true; fi
}
trap stop_all EXIT

load() { # calls flags... -> the bench's JSON report; fails unless every call succeeded
  local n=$1 report
  shift
  report=$(taskset -c "$load_cpu" "$ours" bench "$url" --json -n "$n" -c "$concurrency" "$@" ${bench_auth[@]+"${bench_auth[@]}"})
  if ! jq -e --argjson n "$n" '.ok == $n and .errors.total == 0' <<<"$report" >/dev/null; then
    echo "load run failed ($n calls, flags: $*):" >&2
    jq -c '{requests, ok, errors}' <<<"$report" >&2 || echo "$report" >&2
    return 1
  fi
}

dump() { # name part-number label: dump the counters since the last zero to cg-NAME.out.PART
  local file=$out/cg-$1.out.$2
  sleep 1
  callgrind_control --dump="$3" "$server_pid" >/dev/null 2>&1
  for _ in $(seq 1 300); do
    if [ -s "$file" ] && tail -n 5 "$file" | grep -q '^totals:'; then return 0; fi
    sleep 0.1
  done
  echo "no dump in $file" >&2
  return 1
}

measure() { # name command flags
  local name=$1 cmd=$2 flags=$3 part=0 files=()
  echo "== $name" >&2
  bench_auth=()
  if [[ $name == *-oauth ]]; then
    start_issuer
    cmd=${cmd//ISSUER/$issuer}
    bench_auth=("${auth_args[@]}")
  fi
  start_server "$name" "$cmd"
  # shellcheck disable=SC2086
  load "$warmup" $flags
  for n in "$short" "$calls"; do
    [ "$n" -gt 0 ] || continue
    callgrind_control --zero "$server_pid" >/dev/null 2>&1
    # shellcheck disable=SC2086
    load "$n" $flags
    part=$((part + 1))
    dump "$name" "$part" "$n calls"
    files+=("$out/cg-$name.out.$part")
  done
  stop_server
  rm -f "$out/cg-$name.out" # the dump at exit: shutdown only
  python3 "$parse" row "$name" "$calls" "$short" "$warmup" "$concurrency" "${files[@]}" | tee -a "$out/callgrind.jsonl" >&2
  if [ "$name" = "$profile" ]; then
    python3 "$parse" top "$top" "$((calls - short))" "${files[@]}" >"$out/top-$name.md"
  fi
}

parse=$root/bench/callgrind_parse.py
url="http://127.0.0.1:$port/mcp"
: >"$out/callgrind.jsonl"
for entry in "${servers_all[@]}"; do
  IFS='|' read -r name cmd flags <<<"$entry"
  case " $selected " in *" $name "*) ;; *) continue ;; esac
  measure "$name" "$cmd" "$flags"
done

python3 "$parse" table "$out/callgrind.jsonl" | tee "$out/callgrind.md"
if [ -n "$profile" ]; then
  printf '\n### Top %s functions of %s (Ir per call)\n\n' "$top" "$profile"
  cat "$out/top-$profile.md"
fi
