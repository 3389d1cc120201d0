"""The format gate runs the real `ruff format` on real files in a temporary project."""

from __future__ import annotations

from pathlib import Path

from harness.check import run_gate
from harness.gates import GateContext
from harness.gates.format import first_changed_lines

PYPROJECT = "[tool.ruff]\nline-length = 100\n"


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_formatted_files_pass(tmp_path: Path) -> None:
    root = project(tmp_path, {"pkg/a.py": "x = 1\n"})
    result = run_gate("format", GateContext(root=root))
    assert result.ok and result.findings == []


def test_unformatted_file_points_at_first_changed_line(tmp_path: Path) -> None:
    root = project(tmp_path, {"pkg/a.py": "x = 1\ny = 2\nz=3\n"})
    result = run_gate("format", GateContext(root=root))
    assert not result.ok
    assert [(f.rule, f.path, f.line) for f in result.findings] == [("FMT001", "pkg/a.py", 3)]
    assert result.metrics["files_unformatted"] == 1


def test_only_the_given_paths_are_checked(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "x=1\n", "b.py": "y = 2\n"})
    result = run_gate("format", GateContext(root=root, paths=("b.py", "notes.md")))
    assert result.ok


def test_fix_formats_the_file_and_leaves_no_finding(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "x=1\n"})
    result = run_gate("format", GateContext(root=root, fix=True))
    assert result.ok and result.metrics["files_formatted_by_fix"] == 1
    assert (root / "a.py").read_text() == "x = 1\n"


def test_unparsable_file_is_a_warning_at_the_syntax_error(tmp_path: Path) -> None:
    root = project(tmp_path, {"bad.py": "def f(:\n"})
    finding = run_gate("format", GateContext(root=root)).findings[0]
    assert (finding.rule, finding.severity, finding.line) == ("FMT002", "warning", 1)


def test_invalid_ruff_config_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "x = 1\n"})
    (root / "pyproject.toml").write_text("[tool.ruff]\nline-length = 'long'\n")
    result = run_gate("format", GateContext(root=root))
    assert not result.ok and result.findings[0].rule == "FMT002"


def test_first_changed_line_counts_context_lines() -> None:
    diff = "--- a.py\n+++ a.py\n@@ -4,3 +4,3 @@\n x\n y\n-z=1\n+z = 1\n"
    assert first_changed_lines(diff) == {"a.py": 6}


def test_changed_only_without_python_files_checks_nothing(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "x=1\n"})
    result = run_gate("format", GateContext(root=root, paths=(), changed_only=True))
    assert result.ok and result.findings == []


def test_markdown_code_blocks_are_not_this_gates_business(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "x = 1\n", "notes.md": "# Notes\n\n```python\nx=1\n```\n"})
    assert run_gate("format", GateContext(root=root)).ok


def test_unformatted_file_carries_the_formatted_text_as_a_whole_file_fix(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "x = 1\ny=2\n"})
    (finding,) = run_gate("format", GateContext(root=root)).findings
    assert finding.fix is not None and finding.fix.applicability == "safe"
    (edit,) = finding.fix.edits
    assert (edit.line, edit.col, edit.end_line, edit.end_col) == (1, 1, 3, 1)
    assert edit.replacement == "x = 1\ny = 2\n"
