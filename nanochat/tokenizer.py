"""Byte-level BPE tokenizer: trained with rustbpe, encoded and decoded with tiktoken.

The split pattern is GPT-4's. The vocabulary is 256 raw bytes + learned merges + one special
token, ``<|bos|>``, which takes the last id, so ``vocab_size`` counts it. ``token_bytes()`` gives
each token's length in raw bytes, read from the mergeable ranks rather than from decoding to str
(a token can hold part of a UTF-8 character); bits-per-byte depends on it.

On disk a tokenizer is two files: ``ranks.tiktoken`` (one ``base64(token) rank`` line per token,
tiktoken's own format) and ``meta.json`` (pattern, special tokens, fingerprint, provenance).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import rustbpe
import tiktoken

from nanochat.config import NanochatError, base_dir

if TYPE_CHECKING:
    import torch

GPT4_SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}|"""
    r""" ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""
)
BOS = "<|bos|>"
SPECIAL_TOKENS = (BOS,)
RANKS_FILE = "ranks.tiktoken"
META_FILE = "meta.json"
MIN_VOCAB_SIZE = 256 + len(SPECIAL_TOKENS)


def tokenizer_dir(vocab_size: int) -> Path:
    return base_dir() / "tokenizer" / f"vocab{vocab_size}"


class Tokenizer:
    """A tiktoken encoding over learned mergeable ranks plus the ``<|bos|>`` special token."""

    def __init__(
        self,
        mergeable_ranks: dict[bytes, int],
        pattern: str = GPT4_SPLIT_PATTERN,
        provenance: dict | None = None,
    ):
        n_ranks = len(mergeable_ranks)
        if sorted(mergeable_ranks.values()) != list(range(n_ranks)):
            raise NanochatError("tokenizer ranks are not the dense range 0..N-1; retrain it")
        self.mergeable_ranks = mergeable_ranks
        self.pattern = pattern
        self.provenance = dict(provenance or {})
        special = {name: n_ranks + i for i, name in enumerate(SPECIAL_TOKENS)}
        self.encoding = tiktoken.Encoding(
            name=f"nanochat-{n_ranks + len(special)}",
            pat_str=pattern,
            mergeable_ranks=mergeable_ranks,
            special_tokens=special,
        )
        self.bos_id = special[BOS]
        self.vocab_size = n_ranks + len(special)

    @classmethod
    def train(
        cls, texts: Iterable[str], vocab_size: int, provenance: dict | None = None
    ) -> Tokenizer:
        """Learn ``vocab_size - 1`` ranks (256 bytes + merges) from ``texts``; BOS is the last id."""
        if vocab_size < MIN_VOCAB_SIZE:
            raise NanochatError(
                f"vocab size {vocab_size} is too small; use at least {MIN_VOCAB_SIZE}"
            )
        bpe = rustbpe.Tokenizer()
        bpe.train_from_iterator(
            iter(texts), vocab_size - len(SPECIAL_TOKENS), pattern=GPT4_SPLIT_PATTERN
        )
        ranks = {bytes(token): rank for token, rank in bpe.get_mergeable_ranks()}
        if len(ranks) != vocab_size - len(SPECIAL_TOKENS):
            raise NanochatError(
                f"training text too small: learned {len(ranks)} ranks for vocab size {vocab_size}; "
                "use more text or a smaller --vocab-size"
            )
        return cls(ranks, GPT4_SPLIT_PATTERN, provenance)

    @property
    def fingerprint(self) -> str:
        """sha256 over pattern, specials and ranks: shards record it to detect a stale tokenizer."""
        digest = hashlib.sha256()
        digest.update(self.pattern.encode())
        digest.update("\0".join(SPECIAL_TOKENS).encode())
        for token, rank in sorted(self.mergeable_ranks.items(), key=lambda item: item[1]):
            digest.update(rank.to_bytes(4, "little") + len(token).to_bytes(2, "little") + token)
        return digest.hexdigest()

    def encode(self, text: str, prepend_bos: bool = False) -> list[int]:
        """Encode ordinary text; special-token strings in ``text`` are encoded as plain bytes."""
        ids = self.encoding.encode_ordinary(text)
        return [self.bos_id, *ids] if prepend_bos else ids

    def encode_batch(
        self, texts: list[str], num_threads: int = 8, prepend_bos: bool = False
    ) -> list[list[int]]:
        batch = self.encoding.encode_ordinary_batch(list(texts), num_threads=num_threads)
        return [[self.bos_id, *ids] for ids in batch] if prepend_bos else batch

    def decode(self, ids: Iterable[int]) -> str:
        return self.encoding.decode(list(ids))

    def id_to_bytes(self, token_id: int) -> bytes:
        return self.encoding.decode_single_token_bytes(token_id)

    def token_bytes(self) -> torch.Tensor:
        """LongTensor[vocab_size]: raw byte length of every token, 0 for special tokens."""
        import torch  # lazy: `python -m nanochat.data prepare` never needs torch

        lengths = torch.zeros(self.vocab_size, dtype=torch.long)
        for token, rank in self.mergeable_ranks.items():
            lengths[rank] = len(token)
        return lengths

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        lines = [
            f"{base64.b64encode(token).decode()} {rank}"
            for token, rank in sorted(self.mergeable_ranks.items(), key=lambda item: item[1])
        ]
        _write_atomic(directory / RANKS_FILE, "\n".join(lines) + "\n")
        meta = {
            "pattern": self.pattern,
            "special_tokens": list(SPECIAL_TOKENS),
            "vocab_size": self.vocab_size,
            "fingerprint": self.fingerprint,
            "provenance": self.provenance,
        }
        _write_atomic(directory / META_FILE, json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> Tokenizer:
        directory = Path(directory)
        ranks_path, meta_path = directory / RANKS_FILE, directory / META_FILE
        for path in (ranks_path, meta_path):
            if not path.is_file():
                raise NanochatError(
                    f"{path}: tokenizer file missing; run `python -m nanochat.data prepare`"
                )
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            ranks = {}
            for line in ranks_path.read_text(encoding="ascii").splitlines():
                token_b64, rank = line.split()
                ranks[base64.b64decode(token_b64)] = int(rank)
            pattern = meta["pattern"]
        except (ValueError, KeyError) as exc:
            raise NanochatError(
                f"{directory}: corrupt tokenizer ({exc}); delete it and run `python -m nanochat.data prepare`"
            ) from exc
        if list(meta.get("special_tokens", [])) != list(SPECIAL_TOKENS):
            raise NanochatError(
                f"{meta_path}: unexpected special tokens; rerun `python -m nanochat.data prepare`"
            )
        return cls(ranks, pattern, meta.get("provenance"))


def get_tokenizer(vocab_size: int) -> Tokenizer:
    """The tokenizer that ``python -m nanochat.data prepare --vocab-size N`` left under base_dir()."""
    directory = tokenizer_dir(vocab_size)
    if not (directory / RANKS_FILE).is_file():
        raise NanochatError(
            f"no tokenizer for vocab size {vocab_size} at {directory}; "
            f"run `python -m nanochat.data prepare --vocab-size {vocab_size}`"
        )
    tokenizer = Tokenizer.load(directory)
    if tokenizer.vocab_size != vocab_size:
        raise NanochatError(
            f"{directory}: holds vocab size {tokenizer.vocab_size}, expected {vocab_size}; "
            f"run `python -m nanochat.data prepare --vocab-size {vocab_size}`"
        )
    return tokenizer


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
