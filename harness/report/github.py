"""The github format: workflow-command annotations, most important first, overflow summarized.

GitHub shows at most 10 annotations of each type per step, so each type (error, warning,
notice) gets its 10 most important lines (errors before warnings, then path order); the rest go
into a markdown summary for ``$GITHUB_STEP_SUMMARY`` (or after the annotations without it).
"""

from __future__ import annotations

from harness.findings import SEVERITY_RANK, CheckReport, Finding

PER_TYPE = 10
COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    props = [f"file={escape_property(f.path)}", f"line={f.line}", f"col={f.col}"]
    if f.end_line is not None:
        props.append(f"endLine={f.end_line}")
    if f.end_col is not None and f.end_line == f.line:
        props.append(f"endColumn={f.end_col}")
    props.append(f"title={escape_property(f.rule)}")
    text = f"{f.message}. {f.fix_title}" if f.fix_title else f.message
    return f"::{COMMANDS[f.severity]} {','.join(props)}::{escape_data(text)}"


def split(report: CheckReport) -> tuple[list[Finding], list[Finding]]:
    """(annotated, overflow): at most PER_TYPE per severity, most severe first."""
    ordered = sorted(report.findings, key=lambda f: (-SEVERITY_RANK[f.severity], f.sort_key()))
    shown: list[Finding] = []
    rest: list[Finding] = []
    per_type: dict[str, int] = {}
    for f in ordered:
        if per_type.get(f.severity, 0) < PER_TYPE:
            per_type[f.severity] = per_type.get(f.severity, 0) + 1
            shown.append(f)
        else:
            rest.append(f)
    return shown, rest


def summary(report: CheckReport, rest: list[Finding]) -> str:
    s = report.summary()
    verdict = "passed" if report.ok else "failed"
    lines = [
        f"## harness check {verdict}",
        "",
        f"{s['findings']} findings; gates failed: {', '.join(s['gates_failed']) or 'none'}.",
    ]
    if rest:
        lines += [
            "",
            f"{len(rest)} findings beyond the annotation limit:",
            "",
            "| location | code | message |",
            "|---|---|---|",
        ]
        for f in rest:
            message = f.message.replace("|", "\\|")
            lines.append(f"| `{f.path}:{f.line}:{f.col}` | {f.rule} | {message} |")
    return "\n".join(lines) + "\n"


def render(report: CheckReport, context) -> tuple[str, str | None]:
    """(annotations, step summary); without a step summary file the overflow follows the text."""
    shown, rest = split(report)
    text = "".join(annotation(f) + "\n" for f in shown)
    if context.has_step_summary:
        return text, summary(report, rest)
    return text + (summary(report, rest) if rest else ""), None
