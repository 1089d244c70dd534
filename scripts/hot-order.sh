#!/usr/bin/env bash
# Makes crates/cli/hot-path.ld again (PF-115): the sections of the code a quick call runs, in
# every mode, which the release build of `mcp-http` links first in `.text` (crates/cli/build.rs).
# Run it by hand after a change to the request path; not run by CI. About 10 minutes.
#
#   scripts/hot-order.sh
#
# 1. a release build with its link map (MCP_HTTP_LINK_MAP); 2. callgrind runs of the four
# modes at c = 1 with `--dump-instr=yes` (bench/callgrind.sh); 3. bench/hot_order.py --script:
# the sections holding an instruction run on every call, most modes first, then most run;
# 4. the release build again, laid out by the new list.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/hot-order-XXXX)
trap 'rm -rf "$work"' EXIT
calls=3000
cd "$root"
MCP_HTTP_LINK_MAP=$work/mcp-http.map cargo build --release --locked -p mcp-http --bin mcp-http
CG_BUILD=0 CG_CONCURRENCY=1 CG_CALLS=$calls CG_OUT=$work/cg VALGRIND_OPTS=--dump-instr=yes \
  CG_SERVERS="ours-stateless-json ours-stateful-sse ours-stateful-adaptive ours-modern" \
  bench/callgrind.sh >/dev/null
python3 bench/hot_order.py --script "$work/mcp-http.map" target/release/mcp-http "$calls" \
  "$work"/cg/cg-ours-*.out.1 >"$work/hot-path.ld"
mv "$work/hot-path.ld" crates/cli/hot-path.ld
cargo build --release --locked -p mcp-http --bin mcp-http
echo "crates/cli/hot-path.ld: $(grep -c '^    \*(' crates/cli/hot-path.ld) sections" >&2
