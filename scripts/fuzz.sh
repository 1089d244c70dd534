#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for SECONDS each (default 60) with libFuzzer (cargo fuzz, the
# nightly toolchain), AddressSanitizer and its leak checker on. Each target starts from its
# committed seeds (fuzz/seeds/TARGET) and writes what it finds to target/fuzz-corpus/TARGET;
# a crash, a timeout (10 s per input) or a leak stops the run with the input in
# fuzz/artifacts/TARGET. `scripts/test.sh` runs it for a short smoke period.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(jsonrpc_parse sse_parse uri_template http_request header_value modern_params)
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: the nightly toolchain is needed (rustup toolchain install nightly)" >&2
  exit 1
fi
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz@0.13.2
cargo +nightly fuzz build -O
for target in "${targets[@]}"; do
  mkdir -p "target/fuzz-corpus/$target"
  echo "== fuzz $target for ${seconds}s"
  log=target/fuzz-corpus/$target.log
  status=0
  cargo +nightly fuzz run -O "$target" "target/fuzz-corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  grep -E '^Done|ERROR|SUMMARY|panicked' "$log" || true
  if [[ $status -ne 0 || -n $(ls -A "fuzz/artifacts/$target" 2>/dev/null) ]]; then
    echo "fuzz: $target failed (exit $status); the input is in fuzz/artifacts/$target, the log in $log" >&2
    exit 1
  fi
done
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each with no crash, timeout or leak"
