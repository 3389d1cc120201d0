"""Test selection: a change in a temporary git repo selects the test files that can see it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness import git as harness_git
from harness.gates import GateContext
from harness.gates.test_selection import Selection, select_tests, with_deleted
from harness.gates.tests import GATE

PASSING = "\n\ndef test_it():\n    assert True\n"
PROJECT = {
    "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
    "pkg/__init__.py": "",
    "pkg/leaf.py": "VALUE = 1\n",
    "pkg/mid.py": "from pkg.leaf import VALUE\n\nDOUBLE = 2 * VALUE\n",
    "pkg/other.py": "OTHER = 3\n",
    "pkg/runner.py": 'TARGET = "pkg.other"  # run as python -m\n',
    "pkg/plugins/__init__.py": (
        "import importlib\n\n\ndef load(name):\n"
        '    return importlib.import_module(f"{__name__}.{name}")\n'
    ),
    "pkg/plugins/alpha.py": "NAME = 'alpha'\n",
    "scripts/tool.py": "print('tool')\n",
    "tests/test_leaf.py": "from pkg import leaf" + PASSING,
    "tests/test_mid.py": "from pkg.mid import DOUBLE" + PASSING,
    "tests/test_other.py": "from pkg.other import OTHER" + PASSING,
    "tests/test_runner.py": "from pkg.runner import TARGET" + PASSING,
    "tests/test_plugins.py": "from pkg.plugins import load" + PASSING,
    "tests/unit/conftest.py": "import pytest\n",
    "tests/unit/test_plain.py": "import os" + PASSING,
    "tests/rules/test_golden.py": "import sys" + PASSING,
    "golden/NC101/bad.py": "x = 1\n",
    "docs/guide.md": "# Guide\n",
}
ALL_TESTS = tuple(sorted(p for p in PROJECT if p.startswith("tests/") and "/test_" in p))


@pytest.fixture
def repo(make_repo: Callable[[dict[str, str]], Path]) -> Path:
    return make_repo(PROJECT)


def edit(root: Path, path: str) -> None:
    with (root / path).open("a", encoding="utf-8") as handle:
        handle.write("# edited\n")


def changes(root: Path) -> list[str]:
    """What ``harness check --base base`` hands the tests gate: changed plus deleted files."""
    return with_deleted(root, harness_git.changed_files(root, "base"), "base")


def selection(root: Path) -> Selection:
    return select_tests(root, changes(root))


def test_a_changed_leaf_module_selects_the_tests_that_import_it_directly_or_through_others(
    repo: Path,
) -> None:
    edit(repo, "pkg/leaf.py")
    assert selection(repo) == Selection(("tests/test_leaf.py", "tests/test_mid.py"), "import graph")


def test_a_changed_test_file_selects_only_itself(repo: Path) -> None:
    edit(repo, "tests/test_other.py")
    assert selection(repo).tests == ("tests/test_other.py",)


def test_a_changed_conftest_selects_every_test_under_its_folder(repo: Path) -> None:
    edit(repo, "tests/unit/conftest.py")
    assert selection(repo).tests == ("tests/unit/test_plain.py",)


def test_a_pyproject_change_runs_the_full_suite_and_says_why(repo: Path) -> None:
    edit(repo, "pyproject.toml")
    assert selection(repo) == Selection(ALL_TESTS, "full suite: pyproject.toml changed")


def test_a_python_file_outside_the_packages_runs_the_full_suite(repo: Path) -> None:
    edit(repo, "scripts/tool.py")
    reason = "full suite: scripts/tool.py changed and is no module of the import graph"
    assert selection(repo).reason == reason


def test_a_golden_change_selects_the_rules_tests(repo: Path) -> None:
    edit(repo, "golden/NC101/bad.py")
    assert selection(repo).tests == ("tests/rules/test_golden.py",)


def test_a_docs_only_change_selects_nothing(repo: Path) -> None:
    edit(repo, "docs/guide.md")
    assert selection(repo) == Selection((), "import graph")


def test_a_deleted_module_selects_its_importers(repo: Path, git: Callable[..., str]) -> None:
    git(repo, "rm", "-q", "pkg/leaf.py")
    assert selection(repo).tests == ("tests/test_leaf.py", "tests/test_mid.py")


def test_a_changed_package_init_selects_the_tests_of_every_module_under_it(repo: Path) -> None:
    edit(repo, "pkg/__init__.py")
    top_level = tuple(t for t in ALL_TESTS if t.count("/") == 1)  # each imports a pkg module
    assert selection(repo).tests == top_level


def test_a_string_naming_a_module_selects_the_tests_of_the_module_that_runs_it(
    repo: Path,
) -> None:
    edit(repo, "pkg/other.py")
    assert selection(repo).tests == ("tests/test_other.py", "tests/test_runner.py")


def test_a_module_a_registry_loads_by_name_selects_the_tests_that_call_the_loader(
    repo: Path,
) -> None:
    edit(repo, "pkg/plugins/alpha.py")
    assert selection(repo).tests == ("tests/test_plugins.py",)


def gate_context(root: Path, **options: object) -> GateContext:
    paths = tuple(harness_git.changed_files(root, "base"))
    return GateContext(root=root, paths=paths, changed_only=True, base="base", options=options)


def test_the_tests_gate_with_a_base_runs_only_the_selected_tests_and_says_which(
    repo: Path,
) -> None:
    edit(repo, "pkg/leaf.py")
    metrics = GATE.run(gate_context(repo)).metrics
    assert (metrics["selected"], metrics["selection"], metrics["passed"]) == (2, "import graph", 2)
    assert metrics["selected_files"] == ["tests/test_leaf.py", "tests/test_mid.py"]


def test_the_tests_gate_skips_when_no_test_can_be_affected(repo: Path) -> None:
    edit(repo, "docs/guide.md")
    assert GATE.run(gate_context(repo)).skipped == "no test can be affected by the change"


def test_the_tests_gate_runs_the_full_suite_when_select_is_false(repo: Path) -> None:
    edit(repo, "pkg/leaf.py")
    metrics = GATE.run(gate_context(repo, select=False)).metrics
    assert metrics["passed"] == len(ALL_TESTS) and "selection" not in metrics


def test_the_tests_gate_without_a_base_runs_the_full_suite(repo: Path) -> None:
    edit(repo, "pkg/leaf.py")
    metrics = GATE.run(GateContext(root=repo)).metrics
    assert metrics["passed"] == len(ALL_TESTS) and "selection" not in metrics
