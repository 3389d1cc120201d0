"""Benchmark test selection: the tests gate with --base HEAD after a one-line change in optim.py.

Run it with:
    .venv/bin/python -m pytest tests/benchmarks/test_test_selection_bench.py --benchmark-only \
        --benchmark-enable -p no:xdist
Both cases work on a clone of this repository whose HEAD is the base; the change is one comment
line appended to ``nanochat/optim.py``. The gate gets what ``harness check --base HEAD`` hands it
(the changed files, the ``[tool.harness.gates.tests]`` options of the clone) and runs the tests
the import graph selects, or, with ``select = false``, the full suite. The full suite takes
minutes on a 2-core machine, so it runs one round; the selected run three. The selection alone
(a child process that builds the import graph) is timed apart. Figures are in
docs/benchmarks-harness.md.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from harness import git
from harness.gates import GateContext
from harness.gates.test_selection import select_tests, with_deleted
from harness.gates.tests import GATE

REPO = Path(__file__).resolve().parents[2]
CHANGED = "nanochat/optim.py"


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench") / "repo"
    subprocess.run(["git", "clone", "-q", str(REPO), str(root)], check=True)
    with (root / CHANGED).open("a", encoding="utf-8") as handle:
        handle.write("# benchmark edit\n")
    return root


def base_context(root: Path, *, select: bool) -> GateContext:
    """The tests gate's context in ``harness check --base HEAD``, with ``select`` set."""
    with (root / "pyproject.toml").open("rb") as handle:
        table = tomllib.load(handle)["tool"]["harness"].get("gates", {}).get("tests", {})
    return GateContext(
        root=root,
        paths=tuple(git.changed_files(root, "HEAD")),
        changed_only=True,
        base="HEAD",
        options={**table, "select": select},
    )


def record(benchmark, metrics: dict) -> None:
    benchmark.extra_info.update(
        {k: metrics.get(k) for k in ("selected", "selection", "tests", "passed", "failed")}
    )


@pytest.mark.benchmark(group="test-selection")
def test_tests_gate_with_base_runs_the_tests_the_change_can_affect(benchmark, clone) -> None:
    context = base_context(clone, select=True)
    result = benchmark.pedantic(GATE.run, args=(context,), rounds=3)
    record(benchmark, result.metrics)
    assert result.metrics["selection"] == "import graph"
    assert "tests/nanochat/test_optim.py" in result.metrics["selected_files"]


@pytest.mark.benchmark(group="test-selection")
def test_tests_gate_with_base_and_select_false_runs_the_full_suite(benchmark, clone) -> None:
    context = base_context(clone, select=False)
    result = benchmark.pedantic(GATE.run, args=(context,), rounds=1)  # minutes per round
    record(benchmark, result.metrics)
    assert result.metrics["tests"] > 0 and "selection" not in result.metrics


@pytest.mark.benchmark(group="test-selection")
def test_selection_alone_after_the_change(benchmark, clone) -> None:
    changed = with_deleted(clone, git.changed_files(clone, "HEAD"), "HEAD")
    selection = benchmark.pedantic(select_tests, args=(clone, changed), rounds=10)
    benchmark.extra_info.update(selected=len(selection.tests), selection=selection.reason)
    assert selection.reason == "import graph"
