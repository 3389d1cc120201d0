"""The text format: one compact line per finding, most severe first, then one summary line.

``path:line:col: CODE message [fix: what to do]``; past ``context.limit`` lines the rest is
counted in ``... and N more``.
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


def render(report: CheckReport, context) -> str:
    findings = sorted(report.findings, key=lambda f: (-SEVERITY_RANK[f.severity], f.sort_key()))
    shown = findings[: context.limit]
    lines = [finding_line(f) for f in shown]
    if len(findings) > len(shown):
        lines.append(f"... and {len(findings) - len(shown)} more")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
