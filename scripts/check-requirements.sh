#!/usr/bin/env bash
# Keeps docs/requirements.md honest.
#
#   scripts/check-requirements.sh [--checklist FILE] [--list]
#
# 1. Every requirement id cited in a tracked file (git ls-files; docs/requirements.md, this script,
#    whose examples are not citations, and lock files excepted) must be defined in
#    docs/requirements.md. An id is one of the spec checklist's prefixes (PREFIXES below), a
#    dash, digits and an optional lowercase letter: T-41, SEC-6, TL-4a, LGm-1. A range such as
#    `X-1..X-8` or `SEC-1..4` cites every id in it.
# 2. Every test named in docs/requirements.md as `path/to/file.rs::name` must exist: the file
#    must exist and contain `fn name`. A script named as `scripts/NAME.sh` must exist.
# 3. An id may be defined only once.
# With --checklist FILE (the spec checklist, which lives outside the repository), every id
# defined outside the "Project ids" section must also be an id of that checklist.
# With --list, prints the cited ids, one per line, and exits.
#
# Prints one summary line and exits 0, or lists every problem as `file:line: ...` and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "$@" <<'PY'
import os
import re
import subprocess
import sys

# The prefixes of the spec checklist's ids (docs/requirements.md explains each area). SEP-NNNN
# (spec enhancement proposals) and RFC numbers are not requirement ids.
PREFIXES = ["A", "AC", "AR", "B", "BR", "C", "CA", "EL", "H", "IN", "L", "LG", "LGm", "M", "MR", "MT", "P", "PF", "PG", "PR", "R",
            "RB", "RL", "SB", "SEC", "SM", "T", "TK", "TL", "TO", "V", "X"]
DOC = "docs/requirements.md"
SELF = "scripts/check-requirements.sh"
PROJECT_HEADING = "## Project ids"

prefix = "(?:" + "|".join(sorted(PREFIXES, key=len, reverse=True)) + ")"
ID = re.compile(r"(?<![A-Za-z0-9_-])(" + prefix + r")-([0-9]+)([a-z]?)(?![A-Za-z0-9_])")
RANGE = re.compile(r"(?<![A-Za-z0-9_-])(" + prefix + r")-([0-9]+)\s*(?:\.\.|–|—)\s*(?:("
                   + prefix + r")-)?([0-9]+)(?![A-Za-z0-9_])")
DEFINITION = re.compile(r"^- \*\*([A-Za-z]+-[0-9]+[a-z]?)\*\* — ")
TEST = re.compile(r"`([A-Za-z0-9_./-]+\.rs)::([A-Za-z_][A-Za-z0-9_]*)`")
SCRIPT = re.compile(r"`(scripts/[A-Za-z0-9_.-]+)`")

args = sys.argv[1:]
checklist = None
list_only = False
while args:
    if args[0] == "--checklist" and len(args) > 1:
        checklist, args = args[1], args[2:]
    elif args[0] == "--list":
        list_only, args = True, args[1:]
    else:
        sys.exit("usage: scripts/check-requirements.sh [--checklist FILE] [--list]")

tracked = subprocess.run(["git", "ls-files", "-z"], check=True, capture_output=True).stdout
tracked = [f for f in tracked.decode().split("\0") if f]


def skipped(path):
    name = path.rsplit("/", 1)[-1]
    return path in (DOC, SELF) or name.endswith(".lock") or name == "package-lock.json"


def read(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None  # deleted in the worktree but still in the index
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


# 1. Cited ids: id -> first "file:line".
cited = {}
citations = []  # (file, line, id)
for path in tracked:
    if skipped(path):
        continue
    text = read(path)
    if text is None:
        continue
    for number, line in enumerate(text.splitlines(), 1):
        ids = ["%s-%s%s" % m.groups() for m in ID.finditer(line)]
        for m in RANGE.finditer(line):
            first, low, second, high = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
            if second not in (None, first) or not low < high <= low + 50:
                continue
            ids.extend("%s-%d" % (first, n) for n in range(low + 1, high))
        for i in ids:
            citations.append((path, number, i))
            cited.setdefault(i, "%s:%d" % (path, number))

if list_only:
    for i in sorted(cited):
        print(i)
    sys.exit(0)

problems = []

# 2. Definitions and named tests in docs/requirements.md.
doc = read(DOC)
if doc is None:
    print("requirements: %s is missing" % DOC, file=sys.stderr)
    sys.exit(1)
defined = {}
project = set()
tests = {}  # (file, name) -> first doc line
in_project = False
for number, line in enumerate(doc.splitlines(), 1):
    if line.startswith("## "):
        in_project = line.strip() == PROJECT_HEADING
    m = DEFINITION.match(line)
    if m:
        i = m.group(1)
        if i in defined:
            problems.append("%s:%d: %s is defined twice (first on line %d)"
                            % (DOC, number, i, defined[i]))
        defined.setdefault(i, number)
        if in_project:
            project.add(i)
    for m in TEST.finditer(line):
        tests.setdefault((m.group(1), m.group(2)), number)
    for m in SCRIPT.finditer(line):
        if not os.path.isfile(m.group(1)):
            problems.append("%s:%d: %s: no such script" % (DOC, number, m.group(1)))

for path, number, i in citations:
    if i not in defined:
        problems.append("%s:%d: %s is cited but not defined in %s" % (path, number, i, DOC))

sources = {}
for (path, name), number in sorted(tests.items(), key=lambda t: t[1]):
    if not os.path.isfile(path):
        problems.append("%s:%d: %s::%s: no such file" % (DOC, number, path, name))
        continue
    if path not in sources:
        sources[path] = read(path) or ""
    if not re.search(r"\bfn " + re.escape(name) + r"\b", sources[path]):
        problems.append("%s:%d: %s::%s: no `fn %s` in %s" % (DOC, number, path, name, name, path))

if checklist:
    with open(checklist, encoding="utf-8") as f:
        known = set(re.findall(r"^- ([A-Za-z]+-[0-9]+[a-z]?)\b", f.read(), re.M))
    for i, number in sorted(defined.items(), key=lambda t: t[1]):
        if i not in project and i not in known:
            problems.append("%s:%d: %s is not an id of %s" % (DOC, number, i, checklist))

if problems:
    for p in problems:
        print(p)
    print("requirements: %d problem(s); every cited id must have a line in %s, and every test "
          "named there must exist" % (len(problems), DOC), file=sys.stderr)
    sys.exit(1)
print("requirements: %d ids cited, all defined (%d defined); %d tests named, all found"
      % (len(cited), len(defined), len(tests)))
PY
