"""[tool.harness] settings: defaults, validation with file and key in the message, delivery."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness.check import CheckRequest, run_check
from harness.config import ConfigError, Settings, load_settings, parse_settings, validate_rules
from harness.lint.runner import ENGINE_CODES
from rules.mutable_default_argument import MutableDefaultArgument

MUTABLE_DEFAULT = "def f(a=[]):\n    return a\n"


def pyproject(repo: Path, table: str) -> None:
    text = '[project]\nname = "demo"\nversion = "0"\n\n' + table
    (repo / "pyproject.toml").write_text(text, encoding="utf-8")


def test_defaults_exclude_golden_and_enable_every_gate(tmp_path: Path):
    settings = load_settings(tmp_path)
    assert "golden/**" in settings.exclude
    assert settings.enabled_gates[:3] == ("format", "ruff", "rules")
    assert settings.fail_severity == "error"


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().fail_severity = "info"  # type: ignore[misc]


def test_this_repository_config_is_valid():
    root = Path(__file__).resolve().parents[2]
    settings = load_settings(root)
    assert settings.baseline == "ci/harness-baseline.json" and "golden/**" in settings.exclude


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "[tool.harness]\ncolour = 1\n",
            "pyproject.toml: [tool.harness] colour: unknown key; expected one of",
        ),
        (
            '[tool.harness]\nfail-severity = "fatal"\n',
            "pyproject.toml: [tool.harness] fail-severity: expected one of error, warning, info; got 'fatal'",
        ),
        (
            '[tool.harness]\nenabled-gates = ["rules", "lint"]\n',
            "pyproject.toml: [tool.harness] enabled-gates: unknown gate 'lint'",
        ),
        (
            "[tool.harness]\nmax-file-mb = -1\n",
            "pyproject.toml: [tool.harness] max-file-mb: expected a positive number, got -1",
        ),
        (
            '[tool.harness.rules.NC205]\nenabled = "yes"\n',
            "pyproject.toml: [tool.harness.rules.NC205] enabled: expected true or false, got 'yes'",
        ),
        (
            "[tool.harness.gates.nope]\nx = 1\n",
            "pyproject.toml: [tool.harness.gates.nope]: unknown gate 'nope'",
        ),
        ("[tool.harness\n", "pyproject.toml: not valid TOML"),
    ],
)
def test_bad_structure_is_reported_with_file_and_key(tmp_path: Path, table: str, message: str):
    pyproject(tmp_path, table)
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_unknown_rule_code_is_reported_when_rules_load(tmp_path: Path):
    settings = parse_settings({"rules": {"NC999": {"severity": "info"}}}, tmp_path)
    with pytest.raises(
        ConfigError, match=r"^pyproject.toml: \[tool.harness.rules.NC999\] unknown rule code; "
    ):
        validate_rules(settings, [MutableDefaultArgument], ENGINE_CODES)


def test_unknown_rule_option_names_the_options_the_rule_has(tmp_path: Path):
    settings = parse_settings({"rules": {"NC205": {"depth": 3}}}, tmp_path)
    with pytest.raises(
        ConfigError,
        match=r"\[tool.harness.rules.NC205\] depth: unknown option; options of NC205: none",
    ):
        validate_rules(settings, [MutableDefaultArgument], ENGINE_CODES)


def test_option_of_the_wrong_type_is_rejected(tmp_path: Path):
    import libcst as cst

    from harness.lint.rule import Option, Rule

    class TooManyArgs(Rule):
        code = "XT002"
        options = {"max_args": Option(3, "most parameters", int)}

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            return None

    settings = parse_settings({"rules": {"XT002": {"max_args": "three"}}}, tmp_path)
    with pytest.raises(
        ConfigError,
        match=r"\[tool.harness.rules.XT002\] option 'max_args' expects int, got str 'three'",
    ):
        validate_rules(settings, [TooManyArgs], ENGINE_CODES)


def test_engine_codes_accept_severity_overrides(tmp_path: Path):
    settings = parse_settings({"rules": {"HC003": {"severity": "error"}}}, tmp_path)
    validate_rules(settings, [MutableDefaultArgument], ENGINE_CODES)
    assert settings.rule("HC003").severity == "error"


def test_gate_table_is_delivered_as_gate_options(repo: Path, write):
    pyproject(repo, "[tool.harness.gates.rules]\ncache = false\n")
    write({"m.py": MUTABLE_DEFAULT})
    for _ in range(2):
        report = run_check(repo, CheckRequest(gates=("rules",)), cwd=repo)
        assert report.gates[0].metrics["cached"] == 0
    assert not (repo / ".harness_cache").exists()


def test_unknown_gate_option_is_a_config_error(repo: Path):
    from harness.errors import HarnessError

    pyproject(repo, "[tool.harness.gates.rules]\nspeed = 11\n")
    with pytest.raises(HarnessError, match=r"\[tool.harness.gates.rules\] speed: unknown option"):
        run_check(repo, CheckRequest(gates=("rules",)), cwd=repo)


def test_fail_severity_from_config_decides_ok(repo: Path, write):
    pyproject(
        repo,
        '[tool.harness]\nfail-severity = "error"\n\n[tool.harness.rules.NC205]\nseverity = "warning"\n',
    )
    write({"m.py": MUTABLE_DEFAULT})
    assert run_check(repo, CheckRequest(gates=("rules",)), cwd=repo).ok
    assert not run_check(repo, CheckRequest(gates=("rules",), severity="warning"), cwd=repo).ok
