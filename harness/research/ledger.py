"""The research ledger: append-only, durable, shared safely by workers and processes.

A research tag owns a folder (``.harness/research/<tag>/``) with:

- ``research.jsonl``: one JSON record per event (baseline run, experiment, scale check, promotion),
  with everything (diff, gates, metrics, seeds, timings, proposer usage, decision). The truth.
- ``results.tsv``: karpathy/autoresearch's columns, ``commit val_bpb memory_gb status
  description``, one row per baseline run and experiment; a view of the JSONL, appended with it.
- ``meta.json``: what ``research init`` fixed (base commit, branch, noise floor, pinned copies).

Every append takes an exclusive ``flock`` on ``ledger.lock``, writes one whole line, flushes and
fsyncs, so threads and separate ``harness research run`` processes can share a ledger, and a
``kill -9`` can cost at most the record being written: a torn last line (no newline) is ignored on
read and fenced off by the next append. The TSV is re-synchronised from the JSONL on open.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from harness.errors import HarnessError

TSV_COLUMNS = ("commit", "val_bpb", "memory_gb", "status", "description")
TSV_KINDS = ("baseline", "experiment")  # record kinds that get a results.tsv row
STATUSES = ("keep", "discard", "crash", "reject")


class LedgerError(HarnessError):
    """The ledger folder is missing or unreadable: one line, exit 2."""


class Ledger:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.jsonl = self.directory / "research.jsonl"
        self.tsv = self.directory / "results.tsv"
        self.meta_path = self.directory / "meta.json"
        self._lock_path = self.directory / "ledger.lock"
        self._thread_lock = threading.RLock()
        self._depth = 0  # nesting of locked() by the thread that holds it

    @classmethod
    def create(cls, directory: Path, meta: dict) -> Ledger:
        ledger = cls(directory)
        directory.mkdir(parents=True, exist_ok=True)
        ledger.write_meta(meta)
        if not ledger.tsv.exists():
            _write_durably(ledger.tsv, "\t".join(TSV_COLUMNS) + "\n", "w")
        ledger.jsonl.touch()
        return ledger

    @classmethod
    def open(cls, directory: Path) -> Ledger:
        ledger = cls(directory)
        if not ledger.meta_path.is_file():
            raise LedgerError(
                f"{directory}: no research ledger here; run `harness research init --tag TAG`"
            )
        with ledger.locked():
            ledger._sync_tsv()
        return ledger

    @property
    def meta(self) -> dict:
        try:
            return json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise LedgerError(
                f"{self.meta_path}: unreadable ({err}); run `harness research init`"
            ) from err

    def write_meta(self, meta: dict) -> None:
        tmp = self.meta_path.with_name(f".meta.json.tmp-{os.getpid()}-{threading.get_ident()}")
        _write_durably(tmp, json.dumps(meta, indent=2, sort_keys=True) + "\n", "w")
        tmp.replace(self.meta_path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive access across threads (RLock) and processes (flock on ledger.lock)."""
        with self._thread_lock:
            if self._depth:  # re-entered by the holder: flock is per open file, not re-entrant
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(self._lock_path, "a+") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def append(self, record: dict) -> dict:
        """Give ``record`` the next id and the time, write it (and its TSV row); returns it."""
        with self.locked():
            records = self.records()
            record = {"id": f"r{len(records) + 1:05d}", "time": time.time(), **record}
            line = json.dumps(_strict(record), sort_keys=True, default=_jsonable) + "\n"
            _write_durably(self.jsonl, _fence(self.jsonl) + line, "a")
            if record.get("kind") in TSV_KINDS:
                _write_durably(self.tsv, _fence(self.tsv) + tsv_row(record), "a")
        return record

    def records(self, kind: str | None = None) -> list[dict]:
        """Every complete record, oldest first (a torn last line is skipped)."""
        try:
            text = self.jsonl.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        result = []
        for line in text.splitlines(keepends=True):
            if not line.endswith("\n"):
                break  # torn by a kill mid-write
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if kind is None or record.get("kind") == kind:
                result.append(record)
        return result

    def _sync_tsv(self) -> None:
        """Append TSV rows for JSONL records whose row a kill left unwritten."""
        expected = [r for r in self.records() if r.get("kind") in TSV_KINDS]
        try:
            lines = self.tsv.read_text(encoding="utf-8").splitlines(keepends=True)
        except FileNotFoundError:
            lines = []
        if not lines:
            _write_durably(self.tsv, "\t".join(TSV_COLUMNS) + "\n", "w")
            lines = ["header\n"]
        complete = sum(1 for line in lines[1:] if line.endswith("\n"))
        missing = expected[complete:]
        if missing:
            _write_durably(self.tsv, _fence(self.tsv) + "".join(map(tsv_row, missing)), "a")


def tsv_row(record: dict) -> str:
    """autoresearch's row: short commit, score (0.000000 when there is none), memory, status."""
    score = record.get("score")
    shown = (
        f"{score:.6f}" if isinstance(score, int | float) and math.isfinite(score) else "0.000000"
    )
    memory = record.get("memory_gb")
    memory_shown = f"{memory:.1f}" if isinstance(memory, int | float) else "0.0"
    description = " ".join(str(record.get("description", "")).split()) or "-"
    status = record.get("status", "keep" if record.get("kind") == "baseline" else "discard")
    return (
        "\t".join([str(record.get("commit", ""))[:7], shown, memory_shown, status, description])
        + "\n"
    )


def _fence(path: Path) -> str:
    """A newline when ``path`` ends in a torn line, so the next record starts on its own line."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return ""
            handle.seek(-1, os.SEEK_END)
            return "" if handle.read(1) == b"\n" else "\n"
    except FileNotFoundError:
        return ""


def _write_durably(path: Path, text: str, mode: str) -> None:
    with open(path, mode, encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _strict(value):
    """``value`` with NaN and infinities as None, so every line is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value


def _jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set):
        return sorted(value, key=str)
    if hasattr(value, "as_dict"):
        return value.as_dict()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def visible_to_proposers(record):
    """A record without what no proposer may see: every held-out ``test_*`` value, at any depth
    (the runs and the secondary metrics carry them too)."""
    if isinstance(record, dict):
        return {
            k: visible_to_proposers(v) for k, v in record.items() if not str(k).startswith("test_")
        }
    if isinstance(record, list):
        return [visible_to_proposers(v) for v in record]
    return record
