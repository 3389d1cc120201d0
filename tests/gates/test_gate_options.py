"""Gate options from [tool.harness.gates.ID] are checked by the runner before a gate runs: a
bad one is a one-line configuration error (exit 2), the same as any other bad config."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.check import run_gate
from harness.cli import main
from harness.config import ConfigError
from harness.gates import GateContext

PYPROJECT = """[project]
name = "demo"

[tool.harness.gates.smoke-train]
timeout_s = "soon"

[tool.harness.gates.tests]
timout_s = 10
"""


def test_unknown_option_names_the_line_and_the_accepted_ones(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    with pytest.raises(ConfigError) as raised:
        run_gate("tests", GateContext(root=tmp_path, options={"timout_s": 10}))
    assert str(raised.value) == (
        "pyproject.toml:8: [tool.harness.gates.tests] timout_s: unknown option; "
        "options of this gate: args, markers, paths, select, timeout_s"
    )


def test_mistyped_option_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    with pytest.raises(ConfigError, match=r"^pyproject.toml:5: .* timeout_s = 'soon': expected"):
        run_gate("smoke-train", GateContext(root=tmp_path, options={"timeout_s": "soon"}))


def test_a_boolean_is_not_a_number(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="agents_max_lines = True: expected int"):
        run_gate("docs", GateContext(root=tmp_path, options={"agents_max_lines": True}))


def test_gates_without_options_reject_any_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="options of this gate: none$"):
        run_gate("protected", GateContext(root=tmp_path, options={"strict": True}))


def test_the_cli_reports_a_bad_option_in_one_line_with_exit_2(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--gate", "tests", "--root", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == (
        "error: pyproject.toml:8: [tool.harness.gates.tests] timout_s: unknown option; "
        "options of this gate: args, markers, paths, select, timeout_s\n"
    )
