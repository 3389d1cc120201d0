"""The protected-file manifest: which files are sealed, their approved hashes, who approved them.

``architecture/protected.toml`` lists sealed globs (the evaluation, data preparation, benchmark
code, the checker itself, rules, golden files, the contracts and the manifest) and sealed TOML
tables (``pyproject.toml#tool.harness``: the gates' own settings). ``architecture/
protected.lock.json`` holds the sha256 of every sealed file and table, the sha256 of test files
whose deliberate weakening a maintainer acknowledged, and an append-only log of approvals (who,
why, when, which files). The protected gate compares the working tree with a trusted lock; only
``approve`` (``harness protect approve --reason TEXT``) rewrites it. Which lock is trusted, and
so whether an approval counts, is decided by ``harness.policy``.
"""

from __future__ import annotations

import fnmatch
import getpass
import hashlib
import json
import os
import subprocess
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from harness import git
from harness.errors import HarnessError

MANIFEST = "architecture/protected.toml"
LOCK = "architecture/protected.lock.json"
LOCK_SCHEMA = 1
TABLE_MARK = "#"  # "pyproject.toml#tool.harness": a sealed table of a TOML file
_SKIP_DIRS = {".git", "__pycache__", ".venv", ".cache", ".pytest_cache", ".hypothesis"}


class ManifestError(HarnessError):
    """The manifest or its lock is missing or malformed; the message names the file and the fix."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass(frozen=True)
class Manifest:
    """The sealed globs and sealed tables (``FILE#dotted.table``) of ``architecture/protected.toml``."""

    globs: tuple[str, ...]
    tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Drift:
    """A sealed file or table that no longer matches the lock."""

    path: str  # a repo-relative file, or FILE#table for a sealed table
    kind: Literal["changed", "added", "removed"]

    @property
    def file(self) -> str:
        return self.path.split(TABLE_MARK, 1)[0]

    @property
    def table(self) -> str:
        return self.path.split(TABLE_MARK, 1)[1] if TABLE_MARK in self.path else ""


def parse_manifest(text: str | None, source: str = MANIFEST) -> Manifest:
    """The manifest in ``text`` (None: the file is missing)."""
    if text is None:
        raise ManifestError(source, "missing; create it with a `sealed = [...]` list of globs")
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ManifestError(source, f"cannot read it ({err}); fix the TOML") from err
    globs = table.get("sealed")
    if not isinstance(globs, list) or not globs or not all(isinstance(g, str) and g for g in globs):
        raise ManifestError(source, "`sealed` must be a non-empty list of glob strings")
    tables = table.get("sealed-tables", [])
    is_table = lambda t: isinstance(t, str) and TABLE_MARK in t and all(t.split(TABLE_MARK))  # noqa: E731
    if not isinstance(tables, list) or not all(is_table(t) for t in tables):
        raise ManifestError(
            source,
            '`sealed-tables` must list "FILE#dotted.table" strings, e.g. "pyproject.toml#tool.harness"',
        )
    return Manifest(tuple(globs), tuple(tables))


def _read_text(path: Path, source: str) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise ManifestError(source, f"cannot read it ({err}); restore it from git") from err


def load_manifest(root: Path) -> Manifest:
    return parse_manifest(_read_text(root / MANIFEST, MANIFEST))


def load_globs(root: Path) -> list[str]:
    """The sealed globs from ``architecture/protected.toml`` (key ``sealed``, a list of strings)."""
    return list(load_manifest(root).globs)


def _candidate_files(root: Path) -> list[str]:
    """Tracked and untracked-but-not-ignored files (git), or every file outside tool caches."""
    try:
        listed = git.tracked_files(root) if git.is_repo(root) else None
    except HarnessError:
        listed = None  # git is not installed: walk the tree instead
    if listed is not None:
        return [p for p in listed if (root / p).is_file()]
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        found.extend((Path(folder) / f).relative_to(root).as_posix() for f in files)
    return sorted(found)


def is_sealed(path: str, globs: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, g) for g in globs)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def toml_table(text: str | None, dotted: str) -> Any:
    """The value at ``dotted`` (``tool.harness``) in TOML ``text``; None when absent or unparsable."""
    if text is None:
        return None
    try:
        value: Any = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def table_hash(text: str | None, dotted: str) -> str | None:
    """sha256 of the canonical JSON of one TOML table (comments and layout do not count)."""
    value = toml_table(text, dotted)
    if value is None:
        return None
    canonical = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def current_hashes(root: Path, manifest: Manifest | None = None) -> dict[str, str]:
    """sha256 of every sealed file and table in the working tree, keyed by path (FILE#table)."""
    manifest = load_manifest(root) if manifest is None else manifest
    found = {p: sha256_of(root / p) for p in _candidate_files(root) if is_sealed(p, manifest.globs)}
    for entry in manifest.tables:
        file, dotted = entry.split(TABLE_MARK, 1)
        digest = table_hash(_read_text(root / file, file), dotted)
        if digest is not None:
            found[entry] = digest
    return found


def parse_lock(text: str | None, source: str = LOCK) -> dict[str, Any]:
    """A lock as ``{"schema", "files": {path: sha256}, "acknowledged": {...}, "approvals": [...]}``."""
    if text is None:
        raise ManifestError(
            source, "missing; ask a maintainer to run `harness protect approve --reason ...`"
        )
    try:
        lock = json.loads(text)
    except json.JSONDecodeError as err:
        raise ManifestError(source, f"not valid JSON ({err}); restore it from git") from err
    is_valid = (
        isinstance(lock, dict)
        and isinstance(lock.get("files"), dict)
        and isinstance(lock.get("approvals"), list)
        and isinstance(lock.get("acknowledged", {}), dict)
    )
    if not is_valid:
        raise ManifestError(
            source, "needs a `files` object and an `approvals` list; restore it from git"
        )
    lock.setdefault("acknowledged", {})
    return lock


def read_lock(root: Path) -> dict[str, Any]:
    return parse_lock(_read_text(root / LOCK, LOCK))


def drift(
    root: Path, manifest: Manifest | None = None, lock: Mapping[str, Any] | None = None
) -> list[Drift]:
    """Sealed files and tables whose content, presence or absence differs from ``lock``."""
    locked: Mapping[str, str] = (read_lock(root) if lock is None else lock)["files"]
    now = current_hashes(root, manifest)
    found = [Drift(p, "changed") for p in sorted(now.keys() & locked.keys()) if now[p] != locked[p]]
    found += [Drift(p, "added") for p in sorted(now.keys() - locked.keys())]
    found += [Drift(p, "removed") for p in sorted(locked.keys() - now.keys())]
    return sorted(found, key=lambda d: d.path)


def _default_who(root: Path) -> str:
    try:
        name = subprocess.run(
            ["git", "config", "user.name"], cwd=root, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        name = ""
    return name or getpass.getuser()


def approve(
    root: Path, reason: str, who: str | None = None, acknowledge: Iterable[str] = ()
) -> list[str]:
    """Re-seal the working tree: rewrite the hashes, record acknowledged test files, log
    who/why/when; return the approved paths (empty when nothing changed)."""
    if not reason.strip():
        raise ManifestError(LOCK, "approving sealed files needs a reason: pass --reason TEXT")
    manifest = load_manifest(root)
    try:
        lock = read_lock(root)
    except ManifestError:
        if (root / LOCK).exists():
            raise
        lock = {"schema": LOCK_SCHEMA, "files": {}, "acknowledged": {}, "approvals": []}
    now = current_hashes(root, manifest)
    locked = lock["files"]
    changed = sorted(p for p in now.keys() | locked.keys() if now.get(p) != locked.get(p))
    acknowledged = {p: h for p, h in lock["acknowledged"].items() if (root / p).is_file()}
    for path in acknowledge:
        if not (root / path).is_file():
            raise ManifestError(path, "no such file to acknowledge; pass a test file's repo path")
        digest = sha256_of(root / path)
        if acknowledged.get(path) != digest:
            acknowledged[path] = digest
            changed.append(path)
    if not changed:
        return []
    when = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    entry = {
        "who": who or _default_who(root),
        "why": reason.strip(),
        "when": when,
        "files": changed,
    }
    updated = {
        "schema": LOCK_SCHEMA,
        "files": dict(sorted(now.items())),
        "acknowledged": dict(sorted(acknowledged.items())),
        "approvals": [*lock["approvals"], entry],
    }
    (root / LOCK).write_text(json.dumps(updated, indent=2) + "\n", encoding="utf-8")
    return changed


def new_approvals(lock: Mapping[str, Any], base_lock: Mapping[str, Any] | None) -> list[dict]:
    """Entries of ``lock``'s approvals log that ``base_lock``'s log does not have."""
    before = base_lock["approvals"] if base_lock is not None else []
    return [a for a in lock["approvals"] if a not in before]
