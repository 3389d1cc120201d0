"""The git facts gates need: the repo root, files changed against a ref, a file's text at a ref.

Everything goes through the ``git`` executable (no library). Paths are POSIX and relative to
``root``, which may be a folder inside the work tree (a project in a monorepo).
Errors become HarnessError with one line naming the ref or directory.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.errors import HarnessError


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except FileNotFoundError as err:
        raise HarnessError("git is not installed; install git or pass explicit paths") from err
    if check and result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["failed"])[-1]
        raise HarnessError(f"git {' '.join(args)} in {root}: {detail}")
    return result


def repo_root(start: Path) -> Path | None:
    """The top of the git work tree containing ``start``, or None outside a repository."""
    result = _git(start, "rev-parse", "--show-toplevel", check=False)
    return Path(result.stdout.strip()) if result.returncode == 0 else None


def is_repo(root: Path) -> bool:
    return repo_root(root) is not None


def ref_exists(root: Path, ref: str) -> bool:
    return (
        _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).returncode
        == 0
    )


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\0") if line]


def changed_files(root: Path, base: str = "HEAD") -> list[str]:
    """Files added, copied, modified or renamed against ``base`` (working tree), plus untracked.

    Deleted files are left out: there is nothing to lint. In a repository without commits every
    file is untracked or staged, so all of them count as changed.
    """
    if ref_exists(root, base):
        diff = _git(
            root, "diff", "--name-only", "--relative", "-z", "--diff-filter=ACMR", base, "--"
        )
        changed = set(_lines(diff.stdout))
    elif base == "HEAD":
        changed = set(_lines(_git(root, "ls-files", "-z", "--cached").stdout))
    else:
        raise HarnessError(f"git ref {base!r} not found; pass an existing branch, tag or commit")
    changed.update(untracked_files(root))
    return sorted(changed)


def untracked_files(root: Path) -> list[str]:
    return _lines(_git(root, "ls-files", "-z", "--others", "--exclude-standard").stdout)


def tracked_files(root: Path) -> list[str]:
    """Tracked plus untracked (not ignored) files; deleted-but-tracked files are dropped."""
    tracked = _lines(_git(root, "ls-files", "-z", "--cached").stdout)
    files = set(tracked) | set(untracked_files(root))
    return sorted(f for f in files if (root / f).exists() or (root / f).is_symlink())


def file_at(root: Path, ref: str, path: str) -> str | None:
    """Text of ``path`` at ``ref``, or None where the file does not exist at that ref."""
    result = _git(root, "show", f"{ref}:./{path}", check=False)  # ./: relative to root
    if result.returncode != 0:
        if not ref_exists(root, ref):
            raise HarnessError(f"git ref {ref!r} not found; pass an existing branch, tag or commit")
        return None
    return result.stdout


def deleted_files(root: Path, base: str) -> list[str]:
    """Files present at ``base`` and gone from the working tree (renames count as deletions)."""
    if not ref_exists(root, base):
        raise HarnessError(f"git ref {base!r} not found; pass an existing branch, tag or commit")
    diff = _git(
        root,
        "diff",
        "--name-only",
        "--relative",
        "-z",
        "--no-renames",
        "--diff-filter=D",
        base,
        "--",
    )
    return sorted(_lines(diff.stdout))
