"""The json format: ``CheckReport.to_dict()``, deterministic (schema: harness/schema/check_report.schema.json)."""

from __future__ import annotations

import json

from harness.findings import CheckReport


def render(report: CheckReport, context) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
