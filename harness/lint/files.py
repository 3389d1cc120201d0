"""Find the Python files to lint and read them safely.

Bad input never raises: a symlink leading out of the repository (or round in a loop), an
unreadable path, a file over the size budget, NUL bytes or text that does not decode become
an HC005 finding naming the problem.
"""

from __future__ import annotations

import fnmatch
import io
import os
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.findings import Finding
from harness.lint.codes import UNREADABLE


@dataclass
class SourceFile:
    path: str  # repo-relative POSIX
    data: bytes = b""
    problem: Finding | None = None
    encoding: str = "utf-8"

    def text(self) -> str | Finding:
        """The decoded text (encoding cookie and BOM honoured), or an HC005 finding."""
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(self.data).readline)
        except SyntaxError as err:
            return unreadable(self.path, f"bad encoding declaration ({err.msg})")
        self.encoding = encoding
        try:
            return self.data.decode(encoding)
        except UnicodeDecodeError as err:
            line = self.data[: err.start].count(b"\n") + 1
            return unreadable(self.path, f"not valid {encoding} (byte {err.start})", line)


def unreadable(path: str, why: str, line: int = 1) -> Finding:
    return UNREADABLE.finding(path, f"cannot lint {path}: {why}", line)


def is_excluded(path: str, patterns: Sequence[str]) -> bool:
    """True when ``path`` or one of its parent folders matches a pattern (``*`` crosses ``/``)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts))]
    for pattern in patterns:
        if fnmatch.fnmatch(path, pattern):
            return True
        folder = pattern.removesuffix("/**")
        if folder != pattern and folder in prefixes:
            return True
    return False


def walk_python_files(root: Path) -> list[str]:
    """Every ``*.py`` under ``root`` (symlinked folders are not entered, so no loops)."""
    found = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        rel = Path(folder).relative_to(root).as_posix()
        found.extend(f if rel == "." else f"{rel}/{f}" for f in files if f.endswith(".py"))
    return sorted(found)


def expand(root: Path, paths: Iterable[str], candidates: Sequence[str]) -> list[str]:
    """Explicit ``paths`` (files or folders, repo-relative) narrowed to Python files.

    ``candidates`` is the repository's file list, used to expand folders.
    """
    result: set[str] = set()
    for path in paths:
        path = path.rstrip("/") or "."
        target = root / path
        if target.is_dir() and not target.is_symlink():
            prefix = "" if path == "." else path + "/"
            result.update(c for c in candidates if c.startswith(prefix) and c.endswith(".py"))
        elif path.endswith(".py") or not (target.exists() or target.is_symlink()):
            result.add(path)  # a missing path is reported (HC005), not silently skipped
    return sorted(result)


def read_source(root: Path, path: str, max_bytes: int) -> SourceFile:
    """Read ``root/path``; any problem is carried as an HC005 finding instead of raised."""
    target = root / path
    try:
        if target.is_symlink():
            resolved = target.resolve(strict=True)
            if not resolved.is_relative_to(root.resolve()):
                return SourceFile(
                    path, problem=unreadable(path, "symlink points outside the repository")
                )
        if not target.is_file():
            why = "no such file" if not target.exists() else "not a regular file"
            return SourceFile(path, problem=unreadable(path, why))
        size = target.stat().st_size
        if size > max_bytes:
            budget = max_bytes / 1e6
            return SourceFile(
                path,
                problem=unreadable(path, f"{size / 1e6:.1f} MB is over the {budget:g} MB budget"),
            )
        data = target.read_bytes()
    except RuntimeError:
        return SourceFile(path, problem=unreadable(path, "symlink loop"))
    except OSError as err:
        return SourceFile(path, problem=unreadable(path, err.strerror or type(err).__name__))
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        return SourceFile(path, data, unreadable(path, "contains NUL bytes", line))
    return SourceFile(path, data)
