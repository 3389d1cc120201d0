"""The text format: one compact line per finding, most severe first, then the summary.

``path:line:col: CODE message [fix: what to do]``, ordered by severity, then path; past
``context.limit`` lines the rest is counted in ``... and N more``. Then what ``--fix`` changed
(``fixed PATH: CODE xN``), the report's notes, a count per code and one summary line.
"""

from __future__ import annotations

from harness.findings import SEVERITY_RANK, CheckReport, Finding


def finding_line(f: Finding) -> str:
    hint = ""
    if f.fix_title:
        how = ""
        if f.fix is not None:
            how = " (--fix)" if f.fix.applicability == "safe" else " (--fix --unsafe-fixes)"
        hint = f" [fix: {f.fix_title}{how}]"
    return f"{f.path}:{f.line}:{f.col}: {f.rule} {f.message}{hint}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_line(report: CheckReport) -> str:
    gates = ", ".join(
        f"{g.id} (skipped: {g.skipped})" if g.skipped else f"{g.id} ({'ok' if g.ok else 'failed'})"
        for g in report.gates
    )
    s = report.summary()
    if not s["findings"]:
        return f"checked {gates}: no findings"
    counts = ", ".join(
        f"{n} {sev}"
        for sev, n in sorted(s["by_severity"].items(), key=lambda kv: -SEVERITY_RANK[kv[0]])
        if n
    )
    safe = sum(1 for f in report.findings if f.fix is not None and f.fix.applicability == "safe")
    unsafe = s["fixable"] - safe
    fixable = f"; {safe} fixable with --fix" if safe else ""
    fixable += f"; {unsafe} with --fix --unsafe-fixes" if unsafe else ""
    return f"checked {gates}: {_plural(s['findings'], 'finding')} ({counts}){fixable}"


def fixed_lines(report: CheckReport) -> list[str]:
    return [
        f"fixed {path}: "
        + ", ".join(f"{code} x{n}" if n > 1 else code for code, n in codes.items())
        for path, codes in report.fixes().items()
    ]


def code_counts_line(findings: list[Finding]) -> str:
    """``by code: NC301 12, E501 3``: most frequent first."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.rule] = counts.get(f.rule, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return "by code: " + ", ".join(f"{code} {n}" for code, n in ordered)


def render(report: CheckReport, context) -> str:
    findings = sorted(report.findings, key=lambda f: (-SEVERITY_RANK[f.severity], f.sort_key()))
    shown = findings[: context.limit]
    lines = [finding_line(f) for f in shown]
    if len(findings) > len(shown):
        lines.append(f"... and {len(findings) - len(shown)} more")
    lines += fixed_lines(report)
    lines += [f"note: {note}" for note in report.notes]
    if len(findings) > 1:
        lines.append(code_counts_line(findings))
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
