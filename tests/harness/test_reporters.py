"""Every output format from one CheckReport: exact text lines, schema-valid json, annotations."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import jsonschema

from harness.findings import CheckReport, Edit, Finding, Fix, GateResult
from harness.report import FORMATS, RenderContext, render
from harness.report.json import SCHEMA_PATH

SCHEMA = SCHEMA_PATH


def finding(
    rule: str = "NC205", severity: str = "error", path: str = "a.py", line: int = 1, **kw
) -> Finding:
    return Finding(
        rule,
        severity,
        path,
        line,
        5,
        kw.pop("message", "parameter 'a' of f() defaults to a mutable list"),
        **kw,
    )


def sample() -> CheckReport:
    fix = Fix("Use `is None`", (Edit(2, 4, 2, 6, "is"),), "safe")
    return CheckReport(
        gates=[
            GateResult(
                "rules",
                ok=False,
                duration_s=0.25,
                findings=[
                    finding(fix_title="Default to None", fingerprint="abc"),
                    finding(
                        "XF001",
                        "warning",
                        "b.py",
                        2,
                        message="compare x to None",
                        fix_title="Use `is None`",
                        fix=fix,
                    ),
                ],
                metrics={"files": 2, "parsed": 1},
            ),
            GateResult("format", ok=True, duration_s=0.01),
        ]
    )


def test_text_lists_one_line_per_finding_then_the_summary():
    text = render("text", sample()).text
    assert text.splitlines() == [
        "a.py:1:5: NC205 parameter 'a' of f() defaults to a mutable list [fix: Default to None]",
        "b.py:2:5: XF001 compare x to None [fix: Use `is None` (--fix)]",
        "by code: NC205 1, XF001 1",
        "checked rules (failed), format (ok): 2 findings (1 error, 1 warning); 1 fixable with --fix",
    ]


def test_text_caps_the_list_with_and_n_more():
    report = CheckReport(
        [GateResult("rules", False, findings=[finding(line=i) for i in range(1, 8)])]
    )
    lines = render("text", report, RenderContext(limit=3)).text.splitlines()
    assert lines[3:5] == ["... and 4 more", "by code: NC205 7"] and len(lines) == 6


def test_text_for_a_clean_run_says_so():
    report = CheckReport([GateResult("rules", True)])
    assert render("text", report).text == "checked rules (ok): no findings\n"


def test_json_validates_against_the_published_schema_and_is_deterministic():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    first = render("json", sample()).text
    data = json.loads(first)
    jsonschema.Draft202012Validator(schema).validate(data)
    assert first == render("json", sample()).text
    assert data["summary"] == {
        "findings": 2,
        "by_severity": {"error": 1, "warning": 1, "info": 0},
        "fixable": 1,
        "gates_failed": ["rules"],
    }


def test_json_schema_rejects_a_finding_without_a_rule():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    data = json.loads(render("json", sample()).text)
    del data["gates"][0]["findings"][0]["rule"]
    assert not jsonschema.Draft202012Validator(schema).is_valid(data)


def test_jsonl_has_one_finding_per_line_with_its_gate():
    lines = render("jsonl", sample()).text.splitlines()
    assert [json.loads(line)["gate"] for line in lines] == ["rules", "rules"]
    assert json.loads(lines[1])["fix"]["edits"][0]["replacement"] == "is"


def test_github_annotations_escape_and_order_by_severity():
    report = CheckReport(
        [
            GateResult(
                "rules",
                False,
                findings=[
                    finding("XW1", "warning", "b.py"),
                    finding("XE1", "error", "z,1.py", message="50% off\nnow"),
                ],
            )
        ]
    )
    lines = render("github", report).text.splitlines()
    assert lines == [
        "::error file=z%2C1.py,line=1,col=5,title=XE1::50%25 off%0Anow",
        "::warning file=b.py,line=1,col=5,title=XW1::parameter 'a' of f() defaults to a mutable list",
    ]


def test_github_keeps_ten_per_type_and_summarizes_the_rest():
    errors = [finding(line=i) for i in range(1, 13)]
    warnings = [finding("XW1", "warning", line=i) for i in range(1, 4)]
    report = CheckReport([GateResult("rules", False, findings=errors + warnings)])
    with_file = render("github", report, RenderContext(has_step_summary=True))
    annotations = with_file.text.splitlines()
    assert [a.split(" ")[0] for a in annotations] == ["::error"] * 10 + ["::warning"] * 3
    assert "2 findings beyond the annotation limit:" in with_file.step_summary
    assert "| `a.py:12:5` | NC205 |" in with_file.step_summary
    without_file = render("github", report)
    assert without_file.step_summary is None
    assert (
        "## harness check failed" in without_file.text
        and "| `a.py:11:5` | NC205 |" in without_file.text
    )


def test_junit_has_one_testcase_per_failing_finding_and_one_per_clean_gate():
    root = ET.fromstring(render("junit", sample()).text)
    cases = root.findall("./testsuite/testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("harness.rules", "NC205 a.py:1"),
        ("harness.format", "format"),
    ]
    assert all(len(c.findall("failure")) <= 1 for c in cases)
    assert cases[0].find("failure").get("type") == "NC205"
    assert cases[0].find("system-out").text == "b.py:2:5: XF001 compare x to None"
    assert cases[1].find("failure") is None and root.get("failures") == "1"


def test_markdown_has_a_gate_table_and_collapsed_findings():
    text = render("markdown", sample()).text
    assert "| rules | **failed** | 2 | 0.25s |" in text
    assert "<details><summary>2 findings</summary>" in text
    assert "| `b.py:2:5` | XF001 | warning | compare x to None | Use `is None` |" in text


def test_every_registered_format_renders():
    assert all(render(fmt, sample()).text for fmt in FORMATS)


def test_text_summary_separates_unsafe_fixes():
    unsafe = Fix("Call bool()", (Edit(1, 1, 1, 2, "x"),), "unsafe")
    report = CheckReport(
        [GateResult("rules", False, findings=[finding(fix=unsafe, fix_title="Call bool()")])]
    )
    lines = render("text", report).text.splitlines()
    assert lines[0].endswith("[fix: Call bool() (--fix --unsafe-fixes)]")
    assert lines[1] == "checked rules (failed): 1 finding (1 error); 1 with --fix --unsafe-fixes"
