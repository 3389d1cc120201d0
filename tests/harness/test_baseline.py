"""The fingerprint baseline: hides known findings, reports stale entries, may only shrink."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.check import CheckRequest, run_check
from harness.errors import HarnessError
from harness.lint.baseline import parse_baseline, render_baseline

MUTABLE_DEFAULT = "def f(a=[]):\n    return a\n"


def rules_findings(repo: Path, **request) -> list[tuple[str, str]]:
    report = run_check(repo, CheckRequest(gates=("rules",), **request), cwd=repo)
    return [(f.rule, f.path) for f in report.findings]


def baseline_current(repo: Path) -> None:
    report = run_check(repo, CheckRequest(gates=("rules",)), cwd=repo)
    (repo / "ci").mkdir(exist_ok=True)
    (repo / "ci" / "harness-baseline.json").write_text(
        render_baseline(report.findings), encoding="utf-8"
    )


def test_baselined_finding_is_hidden_and_counted(repo: Path, write):
    write({"old.py": MUTABLE_DEFAULT})
    baseline_current(repo)
    report = run_check(repo, CheckRequest(gates=("rules",)), cwd=repo)
    assert report.ok and report.findings == []
    assert report.gates[0].metrics["baselined"] == 1


def test_new_finding_is_not_hidden_by_the_baseline(repo: Path, write):
    write({"old.py": MUTABLE_DEFAULT})
    baseline_current(repo)
    write({"new.py": "def g(b={}):\n    return b\n"})
    assert rules_findings(repo) == [("NC205", "new.py")]


def test_fixed_finding_leaves_a_stale_entry_reported_as_hc004(repo: Path, write):
    write({"old.py": MUTABLE_DEFAULT})
    baseline_current(repo)
    write({"old.py": "def f(a=None):\n    return a\n"})
    report = run_check(repo, CheckRequest(gates=("rules",)), cwd=repo)
    (stale,) = report.findings
    assert (stale.rule, stale.path, stale.line, stale.severity) == (
        "HC004",
        "ci/harness-baseline.json",
        2,
        "warning",
    )
    assert stale.message == "stale baseline entry: NC205 in old.py no longer occurs"


def test_stale_entries_are_only_judged_for_checked_files(repo: Path, write):
    write({"old.py": MUTABLE_DEFAULT, "other.py": "x = 1\n"})
    baseline_current(repo)
    write({"old.py": "def f(a=None):\n    return a\n"})
    report = run_check(repo, CheckRequest(gates=("rules",), paths=("other.py",)), cwd=repo)
    assert report.findings == []


def test_baseline_that_grew_against_base_fails_with_hc007(repo: Path, write, commit):
    write({"old.py": MUTABLE_DEFAULT})
    baseline_current(repo)
    commit()
    write({"new.py": "def g(b={}):\n    return b\n"})
    baseline_current(repo)
    report = run_check(repo, CheckRequest(gates=("rules",), base="HEAD"), cwd=repo)
    assert [(f.rule, f.severity) for f in report.findings] == [("HC007", "error")]
    assert report.findings[0].message == "baseline grew against HEAD: new entry NC205 in new.py"
    assert not report.ok


def test_baseline_file_is_one_sorted_entry_per_line():
    from harness.findings import Finding

    findings = [
        Finding("NC205", "error", p, 1, 1, "m", fingerprint=fp)
        for p, fp in (("b.py", "2"), ("a.py", "1"))
    ]
    text = render_baseline(findings)
    assert text.splitlines()[1] == '  {"fingerprint": "1", "path": "a.py", "rule": "NC205"},'
    assert [e.path for e in parse_baseline(text, "b.json")] == ["a.py", "b.py"]
    assert json.loads(render_baseline([])) == []


def test_malformed_baseline_is_a_one_line_error(repo: Path, write):
    write({"ci/harness-baseline.json": '{"not": "a list"}', "old.py": MUTABLE_DEFAULT})
    with pytest.raises(HarnessError, match=r"^ci/harness-baseline.json: not a harness baseline"):
        run_check(repo, CheckRequest(gates=("rules",)), cwd=repo)


def test_baseline_command_records_then_prune_only_shrinks(cli, write, repo: Path):
    write({"a.py": MUTABLE_DEFAULT, "b.py": "def g(b={}):\n    return b\n"})
    assert cli("baseline").output == "ci/harness-baseline.json: 0 -> 2 entries\n"
    assert cli("check", "--gate", "rules").exit_code == 0
    write({"a.py": "def f(a=None):\n    return a\n", "c.py": MUTABLE_DEFAULT.replace("f(", "h(")})
    assert cli("baseline", "--prune").output == "ci/harness-baseline.json: 2 -> 1 entries\n"
    entries = parse_baseline((repo / "ci" / "harness-baseline.json").read_text(), "b")
    assert [e.path for e in entries] == ["b.py"]
    assert cli("check", "--gate", "rules").output.startswith("c.py:1:9: NC205")
