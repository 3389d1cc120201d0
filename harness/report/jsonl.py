"""The jsonl format: one finding per line (its gate id added), for streaming into other tools."""

from __future__ import annotations

import json

from harness.findings import CheckReport, Finding


def render(report: CheckReport, context) -> str:
    lines = [
        json.dumps({"gate": gate.id, **finding.to_dict()}, ensure_ascii=False)
        for gate in report.gates
        for finding in sorted(gate.findings, key=Finding.sort_key)
    ]
    return "".join(line + "\n" for line in lines)
