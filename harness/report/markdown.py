"""The markdown format, for PR comments: a gate table, then each gate's findings in a collapsed table."""

from __future__ import annotations

from harness.findings import CheckReport, Finding


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: CheckReport, context) -> str:
    verdict = "passed" if report.ok else "failed"
    lines = [
        f"## harness check {verdict}",
        "",
        "| gate | result | findings | time |",
        "|---|---|---|---|",
    ]
    for g in report.gates:
        result = f"skipped: {_cell(g.skipped)}" if g.skipped else ("ok" if g.ok else "**failed**")
        lines.append(f"| {g.id} | {result} | {len(g.findings)} | {g.duration_s:.2f}s |")
    for g in report.gates:
        if not g.findings:
            continue
        findings = sorted(g.findings, key=Finding.sort_key)
        shown = findings[: context.limit]
        lines += [
            "",
            f"### {g.id}",
            "",
            f"<details><summary>{len(findings)} finding{'s' if len(findings) != 1 else ''}</summary>",
            "",
        ]
        lines += ["| location | code | severity | message | fix |", "|---|---|---|---|---|"]
        for f in shown:
            lines.append(
                f"| `{f.path}:{f.line}:{f.col}` | {f.rule} | {f.severity} | {_cell(f.message)} | {_cell(f.fix_title)} |"
            )
        if len(findings) > len(shown):
            lines.append(f"| ... and {len(findings) - len(shown)} more | | | | |")
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
