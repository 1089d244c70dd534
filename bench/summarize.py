#!/usr/bin/env python3
"""Turns the raw results of bench/compare.sh (a results folder) into markdown tables."""

import json
import statistics
import sys
from pathlib import Path

# Our modes, the floor flavour with the same wire format, and rmcp's nearest mode.
PAIRS = {
    "ours-stateless-json": ("floor-json", "rmcp-stateless-json"),
    "ours-stateful-sse": ("floor-sse", "rmcp-stateful-sse"),
    # A stateful request carries a session id and a protocol version: its floor parses them too.
    "ours-stateful-adaptive": ("floor-json-session", "rmcp-stateful-sse"),
    # The same body with the 2026-07-28 envelope and headers, against the floor parsing it.
    "ours-modern": ("floor-modern", "rmcp-stateless-json"),
}


def lines(path):
    if not path.exists():
        return []
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "-"
    if digits == 0 and abs(v) >= 1000:
        return f"{v / 1000:.1f}k"
    return f"{v:.{digits}f}"


def ratio(a, b):
    return None if a is None or not b else a / b


def header(folder, runs):
    """How the load was measured (meta.json) and the machine's load over each run (load.jsonl)."""
    meta = json.loads((folder / "meta.json").read_text()) if (folder / "meta.json").exists() else {}
    out = []
    if not runs:
        return out
    if meta:
        out.append(f"Order: {meta['order']}. {meta['runs']} runs of {meta['duration_s']} s per server and c.")
    src = meta.get("cpu_source", "ticks")
    what = "ns on CPU from /proc/PID/task/*/schedstat" if src == "schedstat" else "utime+stime ticks of /proc/PID/stat"
    out.append(f"Server CPU per call: {what}.")
    if src == "schedstat":
        # The ticks figure is kept beside it: how far the two are apart, per run.
        q = [r["cpu_us_ticks"] / r["cpu_us"] for r in runs if r.get("cpu_us") and r.get("cpu_us_ticks") is not None]
        if q:
            out.append(f"Ticks / schedstat per run: median {med(q):.3f}, {min(q):.3f} to {max(q):.3f} ({len(q)} runs).")
    load = lines(folder / "load.jsonl")
    if load:
        cells = [f"c={x['c']} run {x['run']}: {x['load1_start']:.2f} -> {x['load1_end']:.2f}" for x in load]
        steal = max(x["steal_pct"] for x in load)
        # Runs before the per-server gate have no figure per server's part.
        parts = [x["worst_server_steal_pct"] for x in load if "worst_server_steal_pct" in x]
        part = f", {max(parts):.1f}% in one server's part of one" if parts else ""
        out.append(f"Load average (1 min) at the start -> end of each run: {'; '.join(cells)}. Steal: at most {steal:.1f}% of CPU time in a run{part}.")
    retaken = lines(folder / "retaken.jsonl")
    if retaken:
        cells = [
            f"c={x['c']} run {x['run']} take {x['take']} ({x['steal_pct']:.1f}%"
            + (f", one server's part {x['worst_server_steal_pct']:.1f}%" if "worst_server_steal_pct" in x else "")
            + ")"
            for x in retaken
        ]
        out.append(f"Taken again for steal over BENCH_MAX_STEAL, not in the tables: {'; '.join(cells)}.")
    return out + [""] if out else out


def paired(runs, names, cs, cols):
    """Each mode over its floor within one run: measured seconds apart when the run interleaves."""
    by = {(r["name"], r["c"], r["run"]): r for r in runs}
    ids = sorted({r["run"] for r in runs})
    out = ["\n### Ours over the floor, run by run (paired: the same c and run)\n"]
    out.append(f"| our mode | vs | run | throughput {cols} | server CPU per call {cols} |")
    out.append("|---|---|---|---|---|")
    for ours, (floor, _) in PAIRS.items():
        if ours not in names or floor not in names:
            continue
        for run in ids:
            cells = []
            for key in ("rps", "cpu_us"):
                xs = []
                for c in cs:
                    a, b = by.get((ours, c, run), {}), by.get((floor, c, run), {})
                    x = ratio(a.get(key), b.get(key))
                    xs.append(fmt(x, 2) + "x" if x else "-")
                cells.append(" / ".join(xs))
            out.append(f"| {ours} | {floor} | {run} | {cells[0]} | {cells[1]} |")
        if len(ids) > 1:
            cells = []
            for key in ("rps", "cpu_us"):
                xs = [med([ratio(by.get((ours, c, run), {}).get(key), by.get((floor, c, run), {}).get(key)) for run in ids]) for c in cs]
                cells.append(" / ".join(fmt(x, 2) + "x" if x else "-" for x in xs))
            out.append(f"| {ours} | {floor} | median | {cells[0]} | {cells[1]} |")
    return out


def main(folder):
    folder = Path(folder)
    runs = lines(folder / "runs.jsonl")
    stats = {}  # (name, c) -> medians
    for r in runs:
        stats.setdefault((r["name"], r["c"]), []).append(r)
    names = list(dict.fromkeys(r["name"] for r in runs))
    cs = sorted({r["c"] for r in runs})
    m = {
        k: {
            "rps": med([r["rps"] for r in v]),
            "cpu": med([r["cpu_us"] for r in v]),
            "p50": med([r["p50"] for r in v]),
            "p99": med([r["p99"] for r in v]),
            "errors": sum(r["errors"] for r in v),
            "n": len(v),
        }
        for k, v in stats.items()
    }
    get = lambda name, c, key: m.get((name, c), {}).get(key)
    out = header(folder, runs)
    cols = " / ".join(f"c={c}" for c in cs)
    if runs:
        out.append(f"### Throughput and server CPU (medians of {max((x['n'] for x in m.values()), default=0)} runs)\n")
        out.append(f"| server | calls/s {cols} | server CPU us/call {cols} | p50 / p99 latency us {cols} | errors |")
        out.append("|---|---|---|---|---|")
        for name in names:
            rps = " / ".join(fmt(get(name, c, "rps")) for c in cs)
            cpu = " / ".join(fmt(get(name, c, "cpu"), 1) for c in cs)
            lat = " / ".join(f"{fmt(get(name, c, 'p50'))} / {fmt(get(name, c, 'p99'))}" for c in cs)
            errors = sum(get(name, c, "errors") or 0 for c in cs)
            out.append(f"| {name} | {rps} | {cpu} | {lat} | {errors} |")

    targets = []
    if any(n in PAIRS for n in names):
        out.append("\n### Ours as ratios (same-run medians)\n")
        out.append(f"| our mode | vs | throughput {cols} | server CPU per call {cols} |")
        out.append("|---|---|---|---|")
        for ours, (floor, rmcp) in PAIRS.items():
            if ours not in names:
                continue
            for ref in (floor, rmcp):
                if ref not in names:
                    continue
                tp = [ratio(get(ours, c, "rps"), get(ref, c, "rps")) for c in cs]
                cpu = [ratio(get(ours, c, "cpu"), get(ref, c, "cpu")) for c in cs]
                out.append(
                    f"| {ours} | {ref} | "
                    + " / ".join(fmt(x, 2) + "x" if x else "-" for x in tp)
                    + " | "
                    + " / ".join(fmt(x, 2) + "x" if x else "-" for x in cpu)
                    + " |"
                )
                hi = [x for c, x in zip(cs, tp) if c >= 16 and x]
                if ref == floor:
                    worst_cpu = max((x for x in cpu if x), default=None)
                    if worst_cpu:
                        targets.append((f"{ours}: server CPU per call <= 1.25x {floor}", worst_cpu <= 1.25, f"worst {worst_cpu:.2f}x"))
                    if hi:
                        targets.append((f"{ours}: throughput >= 0.85x {floor} at c>=16", min(hi) >= 0.85, f"lowest {min(hi):.2f}x"))
                elif hi:
                    targets.append((f"{ours}: throughput >= 3x {rmcp} at c>=16", min(hi) >= 3, f"lowest {min(hi):.2f}x"))
        out += paired(runs, names, cs, cols)

    memory = lines(folder / "memory.jsonl")
    if memory:
        # Older runs read VmRSS only (no "rss" field); newer ones RssAnon, with VmRSS kept aside.
        rss = memory[0].get("rss", "VmRSS")
        out.append(f"\n### Memory ({memory[0]['sessions']} sessions; KiB of {rss} over the baseline)\n")
        out.append(f"| server | baseline {rss} KiB | KiB per idle session | KiB per open GET stream | VmRSS, base at start (the old measure): per idle session / per stream |")
        out.append("|---|---|---|---|---|")
        by = {x["name"]: x for x in memory}
        for x in memory:
            vm = "-"
            if "kib_per_session_vmrss" in x:
                vm = f"{x['kib_per_session_vmrss']:.2f} / {x['kib_per_stream_vmrss']:.2f}"
            out.append(f"| {x['name']} | {x['base_kib']} | {x['kib_per_session']:.2f} | {x['kib_per_stream']:.2f} | {vm} |")
        floor_stream = by.get("floor-sse", {}).get("kib_per_stream")
        for name in ("ours-stateful-sse", "ours-stateful-adaptive"):
            if name in by:
                x = by[name]
                targets.append((f"{name}: <= 2 KiB per idle session ({rss})", x["kib_per_session"] <= 2, f"{x['kib_per_session']:.2f} KiB"))
                if floor_stream:
                    r = x["kib_per_stream"] / floor_stream
                    targets.append((f"{name}: <= 1.2x the floor's KiB per GET stream", r <= 1.2, f"{r:.2f}x"))

    client = lines(folder / "client.jsonl")
    if client:
        eras = sorted({c.get("era", "legacy") for c in client})
        runs = min(sum(1 for c in client if c.get("era", "legacy") == e) for e in eras)
        out.append(f"\n### Our client, sequential calls over one connection (medians of {runs} runs)\n")
        out.append("| era | our Client + StreamableHttpClient | raw hyper client | ratio |")
        out.append("|---|---|---|---|")
        for era in eras:
            of_era = [c for c in client if c.get("era", "legacy") == era]
            o, r, q = (med([c[k] for c in of_era]) for k in ("ours_rps", "raw_hyper_rps", "ratio"))
            out.append(f"| {era} | {fmt(o)} calls/s | {fmt(r)} calls/s | {q:.2f}x |")
            if era == "legacy":
                targets.append(("our client >= 0.95x the raw hyper client (legacy era)", q >= 0.95, f"{q:.2f}x"))

    if targets:
        out.append("\n### Targets\n")
        out.append("| target | met | measured |")
        out.append("|---|---|---|")
        for what, ok, measured in targets:
            out.append(f"| {what} | {'yes' if ok else '**no**'} | {measured} |")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
