#!/usr/bin/env bash
# The soak (docs/reliability.md): `mcp-http serve` under `mcp-http bench --mix` (quick calls,
# progress, sampling, streams broken and resumed by either side, GET streams opened and dropped,
# sessions deleted and abandoned, every outcome checked) for SECONDS, with the server's resident
# memory and open file descriptors sampled every 5 s. Optionally HOLD more sessions each holding a
# GET stream open the whole time. Prints the figures (errors, RSS and fd slope after warm-up,
# quick-call latency per minute) and writes them to target/soak/.
#   scripts/soak.sh [SECONDS] [HOLD]          (defaults: 600 s, 0 held sessions)
# Environment: SOAK_WORKERS (16), SOAK_PROFILE (release, or debug for a smoke run that reuses the
# test build), SOAK_IDLE (the server's --idle-timeout, 30 s: abandoned sessions are reaped).
# Exits 1 when a call failed, or (runs of 120 s and more) when RSS or descriptors grew after
# warm-up: RSS by more than 10 % of its mean over the measured part, descriptors by more than 16.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
hold=${2:-0}
workers=${SOAK_WORKERS:-16}
profile=${SOAK_PROFILE:-release}
idle=${SOAK_IDLE:-30}
out=target/soak
mkdir -p "$out"
case $profile in
  release) cargo build --release --locked -q -p mcp-http; bin=target/release/mcp-http ;;
  debug) cargo build --locked -q -p mcp-http; bin=target/debug/mcp-http ;;
  *) echo "soak: SOAK_PROFILE is release or debug" >&2; exit 2 ;;
esac
if [[ $hold -gt 0 ]]; then
  # Each held session is one connection at each end, plus the workers'.
  ulimit -n $((hold * 2 + 4096)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

"$bin" serve --port 0 --idle-timeout "$idle" 2>"$out/server.log" &
server=$!
pids+=("$server")
url=""
for _ in $(seq 100); do
  url=$(grep -o 'http://[^ ]*' "$out/server.log" | head -1 || true)
  [[ -n $url ]] && break
  sleep 0.1
done
[[ -n $url ]] || { echo "soak: the server did not start" >&2; cat "$out/server.log" >&2; exit 1; }
echo "soak: $url for ${seconds}s, $workers workers, $hold held sessions with GET streams"

if [[ $hold -gt 0 ]]; then
  "$bin" bench "$url" --hold-sessions "$hold" --get-streams -c 32 \
    --duration $((seconds + 120)) --json >"$out/hold.json" 2>"$out/hold.log" &
  pids+=("$!")
  for _ in $(seq 600); do
    grep -q '"sessions"' "$out/hold.json" 2>/dev/null && break
    sleep 0.5
  done
  grep -q '"errors": 0\|"errors":0' "$out/hold.json" ||
    { echo "soak: holding $hold sessions failed" >&2; cat "$out/hold.json" "$out/hold.log" >&2; exit 1; }
  echo "soak: holding $hold sessions with GET streams"
fi

# Samples: seconds since start, RSS in KiB, open descriptors of the server.
echo "t,rss_kib,fds" >"$out/samples.csv"
(
  start=$(date +%s)
  while kill -0 "$server" 2>/dev/null; do
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$server/status" 2>/dev/null || echo 0)
    fds=$(ls "/proc/$server/fd" 2>/dev/null | wc -l)
    echo "$(($(date +%s) - start)),$rss,$fds" >>"$out/samples.csv"
    sleep 5
  done
) &
pids+=("$!")

status=0
"$bin" bench "$url" --mix --duration "$seconds" -c "$workers" --window 60 --json \
  >"$out/mix.json" 2>"$out/mix.log" || status=$?
sleep 1

python3 - "$out" "$seconds" "$status" <<'PY'
import csv, json, sys
out, seconds, status = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
try:
    report = json.load(open(f"{out}/mix.json"))
except ValueError:
    print("soak: the mixed run printed no report:", open(f"{out}/mix.log").read())
    sys.exit(1)
rows = [(float(r["t"]), float(r["rss_kib"]), float(r["fds"])) for r in csv.DictReader(open(f"{out}/samples.csv"))]
warm = max(60.0, seconds / 10)
after = [r for r in rows if warm <= r[0] <= seconds]

def slope(points):
    n = len(points)
    if n < 3:
        return 0.0
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    var = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / var if var else 0.0

lines = []
errors = sum(report["errors"].values())
lines.append(f"{report['url']}: {report['elapsed_s']:.0f} s, {report['workers']} workers, {errors} errors")
for op, n in report["ops"].items():
    lines.append(f"  {n:>9} x {op}")
for kind, n in report["errors"].items():
    lines.append(f"  {n} x {kind}: {report['examples'].get(kind, '')}")
verdict_ok = status == 0 and errors == 0
if after:
    rss = [(t, r / 1024) for t, r, _ in after]
    fds = [(t, f) for t, _, f in after]
    mean_rss = sum(r for _, r in rss) / len(rss)
    rss_slope = slope(rss) * 60
    fd_slope = slope(fds) * 60
    span = (after[-1][0] - after[0][0]) / 60
    lines.append(f"server RSS after {warm:.0f} s of warm-up: {after[0][1]/1024:.1f} -> {after[-1][1]/1024:.1f} MiB "
                 f"(mean {mean_rss:.1f}), slope {rss_slope:+.3f} MiB/min")
    lines.append(f"server descriptors: {after[0][2]:.0f} -> {after[-1][2]:.0f}, slope {fd_slope:+.3f}/min")
    if seconds >= 120:
        if rss_slope * span > 0.10 * mean_rss:
            lines.append("soak: RSS grew after warm-up"); verdict_ok = False
        if fd_slope * span > 16:
            lines.append("soak: descriptors grew after warm-up"); verdict_ok = False
lines.append("window  quick calls  p50 (us)  p99 (us)  errors")
for w in report["windows"]:
    l = w["quick_latency_us"]
    lines.append(f"{w['from_s']:>5.0f} s {w['ops'].get('quick call', 0):>12} {l['p50']:>9.0f} {l['p99']:>9.0f} {sum(w['errors'].values()):>7}")
lines.append("soak: " + ("passed" if verdict_ok else "FAILED"))
text = "\n".join(lines)
print(text)
open(f"{out}/summary.txt", "w").write(text + "\n")
sys.exit(0 if verdict_ok else 1)
PY
