"""The content-hash lint cache: one small JSON file per (path, file content) under the cache dir.

The directory name is the cache key of everything else that changes results (rule sources,
settings, harness version), so a new key starts an empty cache and old keys are pruned. Writes
are atomic (temp file + rename); an entry that does not parse is deleted and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from harness.findings import Finding

FORMAT = 1


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def source_key(files: Iterable[Path], *extra: str) -> str:
    """Hash of the contents of ``files`` (sorted by path) and ``extra`` strings."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    for text in extra:
        digest.update(text.encode() + b"\0")
    return digest.hexdigest()[:20]


class LintCache:
    """Findings per (path, content hash) for one cache key."""

    def __init__(self, cache_dir: Path, key: str) -> None:
        self.base = cache_dir / "lint"
        self.directory = self.base / f"v{FORMAT}-{key}"
        self.discarded = 0  # corrupted entries found and removed

    def _entry(self, path: str, digest: str) -> Path:
        name = hashlib.sha256(f"{path}\0{digest}".encode()).hexdigest()[:32]
        return self.directory / name[:2] / f"{name}.json"

    def get(self, path: str, digest: str) -> list[Finding] | None:
        entry = self._entry(path, digest)
        try:
            text = entry.read_bytes()
        except FileNotFoundError:
            return None
        try:
            stored = json.loads(text)
            if stored["path"] != path or stored["hash"] != digest:
                raise ValueError("entry for another file")
            return [Finding.from_dict(f) for f in stored["findings"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            entry.unlink(missing_ok=True)
            self.discarded += 1
            return None

    def put(self, path: str, digest: str, findings: list[Finding]) -> None:
        entry = self._entry(path, digest)
        payload = {"path": path, "hash": digest, "findings": [f.to_dict() for f in findings]}
        try:
            if not self.directory.is_dir():
                self._start()
            atomic_write(entry, json.dumps(payload, separators=(",", ":")))
        except FileNotFoundError:
            # A concurrent run with a newer key pruned this directory; the result stands, it
            # just is not cached.
            return

    def retain(self, kept: set[tuple[str, str]]) -> int:
        """Delete every entry but those for ``kept`` (path, content hash); return how many went.

        Called after a whole-repository run, so entries for old file contents do not pile up.
        """
        keep = {self._entry(path, digest) for path, digest in kept}
        removed = 0
        for entry in self.directory.glob("*/*.json") if self.directory.is_dir() else ():
            if entry not in keep:
                entry.unlink(missing_ok=True)
                removed += 1
        return removed

    def _start(self) -> None:
        """Create this key's directory and drop the directories of older keys."""
        if self.base.is_dir():
            for old in self.base.iterdir():
                if old.is_dir() and old != self.directory:
                    shutil.rmtree(old, ignore_errors=True)
        self.directory.mkdir(parents=True, exist_ok=True)
        root = self.base.parent
        if not (root / ".gitignore").exists():
            atomic_write(
                root / ".gitignore", "# created by harness; the cache is never committed\n*\n"
            )
            atomic_write(root / "CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n")


def atomic_write(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` so readers see the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode(encoding))
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
