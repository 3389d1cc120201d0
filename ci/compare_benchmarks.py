"""Compare a pytest-benchmark JSON run with a stored baseline; exit 1 on a slowdown past a limit.

    python ci/compare_benchmarks.py ci/baselines/<device>/benchmarks.json bench.json \
        --max-slowdown 1.5

Benchmarks are matched by their full name; for each, the ratio of medians (current /
baseline) is printed, and any ratio above ``--max-slowdown`` fails the run. Benchmarks present
on one side only are listed, not failed (a new benchmark has no baseline yet). The default
limit is wide because a stored baseline was measured on another run of the machine: the
interleaved comparisons (``harness bench step --compare``, ``ci/compare_check_cost.py``) are
the precise instruments; this one catches gross regressions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def medians(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {b["fullname"]: float(b["stats"]["median"]) for b in data["benchmarks"]}
    except (OSError, ValueError, KeyError, TypeError) as err:
        message = f"{path}: not a pytest-benchmark JSON file ({err}); rerun with --benchmark-json"
        print(message, file=sys.stderr)
        sys.exit(2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("baseline", type=Path)
    parser.add_argument("current", type=Path)
    parser.add_argument("--max-slowdown", type=float, default=1.5)
    options = parser.parse_args()
    before, after = medians(options.baseline), medians(options.current)
    failed = []
    print("| benchmark | baseline median | current median | ratio |")
    print("|---|---|---|---|")
    for name in sorted(before.keys() & after.keys()):
        ratio = after[name] / before[name]
        flag = " (slower than allowed)" if ratio > options.max_slowdown else ""
        print(
            f"| {name} | {before[name] * 1e3:.2f} ms | {after[name] * 1e3:.2f} ms | {ratio:.2f}{flag} |"
        )
        if flag:
            failed.append(name)
    for name in sorted(before.keys() ^ after.keys()):
        side = "baseline" if name in before else "current run"
        print(f"only in the {side}: {name}")
    if failed:
        print(f"{len(failed)} benchmark(s) slower than {options.max_slowdown}x the baseline")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
