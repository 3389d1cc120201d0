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

from harness.codes import SAME_CONCEPT
from harness.config import ConfigError, Settings, key_line, type_names
from harness.errors import HarnessError
from harness.findings import SEVERITY_RANK, CheckReport, Finding, GateResult, with_fingerprints
from harness.gates import Gate, GateContext, load_gate
from harness.registry import GATE_IDS, TIERS

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
        if not (absolute.exists() or absolute.is_symlink()):
            raise HarnessError(f"{raw}: no such file or folder; pass paths that exist")
        result.append(absolute.relative_to(root).as_posix())
    return tuple(result)


def select_gates(settings: Settings, request: CheckRequest) -> list[str]:
    """The ids of the gates to run, in registry order."""
    for gate_id in request.gates:
        if gate_id not in GATE_IDS:
            raise HarnessError(f"--gate {gate_id}: unknown gate; gates are {', '.join(GATE_IDS)}")
    if request.gates:
        return [g for g in GATE_IDS if g in request.gates]
    tiers = ("fast",) if request.fast else DEFAULT_TIERS
    return [g for g in GATE_IDS if g in settings.enabled_gates and TIERS[g] in tiers]


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
    notes = []
    if policy.checker_ref and judge.predates_trust_root(root, policy.checker_ref):
        notes.append(
            f"the checker of {request.base} predates the trust root; the running checker "
            f"judged, with {request.base}'s policy files"
        )
    elif request.base is not None and not judge.trusted_checker_is_running(
        root, policy.checker_ref
    ):
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
    is_from_args = request.fast and bool(explicit) and not is_diff
    changed = explicit if is_from_args else changed_paths(root, request)
    if changed is None or is_from_args:
        paths = explicit
    elif explicit and "." not in explicit:
        is_under = lambda p: any(p == e or p.startswith(e.rstrip("/") + "/") for e in explicit)  # noqa: E731
        paths = tuple(p for p in changed if is_under(p))
    else:
        paths = changed
    contexts = {
        gate_id: GateContext(
            root=root,
            paths=paths,
            changed_only=changed is not None,
            base=request.base,
            fix=request.fix,
            unsafe_fixes=request.unsafe_fixes,
            settings=settings,
            options=dict(settings.gate_options.get(gate_id, {})),
            policy=policy,
        )
        for gate_id in gates
    }
    checker = os.environ.get(judge.JUDGE_ENV) or (
        "the running harness" if request.base is None else "the running harness (the trusted code)"
    )
    if changed is not None and not paths:
        against = "the staged or given files" if is_from_args else request.base or "HEAD"
        notes.append(f"no file was checked: nothing changed against {against}")
    results = merge_same_site(run_gates(contexts, request.fix), settings.fail_severity)
    return CheckReport(
        gates=results,
        fail_severity=settings.fail_severity,
        judged_by={"policy": policy.source, "checker": checker},
        notes=notes,
    )


def run_gates(contexts: dict[str, GateContext], fix: bool) -> list[GateResult]:
    """Run the gates in order; fast-tier gates overlap in threads (their time is mostly waiting
    on ruff and git subprocesses) unless fixing, when two gates could rewrite one file."""
    ids = list(contexts)
    overlap = [g for g in ids if TIERS[g] == "fast"] if not fix else []
    results: dict[str, GateResult] = {}
    if len(overlap) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(overlap)) as pool:
            futures = {g: pool.submit(run_gate, g, contexts[g]) for g in overlap}
            results.update({g: future.result() for g, future in futures.items()})
    for gate_id in ids:
        if gate_id not in results:
            results[gate_id] = run_gate(gate_id, contexts[gate_id])
    return [results[g] for g in ids]


def run_gate(gate_id: str, context: GateContext) -> GateResult:
    """Run one gate and do what every gate needs: complete its context (settings, policy),
    validate its options, time it, stamp its id, fingerprint its findings and decide ``ok``
    from the fail severity. A crash becomes a one-line HarnessError (HARNESS_TRACEBACK=1 shows
    the traceback)."""
    gate = load_gate(gate_id)
    context = _completed(context)
    validate_options(gate_id, gate, context)
    started = time.perf_counter()
    try:
        output = gate.run(context)
    except HarnessError:
        raise
    except Exception as err:
        if os.environ.get("HARNESS_TRACEBACK"):
            raise
        raise HarnessError(
            f"gate {gate_id} crashed: {type(err).__name__}: {err}; rerun with HARNESS_TRACEBACK=1"
        ) from err
    findings = with_fingerprints(output.findings, _line_reader(context.root))
    floor = SEVERITY_RANK[context.settings.fail_severity]
    failing = any(SEVERITY_RANK[f.severity] >= floor for f in findings)
    return GateResult(
        id=gate_id,
        ok=bool(output.skipped) or not failing,
        duration_s=time.perf_counter() - started,
        findings=findings,
        metrics=output.metrics,
        skipped=output.skipped,
    )


def _completed(context: GateContext) -> GateContext:
    """``context`` with settings and policy, read from the tree when a caller left them out."""
    if context.policy is not None and context.settings is not None:
        return context
    from harness.policy import load_policy

    policy = context.policy or load_policy(context.root, context.base)
    return replace(context, policy=policy, settings=context.settings or policy.settings)


def validate_options(gate_id: str, gate: Gate, context: GateContext) -> None:
    """A key the gate does not accept, or a value of the wrong type, is a ConfigError (exit 2)
    naming the file, the line and the accepted options."""
    table = f"[tool.harness.gates.{gate_id}]"
    names = ", ".join(sorted(gate.options)) or "none"
    for key, value in context.options.items():
        kind = gate.options.get(key)
        kinds = (kind if isinstance(kind, tuple) else (kind,)) if kind is not None else ()
        if kind is None:
            problem = f"{key}: unknown option; options of this gate: {names}"
        elif (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            problem = f"{key} = {value!r}: expected {type_names(kind)}; fix it"
        else:
            continue
        raise ConfigError(f"{_where(context, table, key)}: {table} {problem}")


def _where(context: GateContext, table: str, key: str) -> str:
    """``pyproject.toml:LINE`` for a key of the working tree's pyproject.toml."""
    source = context.settings.source
    try:
        text = (context.root / source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return source
    line = key_line(text, table, key)
    return f"{source}:{line}" if line else source


def _line_reader(root: Path):
    def lines_of(path: str) -> list[str]:
        try:
            return (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []

    return lines_of


def merge_same_site(results: list[GateResult], fail_severity: str) -> list[GateResult]:
    """One finding per site and concept: codes of one ``SAME_CONCEPT`` group at one site (or
    anywhere in one file, for file-wide groups) and exact repeats are reported once, by the
    most severe finding (ours before a tool's, then gate order), naming the others."""
    group_of = {code: i for i, (codes, _) in enumerate(SAME_CONCEPT) for code in codes}
    sites: dict[tuple, list[tuple[int, Finding]]] = {}
    for index, result in enumerate(results):
        for finding in result.findings:
            group = group_of.get(finding.rule)
            if group is None:
                key: tuple = ("same", finding.rule, finding.path, finding.line, finding.message)
            elif SAME_CONCEPT[group][1] == "file":
                key = (group, finding.path)
            else:
                key = (group, finding.path, finding.line)
            sites.setdefault(key, []).append((index, finding))
    dropped: set[int] = set()
    replaced: dict[int, Finding] = {}
    for entries in sites.values():
        if len(entries) < 2:
            continue
        ranked = sorted(
            entries, key=lambda e: (-SEVERITY_RANK[e[1].severity], not _is_ours(e[1]), e[0])
        )
        keep = ranked[0][1]
        others = sorted({f.rule for _, f in ranked[1:]} - {keep.rule})
        if others:
            replaced[id(keep)] = replace(
                keep, message=f"{keep.message} (same site: {', '.join(others)})"
            )
        dropped.update(id(f) for _, f in ranked[1:])
    floor = SEVERITY_RANK[fail_severity]
    merged = []
    for result in results:
        findings = [replaced.get(id(f), f) for f in result.findings if id(f) not in dropped]
        failing = any(SEVERITY_RANK[f.severity] >= floor for f in findings)
        merged.append(replace(result, findings=findings, ok=bool(result.skipped) or not failing))
    return merged


def _is_ours(finding: Finding) -> bool:
    """A code of this harness (rules NC*, engine HC*), whose message and fix name the site."""
    return finding.rule.startswith(("NC", "HC"))
