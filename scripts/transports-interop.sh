#!/usr/bin/env bash
# The transports served beside Streamable HTTP, with the official SDK clients as peers (BR-33,
# BR-36; docs/bridge.md, "Other transports"):
#   - the 2024-11-05 HTTP+SSE transport (`--legacy-sse`): the Python SDK's `sse_client`
#     (interop/python/client_check.py --sse) and the TypeScript SDK v1's `SSEClientTransport`
#     (interop/node/client_check.mjs --transport sse);
#   - WebSocket (`--websocket`): the TypeScript SDK v1's `WebSocketClientTransport` (Node 22's
#     WebSocket, subprotocol `mcp`);
# each against `mcp-http serve` and against `mcp-http bridge -- mcp-http serve --stdio` (shared
# child, then a child per session): tools, echo, progress and logs, sampling, elicitation.
# Installs the pinned peers first (scripts/peers.sh). Everything binds 127.0.0.1 on free ports
# and is stopped on exit. Exits 1 if any run failed. About 35 s (nine runs).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
interop_setup target/interop/transports

# Runs `mcp-http ARGS...` (logging to $LOGS/LABEL.log) until it prints its endpoint's URL;
# sets BASE to that URL's origin.
start() {
  local label=$1 pattern=$2
  shift 2
  spawn "$label" "$BIN" "$@"
  wait_url "$LOGS/$label.log" "$pattern"
  BASE=${URL%/mcp}
}


checks() {
  local label=$1
  echo "== $label: the Python SDK's HTTP+SSE client ($BASE/sse)"
  run "$label python sse" timeout 180 "$PEERS_PY" interop/python/client_check.py "$BASE/sse" \
    --sse --mode legacy --no-resume-check
  echo "== $label: the TypeScript SDK's SSEClientTransport"
  run "$label node sse" timeout 180 "$NODE" interop/node/client_check.mjs "$BASE/sse" \
    --transport sse --no-resume-check
  echo "== $label: the TypeScript SDK's WebSocketClientTransport (${BASE/http:/ws:}/ws)"
  run "$label node ws" timeout 180 "$NODE" interop/node/client_check.mjs "${BASE/http:/ws:}/ws" \
    --transport ws --no-resume-check
}

start serve '^mcp-http: serving MCP on ' serve --port 0 --legacy-sse --websocket
checks "serve"
start bridge-shared '^mcp-http: bridging `[^`]*` on ' bridge --port 0 --legacy-sse --websocket \
  -- "$BIN" serve --stdio
checks "bridge (shared child)"
start bridge-per-session '^mcp-http: bridging `[^`]*` on ' bridge --port 0 --legacy-sse \
  --websocket --child-per-session -- "$BIN" serve --stdio
checks "bridge (child per session)"

echo "transports-interop: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
