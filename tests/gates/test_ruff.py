"""The ruff gate parses the real `ruff check` JSON output of files in a temporary project."""

from __future__ import annotations

from pathlib import Path

from harness.check import run_gate
from harness.gates import GateContext

PYPROJECT = '[tool.ruff]\nline-length = 100\n[tool.ruff.lint]\nselect = ["F", "UP"]\n'


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    for rel, text in files.items():
        (tmp_path / rel).write_text(text, encoding="utf-8")
    return tmp_path


def test_clean_files_pass(tmp_path: Path) -> None:
    result = run_gate("ruff", GateContext(root=project(tmp_path, {"a.py": "x = 1\n"})))
    assert result.ok and result.metrics["violations"] == 0


def test_unused_import_keeps_ruffs_code_position_and_fix(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "import os\nx = 1\n"})
    (finding,) = run_gate("ruff", GateContext(root=root)).findings
    assert (finding.rule, finding.path, finding.line, finding.col) == ("F401", "a.py", 1, 8)
    assert (finding.end_line, finding.end_col) == (1, 10)
    assert finding.fix_title == "Remove unused import: `os`"
    assert finding.fix is not None and finding.fix.applicability == "safe"
    assert finding.fix.edits[0].replacement == ""
    assert finding.fingerprint


def test_columns_count_characters_on_non_ascii_lines(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": 's = "héllo"; import os\n'})
    (finding,) = run_gate("ruff", GateContext(root=root)).findings
    assert finding.col == len('s = "héllo"; import ') + 1


def test_fix_applies_safe_fixes_and_reports_what_is_left(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "import os\nprint(undefined_name)\n"})
    result = run_gate("ruff", GateContext(root=root, fix=True))
    assert [f.rule for f in result.findings] == ["F821"]
    assert "import os" not in (root / "a.py").read_text()


def test_syntax_error_is_a_finding_at_its_position(tmp_path: Path) -> None:
    root = project(tmp_path, {"bad.py": "def f(:\n"})
    finding = run_gate("ruff", GateContext(root=root)).findings[0]
    assert (finding.rule, finding.path, finding.line) == ("E999", "bad.py", 1)


def test_broken_ruff_config_is_ruff001_naming_pyproject(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "x = 1\n"})
    (root / "pyproject.toml").write_text('[tool.ruff.lint]\nselect = "F"\n')
    (finding,) = run_gate("ruff", GateContext(root=root)).findings
    assert (finding.rule, finding.path) == ("RUFF001", "pyproject.toml")


def test_changed_only_without_python_files_checks_nothing(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "import os\n"})
    result = run_gate("ruff", GateContext(root=root, paths=("README.md",), changed_only=True))
    assert result.ok and result.findings == []


def test_fixes_leave_a_formatted_file_formatted(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "import os\n\nx = 1\n", "b.py": "import sys\ny=2\n"})
    result = run_gate("ruff", GateContext(root=root, fix=True))
    assert result.ok
    assert (root / "a.py").read_text() == "x = 1\n"
    assert (root / "b.py").read_text() == "y=2\n"  # unformatted before: the format gate's call
