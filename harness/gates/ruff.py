"""The ruff gate: ``ruff check --output-format json`` parsed into Findings.

Findings keep ruff's own codes (F401, UP006, ...), its message, its start and end positions
(ruff's columns count characters, as ours do) and its fix as text edits with ruff's
applicability. With ``--fix`` ruff applies the safe fixes itself (and the unsafe ones with
``--unsafe-fixes``); the gate then reports only what is left.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.codes import Code
from harness.findings import Edit, Finding, Fix
from harness.gates import Gate, GateContext, GateOutput
from harness.gates.format import first_changed_lines
from harness.gates.tool_run import ruff_command, ruff_targets, run_tool

SYNTAX_CODE = "E999"  # ruff reports syntax errors as "invalid-syntax" without a code
CANNOT_RUN = Code(
    "RUFF001",
    "error",
    "Install ruff where harness runs (`make install`) and check the [tool.ruff] table",
    "ruff check could not run or its JSON output could not be read: ruff is missing from the "
    "environment running harness, or the [tool.ruff] configuration in pyproject.toml is invalid. "
    "Every other code this gate reports is ruff's own; run `ruff rule CODE` for its "
    "documentation.",
)
SYNTAX = Code(
    SYNTAX_CODE,
    "error",
    "Fix the syntax error so the file parses",
    "ruff could not parse the file: a syntax error. The finding points at it.",
)


def _relative(root: Path, filename: str) -> str:
    path = Path(filename)
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _fix_from(raw: dict[str, Any] | None) -> Fix | None:
    if not raw or not raw.get("edits") or raw.get("applicability") not in ("safe", "unsafe"):
        return None
    edits = tuple(
        Edit(
            e["location"]["row"],
            e["location"]["column"],
            e["end_location"]["row"],
            e["end_location"]["column"],
            e.get("content") or "",
        )
        for e in raw["edits"]
    )
    return Fix(raw.get("message") or "Apply ruff's fix", edits, raw["applicability"])


def finding_from_ruff(root: Path, item: dict[str, Any]) -> Finding:
    """One ruff JSON diagnostic as a Finding."""
    code = item.get("code") or SYNTAX_CODE
    if code == "invalid-syntax":
        code = SYNTAX_CODE
    fix = _fix_from(item.get("fix"))
    raw_fix = item.get("fix") or {}
    if fix is not None:
        fix_title = fix.title
    elif raw_fix.get("message"):
        fix_title = raw_fix["message"]
    elif code == SYNTAX_CODE:
        fix_title = "Fix the syntax error so the file parses"
    else:
        fix_title = f"Change the code as `ruff rule {code}` describes"
    start, end = item.get("location") or {}, item.get("end_location") or {}
    return Finding(
        rule=code,
        severity="error",
        path=_relative(root, item.get("filename", "")),
        line=max(int(start.get("row") or 1), 1),
        col=max(int(start.get("column") or 1), 1),
        end_line=end.get("row"),
        end_col=end.get("column"),
        message=item.get("message", ""),
        fix_title=fix_title,
        why=item.get("url") or "",
        doc=f"ruff rule {code}" if code != SYNTAX_CODE else "",
        fix=fix,
    )


def _unformatted(root: Path, targets: list[str]) -> set[str]:
    checked = run_tool(
        [*ruff_command(), "format", "--force-exclude", "--check", "--diff", *targets], root
    )
    return set(first_changed_lines(checked.stdout))


def _reformat_after_fixes(root: Path, targets: list[str], unformatted_before: set[str]) -> None:
    """Re-format what ruff's fixes disturbed (a removed import leaves blank lines), leaving
    alone files that were unformatted before: the format gate reports those."""
    keep_out = [arg for path in sorted(unformatted_before) for arg in ("--extend-exclude", path)]
    run_tool([*ruff_command(), "format", "--force-exclude", *keep_out, *targets], root)


OPTIONS: dict[str, type | tuple[type, ...]] = {}


def run(ctx: GateContext) -> GateOutput:
    targets = ruff_targets(ctx)
    if not targets:
        return GateOutput(metrics={"violations": 0})
    args = [
        *ruff_command(),
        "check",
        "--output-format",
        "json",
        "--force-exclude",
        "--no-cache",
    ]
    if ctx.fix:
        args.append("--fix")
        if ctx.unsafe_fixes:
            args.append("--unsafe-fixes")
    unformatted_before = _unformatted(ctx.root, targets) if ctx.fix else set()
    before = (
        _violations(
            ctx.root, [a for a in args if not a.endswith("fixes") and a != "--fix"], targets
        )
        if ctx.fix
        else []
    )
    checked = run_tool([*args, *targets], ctx.root)
    if ctx.fix and checked.returncode in (0, 1):
        _reformat_after_fixes(ctx.root, targets, unformatted_before)
    try:
        items = json.loads(checked.stdout) if checked.returncode in (0, 1) else None
    except json.JSONDecodeError:
        items = None
    if checked.problem or not isinstance(items, list):
        problem = f"ruff check could not run: {checked.problem or checked.tail(3)}"
        return GateOutput([CANNOT_RUN.finding("pyproject.toml", problem)])
    findings = [finding_from_ruff(ctx.root, item) for item in items]
    metrics = {"violations": len(findings), "fixable": sum(1 for f in findings if f.has_fix)}
    if ctx.fix:
        metrics["fixes"] = fixed_by_file(before, findings)
    return GateOutput(findings, metrics)


def _violations(root: Path, args: list[str], targets: list[str]) -> list[Finding]:
    """ruff's findings before fixing, to tell what ``--fix`` changed."""
    checked = run_tool([*args, *targets], root)
    try:
        items = json.loads(checked.stdout) if checked.returncode in (0, 1) else []
    except json.JSONDecodeError:
        items = []
    return [finding_from_ruff(root, item) for item in items]


def fixed_by_file(before: list[Finding], after: list[Finding]) -> dict[str, dict[str, int]]:
    """``{path: {code: count}}`` of the findings that a fix made disappear."""
    from collections import Counter

    gone = Counter((f.path, f.rule) for f in before) - Counter((f.path, f.rule) for f in after)
    fixes: dict[str, dict[str, int]] = {}
    for (path, code), count in sorted(gone.items()):
        fixes.setdefault(path, {})[code] = count
    return fixes


GATE = Gate(
    description="ruff check: pyflakes, pycodestyle, isort, bugbear and pyupgrade findings",
    run=run,
    codes=(CANNOT_RUN, SYNTAX),
    options=OPTIONS,
)
