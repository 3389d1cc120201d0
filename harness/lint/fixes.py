"""Apply text-edit fixes with a bounded fix-relint loop.

Each round lints the text, takes every allowed fix whose edits do not overlap an already
chosen fix (the rest wait for the next round, when positions are fresh), and applies them
back to front. The loop stops when nothing is left to fix, the text stops changing, or after
``max_rounds`` rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.findings import Finding, Fix


@dataclass
class FixOutcome:
    source: str
    findings: list[Finding]  # what remains after the last round
    applied: int  # fixes applied over all rounds
    rounds: int


def _offsets(source: str) -> list[int]:
    """Start offset of each line (index 0 = line 1), plus one past the end."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _offset(starts: list[int], source: str, line: int, col: int) -> int:
    if line > len(starts) - 1:
        return len(source)
    line_start = starts[line - 1]
    line_end = starts[line] if line < len(starts) else len(source)
    return min(line_start + col - 1, line_end)


def apply_fixes(source: str, fixes: list[Fix]) -> tuple[str, int]:
    """Apply the non-overlapping ``fixes`` (earliest first wins); return text and count applied."""
    starts = _offsets(source)
    spans: list[tuple[int, int, list[tuple[int, int, str]]]] = []
    for fix in fixes:
        edits = [
            (
                _offset(starts, source, e.line, e.col),
                _offset(starts, source, e.end_line, e.end_col),
                e.replacement,
            )
            for e in fix.edits
        ]
        spans.append((min(s for s, _, _ in edits), max(e for _, e, _ in edits), edits))
    chosen: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    applied = 0
    for start, end, edits in sorted(spans, key=lambda s: (s[0], s[1])):
        if any(start < t_end and t_start < end or start == t_start for t_start, t_end in taken):
            continue
        taken.append((start, end))
        chosen.extend(edits)
        applied += 1
    for start, end, replacement in sorted(chosen, key=lambda e: (e[0], e[1]), reverse=True):
        source = source[:start] + replacement + source[end:]
    return source, applied


def allowed(finding: Finding, unsafe: bool) -> bool:
    return finding.fix is not None and (finding.fix.applicability == "safe" or unsafe)


def fix_loop(
    source: str, lint: Callable[[str], list[Finding]], unsafe: bool = False, max_rounds: int = 10
) -> FixOutcome:
    """Lint and fix ``source`` until no allowed fix is left or ``max_rounds`` is reached."""
    findings = lint(source)
    applied = 0
    rounds = 0
    while rounds < max_rounds:
        fixes = [f.fix for f in findings if allowed(f, unsafe)]
        if not fixes:
            break
        new_source, count = apply_fixes(source, fixes)
        rounds += 1
        if new_source == source:
            break
        source, applied = new_source, applied + count
        findings = lint(source)
    return FixOutcome(source, findings, applied, rounds)
