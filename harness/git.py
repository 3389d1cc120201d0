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


def resolve(root: Path, ref: str) -> str:
    """The commit id ``ref`` names."""
    result = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if result.returncode != 0:
        raise HarnessError(f"git ref {ref!r} not found; pass an existing branch, tag or commit")
    return result.stdout.strip()


def files_at(root: Path, ref: str, paths: list[str]) -> dict[str, str | None]:
    """Text of each of ``paths`` at ``ref`` in one ``git cat-file --batch`` (None: absent)."""
    if not paths:
        return {}
    request = "".join(f"{ref}:./{p}\n" for p in paths).encode()
    try:
        done = subprocess.run(
            ["git", "cat-file", "--batch"], cwd=root, input=request, capture_output=True
        )
    except FileNotFoundError as err:
        raise HarnessError("git is not installed; install git or pass explicit paths") from err
    if done.returncode != 0:
        raise HarnessError(f"git cat-file in {root}: {done.stderr.decode(errors='replace')}")
    out, found, at = done.stdout, {}, 0
    for path in paths:
        end = out.index(b"\n", at)
        header = out[at:end].decode(errors="replace").split()
        at = end + 1
        if len(header) < 3 or header[-1] == "missing" or header[1] != "blob":
            found[path] = None
            continue
        size = int(header[2])
        found[path] = out[at : at + size].decode("utf-8", errors="replace")
        at += size + 1  # the blob and its trailing newline
    return found


def tree_blobs(root: Path, ref: str, folder: str) -> dict[str, str]:
    """``{path under folder: blob id}`` for every file of ``folder`` at ``ref`` (empty if absent)."""
    result = _git(root, "ls-tree", "-r", "-z", f"{ref}:./{folder}", check=False)
    if result.returncode != 0:
        return {}
    blobs = {}
    for entry in _lines(result.stdout):
        meta, path = entry.split("\t", 1)
        mode, kind, blob = meta.split()
        if kind == "blob":
            blobs[path] = blob
    return blobs


def commits_touching(root: Path, base: str, path: str) -> list[str]:
    """Commits in ``base..HEAD`` that changed ``path``, newest first (merges included)."""
    result = _git(root, "rev-list", "--full-history", f"{base}..HEAD", "--", path, check=False)
    return result.stdout.split() if result.returncode == 0 else []


def export_tree(root: Path, ref: str, folders: list[str], dest: Path) -> None:
    """Write ``folders`` as they are at ``ref`` under ``dest`` (``git archive`` piped to tar)."""
    import io
    import tarfile

    try:
        done = subprocess.run(
            ["git", "archive", "--format=tar", ref, "--", *[f"./{f}" for f in folders]],
            cwd=root,
            capture_output=True,
        )
    except FileNotFoundError as err:
        raise HarnessError("git is not installed; install git to run the base's checker") from err
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines() or ["failed"]
        raise HarnessError(f"git archive {ref} in {root}: {detail[-1]}")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(dest, filter="data")
