#!/usr/bin/env bash
# Measures how long a new client waits for its `initialize` answer while N connections sit idle
# on `mcp-http serve` (RL-10; docs/reliability.md has the figures).
#
#   scripts/idle-connections.sh [N] [PROBES]      (default: 10000 idle, 20 new clients)
#
# Half the idle connections never send a byte, half are kept alive after one request. Both
# processes need more than N open files: the soft limit is raised to the hard one (or fails
# with a clear line). Uses target/release/mcp-http, building it when missing
# (MCP_HTTP_BIN=path uses another). Prints the bench's report; exits non-zero when a connection
# failed to open or a new client was not served.
set -euo pipefail
cd "$(dirname "$0")/.."
idle=${1:-10000}
probes=${2:-20}
need=$((idle + 512))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
  echo "idle-connections: the hard open-file limit is $hard; $need are needed (as root: ulimit -Hn $need)" >&2
  exit 2
fi
ulimit -n "$need"
bin=${MCP_HTTP_BIN:-target/release/mcp-http}
if [ ! -x "$bin" ]; then
  cargo build --release -p mcp-http >&2
fi
port_file=$(mktemp)
"$bin" serve --port 0 2>"$port_file" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$port_file"' EXIT
url=""
for _ in $(seq 100); do
  url=$(grep -o 'http://[^ ]*' "$port_file" || true)
  [ -n "$url" ] && break
  sleep 0.05
done
[ -n "$url" ] || { echo "idle-connections: the server did not start" >&2; cat "$port_file" >&2; exit 1; }
echo "server $url, open-file limit $(ulimit -n), $idle idle connections, $probes new clients" >&2
"$bin" bench "$url" --idle-connections "$idle" --requests "$probes" -c 256 --timeout 10 "${@:3}"
