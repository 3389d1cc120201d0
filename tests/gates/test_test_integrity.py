"""The test-integrity gate compares tests at a real base commit with the working tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.check import run_gate
from harness.gates import GateContext

BASE_TEST = """import math

import pytest


def test_sum():
    assert 1 + 1 == 2
    assert 2 + 2 == 4


def test_close():
    assert math.isclose(0.1 + 0.2, 0.3, rel_tol=1e-9)
    assert 0.3 == pytest.approx(0.1 + 0.2, rel=1e-6)


class TestGroup:
    def test_member(self):
        assert [1] == [1]
"""


@pytest.fixture
def repo(make_repo) -> Path:
    return make_repo({"tests/unit/test_math.py": BASE_TEST, "src/app.py": "X = 1\n"})


def check(root: Path, base: str | None = "base"):
    return run_gate("test-integrity", GateContext(root=root, base=base))


def edit(root: Path, old: str, new: str) -> None:
    path = root / "tests/unit/test_math.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def codes(result) -> list[tuple[str, str, int]]:
    return [(f.rule, f.path, f.line) for f in result.findings]


def test_without_base_the_gate_is_skipped_with_a_reason(repo: Path) -> None:
    result = check(repo, base=None)
    assert result.skipped.startswith("no base ref")


def test_unchanged_tests_pass(repo: Path) -> None:
    (repo / "src/app.py").write_text("X = 2\n")
    result = check(repo)
    assert result.ok and result.findings == []


def test_deleted_test_function_is_ti001(repo: Path) -> None:
    edit(repo, "def test_sum():\n    assert 1 + 1 == 2\n    assert 2 + 2 == 4\n", "")
    result = check(repo)
    assert not result.ok
    assert [f.rule for f in result.findings] == ["TI001"]
    assert "test_sum (line 6 at base) was deleted" in result.findings[0].message


def test_deleted_test_file_reports_each_test(repo: Path) -> None:
    (repo / "tests/unit/test_math.py").unlink()
    rules = sorted(f.message.split()[1] for f in check(repo).findings)
    assert rules == ["TestGroup.test_member", "test_close", "test_sum"]


def test_test_moved_to_another_file_is_not_deleted(repo: Path, git) -> None:
    git(repo, "mv", "tests/unit/test_math.py", "tests/unit/test_arith.py")
    result = check(repo)
    assert result.ok, codes(result)


def test_removed_assert_is_ti002_at_the_test(repo: Path) -> None:
    edit(repo, "    assert 2 + 2 == 4\n", "")
    result = check(repo)
    assert codes(result) == [("TI002", "tests/unit/test_math.py", 6)]
    assert "1 assertion(s), 2 at base" in result.findings[0].message


def test_new_skip_mark_is_ti003(repo: Path) -> None:
    edit(repo, "def test_sum():", "@pytest.mark.skip(reason='flaky')\ndef test_sum():")
    assert [f.rule for f in check(repo).findings] == ["TI003"]


def test_new_xfail_on_a_class_applies_to_its_tests(repo: Path) -> None:
    edit(repo, "class TestGroup:", "@pytest.mark.xfail\nclass TestGroup:")
    assert [f.message.split()[1] for f in check(repo).findings] == ["TestGroup.test_member"]


def test_pytest_skip_call_and_module_pytestmark_are_ti003(repo: Path) -> None:
    edit(
        repo,
        "import pytest\n",
        "import pytest\n\npytestmark = pytest.mark.skipif(True, reason='x')\n",
    )
    edit(
        repo, "        assert [1] == [1]", "        pytest.skip('later')\n        assert [1] == [1]"
    )
    findings = check(repo).findings
    assert sorted(f.rule for f in findings) == ["TI003", "TI003"]
    assert any("whole module" in f.message for f in findings)


def test_larger_relative_tolerance_is_ti004_at_the_value(repo: Path) -> None:
    edit(repo, "rel_tol=1e-9", "rel_tol=1e-3")
    (finding,) = check(repo).findings
    assert (finding.rule, finding.line) == ("TI004", 12)
    assert "isclose(rel_tol=0.001) in test_close is looser than 1e-09" in finding.message


def test_tighter_tolerance_passes(repo: Path) -> None:
    edit(repo, "rel=1e-6", "rel=1e-8")
    assert check(repo).ok


def test_adding_a_loose_tolerance_where_the_default_applied_is_ti004(repo: Path) -> None:
    edit(
        repo,
        "        assert [1] == [1]",
        "        assert [1] == [1]\n        assert 1.0 == pytest.approx(1.05, abs=0.1)",
    )
    assert [f.rule for f in check(repo).findings] == ["TI004"]


def test_fewer_places_in_assert_almost_equal_is_looser(make_repo) -> None:
    source = "import unittest\n\n\nclass TestX(unittest.TestCase):\n    def test_a(self):\n        self.assertAlmostEqual(1.0, 1.0, places=7)\n"
    root = make_repo({"tests/test_x.py": source})
    (root / "tests/test_x.py").write_text(source.replace("places=7", "places=2"))
    assert [f.rule for f in check(root).findings] == ["TI004"]


def test_unknown_base_ref_is_a_one_line_usage_error_not_a_crash(repo: Path) -> None:
    from harness.errors import HarnessError

    with pytest.raises(HarnessError, match="^git ref 'no-such-ref' not found; pass an existing"):
        check(repo, base="no-such-ref")


def test_unparsable_new_test_file_is_left_to_the_syntax_gates(repo: Path) -> None:
    (repo / "tests/unit/test_math.py").write_text("def test_(:\n")
    assert check(repo).ok


def test_dropping_parametrized_cases_is_ti001(make_repo) -> None:
    source = (
        "import pytest\n\n\n"
        "@pytest.mark.parametrize('n', [1, 2, 3])\n"
        "@pytest.mark.parametrize('sign', [1, -1])\n"
        "def test_square(n, sign):\n    assert (sign * n) ** 2 == n * n\n"
    )
    root = make_repo({"tests/test_sq.py": source})
    (root / "tests/test_sq.py").write_text(source.replace("[1, 2, 3]", "[1]"))
    (finding,) = check(root).findings
    assert (finding.rule, finding.line) == ("TI001", 6)
    assert "runs 2 parametrized case(s), 6 at base" in finding.message


def test_new_collect_ignore_in_a_conftest_is_ti003(repo: Path) -> None:
    (repo / "tests/conftest.py").write_text('collect_ignore = ["unit/test_math.py"]\n')
    (finding,) = check(repo).findings
    assert (finding.rule, finding.path, finding.line) == ("TI003", "tests/conftest.py", 1)
    assert "1 more `collect_ignore`" in finding.message


def test_new_deselect_in_pytest_addopts_is_ti003(make_repo) -> None:
    pyproject = '[tool.pytest.ini_options]\naddopts = "-q"\n'
    root = make_repo(
        {"pyproject.toml": pyproject, "tests/test_a.py": "def test_a():\n    assert 1\n"}
    )
    narrowed = pyproject.replace('"-q"', '"-q --deselect tests/test_a.py::test_a"')
    (root / "pyproject.toml").write_text(narrowed)
    (finding,) = check(root).findings
    assert (finding.rule, finding.path, finding.line) == ("TI003", "pyproject.toml", 2)
    assert "`--deselect`" in finding.message


def test_a_new_collection_hook_in_a_conftest_is_ti003(repo: Path) -> None:
    hook = "def pytest_collection_modifyitems(config, items):\n    items.clear()\n"
    (repo / "tests/conftest.py").write_text(hook)
    assert [f.message.split(": ", 1)[1] for f in check(repo).findings] == [
        "1 more `pytest_collection_modifyitems` than at base"
    ]


@pytest.mark.parametrize(
    ("source", "grade"),
    [
        ("assert x == pytest.approx(0.55)", "exact"),
        ("assert x is None", "exact"),
        ("assert torch.equal(a, b)", "exact"),
        ("assert not errors == []", "exact"),
        ("assert x", "weak"),
        ("assert x.ok", "weak"),
        ("assert x is not None", "weak"),
        ("assert isinstance(x, float)", "weak"),
        ("assert type(x) is float", "weak"),
        ("assert x == 1 or x", "weak"),
        ("assert True", "constant"),
        ("assert 'always'", "constant"),
        ("assert x == x", "constant"),
        ("assert (x == 1, 'message')", "constant"),
        ("assert 2 > 1", "constant"),
        ("assert x or True", "constant"),
        ("assert not None", "constant"),
        ("assert False", "weak"),
    ],
)
def test_assertions_are_graded_by_what_they_prove(source: str, grade: str) -> None:
    from harness.gates.test_facts import grade_expression

    (statement,) = __import__("ast").parse(source).body
    assert grade_expression(statement.test) == grade


def test_a_weakened_assert_is_ti006_at_its_line(repo: Path) -> None:
    edit(
        repo,
        "    assert 0.3 == pytest.approx(0.1 + 0.2, rel=1e-6)\n",
        "    assert math.fsum([0.1, 0.2]) is not None\n",
    )
    result = check(repo)
    assert [(f.rule, f.line) for f in result.findings] == [("TI006", 13)]
    assert "`assert math.fsum([0.1, 0.2]) is not None` in test_close only checks" in (
        result.findings[0].message
    )


def test_assert_true_instead_of_a_real_assert_is_one_ti007_not_also_ti002(repo: Path) -> None:
    edit(repo, "    assert 2 + 2 == 4\n", "    assert True\n")
    assert codes(check(repo)) == [("TI007", "tests/unit/test_math.py", 8)]


def test_a_new_test_that_asserts_only_a_constant_is_ti007(repo: Path) -> None:
    with (repo / "tests/unit/test_math.py").open("a") as handle:
        handle.write("\n\ndef test_new():\n    assert 1\n")
    assert [f.rule for f in check(repo).findings] == ["TI007"]


def test_one_skip_decorator_counts_once(repo: Path) -> None:
    edit(repo, "def test_sum():", "@pytest.mark.skip(reason='later')\ndef test_sum():")
    (finding,) = check(repo).findings
    assert (finding.rule, finding.message) == (
        "TI003",
        "test test_sum gained a skip/xfail (0 at base, 1 now)",
    )


def test_a_new_pytest_ini_that_deselects_is_ti003(repo: Path) -> None:
    (repo / "pytest.ini").write_text("[pytest]\naddopts = --deselect tests/unit/test_math.py\n")
    assert {f.rule for f in check(repo).findings} == {"TI003"}


def test_moving_a_call_to_a_removed_function_is_not_ti009(make_repo) -> None:
    test = "from app import old_name\n\n\ndef test_it():\n    assert old_name() == 1\n"
    root = make_repo({"app.py": "def old_name():\n    return 1\n", "tests/test_app.py": test})
    (root / "app.py").write_text("def new_name():\n    return 1\n")
    (root / "tests/test_app.py").write_text(test.replace("old_name", "new_name"))
    assert check(root).findings == []
