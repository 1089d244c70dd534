#!/usr/bin/env python3
"""Reads a lackey trace (bench/footprint.sh) and prints a quick call's data footprint.

    python3 bench/footprint.py TRACE BINARY

Lines are 64 bytes; a call is the span between two entries into tokio's I/O driver
(`Driver::turn`), one per call at c = 1; the call in the middle of the traced ones is reported.
valgrind loads a PIE at 0x108000, which is how the binary's symbols and sections are placed.
"""
import bisect
import collections
import re
import subprocess
import sys

BASE = 0x108000


def symbols(binary):
    out = subprocess.run(['nm', '-C', '--defined-only', binary], capture_output=True, text=True)
    syms = []
    for line in out.stdout.splitlines():
        parts = line.split(' ', 2)
        if len(parts) == 3 and parts[1] in 'tTwW':
            syms.append((int(parts[0], 16) + BASE, parts[2]))
    syms.sort()
    return syms


def sections(binary):
    out = subprocess.run(['readelf', '-SW', binary], capture_output=True, text=True)
    found = []
    for line in out.stdout.splitlines():
        m = re.match(r'\s*\[\s*\d+\]\s+(\.\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)', line)
        if m and int(m.group(2), 16):
            found.append((int(m.group(2), 16) + BASE, int(m.group(3), 16), m.group(1)))
    return found


def main(trace, binary):
    syms = symbols(binary)
    starts = [a for a, _ in syms]

    def name(addr):
        i = bisect.bisect_right(starts, addr) - 1
        return syms[i][1] if i >= 0 and addr - starts[i] < 1 << 20 else 'libc (%x)' % addr

    turn = [a for a, n in syms if n == 'tokio::runtime::io::driver::Driver::turn'][0]
    marker = 'I  %08x' % turn
    calls, current, last = [], None, '0'
    with open(trace) as f:
        for line in f:
            if line.startswith(marker):
                calls.append(current)
                current = {}
                continue
            if current is None or line[0] == '=':
                continue
            if line[0] == 'I':
                last = line[3:line.index(',')]
                continue
            addr = int(line[3:line.index(',')], 16) >> 6
            current.setdefault(addr, last)
    calls = [c for c in calls[-18:-2] if c]
    call = calls[len(calls) // 2]
    secs = sections(binary)
    by_place = collections.Counter()
    by_fn = collections.Counter()
    for line, first in call.items():
        a = line << 6
        place = next((s for lo, n, s in secs if lo <= a + 63 and a < lo + n), None)
        if place is None:
            place = 'heap (mimalloc)' if a >= 0x1000000000 else 'stack, libc, ld.so, TLS'
        by_place[place] += 1
        by_fn[name(int(first, 16))] += 1
    print('lines per call (each call traced):', [len(c) for c in calls])
    print('\n| where | lines | KiB |\n|---|---:|---:|')
    for place, n in by_place.most_common():
        print('| %s | %d | %.1f |' % (place, n, n / 16))
    print('\n| first touched by | lines |\n|---|---:|')
    for fn, n in by_fn.most_common(40):
        print('| `%s` | %d |' % (fn[:120], n))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
