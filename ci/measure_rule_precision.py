"""Measure the lint rules on third-party code: findings per kLOC per rule, plus samples to judge.

Runs every rule over the Python files under a root (default: the installed torch package) with
repo-relative pretend paths (``torch/nn/modules/linear.py``), so layer-specific rules that only
apply under ``nanochat/`` stay quiet; ``--as-nanochat`` instead pretends every file lives at
``nanochat/<path>`` (``nanochat/torch/optim/adamw.py``) to stress those rules. Prints a markdown
table and writes a JSON file with up to ``--sample`` randomly chosen findings per rule (fixed
seed) for a human to judge.
Not part of the test suite: on two cores a 300 kLOC subset of torch takes a few minutes.

    python ci/measure_rule_precision.py --subdir nn --subdir optim --subdir utils/data \\
        --out .cache/precision.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def default_root() -> Path:
    import torch

    return Path(torch.__file__).parent


def lint_one(job: tuple[str, str, str, tuple[str, ...]]) -> tuple[int, list[dict]]:
    """(lines, findings) for one file; ``job`` is (file, pretend path, label, excluded codes)."""
    from harness.lint.engine import lint_source
    from rules import all_rules

    file, pretend, label, excluded = job
    source = Path(file).read_text(encoding="utf-8", errors="replace")
    rules = [r for r in all_rules() if r.code not in excluded]
    found = []
    for f in lint_source(pretend, source, rules):
        line = (
            source.splitlines()[f.line - 1].strip() if 0 < f.line <= source.count("\n") + 1 else ""
        )
        found.append(
            {
                "rule": f.rule,
                "path": label,
                "line": f.line,
                "message": f.message,
                "text": line[:160],
            }
        )
    return source.count("\n") + 1, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root", type=Path, default=None, help="package directory (default: torch)"
    )
    parser.add_argument(
        "--subdir", action="append", default=[], help="only these subfolders of root"
    )
    parser.add_argument(
        "--as-nanochat", action="store_true", help="pretend files live under nanochat/"
    )
    parser.add_argument(
        "--disguise-tests",
        action="store_true",
        help="with --as-nanochat: rename test folders so rules that skip test code still run",
    )
    parser.add_argument("--exclude-rule", action="append", default=[], help="skip this rule code")
    parser.add_argument("--sample", type=int, default=15, help="findings sampled per rule")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(".cache/rule-precision.json"))
    args = parser.parse_args()

    root = args.root or default_root()
    folders = [root / s for s in args.subdir] or [root]
    files = sorted(p for folder in folders for p in folder.rglob("*.py"))
    jobs = []
    for path in files:
        label = f"{root.name}/{path.relative_to(root).as_posix()}"
        pretend = f"nanochat/{label}" if args.as_nanochat else label
        if args.as_nanochat and args.disguise_tests:
            pretend = "nanochat/stress/" + label.replace("/", "__").replace("test", "tst")
        jobs.append((str(path), pretend, label, tuple(args.exclude_rule)))

    started = time.perf_counter()
    lines = 0
    by_rule: dict[str, list[dict]] = defaultdict(list)
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for n_lines, found in pool.map(lint_one, jobs, chunksize=8):
            lines += n_lines
            for finding in found:
                by_rule[finding["rule"]].append(finding)
    elapsed = time.perf_counter() - started

    rng = random.Random(args.seed)
    samples = {
        code: rng.sample(items, min(args.sample, len(items)))
        for code, items in sorted(by_rule.items())
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"files": len(files), "lines": lines, "samples": samples}, indent=1)
    )

    kloc = lines / 1000
    print(f"{len(files)} files, {kloc:.1f} kLOC, {elapsed:.0f} s, as_nanochat={args.as_nanochat}")
    print("| rule | findings | per kLOC |")
    print("|---|---|---|")
    for code, items in sorted(by_rule.items()):
        print(f"| {code} | {len(items)} | {len(items) / kloc:.3f} |")
    print(f"samples written to {args.out}")


if __name__ == "__main__":
    main()
