#!/usr/bin/env python3
"""Reads callgrind output files for bench/callgrind.sh.

    callgrind_parse.py summary FILE...                 one JSON object: Ir, allocator calls, ...
    callgrind_parse.py row NAME CALLS SHORT WARMUP C [SHORT_FILE] LONG_FILE
                                                       bench/callgrind.sh's JSON line for a server
    callgrind_parse.py top N CALLS [SHORT_FILE] LONG_FILE
                                                       markdown: top N functions, Ir per call
    callgrind_parse.py table JSONL                     markdown: the table of the JSON lines

Per call is (long - short) / CALLS with both dumps given, long / CALLS with one (`row` takes
CALLS and SHORT, the two runs' sizes).

The format (https://valgrind.org/docs/manual/cl-format.html): `fn=` names the function whose
costs follow; `cfn=` the callee of the next `calls=COUNT TARGET` line, whose following cost
line is the call's inclusive cost (not the caller's own). Names are compressed: `fn=(id) name`
defines an id, later `fn=(id)` reuses it; `fn` and `cfn` share one id space, as do the file
specs `fl=`, `fi=`, `fe=`, `cfi=`/`cfl=` and the object specs `ob=`/`cob=`. A `jump=`/`jcnd=`
line is followed by a position line with no costs. A cost line is the positions (as many as
the `positions:` header names, each absolute, `+N`, `-N` or `*`) then the events, missing
ones being 0.

With CG_EVENT set to another event of the dump (a `--cache-sim=yes` run's I1mr, D1mr, D1mw...),
`top` and `summary` count that event instead of Ir.

Checked against callgrind_annotate 3.19 on these dumps: the same PROGRAM TOTALS (the
`summary:` line) and the same exclusive cost for every function, but for one difference in
rule: a `calls=0` line (a call still running when the dump was taken: the threads' start
functions and tokio's worker loop) is a call here, and callgrind_annotate adds its cost to the
caller's own. Inclusive cost here is a function's own cost plus its calls' costs, calls to
itself excluded; callgrind_annotate --inclusive=yes sums the calls into a function instead
(counting recursive ones again) and keys functions by source file, inlined files included.
"""

import json
import re
import sys
import os
from collections import defaultdict

# What counts as an allocation. Two views of the same thing:
#
# - The allocator itself: calls into the functions the #[global_allocator] forwards to, from
#   outside the allocator (mimalloc's own internal calls are not allocations). All three bench
#   binaries use mimalloc (the `mimalloc` crate: mi_malloc_aligned, mi_zalloc_aligned,
#   mi_realloc_aligned, mi_free); the malloc family is here for a binary on the system
#   allocator (untested: libc's own mallocs would count too). This is the figure reported.
# - Rust's allocator entry points `__rust_alloc`, `__rust_alloc_zeroed`, `__rust_realloc`
#   (`__rustc::__rust_alloc` since the v0-mangled shim of Rust 1.8x). They miss allocations:
#   code monomorphized in the crate that declares the #[global_allocator] (generic hyper, http,
#   tokio code instantiated in the binary) gets the shim inlined and calls mi_malloc_aligned
#   directly. Reported alongside, with which entry points were absent.
ALLOCATOR_ALLOC = (
    "mi_malloc_aligned", "mi_zalloc_aligned", "mi_malloc", "mi_zalloc", "mi_calloc",
    "malloc", "calloc", "posix_memalign", "aligned_alloc", "memalign",
)
ALLOCATOR_REALLOC = ("mi_realloc_aligned", "mi_realloc", "realloc")
ALLOCATOR_FREE = ("mi_free", "free")
ALLOCATOR = ALLOCATOR_ALLOC + ALLOCATOR_REALLOC + ALLOCATOR_FREE
RUST_ALLOC = ("__rust_alloc", "__rust_alloc_zeroed", "__rust_realloc")
RUST_FREE = ("__rust_dealloc",)
_SYM = re.compile(r"(?:^|::)(__rust_(?:alloc|alloc_zeroed|realloc|dealloc))$")


# The cache simulation's miss counts (valgrind's names): first-level instruction and data (read,
# write) misses, then the last level's.
CACHE_EVENTS = ("I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw")


def entry_point(name):
    """`__rust_alloc` for `__rustc::__rust_alloc` or `__rust_alloc`, else None."""
    m = _SYM.search(name or "")
    return m.group(1) if m else None


def inside_allocator(name):
    name = name or ""
    return name.startswith(("mi_", "_mi_", "__libc_", "_int_")) or name in ALLOCATOR


class Names:
    """One name-compression table (`(id) name` defines, `(id)` reuses)."""

    def __init__(self):
        self.ids = {}

    def read(self, value):
        value = value.strip()
        if value.startswith("("):
            close = value.find(")")
            ident, rest = value[1:close], value[close + 1 :].strip()
            if rest:
                self.ids[ident] = rest
                return rest
            return self.ids.get(ident, f"({ident})")
        return value


def parse(path):
    """-> dict: events, summary, totals (from the header lines), per-function self and
    inclusive Ir keyed by (object, function), call counts per callee name."""
    fns, files, objs = Names(), Names(), Names()
    events = ["Ir"]
    npos = 1
    summary = totals = None
    summary_all = []  # every event of the summary: line, in the order of events:
    self_ir = defaultdict(int)
    incl_calls = defaultdict(int)  # cost of calls out of the function, recursion excluded
    called = defaultdict(int)  # (caller name, callee name) -> calls
    ob = cob = None
    fn = cfn = None
    pending_call = None  # (object, function) of the call whose cost is the next cost line
    skip_line = False  # the next line is a jump's position line
    ir_index = 0

    def cost_of(line):
        parts = line.split()
        vals = parts[npos:]
        if ir_index < len(vals):
            return int(vals[ir_index])
        return 0

    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if skip_line:
                skip_line = False
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                ir = cost_of(line)
                if pending_call is not None:
                    # A call's inclusive cost: the caller's inclusive cost, not its own,
                    # and not even that when the function calls itself.
                    if pending_call != (ob, fn):
                        incl_calls[(ob, fn)] += ir
                    pending_call = None
                else:
                    self_ir[(ob, fn)] += ir
                continue
            key, _, value = line.partition("=")
            if key == "fn":
                fn = fns.read(value)
            elif key == "cfn":
                cfn = fns.read(value)
            elif key == "calls":
                called[(fn, cfn)] += int(value.split()[0])
                # The callee's object is the caller's unless a cob= said otherwise; cob=, cfi=
                # and cfn= speak of the next call only.
                pending_call = (cob if cob is not None else ob, cfn)
                cob = cfn = None
            elif key in ("fl", "fi", "fe", "cfi", "cfl"):
                files.read(value)
            elif key == "ob":
                ob = objs.read(value)
            elif key == "cob":
                cob = objs.read(value)
            elif key in ("jump", "jcnd"):
                skip_line = True
            elif line.startswith("events:"):
                events = line.split(":", 1)[1].split()
                wanted = os.environ.get("CG_EVENT", "Ir")
                ir_index = events.index(wanted) if wanted in events else 0
            elif line.startswith("positions:"):
                npos = len(line.split(":", 1)[1].split())
            elif line.startswith("summary:"):
                summary_all = [int(v) for v in line.split(":", 1)[1].split()]
                summary = summary_all[ir_index]
            elif line.startswith("totals:"):
                totals = int(line.split(":", 1)[1].split()[ir_index])
            # Anything else (version:, cmd:, part:, desc:, ...) is a header.
    if pending_call is not None:
        raise ValueError(f"{path}: ends after a calls= line")
    return {
        "summary": summary,
        "events": dict(zip(events, summary_all)),
        "totals": totals,
        "self": dict(self_ir),
        "calls_out": dict(incl_calls),
        "called": dict(called),
    }


def merge(parsed):
    out = {"summary": 0, "totals": 0, "self": defaultdict(int), "calls_out": defaultdict(int),
           "called": defaultdict(int), "events": defaultdict(int)}
    for p in parsed:
        out["summary"] += p["summary"] or 0
        for name, v in p.get("events", {}).items():
            out["events"][name] += v
        if p["totals"] is None or out["totals"] is None:
            out["totals"] = None
        else:
            out["totals"] += p["totals"]
        for k in ("self", "calls_out", "called"):
            for name, v in p[k].items():
                out[k][name] += v
    return out


def summary(paths):
    p = merge(parse(path) for path in paths)
    allocator = {f: 0 for f in ALLOCATOR}
    rust = {s: 0 for s in RUST_ALLOC + RUST_FREE}
    present = set()
    for (caller, callee), n in p["called"].items():
        e = entry_point(callee)
        if e:
            rust[e] += n
            present.add(e)
        if callee in allocator and not inside_allocator(caller):
            allocator[callee] += n
    for _, name in p["self"]:
        e = entry_point(name)
        if e:
            present.add(e)
    return {
        "ir": p["summary"],
        "totals": p["totals"],
        "ir_sum_of_self": sum(p["self"].values()),
        "allocs": sum(allocator[f] for f in ALLOCATOR_ALLOC + ALLOCATOR_REALLOC),
        "frees": sum(allocator[f] for f in ALLOCATOR_FREE),
        "allocator_calls": {f: n for f, n in allocator.items() if n},
        "rust_allocs": sum(rust[s] for s in RUST_ALLOC),
        "rust_entry_points": rust,
        "rust_absent": [s for s in RUST_ALLOC + RUST_FREE if s not in present],
        # A `--cache-sim=yes` run's cache misses (CG_CACHE_SIM=1); empty otherwise.
        "cache_misses": {e: v for e, v in p["events"].items() if e in CACHE_EVENTS},
    }


def functions(p):
    """(object, function) -> (inclusive, self) Ir."""
    out = {}
    for k in set(p["self"]) | set(p["calls_out"]):
        s = p["self"].get(k, 0)
        out[k] = (s + p["calls_out"].get(k, 0), s)
    return out


def top(n, calls, paths):
    """Markdown: the top n functions by inclusive and by exclusive Ir per call. paths: the long
    run's dump, or the short run's then the long run's (the difference is divided by calls)."""
    long_fns = functions(merge([parse(paths[-1])]))
    short_fns = functions(merge([parse(paths[0])])) if len(paths) == 2 else {}
    rows = {}
    for k in set(long_fns) | set(short_fns):
        li, ls = long_fns.get(k, (0, 0))
        si, ss = short_fns.get(k, (0, 0))
        rows[k] = ((li - si) / calls, (ls - ss) / calls)
    # The frames that hold (nearly) everything, the threads' start and the runtime's loop, say
    # nothing about where the instructions go: the inclusive list leaves them out.
    total = max((costs[0] for costs in rows.values()), default=0)
    shell = {k for k, costs in rows.items() if costs[0] >= 0.95 * total}
    lines = []
    for title, col in (("inclusive", 0), ("exclusive", 1)):
        lines.append(f"| {title} {os.environ.get('CG_EVENT', 'Ir')} per call | function | object |")
        lines.append("|---:|---|---|")
        ranked = sorted(((k, c) for k, c in rows.items() if col == 1 or k not in shell),
                        key=lambda kv: kv[1][col], reverse=True)[:n]
        for (ob, name), costs in ranked:
            obj = (ob or "?").rsplit("/", 1)[-1]
            shown = (name or "?").replace("|", "\\|")
            if len(shown) > 140:
                shown = shown[:137] + "..."
            lines.append(f"| {costs[col]:,.0f} | `{shown}` | {obj} |")
        if col == 0:
            lines.append("")
            lines.append(f"({len(shell)} functions with at least 95% of all instructions, "
                         "the threads' start and the runtime's loop, left out.)")
        lines.append("")
    return "\n".join(lines)


def floor_of(name):
    if "modern" in name:
        return "floor-modern"
    if "sse" in name:
        return "floor-sse"
    if "adaptive" in name:
        # A stateful request carries a session id and a protocol version: its floor parses them.
        return "floor-json-session"
    return "floor-json"


def row(name, calls, short, warmup, concurrency, paths):
    """One server's JSON line from its dumps (the short run's then the long run's, or the long
    run's alone when short is 0)."""
    sums = [summary([path]) for path in paths]
    for path, s in zip(paths, sums):
        if s["totals"] is not None and s["ir_sum_of_self"] != s["totals"]:
            raise ValueError(f"{path}: functions' own costs add up to {s['ir_sum_of_self']}, "
                             f"the file's totals: line says {s['totals']}")
    long, base = sums[-1], (sums[0] if len(sums) == 2 else None)
    n = calls - (short if base else 0)

    def per_call(key, sub=None):
        value = long[key] if sub is None else long[key].get(sub, 0)
        if base:
            value -= base[key] if sub is None else base[key].get(sub, 0)
        return round(value / n, 2) + 0.0  # no -0.0

    return {
        "name": name,
        "floor": floor_of(name),
        "calls": calls,
        "short_calls": short if base else 0,
        "warmup_calls": warmup,
        "concurrency": concurrency,
        "ir_per_call": per_call("ir"),
        "allocs_per_call": per_call("allocs"),
        "frees_per_call": per_call("frees"),
        "allocator_per_call": {f: per_call("allocator_calls", f)
                               for f in sorted(set(long["allocator_calls"])
                                               | set(base["allocator_calls"] if base else ()))},
        "rust_allocs_per_call": per_call("rust_allocs"),
        "rust_entry_points_per_call": {s: per_call("rust_entry_points", s)
                                       for s in RUST_ALLOC + RUST_FREE},
        "rust_absent": long["rust_absent"],
        "ir_dumps": [s["ir"] for s in sums],
        **({"cache_misses_per_call": {e: per_call("cache_misses", e)
                                      for e in sorted(long["cache_misses"])}}
           if long["cache_misses"] else {}),
    }


def fmt_k(v):
    return f"{v / 1000:.2f}k" if v >= 1000 else f"{v:.0f}"


def table(jsonl):
    rows = [json.loads(l) for l in open(jsonl) if l.strip()]
    by_name = {r["name"]: r for r in rows}
    out = ["| server | Ir per call | allocations per call | vs its floor (Ir) "
           "| of the allocations, through `__rust_alloc*` |",
           "|---|---:|---:|---|---:|"]
    uncounted, absent = [], {}
    for r in rows:
        f = by_name.get(r["floor"])
        vs = f"{r['ir_per_call'] / f['ir_per_call']:.2f}x {r['floor']}" if f else "-"
        allocs = f"{r['allocs_per_call']:.1f}" if r["allocs_per_call"] > 0 else "not counted"
        out.append(f"| {r['name']} | {fmt_k(r['ir_per_call'])} | {allocs} | {vs} "
                   f"| {r['rust_allocs_per_call']:.1f} |")
        if r["allocs_per_call"] <= 0:
            uncounted.append(r["name"])
        key = ", ".join(s for s in r["rust_absent"] if s != "__rust_dealloc")
        if key:
            absent.setdefault(key, []).append(r["name"])
    if rows:
        r = rows[0]
        out.append("")
        what = (f"(the dump of {r['calls']} calls - the dump of {r['short_calls']}) / "
                f"{r['calls'] - r['short_calls']}" if r["short_calls"] else
                f"the dump of {r['calls']} calls / {r['calls']}")
        out.append(f"Per call: {what}; callgrind zeroed after a warm-up of {r['warmup_calls']} "
                   f"calls, c = {r['concurrency']}. Allocations: calls into the allocator "
                   "(mimalloc) from outside it; the last column counts those of them made "
                   "through Rust's allocator entry points (the others have the shim inlined).")
    cached = [r for r in rows if r.get("cache_misses_per_call")]
    if cached:
        out += ["", "Cache misses per call (callgrind's cache simulation, CG_CACHE_SIM=1):", "",
                "| server | I1 misses | D1 read misses | D1 write misses | LL misses (I, read, write) |",
                "|---|---:|---:|---:|---|"]
        for r in cached:
            m = r["cache_misses_per_call"]
            out.append(f"| {r['name']} | {m.get('I1mr', 0):.0f} | {m.get('D1mr', 0):.0f} "
                       f"| {m.get('D1mw', 0):.0f} | {m.get('ILmr', 0):.1f}, {m.get('DLmr', 0):.1f}, "
                       f"{m.get('DLmw', 0):.1f} |")
    if uncounted or absent:
        out.append("")
    for names in uncounted:
        out.append(f"- {names}: no call into the allocator was found in its dumps.")
    for key, names in absent.items():
        who = "every server" if len(names) == len(rows) else ", ".join(names)
        out.append(f"- Absent from the callgrind output (not called while measured) of {who}: "
                   f"{key}.")
    return "\n".join(out)


def main(argv):
    cmd, args = (argv[1], argv[2:]) if len(argv) > 1 else (None, [])
    if cmd == "summary" and args:
        print(json.dumps(summary(args)))
    elif cmd == "row" and len(args) in (6, 7):
        print(json.dumps(row(args[0], *map(int, args[1:5]), args[5:])))
    elif cmd == "top" and len(args) in (3, 4):
        print(top(int(args[0]), float(args[1]), args[2:]))
    elif cmd == "table" and len(args) == 1:
        print(table(args[0]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
