#!/bin/bash
# The distinct cache lines (64 B) a server touches per quick call at c = 1: its data footprint,
# which decides whether a call at c = 1 runs out of a 32 KiB L1d.
#
#   bench/footprint.sh OUT PORT "BENCH-ARGS" SERVER-CMD...
#   bench/footprint.sh /tmp/fp-modern 19801 "--era modern" target/release/mcp-http serve --port 19801
#
# The server runs under valgrind's lackey (every load and store traced); 300 calls warm it up,
# 20 more are traced, and bench/footprint.py splits the trace at each entry into tokio's I/O
# driver (one per call at c = 1) and counts, for a call in the middle, the lines touched: by
# section of the binary (.got, .rodata...), the worker's stack, the heap, and by the function
# that touched each line first. The trace (a few hundred MB) is removed afterwards.
set -eu
out=$1; port=$2; args=$3; shift 3
bin=$1
client=${FP_CLIENT:-/work/main/target/release/mcp-http}
taskset -c 0 valgrind --tool=lackey --trace-mem=yes --log-file="$out.trace" "$@" > /dev/null 2>&1 &
vp=$!
for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.2; done
# shellcheck disable=SC2086 # the bench's arguments, split on purpose
taskset -c 1 "$client" bench "http://127.0.0.1:$port/mcp" $args -n 300 -c 1 --json > /dev/null
# shellcheck disable=SC2086
taskset -c 1 "$client" bench "http://127.0.0.1:$port/mcp" $args -n 20 -c 1 --json > /dev/null
sleep 1; kill "$vp"; wait "$vp" 2>/dev/null || true
python3 "$(dirname "$0")/footprint.py" "$out.trace" "$bin" | tee "$out.md"
rm -f "$out.trace"
