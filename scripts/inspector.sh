#!/usr/bin/env bash
# The MCP Inspector (web UI 2.12.0, pinned in interop/peers/inspector) as a real client in
# headless Debian Chromium, driven by playwright-core (IN-1..IN-3): it connects to an MCP
# endpoint, lists the tools and finds no schema warning on any of them, calls `echo`, runs
# `long_running_operation` and sees its progress, reads a resource and gets a prompt
# (interop/node/inspector_check.mjs). Screenshots of every step go to target/inspector/.
#
#   scripts/inspector.sh                         against `mcp-http serve` (built here)
#   scripts/inspector.sh --label NAME -- CMD...  against the endpoint CMD serves: `{port}` in
#                                                CMD is replaced by a free loopback port, and
#                                                the endpoint is http://127.0.0.1:PORT/mcp
#                                                (--path P for another path). E.g. a bridge
#                                                in front of the stdio server:
#     scripts/inspector.sh --label bridge -- target/debug/mcp-http bridge --port {port} -- \
#       target/debug/mcp-http serve --stdio
#   scripts/inspector.sh --url URL [--label NAME] against an endpoint already running
#
# The endpoint must serve the built-in server's tools, resources and prompts (directly or
# through a bridge). Installs Debian's chromium when it is missing (apt-get, as root) and the
# pinned peers (scripts/peers.sh). Closes with "N passed, M failed"; exit 0 only when all pass.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
LABEL=serve
URL=""
MCP_PATH=/mcp
CMD=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --label) LABEL=$2; shift 2 ;;
    --url) URL=$2; shift 2 ;;
    --path) MCP_PATH=$2; shift 2 ;;
    --) shift; CMD=("$@"); break ;;
    -h | --help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "inspector.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done

OUT=$REPO/target/inspector
mkdir -p "$OUT"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $CHROMIUM ]]; then
  echo "inspector.sh: installing chromium (Debian) ..." >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
out=$(scripts/peers.sh --env)
eval "$out"

SERVER_PID=""
cleanup() { [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if [[ -z $URL ]]; then
  if [[ ${#CMD[@]} -eq 0 ]]; then
    if [[ -z ${MCP_HTTP_BIN:-} ]]; then
      cargo build --locked -q -p mcp-http
      MCP_HTTP_BIN=$REPO/target/debug/mcp-http
    fi
    CMD=("$MCP_HTTP_BIN" serve --port "{port}")
  fi
  port=$(free_port)
  CMD=("${CMD[@]//\{port\}/$port}")
  "${CMD[@]}" >"$OUT/$LABEL-server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "inspector.sh: the server exited; its log follows" >&2
      cat "$OUT/$LABEL-server.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  URL=http://127.0.0.1:$port$MCP_PATH
fi

echo "== the MCP Inspector in Chromium against $LABEL ($URL)"
started=$SECONDS
status=0
MCP_URL=$URL INSPECTOR_MODULES=$INSPECTOR_MODULES SCREENSHOTS=$OUT LABEL=$LABEL CHROMIUM=$CHROMIUM \
  INSPECTOR_PORT=$(free_port) "$NODE" interop/node/inspector_check.mjs || status=$?
echo "inspector.sh: $LABEL took $((SECONDS - started)) s"
exit "$status"
