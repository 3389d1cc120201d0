"""The format gate: ``ruff format --check --diff``, one finding per unformatted file.

Each finding points at the first line the formatter would change, so an agent can look there.
With ``--fix`` the gate runs ``ruff format`` on the files instead and reports what it could not
format (files ruff cannot parse).
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.codes import Code
from harness.findings import Edit, Finding, Fix
from harness.gates import Gate, GateContext, GateOutput
from harness.gates.tool_run import ruff_command, ruff_targets, run_tool

FIX_TITLE = "Run `ruff format` on the file (or `harness check --fix`)"
UNFORMATTED = Code(
    "FMT001",
    "error",
    FIX_TITLE,
    "The file is not formatted the way `ruff format` (line length 100, config in pyproject.toml) "
    "would format it. The finding points at the first line the formatter changes. Run `ruff "
    "format PATH` or `harness check --fix` to apply the formatting.",
    why="One formatting, applied by a tool, keeps diffs about behaviour rather than layout.",
)
CANNOT_FORMAT = Code(
    "FMT002",
    "warning",
    "Fix the syntax error so the file parses",
    "ruff format could not run, or could not parse a file. A parse failure is reported at the "
    "syntax error's position; a missing ruff means the environment running harness lacks it "
    "(`make install` installs it).",
)
MAX_FIXES = 20  # whole-file fixes cost one ruff run each; past this, the finding has only a title
_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@")
_PARSE_ERROR = re.compile(r"^error: Failed to parse (.+?):(\d+):(\d+): (.*)$", re.IGNORECASE)


def first_changed_lines(diff: str) -> dict[str, int]:
    """Map each file in a unified diff to the first line (in the old file) the diff changes."""
    firsts: dict[str, int] = {}
    path = ""
    old_line = 0
    for line in diff.splitlines():
        if line.startswith("--- "):
            path = line[4:].strip()
            continue
        if line.startswith("+++ "):
            continue
        hunk = _HUNK.match(line)
        if hunk:
            old_line = int(hunk.group(1))
            continue
        if not path or path in firsts or not old_line:
            continue
        if line.startswith(("-", "+")):
            firsts[path] = max(old_line, 1)
        elif line.startswith(" "):
            old_line += 1
    return firsts


def _parse_failures(stderr: str) -> list[Finding]:
    findings = []
    for line in stderr.splitlines():
        match = _PARSE_ERROR.match(line.strip())
        if match:
            path, row, col, reason = match.groups()
            findings.append(
                CANNOT_FORMAT.finding(
                    path.removeprefix("./"),
                    f"ruff cannot format this file: {reason}",
                    int(row),
                    int(col),
                )
            )
    return findings


def whole_file_fix(root: Path, path: str) -> Fix | None:
    """The formatter's output as one edit replacing the whole file (None if ruff cannot say)."""
    try:
        source = (root / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    done = run_tool(
        [*ruff_command(), "format", "--stdin-filename", path, "-"], root, stdin_text=source
    )
    if done.returncode != 0 or done.problem:
        return None
    end_line = source.count("\n") + 1
    end_col = len(source.rsplit("\n", 1)[-1]) + 1
    return Fix(FIX_TITLE, (Edit(1, 1, end_line, end_col, done.stdout),), "safe")


OPTIONS: dict[str, type | tuple[type, ...]] = {}


def run(ctx: GateContext) -> GateOutput:
    targets = ruff_targets(ctx)
    if not targets:
        return GateOutput(metrics={"files_unformatted": 0})
    base = [*ruff_command(), "format", "--force-exclude"]
    checked = run_tool([*base, "--check", "--diff", *targets], ctx.root)
    parse_failures = _parse_failures(checked.stderr)
    could_not_run = checked.problem or checked.returncode not in (0, 1, 2)
    if could_not_run or (checked.returncode == 2 and not parse_failures):
        finding = CANNOT_FORMAT.finding(
            "pyproject.toml",
            f"ruff format could not run: {checked.problem or checked.tail(3)}",
            severity="error",
            fix_title="Install ruff where harness runs (`make install`) and check the "
            "[tool.ruff] table",
        )
        return GateOutput([finding])
    # ruff also formats code blocks in Markdown; this gate is about Python sources only.
    unformatted = {
        path: line
        for path, line in first_changed_lines(checked.stdout).items()
        if path.endswith((".py", ".pyi"))
    }
    findings = parse_failures
    fixed: list[str] = []
    if ctx.fix and unformatted:
        formatted = run_tool([*base, *sorted(unformatted)], ctx.root)
        if formatted.returncode == 0:
            fixed, unformatted = sorted(unformatted), {}
    for index, (path, line) in enumerate(sorted(unformatted.items())):
        findings.append(
            UNFORMATTED.finding(
                path.removeprefix("./"),
                f"{path} is not formatted; ruff format would change it from line {line}",
                line,
                fix=whole_file_fix(ctx.root, path) if index < MAX_FIXES else None,
            )
        )
    metrics = {"files_unformatted": len(unformatted), "files_formatted_by_fix": len(fixed)}
    if ctx.fix:
        metrics["fixes"] = {path.removeprefix("./"): {UNFORMATTED.code: 1} for path in fixed}
    return GateOutput(findings, metrics)


GATE = Gate(
    description="ruff format --check: every Python file is formatted",
    run=run,
    codes=(UNFORMATTED, CANNOT_FORMAT),
    options=OPTIONS,
)
