"""Inline suppressions: ``# harness: ignore[NC101] reason`` (several codes: ``[NC101, NC205]``).

A suppression written after code applies to that line; one on a line of its own applies to the
next line that holds code. A finding is matched by its first line. The suppression must carry a
reason (HC002); one that suppresses nothing is reported (HC003, with a safe fix that deletes
it); one naming a code no rule has is reported (HC006).
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from harness.findings import Edit, Finding, Fix
from harness.lint.codes import MISSING_REASON, UNKNOWN_SUPPRESSED_CODE, UNUSED_SUPPRESSION

MARKER = "harness:"
_PATTERN = re.compile(r"#\s*harness:\s*ignore\[(?P<codes>[^\]]*)\]\s*(?P<reason>.*)$")


@dataclass(frozen=True)
class Suppression:
    line: int  # where the comment is
    col: int  # 1-based code point column of the '#'
    target: int  # the line it applies to
    codes: tuple[str, ...]
    reason: str
    is_own_line: bool


def parse_suppressions(source: str) -> list[Suppression]:
    """Every suppression comment in ``source`` (tokenized; a regex scan where tokenizing fails)."""
    if MARKER not in source:
        return []
    lines = source.splitlines()
    comments = list(_comments(source, lines))
    found = []
    for line_no, col, text in comments:
        match = _PATTERN.match(text)
        if not match:
            continue
        is_own_line = not lines[line_no - 1][:col].strip()
        target = _next_code_line(lines, line_no) if is_own_line else line_no
        codes = tuple(c.strip().upper() for c in match.group("codes").split(",") if c.strip())
        found.append(
            Suppression(line_no, col + 1, target, codes, match.group("reason").strip(), is_own_line)
        )
    return found


def _comments(source: str, lines: list[str]) -> Iterable[tuple[int, int, str]]:
    """(1-based line, 0-based col, text) of each comment."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        for number, line in enumerate(lines, start=1):
            col = line.find("#")
            if col >= 0 and MARKER in line[col:]:
                yield number, col, line[col:]
        return
    for token in tokens:
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.start[1], token.string


def _next_code_line(lines: list[str], line_no: int) -> int:
    for number in range(line_no + 1, len(lines) + 1):
        stripped = lines[number - 1].strip()
        if stripped and not stripped.startswith("#"):
            return number
    return line_no


def apply_suppressions(
    path: str,
    source: str,
    findings: list[Finding],
    active_codes: Collection[str],
    known_codes: Collection[str] | None = None,
) -> list[Finding]:
    """Drop suppressed findings and add HC002/HC003/HC006 findings about the suppressions.

    ``active_codes``: codes that ran on this file (only those can make a suppression unused);
    ``known_codes``: every code there is (None: do not report unknown codes).
    """
    suppressions = parse_suppressions(source)
    if not suppressions:
        return findings
    by_target: dict[int, list[Suppression]] = {}
    for s in suppressions:
        by_target.setdefault(s.target, []).append(s)
    used: set[tuple[int, str]] = set()
    kept = []
    for finding in findings:
        match = next((s for s in by_target.get(finding.line, []) if finding.rule in s.codes), None)
        if match is None:
            kept.append(finding)
        else:
            used.add((match.line, finding.rule))
    lines = source.splitlines()
    for s in suppressions:
        kept.extend(_problems(path, s, lines[s.line - 1], used, active_codes, known_codes))
    return kept


def _problems(
    path: str,
    s: Suppression,
    line_text: str,
    used: set[tuple[int, str]],
    active_codes: Collection[str],
    known_codes: Collection[str] | None,
) -> Iterable[Finding]:
    def at(code, message: str, **overrides) -> Finding:
        return code.finding(path, message, s.line, s.col, **overrides)

    if not s.reason:
        yield at(
            MISSING_REASON, f"suppression of {', '.join(s.codes) or 'nothing'} gives no reason"
        )
    for code in s.codes:
        if known_codes is not None and code not in known_codes:
            if code.startswith(("TI", "PROT")):
                yield at(
                    UNKNOWN_SUPPRESSED_CODE,
                    f"suppression names {code!r}: test-integrity and seal findings cannot be "
                    "suppressed inline",
                    fix_title="Remove it; a maintainer acknowledges the change with "
                    "`harness protect approve --acknowledge PATH` in a signed commit",
                )
            else:
                yield at(UNKNOWN_SUPPRESSED_CODE, f"suppression names unknown code {code!r}")
        elif code in active_codes and (s.line, code) not in used:
            yield at(
                UNUSED_SUPPRESSION,
                f"unused suppression of {code}: no {code} finding on line {s.target}",
                fix=_removal(s, line_text) if len(s.codes) == 1 else None,
            )


def _removal(s: Suppression, line_text: str) -> Fix:
    if s.is_own_line:
        edit = Edit(s.line, 1, s.line + 1, 1, "")
    else:
        start = len(line_text[: s.col - 1].rstrip()) + 1
        edit = Edit(s.line, start, s.line, len(line_text) + 1, "")
    return Fix("Remove the suppression", (edit,), "safe")
