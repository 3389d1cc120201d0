"""The json format: ``CheckReport.to_dict()``, deterministic (schema: harness/schema/check_report.schema.json)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.findings import CheckReport

# The published JSON Schema of this format (shipped as package data).
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schema" / "check_report.schema.json"


def render(report: CheckReport, context) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
