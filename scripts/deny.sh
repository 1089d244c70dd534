#!/usr/bin/env bash
# cargo deny over the main workspace, with the policy of deny.toml (RL-45):
#
#   scripts/deny.sh
#
# Licenses, duplicate versions (bans) and sources are checked on every run. Advisories need the
# RustSec database, a git repository that cargo-deny clones from GitHub, which this project's
# machines (and CI's) do not reach: the script tries to fetch it, checks advisories when that
# works, and otherwise says that they were not checked. A failed fetch is not a failure; an
# advisory found is. `bench/` and `fuzz/` are workspaces of their own and are not checked.
#
# Installs cargo-deny, pinned, when it is missing: it compiles from crates.io, about 6.5 minutes
# on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=0.20.2
if [ "$(cargo deny --version 2>/dev/null || true)" != "cargo-deny $VERSION" ]; then
  echo "installing cargo-deny $VERSION"
  start=$(date +%s)
  cargo install --locked --quiet "cargo-deny@$VERSION"
  echo "cargo-deny $VERSION installed in $(($(date +%s) - start)) s"
fi

cargo deny --locked check licenses bans sources

# The database fetch is the detection: a clone that fails (no route, no DNS) or hangs means no
# advisories today, said plainly.
if timeout 120 cargo deny fetch db >/dev/null 2>&1; then
  cargo deny --locked check advisories
else
  echo "advisories: NOT CHECKED (the RustSec advisory database could not be fetched from here)"
fi
