"""Run an external tool (ruff, pytest, a training run) for a gate and capture what it said.

Gates never raise for a bad repository or a missing tool: ``run_tool`` turns "not installed",
"timed out" and "could not start" into a ``ToolRun`` whose ``problem`` says so in one line; the
gate turns that into a finding of one of its declared codes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

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


def python_files(root: Path, paths: Sequence[str]) -> list[str]:
    """The ``.py``/``.pyi`` files among repo-relative ``paths`` that still exist under ``root``."""
    return [p for p in paths if p.endswith((".py", ".pyi")) and (root / p).is_file()]


def ruff_targets(ctx: GateContext) -> list[str]:
    """What a ruff run checks: the given or changed Python files, else the whole repo (``.``).

    --changed/--fast with no changed Python file gives an empty list: nothing to check, not the
    whole repository.
    """
    return python_files(ctx.root, ctx.paths) if ctx.paths or ctx.changed_only else ["."]
