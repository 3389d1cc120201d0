"""Lint many files: discover, read, consult the cache, parse what is new (in a process pool when
there are many), apply config (disabled rules, severity overrides, per-file ignores), fix.

The rule catalogue is imported only when some file is not in the cache, so a warm run never
imports libcst. The cache key covers the rule sources, the settings and the harness version.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness import __version__
from harness.config import Settings
from harness.findings import Finding
from harness.lint.cache import LintCache, atomic_write, content_hash, source_key
from harness.lint.codes import ENGINE_CODES
from harness.lint.files import SourceFile, expand, is_excluded, read_source, walk_python_files

_WORKER_STATE: dict[str, Any] = {}  # inherited by forked pool workers


@dataclass
class LintRun:
    findings: list[Finding] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # the files that were checked
    parsed: int = 0
    cached: int = 0
    fixed: int = 0
    fixes: dict[str, dict[str, int]] = field(default_factory=dict)  # path -> code -> fixed
    workers: int = 0
    discarded: int = 0  # corrupted cache entries thrown away

    def metrics(self) -> dict[str, Any]:
        return {
            "files": len(self.paths),
            "parsed": self.parsed,
            "cached": self.cached,
            "fixed": self.fixed,
            "fixes": self.fixes,
            "workers": self.workers,
        }


class RuleSet:
    """The rules to run and what the cache key needs to know about them.

    ``rules=None`` means the catalogue in ``rules/``, imported only on first use (and then
    the ``[tool.harness.rules.*]`` tables are validated against it).
    """

    def __init__(self, settings: Settings, rules: Sequence[type] | None = None) -> None:
        self.settings = settings
        self.is_catalogue = rules is None
        self._rules: tuple[type, ...] | None = None if rules is None else tuple(rules)
        self._is_validated = False

    def key(self, root: Path) -> str:
        """Hash of what else decides the findings: engine and rule sources, settings, version,
        and the project's pyproject.toml (NC302 reads its dependency lists)."""
        lint_dir = Path(__file__).parent
        sources = {*lint_dir.glob("*.py"), lint_dir.parent / "findings.py"}
        if (root / "pyproject.toml").is_file():
            sources.add(root / "pyproject.toml")
        if self.is_catalogue:
            spec = importlib.util.find_spec("rules")
            for folder in (spec.submodule_search_locations or []) if spec else []:
                sources.update(Path(folder).glob("*.py"))
            names = "catalogue"
        else:
            modules = {sys.modules[r.__module__] for r in self.all()}
            sources.update(Path(m.__file__) for m in modules if getattr(m, "__file__", None))
            names = ",".join(sorted(f"{r.__module__}.{r.__qualname__}" for r in self.all()))
        return source_key(sources, names, self.settings.fingerprint(), __version__)

    def all(self) -> tuple[type, ...]:
        if not self._is_validated:
            from harness.config import validate_rules

            if self._rules is None:
                from rules import all_rules

                self._rules = all_rules()
            validate_rules(self.settings, self._rules, ENGINE_CODES)
            self._is_validated = True
        return self._rules

    def enabled(self) -> list[type]:
        return [r for r in self.all() if self.settings.rule(r.code).enabled]

    def options(self) -> dict[str, dict[str, Any]]:
        return {r.code: dict(self.settings.rule(r.code).options) for r in self.all()}

    def known_codes(self) -> set[str]:
        return {r.code for r in self.all()} | set(ENGINE_CODES)


def select_files(root: Path, settings: Settings, paths: Sequence[str] | None) -> list[str]:
    """Python files to lint: ``paths`` (files or folders) or the whole repo, minus excludes."""
    candidates: list[str] | None = None

    def repo_files() -> list[str]:
        nonlocal candidates
        if candidates is None:
            if (root / ".git").exists():
                from harness.git import tracked_files

                candidates = [f for f in tracked_files(root) if f.endswith(".py")]
            else:
                candidates = walk_python_files(root)
        return candidates

    if paths is None:
        chosen = repo_files()
    else:
        is_folder = any((root / p).is_dir() for p in paths)
        chosen = expand(root, paths, repo_files() if is_folder else [])
    return [p for p in chosen if not is_excluded(p, settings.exclude)]


def lint_paths(
    root: Path,
    settings: Settings,
    paths: Sequence[str] | None = None,
    *,
    rules: Sequence[type] | None = None,
    fix: bool = False,
    unsafe_fixes: bool = False,
    use_cache: bool = True,
) -> LintRun:
    """Lint ``paths`` (repo-relative; None = every Python file) under ``root``."""
    ruleset = RuleSet(settings, rules)
    run = LintRun(paths=select_files(root, settings, paths))
    cache = LintCache(root / settings.cache_dir, ruleset.key(root)) if use_cache else None
    results: dict[str, list[Finding]] = {}
    pending: list[tuple[SourceFile, str, str]] = []  # (file, text, content hash)
    current: set[tuple[str, str]] = set()  # (path, content hash) of every readable file
    max_bytes = int(settings.max_file_mb * 1e6)
    for path in run.paths:
        source = read_source(root, path, max_bytes)
        if source.problem is not None:
            results[path] = _configure([source.problem], path, settings)
            continue
        digest = content_hash(source.data)
        current.add((path, digest))
        hit = cache.get(path, digest) if cache else None
        if hit is not None:
            results[path] = hit
            run.cached += 1
            continue
        text = source.text()
        if isinstance(text, Finding):
            results[path] = _configure([text], path, settings)
            continue
        pending.append((source, text, digest))
    if pending:
        outcomes = _lint_all(ruleset, [(s.path, text) for s, text, _ in pending], settings, run)
        for (source, _, digest), (findings, parsed) in zip(pending, outcomes, strict=True):
            results[source.path] = _configure(findings, source.path, settings)
            run.parsed += parsed
            if cache:
                cache.put(source.path, digest, results[source.path])
    if fix:
        _fix_all(root, ruleset, settings, results, pending, unsafe_fixes, cache, run)
    if cache and paths is None and not fix:
        cache.retain(current)
    run.discarded = cache.discarded if cache else 0
    run.findings = sorted((f for fs in results.values() for f in fs), key=Finding.sort_key)
    return run


def _configure(findings: list[Finding], path: str, settings: Settings) -> list[Finding]:
    """Apply disabled codes, per-file ignores and severity overrides to one file's findings."""
    ignored = {
        c for glob, codes in settings.per_file_ignores if fnmatch.fnmatch(path, glob) for c in codes
    }
    result = []
    for f in findings:
        rule_settings = settings.rule(f.rule)
        if f.rule in ignored or not rule_settings.enabled:
            continue
        result.append(replace(f, severity=rule_settings.severity) if rule_settings.severity else f)
    return result


def _lint_all(
    ruleset: RuleSet, items: list[tuple[str, str]], settings: Settings, run: LintRun
) -> list[tuple[list[Finding], bool]]:
    import harness.lint.engine  # noqa: F401  (imported before any fork: children import nothing)

    _WORKER_STATE.update(
        rules=ruleset.enabled(),
        options=ruleset.options(),
        known=ruleset.known_codes(),
        root=str(settings.root),
    )
    workers = min(os.cpu_count() or 1, 8, len(items) // settings.pool_threshold + 1)
    if workers < 2:
        return [_lint_one(item) for item in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        return [_lint_one(item) for item in items]
    run.workers = workers
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(_lint_one, items, chunksize=max(1, len(items) // (workers * 4))))


def _lint_one(item: tuple[str, str]) -> tuple[list[Finding], bool]:
    from harness.lint.engine import lint_text

    path, text = item
    state = _WORKER_STATE
    outcome = lint_text(
        path, text, state["rules"], state["options"], known_codes=state["known"], root=state["root"]
    )
    return outcome.findings, outcome.parsed


def _fix_all(
    root: Path,
    ruleset: RuleSet,
    settings: Settings,
    results: dict[str, list[Finding]],
    pending: list[tuple[SourceFile, str, str]],
    unsafe: bool,
    cache: LintCache | None,
    run: LintRun,
) -> None:
    from harness.lint.engine import lint_text
    from harness.lint.fixes import allowed, fix_loop

    rules, options, known = ruleset.enabled(), ruleset.options(), ruleset.known_codes()
    decoded = {source.path: (source, text) for source, text, _ in pending}
    for path, findings in results.items():
        if not any(allowed(f, unsafe) for f in findings):
            continue
        if path not in decoded:
            source = read_source(root, path, int(settings.max_file_mb * 1e6))
            text = source.text()
            if isinstance(text, Finding):
                continue
            decoded[path] = (source, text)
        source, text = decoded[path]

        def lint(src: str, path: str = path) -> list[Finding]:
            found = lint_text(path, src, rules, options, known_codes=known, root=str(root)).findings
            return _configure(found, path, settings)

        outcome = fix_loop(text, lint, unsafe=unsafe, max_rounds=settings.fix_rounds)
        if outcome.source != text:
            atomic_write(root / path, outcome.source, source.encoding)
            run.fixed += outcome.applied
            gone = Counter(f.rule for f in findings) - Counter(f.rule for f in outcome.findings)
            run.fixes[path] = dict(sorted(gone.items()))
            if cache:
                cache.put(
                    path, content_hash(outcome.source.encode(source.encoding)), outcome.findings
                )
        results[path] = outcome.findings
