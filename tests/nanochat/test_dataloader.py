"""Tests for the BOS-aligned best-fit packing loader: invariants, resume, rank sharding, errors."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
import torch

from nanochat.config import DataConfig, NanochatError
from nanochat.data import PackedLoader, prepare
from nanochat.dataset import load_shard, read_manifest
from nanochat.tokenizer import Tokenizer, tokenizer_dir

VOCAB = 300
WORDS = "a packed row never pads and every row opens with the bos token of some document".split()


@dataclass(frozen=True)
class PackingCorpus:
    base: Path
    cfg: DataConfig
    tokenizer: Tokenizer
    shard_dir: Path


@pytest.fixture(scope="module")
def packing_corpus(tmp_path_factory) -> PackingCorpus:
    """80 one-file documents of 4-80 words (max_doc_chars=0 keeps each file whole), vocab 300."""
    root = tmp_path_factory.mktemp("packing")
    rng = random.Random(0)
    for i in range(80):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 80)))
        (root / "corpus").mkdir(exist_ok=True)
        (root / "corpus" / f"d{i:02d}.txt").write_text(f"Doc {i}: {words}.\n")
    cfg = DataConfig(corpus_dir=str(root / "corpus"), val_fraction=0.5, max_doc_chars=0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NANOCHAT_BASE_DIR", str(root / "base"))
        result = prepare(cfg, VOCAB, num_threads=1)
        tokenizer = Tokenizer.load(tokenizer_dir(VOCAB))
    return PackingCorpus(root / "base", cfg, tokenizer, result.directory)


@pytest.fixture
def corpus(packing_corpus, monkeypatch) -> PackingCorpus:
    monkeypatch.setenv("NANOCHAT_BASE_DIR", str(packing_corpus.base))
    return packing_corpus


def split_docs(corpus: PackingCorpus, split: str) -> list[tuple[int, np.ndarray]]:
    """(index within shard, tokens) of every document in the split, in stream order."""
    directory = corpus.shard_dir / split
    docs = []
    for name in read_manifest(corpus.shard_dir)["splits"][split]["shards"]:
        tokens, offsets = load_shard(directory, name)
        docs.extend((i, tokens[offsets[i] : offsets[i + 1]]) for i in range(len(offsets) - 1))
    return docs


def segments(row: torch.Tensor, bos: int) -> list[np.ndarray]:
    row = row.numpy()
    starts = [*np.flatnonzero(row == bos).tolist(), len(row)]
    return [row[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)]


def full_rows(inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return torch.cat([inputs, targets[:, -1:]], dim=1)


def test_rows_start_with_bos_and_targets_are_inputs_shifted_by_one(corpus):
    loader = PackedLoader("train", 4, 32, corpus.tokenizer, corpus.cfg, "cpu")
    for _ in range(10):
        inputs, targets = next(loader)
        assert inputs.shape == targets.shape == (4, 32)
        assert inputs.dtype == targets.dtype == torch.long
        assert (inputs[:, 0] == corpus.tokenizer.bos_id).all()
        assert torch.equal(inputs[:, 1:], targets[:, :-1])


def test_rows_are_best_fit_packed_and_crop_only_when_nothing_fits(corpus):
    bos = corpus.tokenizer.bos_id
    remaining = [doc for _, doc in split_docs(corpus, "val")]
    cfg = replace(corpus.cfg, loader_buffer_docs=len(remaining))  # buffer = every unused doc
    n_crops = 0
    for inputs, targets in PackedLoader("val", 1, 24, corpus.tokenizer, cfg, "cpu"):
        space = 25
        for seg in segments(full_rows(inputs, targets)[0], bos):
            fitting = [len(d) for d in remaining if len(d) <= space]
            match = next((i for i, d in enumerate(remaining) if np.array_equal(d, seg)), None)
            if match is not None:
                assert len(seg) == max(fitting), "placed a document that is not the best fit"
            else:
                assert not fitting, "cropped a document although another one fit"
                shortest = min(len(d) for d in remaining)
                match = next(
                    i
                    for i, d in enumerate(remaining)
                    if len(d) == shortest and np.array_equal(d[: len(seg)], seg)
                )
                assert len(seg) == space, "a cropped document must fill the row exactly"
                n_crops += 1
            remaining.pop(match)
            space -= len(seg)
        assert space == 0
    assert n_crops > 0


def test_every_document_token_appears_in_order_within_its_segment(corpus):
    docs = {doc.tobytes(): doc for _, doc in split_docs(corpus, "train")}
    prefixes = [doc for doc in docs.values()]
    loader = PackedLoader("train", 2, 48, corpus.tokenizer, corpus.cfg, "cpu")
    for _ in range(15):
        inputs, targets = next(loader)
        for row in full_rows(inputs, targets):
            for seg in segments(row, corpus.tokenizer.bos_id):
                assert any(np.array_equal(d[: len(seg)], seg) for d in prefixes)


def test_resumed_loader_yields_exactly_the_batches_that_come_next(corpus):
    cfg = replace(corpus.cfg, loader_buffer_docs=6)
    loader = PackedLoader("train", 3, 40, corpus.tokenizer, cfg, "cpu")
    for _ in range(20):
        next(loader)
    state = json.loads(json.dumps(loader.state_dict()))
    expected = [next(loader) for _ in range(40)]
    resumed = PackedLoader("train", 3, 40, corpus.tokenizer, cfg, "cpu", state=state)
    for want, got in zip(expected, (next(resumed) for _ in range(40)), strict=True):
        assert torch.equal(want[0], got[0]) and torch.equal(want[1], got[1])
    assert loader.state_dict()["epoch"] >= 1, "the resumed span should cross an epoch boundary"


def test_ranks_read_disjoint_documents_dealt_round_robin(corpus):
    docs = split_docs(corpus, "train")
    seen = {}
    for rank in (0, 1):
        loader = PackedLoader(
            "train", 2, 32, corpus.tokenizer, corpus.cfg, "cpu", rank=rank, world_size=2
        )
        indices = set()
        for _ in range(5):
            inputs, targets = next(loader)
            for row in full_rows(inputs, targets):
                for seg in segments(row, corpus.tokenizer.bos_id):
                    matches = {i for i, d in docs if np.array_equal(d[: len(seg)], seg)}
                    indices |= matches if len(matches) == 1 else set()  # short crops are ambiguous
        seen[rank] = indices
    assert seen[0] and seen[1]
    assert all(i % 2 == 0 for i in seen[0]) and all(i % 2 == 1 for i in seen[1])


def test_val_loader_is_finite_and_identical_on_every_pass(corpus):
    passes = [
        list(PackedLoader("val", 2, 16, corpus.tokenizer, corpus.cfg, "cpu")) for _ in range(2)
    ]
    assert len(passes[0]) > 0
    assert len(passes[0]) == len(passes[1])
    assert all(torch.equal(a[0], b[0]) for a, b in zip(*passes, strict=True))


def test_missing_shards_error_says_to_run_prepare(tmp_path, monkeypatch, corpus):
    monkeypatch.setenv("NANOCHAT_BASE_DIR", str(tmp_path))
    with pytest.raises(
        NanochatError, match=r"run `python -m nanochat\.data prepare --vocab-size 300`$"
    ):
        PackedLoader("train", 1, 8, corpus.tokenizer, corpus.cfg, "cpu")


def test_shards_from_another_tokenizer_are_rejected(corpus):
    other = Tokenizer.train([" ".join(f"w{i} q{i * 7}" for i in range(2000))], VOCAB)
    with pytest.raises(NanochatError, match="different tokenizer"):
        PackedLoader("train", 1, 8, other, corpus.cfg, "cpu")


def test_state_from_another_rank_is_rejected(corpus):
    state = PackedLoader("train", 1, 8, corpus.tokenizer, corpus.cfg, "cpu").state_dict()
    with pytest.raises(NanochatError, match="resume with the same launch settings"):
        PackedLoader(
            "train", 1, 8, corpus.tokenizer, corpus.cfg, "cpu", rank=1, world_size=2, state=state
        )


def test_loader_reads_the_shared_prepared_corpus(prepared_env):
    loader = PackedLoader("train", 2, 64, prepared_env.tokenizer, DataConfig(), "cpu")
    inputs, _ = next(loader)
    assert inputs.shape == (2, 64)
    assert (inputs[:, 0] == prepared_env.tokenizer.bos_id).all()


def test_state_saved_for_other_shards_is_rejected(corpus):
    state = PackedLoader("train", 1, 8, corpus.tokenizer, corpus.cfg, "cpu").state_dict()
    state["data_id"] = "0" * 16
    with pytest.raises(NanochatError, match="saved for other shards"):
        PackedLoader("train", 1, 8, corpus.tokenizer, corpus.cfg, "cpu", state=state)
