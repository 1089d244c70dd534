#!/usr/bin/env python3
"""The functions a quick call runs, as a linker symbol-ordering file or a linker script.

    hot_order.py BINARY CALLS DUMP... > hot.order
    hot_order.py --script MAP BINARY CALLS DUMP... > hot-path.ld
    hot_order.py --check SCRIPT MAP [MIN_SHARE]

Each DUMP is a callgrind dump of BINARY made with `--dump-instr=yes` over CALLS calls (what
`bench/callgrind.sh` writes with `VALGRIND_OPTS=--dump-instr=yes`). A function of BINARY is
listed when one of its instructions ran at least CALLS / 2 times in a dump: it runs on every
call. Functions run in more of the dumps come first, then by instructions run. The names are
the binary's own symbols (`nm`), as the linker knows them (BENCHMARKS.md, "code pages").

With --script the list is a linker script instead, which puts the sections the hot code is in
first in `.text`, in the same order: rustc and cc compile one section per function, named
`.text.` and the function's symbol (or `.text.unlikely.`...; functions folded into one share
the first's), read from MAP, the link map of BINARY (LLD's `-Map`). The suffix ThinLTO gives a
local it promotes (`.llvm.N`) is left out: it hashes the code unit, whose debug information
names the checkout's directory. The rest of a name does not depend on where the build is made
(BENCHMARKS.md, "code pages"); a section whose name changed since is simply not moved.

With --check, MAP is the link map of a build laid out by SCRIPT (a `hot-path.ld`): it fails
unless at least MIN_SHARE (default 0.95) of the script's patterns name a section of the build,
and the sections they name are the first of `.text`, in the script's order (PF-115).
"""
import bisect
import fnmatch
import re
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


# The suffix ThinLTO gives a local it promotes.
LLVM_SUFFIX = re.compile(r"\.llvm\.[0-9]+$")
# An input section of LLD's map: address, its address in the file, size, alignment, where from.
MAP_LINE = re.compile(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s+(.*)$")


def text_sections(path):
    """The input sections of the map's `.text`, as (address, name), sorted by address."""
    secs = []
    inside = False
    for line in open(path):
        m = MAP_LINE.match(line)
        if not m:
            continue
        what = m.group(3)
        if what == ".text":
            inside = True
        elif inside and what.startswith("."):
            break  # the next output section
        elif inside and ":(" in what and int(m.group(2), 16) > 0:
            name = what.rsplit(":(", 1)[1].rstrip(")")
            if name.startswith(".text."):
                secs.append((int(m.group(1), 16), name))
    secs.sort()
    return secs


def linker_script(order):
    """The script placing the sections in `order` first in `.text`, in that order."""
    lines = [
        "/* The sections of the code a quick call runs, first in .text: scripts/hot-order.sh made it (PF-115). */",
        "SECTIONS",
        "{",
        "  .text :",
        "  {",
    ]
    seen = set()
    for sym in order:
        pattern = LLVM_SUFFIX.sub("*", sym)
        if pattern not in seen:
            seen.add(pattern)
            lines.append(f"    *({pattern})")
    lines += ["  }", "}", "INSERT BEFORE .init;"]
    return "\n".join(lines)


# A pattern of a linker script made by `linker_script`.
SCRIPT_LINE = re.compile(r"^\s*\*\((\S+)\)\s*$")


def check(script_path, map_path, min_share):
    """Whether the build whose map is MAP put the sections SCRIPT names first, in its order."""
    patterns = [m.group(1) for m in map(SCRIPT_LINE.match, open(script_path)) if m]
    if not patterns:
        sys.exit(f"hot_order.py: {script_path} names no section")
    secs = text_sections(map_path)
    if not secs:
        sys.exit(f"hot_order.py: {map_path} has no input section in .text (not LLD's map?)")
    # The linker puts every section a pattern names where the pattern is (a name may be in more
    # than one object): each of the first sections of .text is given the first pattern naming it.
    rank = []
    for _, name in secs[: len(patterns) * 3]:
        at = next((k for k, p in enumerate(patterns) if fnmatch.fnmatchcase(name, p)), None)
        if at is None:
            break
        rank.append(at)
    placed = set(rank)
    found = len(placed)
    print(f"hot_order.py: {found} of the script's {len(patterns)} sections first in .text")
    for pattern in [p for k, p in enumerate(patterns) if k not in placed][:20]:
        print(f"  not first in .text: {pattern}")
    if not found:
        sys.exit("hot_order.py: no section of the script is first in .text: the build was not laid out by it")
    if rank != sorted(rank):
        sys.exit("hot_order.py: the script's sections are first in .text, but not in its order")
    if found < min_share * len(patterns):
        sys.exit(
            f"hot_order.py: under {min_share:.0%} of the script's sections are in this build: "
            "the request path changed since it was made; run scripts/hot-order.sh"
        )


def main():
    args = sys.argv[1:]
    if args[:1] == ["--check"]:
        check(args[1], args[2], float(args[3]) if len(args) > 3 else 0.95)
        return
    script = args[:1] == ["--script"]
    if script:
        binary, calls, dumps = args[2], int(args[3]), args[4:]
        syms = text_sections(args[1])
    else:
        binary, calls, dumps = args[0], int(args[1]), args[2:]
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
    print(linker_script(order) if script else "\n".join(order))
    print(f"hot_order.py: {len(order)} functions", file=sys.stderr)


if __name__ == "__main__":
    main()
