#!/usr/bin/env bash
# The project's test command: formatting, requirement ids (docs/requirements.md), lints, then
# every test of the workspace.
# Installs nothing beyond the Rust toolchain the machine has; later steps that need peers
# (Node, the conformance suite, the Python SDK) install them pinned into .peers/ themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== cargo fmt --check"
cargo fmt --all --check
echo "== requirement ids"
./scripts/check-requirements.sh
echo "== cargo clippy"
# The interop feature only adds test targets (run by interop.sh); lint them in the same pass.
cargo clippy --workspace --all-targets --features mcp-http/interop --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
echo "== interop: official conformance suite and SDK clients against mcp-http serve"
./scripts/interop.sh
