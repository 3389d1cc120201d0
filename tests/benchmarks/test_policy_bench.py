"""Benchmarks of the trust root: what `harness check --base` pays to judge by the base's policy.

Run them with:
    .venv/bin/python -m pytest tests/benchmarks/test_policy_bench.py --benchmark-only \
        --benchmark-enable -p no:xdist
Each round works on a clone of this repository whose HEAD is the base; the change is one
comment line in ``nanochat/optim.py`` (the checker untouched) or in ``harness/gates/ruff.py``
(the checker changed, so the base's checker is exported and run apart). Figures and the
side-by-side command against the code before the trust root are in docs/benchmarks-harness.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness import judge
from harness.check import CheckRequest, run_check
from harness.policy import load_policy

REPO = Path(__file__).resolve().parents[2]
STATIC_GATES = ("protected", "test-integrity")


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench") / "repo"
    subprocess.run(["git", "clone", "-q", str(REPO), str(root)], check=True)
    return root


def touch(root: Path, path: str) -> None:
    with (root / path).open("a", encoding="utf-8") as handle:
        handle.write("# benchmark edit\n")


def restore(root: Path) -> None:
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=root, check=True)


@pytest.mark.benchmark(group="policy")
def test_policy_and_checker_comparison_when_the_checker_is_untouched(benchmark, clone) -> None:
    touch(clone, "nanochat/optim.py")

    def judge_by_base() -> bool:
        policy = load_policy(clone, "HEAD")
        return judge.trusted_checker_is_running(clone, policy.checker_ref)

    try:
        assert benchmark(judge_by_base) is True  # the clone's HEAD is the running checker's code
    finally:
        restore(clone)


@pytest.mark.benchmark(group="policy")
def test_check_base_when_the_checker_is_untouched(benchmark, clone) -> None:
    touch(clone, "nanochat/optim.py")
    request = CheckRequest(gates=STATIC_GATES, base="HEAD")
    try:
        report = benchmark.pedantic(run_check, args=(clone, request, clone), rounds=5)
        assert report.judged_by["checker"].startswith("the running harness")
    finally:
        restore(clone)


@pytest.mark.benchmark(group="policy")
def test_check_base_when_the_change_edits_the_checker(benchmark, clone) -> None:
    touch(clone, "harness/gates/ruff.py")
    boot = f"import sys; sys.path.insert(0, {str(clone)!r}); from harness.cli import main; main()"
    args = [sys.executable, "-c", boot, "check", "--base", "HEAD", "--format", "json"]
    args += [f"--gate={g}" for g in STATIC_GATES]

    def delegated() -> int:
        return subprocess.run(args, cwd=clone, capture_output=True).returncode

    try:
        assert benchmark.pedantic(delegated, rounds=5) == 1  # PROT001: the checker changed
    finally:
        restore(clone)
