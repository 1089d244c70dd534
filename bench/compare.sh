#!/usr/bin/env bash
# Side-by-side benchmark of mcp-http's server against rmcp and a raw hyper floor, in one run on
# one machine. Not run by CI or the tests: run it by hand and copy the table into BENCHMARKS.md.
#
#   bench/compare.sh                                  # full run: 10 s x 3 runs x c=1,16,64
#   BENCH_DURATION=2 BENCH_RUNS=1 bench/compare.sh    # quick look
#
# Knobs (environment): BENCH_DURATION (s per run, 10), BENCH_RUNS (3), BENCH_WARMUP (s, 1),
# BENCH_CONCURRENCY ("1 16 64"; empty skips the load part), BENCH_SERVERS (a subset of the names
# below), BENCH_MEM_SESSIONS (10000; 0 skips the memory part), BENCH_CLIENT_CALLS (20000; 0 skips
# the client part), SERVER_CPU (0) and LOAD_CPU (1) for taskset, BENCH_OUT (where results go),
# BENCH_PORT (18400; the load part uses BENCH_PORT .. BENCH_PORT+N-1 for N servers), BENCH_BUILD
# (1; 0 takes the release binaries already built: target/release/mcp-http, or BENCH_OURS for
# another build of ours, and bench/target/release/{floor,rmcp-echo}, or BENCH_BENCH_TARGET_DIR
# for another bench target dir, e.g. /work/main/bench/target), BENCH_MAX_STEAL (unset; a
# percentage: a load run whose steal, /proc/stat's share of CPU time taken by other guests, is
# over it, over the whole run or over any one server's part of it, is taken again, every server
# of it, up to BENCH_RETAKES (3) times; the runs set aside go to retaken.jsonl and
# retaken-runs.jsonl, not into the tables).
#
# Method. Load: every selected server is started at once, each on its own port, all pinned to
# SERVER_CPU (an idle server costs nothing); `mcp-http bench` is pinned to LOAD_CPU. For each c,
# each server is warmed up once (BENCH_WARMUP s); then for each run every server is measured in
# turn, forward on odd runs and backward on even ones (ABBA: no server always first, and a floor
# and the modes compared with it, listed next to each other, run seconds apart in the same machine
# state). So the ratios summarize.py prints compare medians of runs taken side by side, and the
# per-run ratios are paired. A run's server CPU is the CPU time the server's threads spent over
# it, divided by the calls it completed: from /proc/PID/task/*/schedstat (ns on CPU, exact) when
# the kernel has it, else utime+stime ticks of /proc/PID/stat (1/CLK_TCK s); runs.jsonl keeps the
# ticks figure too (cpu_us_ticks) to check they agree, and meta.json says which is cpu_us.
# The machine's load (1-minute loadavg, and the steal share of /proc/stat's CPU time) is taken at
# the start and end of each run (load.jsonl) and shown in the table's header.
# Memory: per server a fresh process, settled (one bench round trip, then two equal RssAnon
# readings 0.2 s apart) before the base reading; then N sessions held. kib_per_session is RssAnon
# over the base, per session (RssAnon: VmRSS also counts the binary's code paged in by the first
# requests); kib_per_stream the same with each session holding a GET stream, minus the idle
# figure. kib_per_session_vmrss and kib_per_stream_vmrss keep the measure used before (VmRSS over
# a base read as soon as the port accepts), so that old and new runs compare.
# Client: per run and era, `mcp-http bench --client-compare`: our Client and a raw hyper client
# take turns in ten blocks against one server of ours. 20,000 calls a run (not 5,000 as before):
# with 5,000 one build's ratio moved 0.90x-1.10x from run to run on this shared machine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
duration=${BENCH_DURATION:-10}
runs=${BENCH_RUNS:-3}
warmup=${BENCH_WARMUP:-1}
concurrency=${BENCH_CONCURRENCY-"1 16 64"}
mem_sessions=${BENCH_MEM_SESSIONS:-10000}
client_calls=${BENCH_CLIENT_CALLS:-20000}
max_steal=${BENCH_MAX_STEAL:-}
retakes=${BENCH_RETAKES:-3}
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
bench_target=${BENCH_BENCH_TARGET_DIR:-$root/bench/target}
rmcp=$bench_target/release/rmcp-echo
floor=$bench_target/release/floor
clk=$(getconf CLK_TCK)
cpu_source=ticks
# /proc/PID/schedstat reads zeros without the kernel's sched_info; PID 1 has surely run.
if [ "$(awk '{print $1}' /proc/1/schedstat 2>/dev/null || echo 0)" -gt 0 ]; then
  cpu_source=schedstat
fi

# name | command (PORT is replaced) | bench flags. Each floor first, then the modes compared
# with it, so that they run next to each other.
servers_all=(
  "floor-json|$floor PORT|--stateless"
  "ours-stateless-json|$ours serve --port PORT --stateless --response json|--stateless"
  "rmcp-stateless-json|$rmcp PORT --stateless|--stateless"
  "floor-sse|$floor PORT --sse|"
  "ours-stateful-sse|$ours serve --port PORT --response sse|"
  "rmcp-stateful-sse|$rmcp PORT|"
  "floor-json-session|$floor PORT --session|"
  "ours-stateful-adaptive|$ours serve --port PORT|"
  "floor-modern|$floor PORT|--era modern"
  "ours-modern|$ours serve --port PORT|--era modern"
)
selected=${BENCH_SERVERS:-floor-json floor-sse floor-json-session rmcp-stateless-json rmcp-stateful-sse ours-stateless-json ours-stateful-sse ours-stateful-adaptive floor-modern ours-modern}
names=() cmds=() flagss=()
for entry in "${servers_all[@]}"; do
  IFS='|' read -r name cmd flags <<<"$entry"
  case " $selected " in *" $name "*) names+=("$name") cmds+=("$cmd") flagss+=("$flags") ;; esac
done

live=() # the pids of the servers running
started=
start_server() { # command port -> the pid in $started
  local cmd=${1//PORT/$2}
  # shellcheck disable=SC2086
  taskset -c "$server_cpu" $cmd >>"$out/servers.log" 2>&1 &
  started=$!
  live+=("$started")
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "server did not start: $cmd" >&2
  return 1
}
stop_servers() {
  local pid
  for pid in "${live[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${live[@]}"; do wait "$pid" 2>/dev/null || true; done
  live=()
}
trap stop_servers EXIT
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_ns() { { cat "/proc/$1"/task/*/schedstat 2>/dev/null || true; } | awk '{s += $1} END {printf "%.0f\n", s}'; }
rss() { awk '/^RssAnon:/ {a = $2} /^VmRSS:/ {v = $2} END {print a, v}' "/proc/$1/status"; }
# jq: the steal share (%) of the CPU time between two machine() readings.
steal_between='def steal_between($a; $b):
  if $b.total > $a.total then ($b.steal - $a.steal) * 100 / ($b.total - $a.total) else 0 end; '
machine() { # -> {load1, steal, total}: loadavg and /proc/stat's cumulative steal and total ticks
  local load1
  read -r load1 _ </proc/loadavg
  awk -v l="$load1" '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i;
    printf "{\"load1\": %s, \"steal\": %d, \"total\": %d}\n", l, $9, t}' /proc/stat
}
load() { # url flags... -> the bench's JSON report
  local url=$1; shift
  taskset -c "$load_cpu" "$ours" bench "$url" --json "$@"
}
url_of() { echo "http://127.0.0.1:$1/mcp"; }

jq -cn --arg cpu "$cpu_source" --argjson clk "$clk" --argjson d "$duration" --argjson runs "$runs" \
  --arg order "interleaved: each c, each run, every server in turn (forward on odd runs, backward on even)" \
  '{cpu_source: $cpu, clk_tck: $clk, duration_s: $d, runs: $runs, order: $order}' >"$out/meta.json"

: >"$out/runs.jsonl"
: >"$out/load.jsonl"
: >"$out/take.jsonl"
if [ -n "${concurrency// /}" ] && [ "${#names[@]}" -gt 0 ]; then
  pids=()
  for i in "${!names[@]}"; do
    start_server "${cmds[$i]}" $((port + i))
    pids[i]=$started
  done
  for c in $concurrency; do
    for i in "${!names[@]}"; do
      # shellcheck disable=SC2086
      load "$(url_of $((port + i)))" ${flagss[$i]} -c "$c" --duration "$warmup" >/dev/null || true
    done
    for run in $(seq 1 "$runs"); do
      for take in $(seq 1 $((retakes + 1))); do
        order=("${!names[@]}")
        if [ $((run % 2)) = 0 ]; then
          for k in "${!order[@]}"; do order[k]=$((${#names[@]} - 1 - k)); done
        fi
        m0=$(machine)
        for i in "${order[@]}"; do
          pid=${pids[$i]}
          s0=$(machine) t0=$(cpu_ticks "$pid") n0=$(cpu_ns "$pid")
          # shellcheck disable=SC2086
          report=$(load "$(url_of $((port + i)))" ${flagss[$i]} -c "$c" --duration "$duration") || true
          t1=$(cpu_ticks "$pid") n1=$(cpu_ns "$pid") s1=$(machine)
          echo "$report" | jq -c --arg name "${names[$i]}" --argjson c "$c" --argjson run "$run" \
            --argjson ticks "$((t1 - t0))" --argjson ns "$((n1 - n0))" --argjson clk "$clk" \
            --arg src "$cpu_source" --argjson a "$s0" --argjson b "$s1" \
            "$steal_between"'(if .requests > 0 then $ticks / $clk * 1e6 / .requests else null end) as $t
             | (if .requests > 0 and $src == "schedstat" then $ns / 1e3 / .requests else null end) as $s
             | {name: $name, c: $c, run: $run, rps: .throughput_rps, requests: .requests,
                errors: .errors.total, p50: .latency_us.p50, p99: .latency_us.p99,
                cpu_us: (if $src == "schedstat" then $s else $t end), cpu_source: $src,
                cpu_us_ticks: $t,
                steal_pct: steal_between($a; $b)}' \
            | tee -a "$out/take.jsonl" >&2
        done
        m1=$(machine)
        worst=$(jq -s 'map(.steal_pct) | max // 0' "$out/take.jsonl")
        record=$(jq -cn --argjson c "$c" --argjson run "$run" --argjson a "$m0" --argjson b "$m1" \
          --argjson take "$take" --argjson worst "$worst" \
          --arg order "$(for i in "${order[@]}"; do printf '%s ' "${names[$i]}"; done)" \
          "$steal_between"'{c: $c, run: $run, take: $take, load1_start: $a.load1, load1_end: $b.load1,
            steal_pct: steal_between($a; $b),
            worst_server_steal_pct: $worst, order: ($order | rtrimstr(" "))}')
        # A run disturbed by another tenant (steal over BENCH_MAX_STEAL over the run, or over
        # any one server's part of it) is taken again, every server of it; the last take is
        # kept whatever its steal.
        if [ -n "$max_steal" ] && [ "$take" -le "$retakes" ] &&
          jq -e --argjson max "$max_steal" '.steal_pct > $max or .worst_server_steal_pct > $max' \
            <<<"$record" >/dev/null; then
          echo "$record" | tee -a "$out/retaken.jsonl" >&2
          cat "$out/take.jsonl" >>"$out/retaken-runs.jsonl"
          : >"$out/take.jsonl"
          continue
        fi
        cat "$out/take.jsonl" >>"$out/runs.jsonl"
        : >"$out/take.jsonl"
        echo "$record" | tee -a "$out/load.jsonl" >&2
        break
      done
    done
  done
  rm -f "$out/take.jsonl"
  stop_servers
fi

settle() { # pid url flags... : one round trip, then RssAnon equal twice 0.2 s apart (5 s at most)
  local pid=$1 url=$2 a b; shift 2
  load "$url" "$@" -n 1 >/dev/null 2>&1 || true
  a=$(rss "$pid" | cut -d' ' -f1)
  for _ in $(seq 1 25); do
    sleep 0.2
    b=$(rss "$pid" | cut -d' ' -f1)
    if [ "$a" = "$b" ]; then return 0; fi
    a=$b
  done
}
hold() { # pid url flags... -> "RssAnon VmRSS" (KiB) of the server while the holder holds
  local pid=$1 url=$2; shift 2
  local fifo=$out/hold.out
  : >"$fifo"
  taskset -c "$load_cpu" "$ours" bench "$url" --hold-sessions "$mem_sessions" -c 32 \
    --duration 300 --json "$@" >"$fifo" &
  local holder=$!
  for _ in $(seq 1 1200); do
    if grep -q ready "$fifo"; then break; fi
    sleep 0.25
  done
  local now
  now=$(rss "$pid")
  cat "$fifo" >&2
  kill "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  echo "$now"
}
mem=
measure_memory() { # command url [--get-streams] -> "start_vmrss base_anon held_anon held_vmrss" in $mem
  local cmd=$1 url=$2 start base held; shift 2
  start_server "$cmd" "$port"
  start=$(rss "$started")
  settle "$started" "$url"
  base=$(rss "$started")
  held=$(hold "$started" "$url" "$@")
  stop_servers
  mem="${start#* } ${base% *} $held"
}

: >"$out/memory.jsonl"
if [ "$mem_sessions" -gt 0 ]; then
  url=$(url_of "$port")
  for i in "${!names[@]}"; do
    name=${names[$i]}
    case "${flagss[$i]}" in *--stateless* | *--era*) continue ;; esac
    # The memory floor is floor-sse's (it holds GET streams; the JSON floor answers GET 405).
    case "$name" in floor-json-session) continue ;; esac
    measure_memory "${cmds[$i]}" "$url"
    read -r b1v b1 idle idlev <<<"$mem"
    measure_memory "${cmds[$i]}" "$url" --get-streams
    read -r b2v b2 streams streamsv <<<"$mem"
    jq -cn --arg name "$name" --argjson n "$mem_sessions" \
      --argjson b1 "$b1" --argjson idle "$idle" --argjson b2 "$b2" --argjson streams "$streams" \
      --argjson b1v "$b1v" --argjson idlev "$idlev" --argjson b2v "$b2v" --argjson streamsv "$streamsv" \
      '{name: $name, sessions: $n, rss: "RssAnon", base_kib: $b1, idle_kib: $idle,
        streams_kib: $streams, kib_per_session: (($idle - $b1) / $n),
        kib_per_stream: ((($streams - $b2) - ($idle - $b1)) / $n),
        base_vmrss_kib: $b1v, kib_per_session_vmrss: (($idlev - $b1v) / $n),
        kib_per_stream_vmrss: ((($streamsv - $b2v) - ($idlev - $b1v)) / $n)}' \
      | tee -a "$out/memory.jsonl" >&2
  done
fi

: >"$out/client.jsonl"
if [ "$client_calls" -gt 0 ]; then
  start_server "$ours serve --port PORT" "$port"
  for run in $(seq 1 "$runs"); do
    for era in legacy modern; do
      taskset -c "$load_cpu" "$ours" bench "$(url_of "$port")" --client-compare --era "$era" \
        -n "$client_calls" --json \
        | jq -c '{era, ours_rps, raw_hyper_rps, ratio}' | tee -a "$out/client.jsonl" >&2
    done
  done
  stop_servers
fi

python3 "$root/bench/summarize.py" "$out" | tee "$out/table.md"
