"""The editable surface: which files a proposal may change, checked before anything runs.

A proposal's paths must be repo-relative POSIX paths that stay inside the worktree (no absolute
paths, no ``..``, no symlink that leads out), match one of ``[tool.harness.research] surface``'s
globs, and never be sealed. The never-list is structural, not a setting: the sealed manifest of
the research base (evaluation, data, the harness, rules, golden files, contracts) plus tests,
project and CI configuration. A surface glob that reaches into it is a configuration error, so
no setting can open an approval path for a proposal.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from harness.config import ConfigError

NEVER_EDITABLE = (
    "tests/**",
    "pyproject.toml",
    "setup.cfg",
    "setup.py",
    "conftest.py",
    "**/conftest.py",
    "pytest.ini",
    "tox.ini",
    "Makefile",
    "architecture/**",
    "ci/**",
    ".ci/**",
    ".github/**",
    ".pre-commit-config.yaml",
    ".harness/**",
    ".git/**",
)


def forbidden_globs(sealed: Iterable[str]) -> tuple[str, ...]:
    return (*sealed, *NEVER_EDITABLE)


def _matches(path: str, globs: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, g) for g in globs)


def check_surface_settings(
    surface: Iterable[str], sealed: Iterable[str], tracked: Iterable[str]
) -> None:
    """Raise ConfigError when a surface glob covers a tracked file that may never be edited."""
    never = forbidden_globs(sealed)
    for glob in surface:
        for path in tracked:
            if fnmatch.fnmatchcase(path, glob) and _matches(path, never):
                raise ConfigError(
                    f"pyproject.toml: [tool.harness.research] surface {glob!r} covers {path}, "
                    "which is sealed or never editable; narrow the glob"
                )


def edit_problem(root: Path, path: str, surface: Iterable[str], sealed: Iterable[str]) -> str:
    """Why ``path`` may not be edited in the worktree at ``root`` ("" when it may)."""
    if not path or "\\" in path or "\0" in path:
        return f"{path!r}: not a repo-relative POSIX path"
    if os.path.isabs(path) or path.startswith("~"):
        return f"{path}: absolute paths escape the worktree; use a repo-relative path"
    normal = os.path.normpath(path)
    if normal.startswith("..") or normal != path.rstrip("/") or "/../" in f"/{path}/":
        return f"{path}: escapes or is not normalised inside the worktree"
    resolved = (root / path).resolve()
    if not resolved.is_relative_to(root.resolve()):
        return f"{path}: resolves outside the worktree (a symlink leads out)"
    if _matches(path, forbidden_globs(sealed)):
        return f"{path}: sealed or never editable (evaluation, data, tests, harness, rules, config); no proposal may change it"
    if not _matches(path, surface):
        return f"{path}: outside the editable surface ({', '.join(surface)})"
    return ""


def edits_problem(
    root: Path, edits: Mapping[str, str], surface: Iterable[str], sealed: Iterable[str]
) -> str:
    """The first problem with a proposal's edits, or "" when every path may be edited."""
    if not edits:
        return "the proposal changes no file"
    surface, sealed = tuple(surface), tuple(sealed)
    for path in sorted(edits):
        problem = edit_problem(root, path, surface, sealed)
        if problem:
            return problem
        if not isinstance(edits[path], str):
            return f"{path}: the new text must be a string"
    return ""
