"""``harness check``: choose the gates, build their context, run them, return one CheckReport.

Gates are chosen by ``--gate ID`` (any gate), ``--fast`` (tier "fast") or by default every
enabled gate of tier fast or full. ``--fast``, ``--changed`` and ``--base`` narrow the files to
those changed against a ref (HEAD for --fast) plus untracked ones. With ``--base`` the policy
(settings, seals, contracts) and the checker come from the base unless a maintainer approved
the change's own (``harness.policy``); when the running code is not that checker, the trusted
one re-runs the check (``harness.judge``). Never prints or exits.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness.config import Settings
from harness.errors import HarnessError
from harness.findings import SEVERITY_RANK, CheckReport, GateResult
from harness.gates import GATE_IDS, GATE_TIERS, Gate, GateContext, load_gate

DEFAULT_TIERS = ("fast", "full")


@dataclass(frozen=True)
class CheckRequest:
    """What the user asked for on the command line."""

    paths: tuple[str, ...] = ()  # as given (relative to cwd or absolute)
    fast: bool = False
    gates: tuple[str, ...] = ()
    base: str | None = None
    changed: bool = False
    fix: bool = False
    unsafe_fixes: bool = False
    severity: str | None = None
    maintainer_approval: str = ""  # set by the hosted workflow from a maintainer-only signal

    def check_args(self, paths: Sequence[str]) -> list[str]:
        """``harness check`` arguments that ask for this request over repo-relative ``paths``."""
        args = [*(f"--gate={g}" for g in self.gates)]
        args += ["--fast"] * self.fast + ["--changed"] * self.changed
        args += ["--fix"] * (self.fix and not self.unsafe_fixes) + [
            "--unsafe-fixes"
        ] * self.unsafe_fixes
        if self.base is not None:
            args.append(f"--base={self.base}")
        if self.severity is not None:
            args.append(f"--severity={self.severity}")
        if self.maintainer_approval:
            args.append(f"--maintainer-approval={self.maintainer_approval}")
        return [*args, "--", *paths]


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding ``.git`` or ``pyproject.toml``."""
    start = start.absolute()
    for folder in (start, *start.parents):
        if (folder / ".git").exists() or (folder / "pyproject.toml").is_file():
            return folder
    return start


def repo_relative(root: Path, paths: Sequence[str], cwd: Path) -> tuple[str, ...]:
    """``paths`` as repo-relative POSIX strings; a path outside ``root`` is an error."""
    result = []
    for raw in paths:
        absolute = Path(os.path.normpath(cwd / raw))
        if not absolute.is_relative_to(root):
            # The same folders reached through a symlink (the file itself may be a link).
            absolute = absolute.parent.resolve() / absolute.name
            root = root.resolve()
        if not absolute.is_relative_to(root):
            raise HarnessError(f"{raw}: outside the repository {root}; pass paths inside it")
        result.append(absolute.relative_to(root).as_posix())
    return tuple(result)


def select_gates(settings: Settings, request: CheckRequest) -> list[Gate]:
    """The gates to run, in registry order."""
    for gate_id in request.gates:
        if gate_id not in GATE_IDS:
            raise HarnessError(f"--gate {gate_id}: unknown gate; gates are {', '.join(GATE_IDS)}")
    if request.gates:
        return [_load(g) for g in GATE_IDS if g in request.gates]
    tiers = ("fast",) if request.fast else DEFAULT_TIERS
    chosen = [g for g in GATE_IDS if g in settings.enabled_gates and GATE_TIERS[g] in tiers]
    return [_load(g) for g in chosen]


def _load(gate_id: str) -> Gate:
    try:
        return load_gate(gate_id)
    except ModuleNotFoundError as err:
        raise HarnessError(
            f"gate {gate_id}: module {err.name} is missing; run `--gate ID` for the gates that exist"
        ) from err


def changed_paths(root: Path, request: CheckRequest) -> tuple[str, ...] | None:
    """Files changed against the ref (None when the request is not diff-based)."""
    if not (request.fast or request.changed or request.base):
        return None
    from harness.git import changed_files, is_repo

    if not is_repo(root):
        raise HarnessError(f"{root}: not a git repository; --fast/--changed/--base need git")
    return tuple(changed_files(root, request.base or "HEAD"))


def run_check(root: Path, request: CheckRequest, cwd: Path | None = None) -> CheckReport:
    """Run the requested gates over ``root`` and collect their results."""
    from harness import judge
    from harness.policy import load_policy

    policy = load_policy(root, request.base, request.maintainer_approval)
    explicit = repo_relative(root, request.paths, cwd or Path.cwd())
    if request.base is not None and not judge.trusted_checker_is_running(root, policy.checker_ref):
        where = f"base {request.base}" if policy.checker_ref else "the approved working tree"
        label = f"checker of {where}, run apart because the running harness differs from it"
        report, _ = judge.run_trusted_checker(
            root, policy.checker_ref, request.check_args(explicit), label
        )
        return report
    settings = policy.settings
    if request.severity is not None:
        if request.severity not in SEVERITY_RANK:
            raise HarnessError(
                f"--severity {request.severity}: expected one of error, warning, info"
            )
        settings = replace(settings, fail_severity=request.severity)
    gates = select_gates(settings, request)
    is_diff = request.changed or request.base is not None
    # --fast with file names (pre-commit passes the staged files) checks exactly those files.
    changed = (
        explicit if request.fast and explicit and not is_diff else changed_paths(root, request)
    )
    if changed is None or changed is explicit:
        paths = explicit
    elif explicit and "." not in explicit:
        is_under = lambda p: any(p == e or p.startswith(e.rstrip("/") + "/") for e in explicit)  # noqa: E731
        paths = tuple(p for p in changed if is_under(p))
    else:
        paths = changed
    contexts = [
        GateContext(
            root=root,
            paths=paths,
            changed_only=changed is not None,
            base=request.base,
            fix=request.fix,
            unsafe_fixes=request.unsafe_fixes,
            settings=settings,
            options=dict(settings.gate_options.get(gate.id, {})),
            policy=policy,
        )
        for gate in gates
    ]
    checker = os.environ.get(judge.JUDGE_ENV) or (
        "the running harness" if request.base is None else "the running harness (the trusted code)"
    )
    return CheckReport(
        gates=run_gates(gates, contexts, request.fix),
        fail_severity=settings.fail_severity,
        judged_by={"policy": policy.source, "checker": checker},
    )


def run_gates(gates: list[Gate], contexts: list[GateContext], fix: bool) -> list[GateResult]:
    """Run the gates; fast-tier gates overlap in threads (their time is mostly waiting on ruff
    and git subprocesses) unless fixing, when two gates could rewrite one file."""
    overlap = [i for i, g in enumerate(gates) if g.tier == "fast"] if not fix else []
    results: dict[int, GateResult] = {}
    if len(overlap) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(overlap)) as pool:
            futures = {i: pool.submit(run_gate, gates[i], contexts[i]) for i in overlap}
            results.update({i: future.result() for i, future in futures.items()})
    for i, gate in enumerate(gates):
        if i not in results:
            results[i] = run_gate(gate, contexts[i])
    return [results[i] for i in range(len(gates))]


def run_gate(gate: Gate, context: GateContext) -> GateResult:
    """Run one gate; a crash becomes a one-line HarnessError (set HARNESS_TRACEBACK=1 to see it)."""
    started = time.perf_counter()
    try:
        result = gate.run(context)
    except HarnessError:
        raise
    except Exception as err:
        if os.environ.get("HARNESS_TRACEBACK"):
            raise
        raise HarnessError(
            f"gate {gate.id} crashed: {type(err).__name__}: {err}; rerun with HARNESS_TRACEBACK=1"
        ) from err
    if not result.duration_s:
        result.duration_s = time.perf_counter() - started
    return result
