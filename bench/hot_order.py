#!/usr/bin/env python3
"""The functions a quick call runs, as a linker symbol-ordering file.

    hot_order.py BINARY CALLS DUMP... > hot.order

Each DUMP is a callgrind dump of BINARY made with `--dump-instr=yes` over CALLS calls (what
`bench/callgrind.sh` writes with `VALGRIND_OPTS=--dump-instr=yes`). A function of BINARY is
listed when one of its instructions ran at least CALLS / 2 times in a dump: it runs on every
call. Functions run in more of the dumps come first, then by instructions run. The names are
the binary's own symbols (`nm`), as the linker knows them (BENCHMARKS.md, "code pages").
"""
import bisect
import subprocess
import sys
from collections import defaultdict

from callgrind_parse import Names


def symbols(binary):
    """The binary's code symbols, sorted by address."""
    out = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True)
    syms = []
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.append((int(parts[0], 16), parts[2]))
    syms.sort()
    return syms


def executed(path, binary_name):
    """Instructions run per address of the binary's own code in one dump (calls excluded)."""
    objs = Names()  # `ob=` and `cob=` share one id space
    obj = None
    positions = None
    last = [0, 0]
    skip = False
    ran = defaultdict(int)
    for raw in open(path):
        line = raw.rstrip("\n")
        if not line:
            continue
        if line.startswith("positions:"):
            positions = line.split()[1:]
            continue
        if line.startswith(("ob=", "cob=")):
            name = objs.read(line.split("=", 1)[1])
            if line.startswith("ob="):
                obj = name
            continue
        if line.startswith("calls="):
            skip = True
            continue
        if not (line[0].isdigit() or line[0] in "+-*") or positions is None:
            continue
        toks = line.split()
        values = []
        for i in range(len(positions)):
            t = toks[i]
            if t == "*":
                values.append(last[i])
            elif t[0] == "+":
                values.append(last[i] + int(t[1:], 0))
            elif t[0] == "-":
                values.append(last[i] - int(t[1:], 0))
            else:
                values.append(int(t, 0))
        last = values
        if skip:
            skip = False
            continue
        if obj and obj.endswith("/" + binary_name) and len(toks) > len(positions):
            ran[values[0]] += int(toks[len(positions)])
    return ran


def main():
    binary, calls, dumps = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    syms = symbols(binary)
    starts = [a for a, _ in syms]
    name = binary.rsplit("/", 1)[-1]
    modes = defaultdict(int)
    weight = defaultdict(int)
    for dump in dumps:
        seen = set()
        for addr, n in executed(dump, name).items():
            if n >= calls / 2:
                i = bisect.bisect_right(starts, addr) - 1
                if i >= 0:
                    seen.add(syms[i][1])
                    weight[syms[i][1]] += n
        for s in seen:
            modes[s] += 1
    order = sorted(modes, key=lambda s: (-modes[s], -weight[s], s))
    if not order:
        sys.exit("hot_order.py: no function of the binary ran on every call in these dumps")
    print("\n".join(order))
    print(f"hot_order.py: {len(order)} functions", file=sys.stderr)


if __name__ == "__main__":
    main()
