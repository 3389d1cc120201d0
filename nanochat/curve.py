"""The loss-vs-time curve of a run as JSON lines (``--curve-jsonl PATH``), readable while it grows.

One object per line, each written with a single ``write`` and flushed at once, so a run killed at
any point (even SIGKILL) leaves every record before it intact; at worst the last line is cut
short, and readers skip a line that does not parse. A fresh run truncates the file, a resumed run
(``--resume``) appends to it. Only the master rank writes. Records, by ``kind``:

- ``start``: model_family, depth, num_params, flops_per_token, total_batch_tokens, num_steps
  (null under a time budget), target_val_bpb, target_core, seed, device, warmup_steps_excluded;
- ``train``: step, training_seconds, tokens, loss (one per logged step; the loss of that step);
- ``eval``: step, training_seconds, tokens, val_bpb, plus core when CORE ran and
  ``reached_target: true`` on the evaluation that reached the target;
- ``end``: the run summary (the same fields as ``--summary-json``).

``training_seconds`` is the trainer's own clock (optimizer steps after the first
``warmup_steps_excluded``; evaluation excluded), and ``tokens`` counts every trained token.
"""

from __future__ import annotations

import json
import math
from pathlib import Path


def _json_ready(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class CurveWriter:
    """Appends records to ``path``; with an empty path (or on a non-master rank) it writes nothing."""

    def __init__(self, path: str, is_append: bool = False):
        self._handle = None
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(path, "a" if is_append else "w", encoding="utf-8")  # noqa: SIM115

    def write(self, kind: str, **fields) -> None:
        if self._handle is None:
            return
        record = {"kind": kind, **{k: _json_ready(v) for k, v in fields.items()}}
        self._handle.write(json.dumps(record) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
