#!/usr/bin/env bash
# The bridge with real peers (BR-1, BR-13; docs/bridge.md lists what each run shows):
#   serve side  `mcp-http bridge --port 0 -- CMD`:
#     - our own server over stdio (`mcp-http serve --stdio`), shared child and child per session:
#       the official conformance suites (legacy, both versions, as scripts/conformance.sh runs them
#       against `serve` directly, with the same baseline) and the SDK HTTP clients
#       (scripts/interop-clients.sh: Python SDK legacy and auto, TypeScript SDK);
#     - the Python SDK's stdio server (interop/python/standin_server.py --stdio, mcp pinned in
#       interop/python/requirements.txt): the SDK HTTP clients;
#     - server-everything over stdio (pinned in interop/peers/ts): the Python SDK HTTP client
#       lists its tools and calls echo;
#     - `--era both` in front of our server over stdio, shared child and child per call: the
#       official suite's 2026-07-28 server scenarios, the counts asserted (BR-78);
#   connect side `mcp-http bridge URL`: the Python SDK's stdio client (interop/python/client_check.py
#     --via-bridge) against `mcp-http serve` and against the TypeScript SDK server
#     (interop/node/sdk_server.mjs); and, with `--era modern` (BR-59), the same stdio client to the
#     2026-07-28 servers (interop/node/modern_server.mjs, interop/python/standin_server.py):
#     calls, MRTR sampling and elicitation turned into stdio requests, progress and logs.
# Installs the pinned peers first (scripts/peers.sh). Everything binds 127.0.0.1 on free ports and
# is stopped on exit. Exits 1 if any run failed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
interop_setup target/interop/bridge

# Waits until the log names the URL: sets URL.
# `mcp-http bridge --port 0 ARGS...`; sets URL.
bridge() {
  local label=$1
  shift
  spawn "$label" "$BIN" bridge --port 0 "$@"
  wait_url "$LOGS/$label.log" '^mcp-http: bridging `[^`]*` on '
}


baseline=()
[[ -f conformance/adaptive.yml ]] && baseline=(--expected-failures conformance/adaptive.yml)
for mode in "shared" "per-session:--child-per-session"; do
  label=${mode%%:*}
  flags=()
  [[ $mode == *:* ]] && read -r -a flags <<<"${mode#*:}"
  bridge "bridge-$label" "${flags[@]}" -- "$BIN" serve --stdio
  echo "== bridge ($label child) in front of mcp-http serve --stdio: conformance ($URL)"
  run "bridge $label conformance" scripts/conformance.sh "$URL" "bridge-$label" "${baseline[@]}"
  echo "== bridge ($label child): the SDK HTTP clients"
  run "bridge $label SDK clients" scripts/interop-clients.sh "$URL" --expect-auto-version 2025-11-25 --no-resume-check
done

# The 2026-07-28 scenarios through the bridge (BR-78), as scripts/modern-conformance.sh counts
# them from checks.json (40 scenarios; `mcp-http serve` itself passes 152). Expected, both modes:
# every check but one, sep-2322-respect-client-capabilities (the child cannot see which
# capabilities one 2026-07-28 request declares, docs/bridge.md). The counts and the failing
# check's id are asserted, so a regression and an improvement both show.
MODERN_EXPECTED="151 passed, 1 failed, 0 warnings"
MODERN_KNOWN="FAILURE sep-2322-respect-client-capabilities"
modern_conformance() {
  local label=$1 out="$LOGS/modern-conformance-$1"
  env CONF2="$CONF2" MODERN_PEERS="$PEERS" scripts/modern-conformance.sh \
    "${URL/127.0.0.1/localhost}" -o "$out" >"$out.txt" 2>&1 || true
  cat "$out.txt"
  local summary bad
  summary=$(sed -n 's/^modern conformance: //p' "$out.txt")
  bad=$(sed -n 's/^    \(FAILURE\|WARNING\) *\([^:]*\):.*/\1 \2/p' "$out.txt" | sort -u | paste -sd, -)
  if [[ $summary != "$MODERN_EXPECTED" || $bad != "$MODERN_KNOWN" ]]; then
    echo "bridge-interop: modern conformance ($label): got '$summary' [$bad]," \
      "expected '$MODERN_EXPECTED' [$MODERN_KNOWN]" >&2
    return 1
  fi
}
for mode in "shared" "per-call:--child-per-session"; do
  label=${mode%%:*}
  flags=()
  [[ $mode == *:* ]] && read -r -a flags <<<"${mode#*:}"
  bridge "bridge-modern-$label" --era both "${flags[@]}" -- "$BIN" serve --stdio
  echo "== bridge --era both ($label child) in front of mcp-http serve --stdio: 2026-07-28 conformance"
  run "bridge $label modern conformance" modern_conformance "$label"
done

bridge bridge-python-sdk -- "$PEERS_PY" "$REPO/interop/python/standin_server.py" --stdio
echo "== bridge in front of the Python SDK's stdio server: the SDK HTTP clients ($URL)"
run "bridge python-sdk SDK clients" scripts/interop-clients.sh "$URL" --expect-auto-version 2025-11-25 --no-resume-check

bridge bridge-everything --child-per-session -- "$NODE" "$(readlink -f "$EVERYTHING")" stdio
echo "== bridge in front of server-everything (stdio): the Python SDK HTTP client ($URL)"
run "bridge server-everything" timeout 120 "$PEERS_PY" - "$URL" <<'PY'
import asyncio, sys
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

async def main() -> None:
    async with Client(streamable_http_client(sys.argv[1]), mode="legacy") as c:
        names = {t.name for t in (await c.list_tools()).tools}
        assert "echo" in names, f"no echo tool in {sorted(names)}"
        r = await c.call_tool("echo", {"message": "through the bridge"})
        text = r.content[0].text
        assert "through the bridge" in text, text
        print(f"PASS server-everything: {len(names)} tools, echo answered {text!r}")

asyncio.run(main())
PY

spawn upstream-serve "$BIN" serve --port 0
wait_url "$LOGS/upstream-serve.log" '^mcp-http: serving MCP on '
echo "== the Python SDK's stdio client through mcp-http bridge URL to mcp-http serve ($URL)"
run "stdio client via bridge to serve" timeout 180 "$PEERS_PY" interop/python/client_check.py "$URL" \
  --mode legacy --via-bridge "$BIN"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$NODE" "$REPO/interop/node/sdk_server.mjs" "$port" >"$LOGS/upstream-ts.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
echo "== the Python SDK's stdio client through mcp-http bridge URL to the TypeScript SDK server"
run "stdio client via bridge to the TS SDK server" timeout 180 "$PEERS_PY" interop/python/client_check.py \
  "http://127.0.0.1:$port/mcp" --mode legacy --via-bridge "$BIN"

# BR-59: the Python SDK's stdio client through `bridge URL --era modern` to the 2026-07-28 servers
# of scripts/interop-modern.sh (the TypeScript SDK v2 server and the Python SDK server).
for peer in "ts-v2:$NODE $REPO/interop/node/modern_server.mjs" "py:$PEERS_PY $REPO/interop/python/standin_server.py"; do
  label=${peer%%:*}
  read -r -a cmd <<<"${peer#*:}"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${cmd[@]}" "$port" >"$LOGS/upstream-modern-$label.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  extra=()
  [[ $label == py ]] && extra=(--progress)
  echo "== the Python SDK's stdio client through mcp-http bridge URL --era modern to the $label 2026-07-28 server"
  run "stdio client via bridge to the $label 2026-07-28 server" timeout 180 "$PEERS_PY" \
    interop/python/bridge_modern_check.py "http://127.0.0.1:$port/mcp" --bin "$BIN" "${extra[@]}"
done

echo "bridge-interop: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
