"""The tests gate runs real pytest on a tiny temporary project and reads its JUnit XML."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.check import run_gate
from harness.gates import GateContext
from harness.gates.tests import GUARD_ENV

PASSING = "def test_adds():\n    assert 1 + 1 == 2\n"
FAILING = 'def test_subtracts():\n    x = 3 - 1\n    assert x == 1, "three minus one"\n'


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_one_passing_and_one_failing_test_gives_one_finding_at_the_assert(tmp_path: Path) -> None:
    root = project(tmp_path, {"tests/test_ok.py": PASSING, "tests/test_bad.py": FAILING})
    result = run_gate("tests", GateContext(root=root))
    assert not result.ok
    (finding,) = result.findings
    assert (finding.rule, finding.path, finding.line) == ("TEST001", "tests/test_bad.py", 3)
    assert finding.message.startswith("tests/test_bad.py::test_subtracts failed: AssertionError")
    assert result.metrics["passed"] == 1 and result.metrics["failed"] == 1


def test_all_passing_is_ok_with_counts(tmp_path: Path) -> None:
    root = project(tmp_path, {"tests/test_ok.py": PASSING})
    result = run_gate("tests", GateContext(root=root))
    assert result.ok and result.metrics["passed"] == 1 and result.metrics["failed"] == 0


def test_uncollectable_module_is_test002_and_other_tests_still_run(tmp_path: Path) -> None:
    root = project(
        tmp_path, {"tests/test_ok.py": PASSING, "tests/test_broken.py": "import not_a_module_xyz\n"}
    )
    result = run_gate("tests", GateContext(root=root))
    assert [(f.rule, f.path, f.line) for f in result.findings] == [
        ("TEST002", "tests/test_broken.py", 1)
    ]
    assert "not_a_module_xyz" in result.findings[0].message
    assert result.metrics["passed"] == 1


def test_markers_option_selects_tests(tmp_path: Path) -> None:
    marked = "import pytest\n\n\n@pytest.mark.slow\n" + FAILING
    root = project(tmp_path, {"tests/test_ok.py": PASSING, "tests/test_slow.py": marked})
    result = run_gate("tests", GateContext(root=root, options={"markers": "not slow"}))
    assert result.ok and result.metrics["passed"] == 1


def test_no_tests_collected_is_test003(tmp_path: Path) -> None:
    root = project(tmp_path, {"tests/helper.py": "X = 1\n"})
    result = run_gate("tests", GateContext(root=root))
    assert [f.rule for f in result.findings] == ["TEST003"]


def test_inside_this_repositorys_pytest_run_the_gate_skips_itself() -> None:
    root = Path(__file__).resolve().parents[2]
    result = run_gate("tests", GateContext(root=root))
    assert result.skipped.startswith("already inside")  # this suite's pytest run, or a gate run


def test_the_guard_variable_stops_a_nested_run_of_the_same_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path, {"tests/test_ok.py": PASSING})
    monkeypatch.setenv(GUARD_ENV, str(root))
    assert GUARD_ENV in run_gate("tests", GateContext(root=root)).skipped


def test_the_guard_variable_of_another_project_does_not_stop_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(GUARD_ENV, str(tmp_path / "elsewhere"))
    result = run_gate("tests", GateContext(root=project(tmp_path, {"tests/test_ok.py": PASSING})))
    assert result.skipped == "" and result.ok
