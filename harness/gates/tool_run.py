"""Run an external tool (ruff, pytest, a training run) for a gate and capture what it said.

Gates never raise for a bad repository or a missing tool: ``run_tool`` turns "not installed",
"timed out" and "could not start" into a ``ToolRun`` whose ``problem`` says so in one line, and
``problem_finding`` turns that into a Finding with a fix the reader can act on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.findings import Finding, fingerprint
from harness.gates import GateContext


@dataclass(frozen=True)
class ToolRun:
    """What one tool invocation returned; ``problem`` is set when it could not run to the end."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    problem: str = ""

    def tail(self, max_lines: int = 3) -> str:
        """The last non-empty lines of stdout and stderr, joined into one line for a message."""
        lines = [x.strip() for x in (self.stdout + "\n" + self.stderr).splitlines() if x.strip()]
        return " | ".join(lines[-max_lines:])


def python_tool(module: str) -> list[str]:
    """The argv prefix that runs ``python -m module`` with the interpreter running harness."""
    return [sys.executable, "-m", module]


def checker_command(module: str) -> list[str]:
    """The argv prefix that runs ``module``'s ``main(argv)`` from the running checker's own files.

    ``python -m`` would import the module from the first ``harness`` on ``sys.path``, which in
    the repository under check is the change's own copy; this pins the code that judges.
    """
    import harness

    checker = str(Path(harness.__file__).parent.parent)
    boot = (
        f"import sys; sys.path.insert(0, {checker!r}); from {module} import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    return [sys.executable, "-c", boot]


def code_under_check(root: Path) -> dict[str, str]:
    """Environment that makes a child import the packages of the tree under check first.

    The judging harness may be installed from another tree (the base's, in the hosted
    workflow); the tests and the smoke run must still exercise the change's own code.
    """
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}


def ruff_command() -> list[str]:
    """The ruff binary installed beside the interpreter (saves a Python start-up), else ``-m``."""
    binary = Path(sys.executable).parent / ("ruff.exe" if os.name == "nt" else "ruff")
    return [str(binary)] if binary.is_file() else python_tool("ruff")


def run_tool(
    args: Sequence[str],
    cwd: Path,
    *,
    timeout_s: float = 600.0,
    env: Mapping[str, str] | None = None,
    stdin_text: str | None = None,
) -> ToolRun:
    """Run ``args`` in ``cwd`` with ``env`` added to the current environment."""
    merged = dict(os.environ)
    if env:
        merged.update(env)
    start = time.perf_counter()
    try:
        done = subprocess.run(
            list(args),
            cwd=cwd,
            env=merged,
            input=stdin_text,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout_s,
            check=False,
        )
    except FileNotFoundError:
        return ToolRun(tuple(args), -1, "", "", time.perf_counter() - start, f"{args[0]} not found")
    except subprocess.TimeoutExpired as err:
        out = err.stdout.decode("utf-8", "replace") if isinstance(err.stdout, bytes) else err.stdout
        problem = f"{' '.join(args[:4])} ran past its {timeout_s:g} s time limit"
        return ToolRun(tuple(args), -1, out or "", "", time.perf_counter() - start, problem)
    except OSError as err:
        return ToolRun(
            tuple(args), -1, "", "", time.perf_counter() - start, f"cannot start {args[0]}: {err}"
        )
    return ToolRun(
        tuple(args), done.returncode, done.stdout, done.stderr, time.perf_counter() - start
    )


def problem_finding(code: str, path: str, message: str, fix_title: str, why: str = "") -> Finding:
    """A file-level error finding for a tool or config problem (line 1, column 1)."""
    return Finding(
        rule=code,
        severity="error",
        path=path,
        line=1,
        col=1,
        message=message,
        fix_title=fix_title,
        why=why,
        doc=f"harness explain {code}",
        fingerprint=fingerprint(code, path, message),
    )


def python_files(root: Path, paths: Sequence[str]) -> list[str]:
    """The ``.py``/``.pyi`` files among repo-relative ``paths`` that still exist under ``root``."""
    return [p for p in paths if p.endswith((".py", ".pyi")) and (root / p).is_file()]


def ruff_targets(ctx: GateContext) -> list[str]:
    """What a ruff run checks: the given or changed Python files, else the whole repo (``.``).

    --changed/--fast with no changed Python file gives an empty list: nothing to check, not the
    whole repository.
    """
    return python_files(ctx.root, ctx.paths) if ctx.paths or ctx.changed_only else ["."]


def with_fingerprints(root: Path, findings: list[Finding]) -> list[Finding]:
    """``findings`` with a fingerprint (rule, path, line text, occurrence) where none is set."""
    lines_of: dict[str, list[str]] = {}
    seen: dict[tuple[str, str, str], int] = {}
    result = []
    for finding in sorted(findings, key=Finding.sort_key):
        if finding.fingerprint:
            result.append(finding)
            continue
        if finding.path not in lines_of:
            try:
                text = (root / finding.path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            lines_of[finding.path] = text.splitlines()
        lines = lines_of[finding.path]
        line_text = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        key = (finding.rule, finding.path, " ".join(line_text.split()))
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        stamp = fingerprint(finding.rule, finding.path, line_text, occurrence)
        result.append(replace(finding, fingerprint=stamp))
    return result


OPTION_CODE = "GATE001"
OPTION_DOC = (
    "A gate option in [tool.harness.gates.ID] of pyproject.toml is unknown or has the wrong "
    "type. The finding names the key and the options the gate accepts; the gate does not run "
    "until the table is fixed."
)


def option_findings(
    root: Path,
    gate_id: str,
    options: Mapping[str, Any],
    accepted: Mapping[str, type | tuple[type, ...]],
) -> list[Finding]:
    """GATE001 for each key of ``options`` the gate does not accept or whose value has the wrong type."""
    table = f"[tool.harness.gates.{gate_id}]"
    names = ", ".join(sorted(accepted)) or "none"
    findings = []
    for key, value in options.items():
        kind = accepted.get(key)
        if kind is None:
            problem = f"{table}: unknown option {key!r}; options of this gate: {names}"
        elif isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            problem = f"{table}: {key} = {value!r} is a boolean; expected {_type_names(kind)}"
        elif not isinstance(value, kind):
            problem = f"{table}: {key} = {value!r}; expected {_type_names(kind)}"
        else:
            continue
        finding = problem_finding(OPTION_CODE, "pyproject.toml", problem, f"Fix {key} in {table}")
        findings.append(replace(finding, line=_key_line(root, table, key)))
    return findings


def _type_names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _key_line(root: Path, table: str, key: str) -> int:
    """The 1-based line of ``key`` inside ``table`` in pyproject.toml (the header's, or 1)."""
    try:
        lines = (root / "pyproject.toml").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    header = next((i for i, line in enumerate(lines) if line.strip() == table), None)
    if header is None:
        return 1
    for i in range(header + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith("["):
            break
        if stripped.split("=", 1)[0].strip().strip('"') == key:
            return i + 1
    return header + 1
