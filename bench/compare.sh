#!/usr/bin/env bash
# Side-by-side benchmark of mcp-http's server against rmcp and a raw hyper floor, in one run on
# one machine. Not run by CI or the tests: run it by hand and copy the table into BENCHMARKS.md.
#
#   bench/compare.sh                                  # full run: 10 s x 3 runs x c=1,16,64
#   BENCH_DURATION=2 BENCH_RUNS=1 bench/compare.sh    # quick look
#
# Knobs (environment): BENCH_DURATION (s per run, 10), BENCH_RUNS (3), BENCH_WARMUP (s, 1),
# BENCH_CONCURRENCY ("1 16 64"; empty skips the load part), BENCH_SERVERS (a subset of the names below), BENCH_MEM_SESSIONS
# (10000; 0 skips the memory part), BENCH_CLIENT_CALLS (5000; 0 skips the client part),
# SERVER_CPU (0) and LOAD_CPU (1) for taskset, BENCH_OUT (where results go), BENCH_PORT (18400),
# BENCH_BUILD (1; 0 takes the release binaries already built: target/release/mcp-http and
# bench/target/release/{floor,rmcp-echo}, or BENCH_OURS for another build of ours).
#
# Each server is pinned to SERVER_CPU, `mcp-http bench` to LOAD_CPU. A run's server CPU is the
# utime+stime delta of the server process (/proc/PID/stat) over the run, divided by the calls it
# completed. Memory is VmRSS over the server's RSS before the sessions, per session (or per GET
# stream: the RSS with N sessions each holding a GET stream, minus the RSS with N idle sessions).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
duration=${BENCH_DURATION:-10}
runs=${BENCH_RUNS:-3}
warmup=${BENCH_WARMUP:-1}
concurrency=${BENCH_CONCURRENCY-"1 16 64"}
mem_sessions=${BENCH_MEM_SESSIONS:-10000}
client_calls=${BENCH_CLIENT_CALLS:-5000}
server_cpu=${SERVER_CPU:-0}
load_cpu=${LOAD_CPU:-1}
port=${BENCH_PORT:-18400}
out=${BENCH_OUT:-$root/bench/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
# 10,000 GET streams need 10,000 sockets on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "${BENCH_BUILD:-1}" != 0 ]; then
  echo "== building (release)" >&2
  (cd "$root" && cargo build --release --locked -p mcp-http) >&2
  (cd "$root/bench" && cargo build --release --locked) >&2
fi
ours=${BENCH_OURS:-$root/target/release/mcp-http}
rmcp=$root/bench/target/release/rmcp-echo
floor=$root/bench/target/release/floor
clk=$(getconf CLK_TCK)

# name | command (PORT is replaced) | bench flags
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
)
selected=${BENCH_SERVERS:-floor-json floor-sse floor-json-session rmcp-stateless-json rmcp-stateful-sse ours-stateless-json ours-stateful-sse ours-stateful-adaptive floor-modern ours-modern}

server_pid=
start_server() { # command
  local cmd=${1//PORT/$port}
  # shellcheck disable=SC2086
  taskset -c "$server_cpu" $cmd 2>>"$out/servers.log" &
  server_pid=$!
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "server did not start: $cmd" >&2
  return 1
}
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap stop_server EXIT
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
load() { # url flags... -> the bench's JSON report
  local url=$1; shift
  taskset -c "$load_cpu" "$ours" bench "$url" --json "$@"
}

url="http://127.0.0.1:$port/mcp"
: >"$out/runs.jsonl"
for entry in "${servers_all[@]}"; do
  IFS='|' read -r name cmd flags <<<"$entry"
  case " $selected " in *" $name "*) ;; *) continue ;; esac
  for c in $concurrency; do
    start_server "$cmd"
    # shellcheck disable=SC2086
    load "$url" $flags -c "$c" --duration "$warmup" >/dev/null || true
    for run in $(seq 1 "$runs"); do
      before=$(cpu_ticks "$server_pid")
      # shellcheck disable=SC2086
      report=$(load "$url" $flags -c "$c" --duration "$duration") || true
      after=$(cpu_ticks "$server_pid")
      echo "$report" | jq -c --arg name "$name" --argjson c "$c" --argjson run "$run" \
        --argjson ticks "$((after - before))" --argjson clk "$clk" \
        '{name: $name, c: $c, run: $run, rps: .throughput_rps, requests: .requests,
          errors: .errors.total, p50: .latency_us.p50, p99: .latency_us.p99,
          cpu_us: (if .requests > 0 then $ticks / $clk * 1e6 / .requests else null end)}' \
        | tee -a "$out/runs.jsonl" >&2
    done
    stop_server
  done
done

hold() { # url -> RSS (KiB) of the server while the holder holds; extra flags after
  local url=$1; shift
  local fifo=$out/hold.out
  : >"$fifo"
  taskset -c "$load_cpu" "$ours" bench "$url" --hold-sessions "$mem_sessions" -c 32 \
    --duration 300 --json "$@" >"$fifo" &
  local holder=$!
  for _ in $(seq 1 1200); do
    if grep -q ready "$fifo"; then break; fi
    sleep 0.25
  done
  local rss
  rss=$(rss_kib "$server_pid")
  cat "$fifo" >&2
  kill "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  echo "$rss"
}

: >"$out/memory.jsonl"
if [ "$mem_sessions" -gt 0 ]; then
  for entry in "${servers_all[@]}"; do
    IFS='|' read -r name cmd flags <<<"$entry"
    case " $selected " in *" $name "*) ;; *) continue ;; esac
    case "$flags" in *--stateless* | *--era*) continue ;; esac
    # The memory floor is floor-sse's (it holds GET streams; the JSON floor answers GET 405).
    case "$name" in floor-json-session) continue ;; esac
    start_server "$cmd"
    base_idle=$(rss_kib "$server_pid")
    idle=$(hold "$url")
    stop_server
    start_server "$cmd"
    base_streams=$(rss_kib "$server_pid")
    streams=$(hold "$url" --get-streams)
    stop_server
    jq -cn --arg name "$name" --argjson n "$mem_sessions" --argjson b1 "$base_idle" \
      --argjson idle "$idle" --argjson b2 "$base_streams" --argjson streams "$streams" \
      '{name: $name, sessions: $n, base_kib: $b1, idle_kib: $idle, streams_kib: $streams,
        kib_per_session: (($idle - $b1) / $n),
        kib_per_stream: ((($streams - $b2) - ($idle - $b1)) / $n)}' \
      | tee -a "$out/memory.jsonl" >&2
  done
fi

: >"$out/client.jsonl"
if [ "$client_calls" -gt 0 ]; then
  start_server "$ours serve --port PORT"
  for run in $(seq 1 "$runs"); do
    for era in legacy modern; do
      taskset -c "$load_cpu" "$ours" bench "$url" --client-compare --era "$era" \
        -n "$client_calls" --json \
        | jq -c '{era, ours_rps, raw_hyper_rps, ratio}' | tee -a "$out/client.jsonl" >&2
    done
  done
  stop_server
fi

python3 "$root/bench/summarize.py" "$out" | tee "$out/table.md"
