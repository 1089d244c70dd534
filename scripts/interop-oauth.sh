#!/usr/bin/env bash
# The official SDK clients authenticate against `mcp-http serve` as an OAuth resource server,
# through a real authorization server (oidc-provider, interop/node/oauth-as.mjs), and call a tool:
#   - the Python SDK client (OAuthClientProvider), legacy and auto modes;
#   - the TypeScript SDK 1.x client (an OAuthClientProvider, finishAuth).
# And the other direction: `mcp-http call` (DCR, PKCE, the browser: curl following the AS's
# redirects with a cookie jar) against a TypeScript SDK resource server (requireBearerAuth,
# mcpAuthMetadataRouter, JWTs checked against the same AS's JWKS: interop/node/sdk_oauth_server.mjs).
# Both run discovery from the 401 (PRM, AS metadata), DCR, PKCE, the code and token requests;
# their "browser" follows the AS's redirects (auto-approved) to the loopback redirect URI.
#
#   scripts/interop-oauth.sh [MCP_HTTP_BIN]     (default target/debug/mcp-http, built if missing)
#
# Installs the pinned peers first; everything binds 127.0.0.1; each client runs under a timeout.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
BIN=${1:-target/debug/mcp-http}
[[ -x $BIN ]] || cargo build --locked -q -p mcp-http --bin mcp-http
out=$(scripts/peers.sh --env) && eval "$out"
TMP=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

wait_line() { # file pattern -> the first matching line, within 30 s
  for _ in $(seq 300); do
    if grep -m1 "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "interop-oauth: nothing matched $2 in $1" >&2
  cat "$1" >&2
  return 1
}

OIDC_MODULES=$OIDC_MODULES "$NODE" interop/node/oauth-as.mjs 0 >"$TMP/as.out" 2>"$TMP/as.err" &
pids+=($!)
ISSUER=$(wait_line "$TMP/as.out" issuer | sed 's/.*"issuer":"\([^"]*\)".*/\1/')
"$BIN" serve --port 0 --auth-issuer "$ISSUER" --auth-scope mcp:read >"$TMP/serve.out" 2>"$TMP/serve.err" &
pids+=($!)
URL=$(wait_line "$TMP/serve.err" "serving MCP on" | sed 's/.*serving MCP on //')
echo "interop-oauth: AS $ISSUER, resource server $URL"

passed=0
failed=0
run() {
  local label=$1 rc=0
  shift
  echo "== $label"
  timeout -k 5 "${INTEROP_TIMEOUT:-120}" "$@" </dev/null || rc=$?
  if [[ $rc -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
run "python oauth (legacy)" "$PEERS_PY" interop/python/oauth_client_check.py "$URL" --mode legacy
run "python oauth (auto)" "$PEERS_PY" interop/python/oauth_client_check.py "$URL" --mode auto
run "node oauth (TS SDK)" "$NODE" interop/node/oauth_client_check.mjs "$URL"

# mcp-http's client against the TypeScript SDK's resource server.
"$NODE" interop/node/sdk_oauth_server.mjs "$ISSUER" >"$TMP/ts-rs.out" 2>"$TMP/ts-rs.err" &
pids+=($!)
TS_URL=$(wait_line "$TMP/ts-rs.out" "serving MCP on" | sed 's/.*serving MCP on //')
mcp_http_call() { # ARGS: the CLI with its own token store; the output must carry the echo
  local out
  out=$(MCP_HTTP_AUTH_DIR="$TMP/store" BROWSER= "$BIN" call "$TS_URL" echo message=interop "$@") || return 1
  echo "$out"
  [[ $out == *"interop (as "* ]]
}
export -f mcp_http_call
export TMP BIN TS_URL
# The first call authorizes (oidc-provider offers DPoP; the SDK's middleware takes Bearer only,
# so the client falls back to an unbound token, AC-15); the second uses the stored token and
# must not need the browser (--no-browser with no stdin would fail).
run "mcp-http call -> TS SDK resource server" bash -c 'mcp_http_call "$@"' _ \
  --browser-command "curl -s -L --max-redirs 20 -m 20 -b $TMP/jar -c $TMP/jar -o /dev/null"
run "mcp-http call -> TS SDK resource server (stored token)" bash -c 'mcp_http_call "$@"' _ --no-browser
echo "interop-oauth: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
