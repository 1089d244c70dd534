#!/usr/bin/env bash
# The idle session's memory, measured steadily: the server's anonymous RSS (RssAnon) while one
# holder keeps N sessions open and idle. Not run by CI: run it by hand to compare builds.
#
#   bench/idle_rss.sh BIN...                          # 5 runs of each build, 10,000 sessions
#   IDLE_RUNS=3 IDLE_PORT=19550 bench/idle_rss.sh /path/a/mcp-http /path/b/mcp-http
#
# Why it is steadier than bench/compare.sh's memory part (which reads VmRSS over a base reading):
# - the holder is the same binary for every build (IDLE_HOLDER, default this checkout's
#   target/release/mcp-http), so only the server under test changes;
# - the server runs with MIMALLOC_PURGE_DELAY=0, so pages freed while the sessions open are given
#   back at once rather than at an unknown later time (with the default delay one binary's idle
#   RssAnon moves by up to 3.7 MiB between runs);
# - it reads RssAnon only (the binary's code paged in is RssFile, not memory per session) and
#   reports the absolute figure, with no base reading to race the server's start.
# Server pinned to IDLE_SERVER_CPU (0), holder to IDLE_LOAD_CPU (1).
#
# Knobs: IDLE_RUNS (5), IDLE_SESSIONS (10000), IDLE_PORT (19550), IDLE_SERVE_ARGS (extra flags
# for `serve`; empty is the default adaptive mode), IDLE_HOLDER, IDLE_SERVER_CPU, IDLE_LOAD_CPU.
# Output: one line per run (build, run, RssAnon KiB, RssFile KiB) on stderr, then one line per
# build on stdout: the build, its runs' RssAnon and their median (KiB).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=${IDLE_RUNS:-5}
sessions=${IDLE_SESSIONS:-10000}
port=${IDLE_PORT:-19550}
holder_bin=${IDLE_HOLDER:-$root/target/release/mcp-http}
server_cpu=${IDLE_SERVER_CPU:-0}
load_cpu=${IDLE_LOAD_CPU:-1}
serve_args=${IDLE_SERVE_ARGS:-}
[ $# -gt 0 ] || {
  echo "usage: $0 BIN..." >&2
  exit 2
}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
tmp=$(mktemp -d "${TMPDIR:-/tmp}/idle_rss.XXXXXX")

server=
holder=
cleanup() {
  for p in $holder $server; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  holder=
  server=
}
trap 'cleanup; rm -rf "$tmp"' EXIT
status() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
url="http://127.0.0.1:$port/mcp"

one_run() { # bin -> sets anon and file (KiB)
  local bin=$1
  # shellcheck disable=SC2086
  MIMALLOC_PURGE_DELAY=${IDLE_PURGE_DELAY:-0} taskset -c "$server_cpu" "$bin" serve --port "$port" $serve_args \
    2>>"$tmp/server.log" &
  server=$!
  local up=0
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      up=1
      break
    fi
    sleep 0.1
  done
  [ "$up" = 1 ] || {
    echo "server did not start: $bin" >&2
    return 1
  }
  : >"$tmp/hold.out"
  taskset -c "$load_cpu" "$holder_bin" bench "$url" --hold-sessions "$sessions" -c 32 \
    --duration 300 --json >"$tmp/hold.out" 2>>"$tmp/hold.err" &
  holder=$!
  local ready=0
  for _ in $(seq 1 1200); do
    if grep -q ready "$tmp/hold.out"; then
      ready=1
      break
    fi
    sleep 0.25
  done
  [ "$ready" = 1 ] || {
    echo "holder never ready: $bin" >&2
    return 1
  }
  anon=$(status "$server" RssAnon)
  file=$(status "$server" RssFile)
  cleanup
}

for bin in "$@"; do
  all=()
  for run in $(seq 1 "$runs"); do
    one_run "$bin"
    echo "$bin run $run: RssAnon $anon KiB, RssFile $file KiB" >&2
    all+=("$anon")
  done
  median=$(printf '%s\n' "${all[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
  echo "$bin: ${all[*]} median $median"
done
