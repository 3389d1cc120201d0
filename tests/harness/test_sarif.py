"""SARIF 2.1.0 output: valid against the OASIS schema, UTF-16 columns, fingerprints, fixes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from harness.findings import CheckReport, Edit, Finding, Fix, GateResult
from harness.report import RenderContext, render
from harness.report.sarif import utf16_col

SCHEMA = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "schemas" / "sarif-schema-2.1.0.json"
)
LINE = 'x = "é😀"; print(x)'  # é is 1 UTF-16 unit, 😀 is 2 (a surrogate pair)


def report() -> CheckReport:
    col = LINE.index("print") + 1
    fix = Fix("Use logging", (Edit(1, col, 1, col + 5, "log"),), "unsafe")
    f = Finding(
        "XT001",
        "warning",
        "m.py",
        1,
        col,
        "print() called",
        "Use logging",
        1,
        len(LINE) + 1,
        fingerprint="f00d",
        fix=fix,
    )
    return CheckReport([GateResult("rules", False, findings=[f])])


def sarif(meta: dict | None = None) -> dict:
    context = RenderContext(
        rules=meta
        or {
            "XT001": {
                "name": "print-call",
                "short": "print()",
                "full": "why",
                "help_text": "t",
                "help_markdown": "**m**",
                "severity": "warning",
            }
        },
        read_line=lambda path, line: LINE if (path, line) == ("m.py", 1) else None,
        tool_version="0.1.0",
    )
    return json.loads(render("sarif", report(), context).text)


def test_utf16_column_counts_surrogate_pairs():
    assert utf16_col(LINE, LINE.index("print") + 1) == 12
    assert utf16_col(None, 11) == 11


def test_results_use_utf16_columns_and_declare_the_column_kind():
    run = sarif()["runs"][0]
    assert run["columnKind"] == "utf16CodeUnits"
    region = run["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {
        "startLine": 1,
        "startColumn": 12,
        "endLine": 1,
        "endColumn": len(LINE.encode("utf-16-le")) // 2 + 1,
    }


def test_rules_carry_help_and_default_level():
    (rule,) = sarif()["runs"][0]["tool"]["driver"]["rules"]
    assert rule["id"] == "XT001" and rule["name"] == "print-call"
    assert rule["help"] == {"text": "t", "markdown": "**m**"}
    assert rule["defaultConfiguration"] == {"level": "warning"}


def test_results_carry_fingerprints_and_fixes():
    (result,) = sarif()["runs"][0]["results"]
    assert result["partialFingerprints"] == {"harness/v1": "f00d"}
    (replacement,) = result["fixes"][0]["artifactChanges"][0]["replacements"]
    assert replacement["deletedRegion"] == {
        "startLine": 1,
        "startColumn": 12,
        "endLine": 1,
        "endColumn": 17,
    }
    assert replacement["insertedContent"] == {"text": "log"}


def test_output_validates_against_the_oasis_schema():
    if not SCHEMA.is_file():
        pytest.skip(
            f"OASIS SARIF schema not found at {SCHEMA} (the shared/ folder beside the repo)"
        )
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(sarif())
    jsonschema.validators.validator_for(schema)(schema).validate(sarif({}))


def test_sarif_from_the_cli_names_real_rules(cli, write):
    write({"m.py": "def f(a=[]):\n    return a\n"})
    result = cli("check", "--gate", "rules", "--format", "sarif")
    assert result.exit_code == 1
    (rule,) = json.loads(result.output)["runs"][0]["tool"]["driver"]["rules"]
    assert (
        rule["name"] == "mutable-default-argument"
        and "Why is this bad?" in rule["help"]["markdown"]
    )


def test_sarif_rules_declare_each_gate_code_at_its_own_severity():
    from harness.catalog import sarif_rule_meta

    meta = sarif_rule_meta({"PROT001", "PROT003", "HC003", "ARCH003"})
    severities = {code: entry["severity"] for code, entry in meta.items()}
    assert severities == {
        "PROT001": "error",
        "PROT003": "warning",
        "HC003": "warning",
        "ARCH003": "info",
    }
    assert meta["PROT003"]["help_text"].startswith("Check that the recorded reason covers")
