"""Gate options from [tool.harness.gates.ID] are checked before a gate runs."""

from __future__ import annotations

from pathlib import Path

from harness.gates import GateContext, load_gate

PYPROJECT = """[project]
name = "demo"

[tool.harness.gates.smoke-train]
timeout_s = "soon"

[tool.harness.gates.tests]
timout_s = 10
"""


def test_unknown_option_is_gate001_naming_the_accepted_ones(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    result = load_gate("tests").run(GateContext(root=tmp_path, options={"timout_s": 10}))
    (finding,) = result.findings
    assert not result.ok
    assert (finding.rule, finding.path, finding.line) == ("GATE001", "pyproject.toml", 8)
    assert finding.message == (
        "[tool.harness.gates.tests]: unknown option 'timout_s'; "
        "options of this gate: args, markers, paths, timeout_s"
    )


def test_mistyped_option_is_gate001_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    result = load_gate("smoke-train").run(GateContext(root=tmp_path, options={"timeout_s": "soon"}))
    (finding,) = result.findings
    assert finding.line == 5
    assert (
        finding.message
        == "[tool.harness.gates.smoke-train]: timeout_s = 'soon'; expected int or float"
    )


def test_a_boolean_is_not_a_number(tmp_path: Path) -> None:
    result = load_gate("docs").run(GateContext(root=tmp_path, options={"agents_max_lines": True}))
    assert "is a boolean; expected int" in result.findings[0].message


def test_gates_without_options_reject_any_key(tmp_path: Path) -> None:
    result = load_gate("protected").run(GateContext(root=tmp_path, options={"strict": True}))
    assert result.findings[0].message.endswith("options of this gate: none")
