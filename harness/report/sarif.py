"""The SARIF 2.1.0 format, for code-scanning uploads.

Columns are converted from code points to UTF-16 code units (``columnKind:
utf16CodeUnits``), which needs each line's text from ``context.read_line``; without it the
code-point column is kept. Carries rule docs (``rules[].help``), ``partialFingerprints`` and
fixes as ``artifactChanges``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from harness.findings import CheckReport, Edit, Finding

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT_KEY = "harness/v1"


def utf16_col(text: str | None, col: int) -> int:
    """1-based UTF-16 column of the 1-based code-point column ``col`` in ``text``."""
    if text is None:
        return col
    prefix = text[: col - 1]
    return len(prefix.encode("utf-16-le")) // 2 + 1 + max(0, col - 1 - len(prefix))


def _region(
    path: str, line: int, col: int, end_line: int | None, end_col: int | None, read: Callable
) -> dict[str, int]:
    region = {"startLine": line, "startColumn": utf16_col(read(path, line), col)}
    if end_line is not None and end_col is not None:
        region["endLine"] = end_line
        region["endColumn"] = utf16_col(read(path, end_line), end_col)
    return region


def _rule(code: str, meta: dict[str, Any], default_severity: str) -> dict[str, Any]:
    return {
        "id": code,
        "name": meta.get("name", code),
        "shortDescription": {"text": meta.get("short") or code},
        "fullDescription": {"text": meta.get("full") or meta.get("short") or code},
        "help": {
            "text": meta.get("help_text") or f"Run `harness explain {code}`.",
            "markdown": meta.get("help_markdown") or f"Run `harness explain {code}`.",
        },
        "defaultConfiguration": {"level": LEVELS[meta.get("severity", default_severity)]},
        "properties": {"explain": f"harness explain {code}"},
    }


def _edit(path: str, e: Edit, read: Callable) -> dict[str, Any]:
    return {
        "deletedRegion": _region(path, e.line, e.col, e.end_line, e.end_col, read),
        "insertedContent": {"text": e.replacement},
    }


def _result(f: Finding, index: int, read: Callable) -> dict[str, Any]:
    location = {
        "physicalLocation": {
            "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
            "region": _region(f.path, f.line, f.col, f.end_line, f.end_col, read),
        }
    }
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": LEVELS[f.severity],
        "message": {"text": f"{f.message}. {f.fix_title}" if f.fix_title else f.message},
        "locations": [location],
    }
    if f.fingerprint:
        result["partialFingerprints"] = {FINGERPRINT_KEY: f.fingerprint}
    if f.fix is not None:
        result["fixes"] = [
            {
                "description": {"text": f"{f.fix.title} ({f.fix.applicability})"},
                "artifactChanges": [
                    {
                        "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                        "replacements": [_edit(f.path, e, read) for e in f.fix.edits],
                    }
                ],
            }
        ]
    return result


def to_sarif(report: CheckReport, context) -> dict[str, Any]:
    read = context.read_line or (lambda path, line: None)
    findings = report.findings
    first_severity: dict[str, str] = {}
    for f in findings:
        first_severity.setdefault(f.rule, f.severity)
    codes = sorted(first_severity)
    index = {code: i for i, code in enumerate(codes)}
    rules = [_rule(c, dict(context.rules.get(c, {})), first_severity[c]) for c in codes]
    driver = {
        "name": "harness",
        "informationUri": "https://github.com/karpathy/nanochat",
        "rules": rules,
    }
    if context.tool_version:
        driver["version"] = context.tool_version
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "columnKind": "utf16CodeUnits",
                "originalUriBaseIds": {
                    "%SRCROOT%": {"description": {"text": "the repository root"}}
                },
                "results": [_result(f, index[f.rule], read) for f in findings],
                "invocations": [{"executionSuccessful": True}],
            }
        ],
    }


def render(report: CheckReport, context) -> str:
    return json.dumps(to_sarif(report, context), indent=2, ensure_ascii=False) + "\n"
