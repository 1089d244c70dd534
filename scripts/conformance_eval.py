#!/usr/bin/env python3
"""Judges conformance-suite runs from their checks.json files (used by scripts/conformance.sh).

    conformance_eval.py [--expected-failures FILE] NAME=RUNDIR [NAME=RUNDIR ...]

RUNDIR holds `stdout.txt` (the suite's printed output), `rc` (its exit code) and `results/` (the
suite's `-o` folder: one `server-<scenario>-<timestamp>/checks.json` per scenario).

Why: in server mode the suite exits 0 on warnings and its SUMMARY hides them (a warning-only
scenario prints `✓ name: 0 passed, 0 failed`), so the only reliable source is checks.json.

A scenario is FAIL if any check is FAILURE, WARN if any is WARNING, else PASS (SUCCESS, INFO and
SKIPPED are fine). Baseline: `server:` applies to both suites, `server-<NAME>:` to the run called NAME
(e.g. `server-v0.1.16:`). A listed scenario that is FAIL or WARN is EXPECTED (not counted); one that
passes is STALE, a failure (for `server:`, only when it passes in every suite that ran it). A scenario named in the SUMMARY with no
checks.json, a missing SUMMARY, or a suite exit code that no failed check explains, is a failure too.
Prints one line per problem, then `conformance: N passed, M failed`; exits 1 if M > 0.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

TS_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$")
SUMMARY_LINE = re.compile(r"^\s*([✓✗])\s+([A-Za-z0-9_./-]+): (\d+) passed, (\d+) failed")


def load_baseline(path: str) -> dict[str, set[str]]:
    """The `server...:` lists of a conformance baseline YAML (flow `[a, b]` or block `- a` form).

    `server:` applies to every suite; `server-<run name>:` (e.g. `server-v0.1.16:`) to one suite only.
    Other keys (the suite's `client:`) are ignored."""
    lists: dict[str, set[str]] = {}
    section = None
    for raw in Path(path).read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        m = re.match(r"^([A-Za-z_][\w.-]*):\s*(.*)$", line)
        if m:
            section, rest = m.group(1), m.group(2).strip()
            lists.setdefault(section, set())
            if rest:
                if not (rest.startswith("[") and rest.endswith("]")):
                    raise ValueError(f"{path}: cannot parse {raw!r} (use `key: [a, b]` or a block list)")
                lists[section].update(x.strip().strip("'\"") for x in rest[1:-1].split(",") if x.strip())
            continue
        m = re.match(r"^\s+-\s+(.+)$", line)
        if m and section is not None:
            lists[section].add(m.group(1).strip().strip("'\""))
            continue
        raise ValueError(f"{path}: cannot parse {raw!r}")
    return {k: v for k, v in lists.items() if k == "server" or k.startswith("server-")}


def judge_run(name: str, rundir: Path) -> tuple[dict[str, tuple[str, list[str]]], list[str]]:
    """Returns ({scenario: (status, reasons)}, run-level problems)."""
    problems: list[str] = []
    stdout = (rundir / "stdout.txt").read_text(errors="replace") if (rundir / "stdout.txt").exists() else ""
    rc_text = (rundir / "rc").read_text().strip() if (rundir / "rc").exists() else "?"
    summary = [m.group(2) for m in map(SUMMARY_LINE.match, stdout.splitlines()) if m]
    if "=== SUMMARY ===" not in stdout:
        problems.append(f"{name}: no SUMMARY in the suite's output (exit code {rc_text}; timeout is 124)")

    scenarios: dict[str, tuple[str, list[str]]] = {}
    results = rundir / "results"
    for checks_file in sorted(results.glob("*/checks.json")) if results.is_dir() else []:
        scenario = TS_SUFFIX.sub("", checks_file.parent.name)
        scenario = scenario.removeprefix("server-")
        try:
            checks = json.loads(checks_file.read_text())
        except (OSError, ValueError) as e:
            scenarios[scenario] = ("FAIL", [f"unreadable {checks_file}: {e}"])
            continue
        status, reasons = "PASS", []
        for c in checks:
            st = c.get("status")
            if st in ("FAILURE", "WARNING"):
                msg = c.get("errorMessage") or c.get("description") or ""
                reasons.append(f"{st} [{c.get('id')}] {msg}".strip())
                if st == "FAILURE":
                    status = "FAIL"
                elif status == "PASS":
                    status = "WARN"
        if not checks:
            status, reasons = "FAIL", ["checks.json holds no check"]
        scenarios[scenario] = (status, reasons)

    for s in summary:
        if s not in scenarios:
            scenarios[s] = ("FAIL", ["named in the SUMMARY but no checks.json was written"])
    if not scenarios:
        problems.append(f"{name}: no scenario results at all")
    any_fail = any(st == "FAIL" for st, _ in scenarios.values())
    if rc_text != "0" and not any_fail:
        problems.append(f"{name}: suite exited with code {rc_text} but no check failed")
    return scenarios, problems


def main(argv: list[str]) -> int:
    baseline: dict[str, set[str]] = {}
    runs: list[tuple[str, Path]] = []
    args = iter(argv)
    for a in args:
        if a == "--expected-failures":
            baseline = load_baseline(next(args))
        elif "=" in a:
            n, d = a.split("=", 1)
            runs.append((n, Path(d)))
        else:
            print(f"conformance_eval: bad argument {a!r}", file=sys.stderr)
            return 2
    for key in baseline:
        if key != "server" and key.removeprefix("server-") not in {n for n, _ in runs}:
            print(f"conformance_eval: baseline key {key!r} names no suite run here", file=sys.stderr)
            return 2
    common = baseline.get("server", set())

    judged = {name: judge_run(name, rundir) for name, rundir in runs}
    # A scenario in the common list is stale only if it passes in every suite that ran it.
    common_needed = {
        s for s in common if any(s in sc and sc[s][0] != "PASS" for sc, _ in judged.values())
    }

    passed = failed = warned = 0
    seen: set[str] = set()
    for name, _ in runs:
        scenarios, problems = judged[name]
        own = baseline.get(f"server-{name}", set())
        for p in problems:
            print(f"FAILED   {p}")
            failed += 1
        for scenario, (status, reasons) in sorted(scenarios.items()):
            seen.add(scenario)
            listed = scenario in own or scenario in common
            if status == "PASS":
                if scenario in own or (scenario in common and scenario not in common_needed):
                    where = f"server-{name}" if scenario in own else "server"
                    print(f"FAILED   {name} {scenario}: passes but is listed in the baseline's {where!r} (stale: remove it)")
                    failed += 1
                else:
                    passed += 1
                continue
            if listed:
                print(f"EXPECTED {name} {scenario}: {status} (listed in the baseline)")
                passed += 1
            elif status == "WARN":
                print(f"WARNING  {name} {scenario}")
                warned += 1
            else:
                print(f"FAILED   {name} {scenario}")
                failed += 1
            for r in reasons:
                print(f"           {r}")
    for key, names in sorted(baseline.items()):
        for scenario in sorted(names):
            ran = seen if key == "server" else set(judged[key.removeprefix("server-")][0])
            if scenario not in ran:
                print(f"FAILED   baseline {key!r} lists {scenario!r}, which was not run (typo or stale)")
                failed += 1
    if warned:
        print(f"({warned} scenario(s) with warnings: counted as failed)")
    print(f"conformance: {passed} passed, {failed + warned} failed")
    return 1 if failed or warned else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
