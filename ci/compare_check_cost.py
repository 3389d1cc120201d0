"""Time `harness check` commands side by side, interleaved A/B/A/B, and report ratios.

Used for docs/benchmarks-harness.md: the cost of `harness check --base` before and after the
trust root, on the same repository and change. Each variant is a checker folder (one holding
`harness/` and `rules/`) and an optional file to touch before each run::

    python ci/compare_check_cost.py --repo /tmp/bench-repo --rounds 15 \
        --variant before=/tmp/bench-old --variant after=/work/main \
        --variant after-checker-edited=/work/main:harness/gates/ruff.py \
        -- --base HEAD --gate format --gate ruff --gate rules --gate protected \
           --gate architecture --gate test-integrity --gate docs

Every round runs each variant once, in the same order, so drift in machine load hits all of
them alike; the report gives each variant's median and min wall time and its median ratio to
the first variant with a bootstrap 95% interval.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path


def run_once(checker: Path, repo: Path, touch: str, check_args: list[str]) -> float:
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=repo, check=True)
    with (repo / "nanochat/optim.py").open("a", encoding="utf-8") as handle:
        handle.write(f"# change {time.time_ns()}\n")
    if touch:
        with (repo / touch).open("a", encoding="utf-8") as handle:
            handle.write(f"# checker edit {time.time_ns()}\n")
    boot = f"import sys; sys.path.insert(0, {str(checker)!r}); from harness.cli import main; main()"
    args = [sys.executable, "-c", boot, "check", "--root", str(repo), *check_args]
    started = time.perf_counter()
    done = subprocess.run(args, cwd=repo, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{checker}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
    return elapsed


def ratio_interval(a: list[float], b: list[float], draws: int = 2000) -> tuple[float, float]:
    pairs = list(zip(a, b, strict=True))
    rng = random.Random(0)
    ratios = []
    for _ in range(draws):
        sample = [rng.choice(pairs) for _ in pairs]
        ratios.append(statistics.median(y / x for x, y in sample))
    ratios.sort()
    return ratios[int(0.025 * draws)], ratios[int(0.975 * draws)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--variant", action="append", required=True, help="NAME=CHECKER[:TOUCH]")
    parser.add_argument("check_args", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    check_args = [a for a in options.check_args if a != "--"]
    variants = []
    for spec in options.variant:
        name, rest = spec.split("=", 1)
        checker, _, touch = rest.partition(":")
        variants.append((name, Path(checker), touch))
    times: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    for round_index in range(options.warmup + options.rounds):
        for name, checker, touch in variants:
            elapsed = run_once(checker, options.repo, touch, check_args)
            if round_index >= options.warmup:
                times[name].append(elapsed)
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=options.repo, check=True)
    first = variants[0][0]
    print(f"| variant | median | min | ratio to {first} (95% CI) |")
    print("|---|---|---|---|")
    for name, _, _ in variants:
        series = times[name]
        ratio = statistics.median(y / x for x, y in zip(times[first], series, strict=True))
        low, high = ratio_interval(times[first], series)
        print(
            f"| {name} | {statistics.median(series):.2f} s | {min(series):.2f} s "
            f"| {ratio:.3f} ({low:.3f}-{high:.3f}) |"
        )


if __name__ == "__main__":
    main()
