"""The protected-file manifest: which files are sealed, their approved hashes, who approved them.

``architecture/protected.toml`` lists sealed globs (the evaluation, data preparation, benchmark
code, rules, golden files and the manifest itself). ``architecture/protected.lock.json`` holds
the sha256 of every sealed file plus an append-only log of approvals (who, why, when, which
files). The protected gate compares the working tree with the lock; only ``approve`` (run by a
human as ``harness protect approve --reason TEXT``) rewrites the hashes.
"""

from __future__ import annotations

import fnmatch
import getpass
import hashlib
import json
import os
import subprocess
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from harness import git
from harness.errors import HarnessError

MANIFEST = "architecture/protected.toml"
LOCK = "architecture/protected.lock.json"
LOCK_SCHEMA = 1
_SKIP_DIRS = {".git", "__pycache__", ".venv", ".cache", ".pytest_cache", ".hypothesis"}


class ManifestError(HarnessError):
    """The manifest or its lock is missing or malformed; the message names the file and the fix."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass(frozen=True)
class Drift:
    """A sealed file that no longer matches the lock."""

    path: str
    kind: Literal["changed", "added", "removed"]


def load_globs(root: Path) -> list[str]:
    """The sealed globs from ``architecture/protected.toml`` (key ``sealed``, a list of strings)."""
    path = root / MANIFEST
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ManifestError(
            MANIFEST, "missing; create it with a `sealed = [...]` list of globs"
        ) from err
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ManifestError(MANIFEST, f"cannot read it ({err}); fix the TOML") from err
    globs = table.get("sealed")
    if not isinstance(globs, list) or not globs or not all(isinstance(g, str) and g for g in globs):
        raise ManifestError(MANIFEST, "`sealed` must be a non-empty list of glob strings")
    return globs


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


def is_sealed(path: str, globs: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, g) for g in globs)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def current_hashes(root: Path, globs: list[str] | None = None) -> dict[str, str]:
    """sha256 of every sealed file in the working tree, keyed by repo-relative POSIX path."""
    globs = load_globs(root) if globs is None else globs
    return {p: sha256_of(root / p) for p in _candidate_files(root) if is_sealed(p, globs)}


def read_lock(root: Path) -> dict[str, Any]:
    """The lock as ``{"schema", "files": {path: sha256}, "approvals": [...]}``."""
    path = root / LOCK
    try:
        lock = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ManifestError(
            LOCK, "missing; ask a human to run `harness protect approve --reason ...`"
        ) from err
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ManifestError(LOCK, f"not valid JSON ({err}); restore it from git") from err
    is_valid = (
        isinstance(lock, dict)
        and isinstance(lock.get("files"), dict)
        and isinstance(lock.get("approvals"), list)
    )
    if not is_valid:
        raise ManifestError(
            LOCK, "needs a `files` object and an `approvals` list; restore it from git"
        )
    return lock


def drift(root: Path) -> list[Drift]:
    """Sealed files whose content, presence or absence differs from the lock."""
    locked: dict[str, str] = read_lock(root)["files"]
    now = current_hashes(root)
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


def approve(root: Path, reason: str, who: str | None = None) -> list[str]:
    """Re-seal the working tree: rewrite the hashes, log who/why/when; return the changed paths."""
    if not reason.strip():
        raise ManifestError(LOCK, "approving sealed files needs a reason: pass --reason TEXT")
    globs = load_globs(root)
    try:
        lock = read_lock(root)
    except ManifestError:
        if (root / LOCK).exists():
            raise
        lock = {"schema": LOCK_SCHEMA, "files": {}, "approvals": []}
    now = current_hashes(root, globs)
    locked = lock["files"]
    changed = sorted(p for p in now.keys() | locked.keys() if now.get(p) != locked.get(p))
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
        "approvals": [*lock["approvals"], entry],
    }
    (root / LOCK).write_text(json.dumps(updated, indent=2) + "\n", encoding="utf-8")
    return changed


def approvals_since(root: Path, base: str) -> list[dict[str, Any]]:
    """Approvals in the working tree's lock that the lock at git ref ``base`` does not have."""
    current = read_lock(root)["approvals"]
    text = git.file_at(root, base, LOCK)
    try:
        before = json.loads(text)["approvals"] if text else []
    except (json.JSONDecodeError, KeyError, TypeError):
        before = []
    return [a for a in current if a not in before]
