"""BOS-aligned best-fit packing loader over prepared token shards.

Every row holds T + 1 tokens and starts with a document's BOS; there is no padding. To fill a
row, the loader repeatedly places the largest buffered document that fits the space left; when
none fits, it crops the shortest buffered document to fill the row exactly and drops the rest of
it (the price of BOS alignment without padding: long documents lose their tails).

Documents are dealt to ranks round-robin by their index within a shard (doc % world_size ==
rank), so ranks see disjoint documents. The train split loops over its shards forever (epoch
counter in the state); the val split is one finite pass that stops at the first batch it cannot
fill completely, so every evaluation that builds a fresh val loader sees the same batches.

``state_dict()`` is the exact resume point: the stream position (epoch, shard, next document)
plus the buffered documents as (length, insertion order, shard, doc) references, so a loader
built with that state yields exactly the batches that would have come next.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math

import numpy as np
import torch

from nanochat.config import DataConfig, NanochatError
from nanochat.dataset import load_shard, read_manifest, split_dir
from nanochat.device import is_cuda

STATE_VERSION = 1


class PackedLoader:
    """Iterator of (inputs, targets) LongTensors [B, T] on ``device``; targets = inputs shifted."""

    def __init__(
        self,
        split: str,
        batch_size: int,
        seq_len: int,
        tokenizer,
        data_cfg: DataConfig,
        device,
        rank: int = 0,
        world_size: int = 1,
        state: dict | None = None,
    ):
        if split not in ("train", "val"):
            raise NanochatError(f"unknown split {split!r}; use 'train' or 'val'")
        if not 0 <= rank < world_size:
            raise NanochatError(f"rank {rank} is outside world size {world_size}")
        if batch_size < 1 or seq_len < 1:
            raise NanochatError(f"batch_size {batch_size} and seq_len {seq_len} must be positive")
        vocab = tokenizer.vocab_size
        hint = f"run `python -m nanochat.data prepare --vocab-size {vocab}`"
        self.directory = split_dir(data_cfg, vocab, split)
        manifest = read_manifest(self.directory.parent)
        if manifest is None:
            raise NanochatError(
                f"{self.directory}: no prepared {split} shards for vocab size {vocab}; {hint}"
            )
        if manifest.get("tokenizer_fingerprint") != tokenizer.fingerprint:
            raise NanochatError(
                f"{self.directory}: shards were made with a different tokenizer; {hint}"
            )
        self.shard_names: list[str] = manifest["splits"][split]["shards"]
        self.data_id = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[
            :16
        ]
        self.split = split
        self.batch_size = batch_size
        self.row_len = seq_len + 1
        self.device = torch.device(device)
        self.rank = rank
        self.world_size = world_size
        self.buffer_docs = max(1, data_cfg.loader_buffer_docs)
        self.is_looping = split == "train"
        self._shards: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._epoch, self._shard, self._doc = 0, 0, rank
        self._buffer: list[tuple[int, int, int, int]] = []  # sorted (length, seq, shard, doc)
        self._next_seq = 0
        self._is_exhausted = False
        if state is not None:
            self._restore(state)

    def __iter__(self):
        return self

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        rows = np.empty((self.batch_size, self.row_len), dtype=np.int64)
        for row in rows:
            self._fill_row(row)
        if is_cuda(self.device):
            batch = torch.from_numpy(rows).pin_memory().to(self.device, non_blocking=True)
            return batch[:, :-1].contiguous(), batch[:, 1:].contiguous()
        # numpy copies: torch's strided CPU copy is ~100x slower here (thread start-up per call)
        inputs = torch.from_numpy(np.ascontiguousarray(rows[:, :-1]))
        targets = torch.from_numpy(np.ascontiguousarray(rows[:, 1:]))
        return inputs.to(self.device), targets.to(self.device)

    def state_dict(self) -> dict:
        return {
            "version": STATE_VERSION,
            "split": self.split,
            "rank": self.rank,
            "world_size": self.world_size,
            "data_id": self.data_id,
            "epoch": self._epoch,
            "shard": self._shard,
            "doc": self._doc,
            "buffer": [list(entry) for entry in self._buffer],
            "next_seq": self._next_seq,
            "exhausted": self._is_exhausted,
        }

    def _restore(self, state: dict) -> None:
        expected = (STATE_VERSION, self.split, self.rank, self.world_size)
        found = tuple(state.get(k) for k in ("version", "split", "rank", "world_size"))
        if found != expected:
            raise NanochatError(
                f"loader state is for (version, split, rank, world_size) = {found}, "
                f"not {expected}; resume with the same launch settings"
            )
        if state.get("data_id") != self.data_id:
            raise NanochatError(
                f"{self.directory}: the loader state was saved for other shards (re-prepared since); "
                "restart training instead of resuming"
            )
        self._epoch, self._shard, self._doc = state["epoch"], state["shard"], state["doc"]
        self._buffer = [tuple(entry) for entry in state["buffer"]]
        self._next_seq = state["next_seq"]
        self._is_exhausted = state["exhausted"]

    def _fill_row(self, row: np.ndarray) -> None:
        pos = 0
        while pos < self.row_len:
            self._refill()
            if not self._buffer:
                raise StopIteration
            space = self.row_len - pos
            fit = bisect.bisect_right(self._buffer, (space, math.inf)) - 1
            length, _, shard, doc = self._buffer.pop(max(fit, 0))
            take = length if fit >= 0 else space  # nothing fits: crop the shortest
            row[pos : pos + take] = self._doc_tokens(shard, doc)[:take]
            pos += take

    def _refill(self) -> None:
        empty_passes = 0
        while len(self._buffer) < self.buffer_docs and not self._is_exhausted:
            if self._shard >= len(self.shard_names):
                if not self.is_looping:
                    self._is_exhausted = True
                    return
                if self._next_seq == 0 or empty_passes:
                    raise NanochatError(
                        f"{self.directory}: no documents for rank {self.rank} of {self.world_size}; "
                        "prepare a larger corpus"
                    )
                empty_passes += 1
                self._epoch, self._shard, self._doc = self._epoch + 1, 0, self.rank
                self._evict()
            offsets = self._load(self._shard)[1]
            if self._doc >= len(offsets) - 1:
                self._shard, self._doc = self._shard + 1, self.rank
                self._evict()
                continue
            length = int(offsets[self._doc + 1] - offsets[self._doc])
            bisect.insort(self._buffer, (length, self._next_seq, self._shard, self._doc))
            self._next_seq += 1
            self._doc += self.world_size
            empty_passes = 0

    def _load(self, shard: int) -> tuple[np.ndarray, np.ndarray]:
        if shard not in self._shards:
            self._shards[shard] = load_shard(self.directory, self.shard_names[shard])
        return self._shards[shard]

    def _doc_tokens(self, shard: int, doc: int) -> np.ndarray:
        tokens, offsets = self._load(shard)
        return tokens[offsets[doc] : offsets[doc + 1]]

    def _evict(self) -> None:
        """Keep only the shards that the stream position or a buffered document still needs."""
        needed = {self._shard} | {entry[2] for entry in self._buffer}
        for shard in list(self._shards):
            if shard not in needed:
                del self._shards[shard]
