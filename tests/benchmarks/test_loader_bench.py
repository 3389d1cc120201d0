"""Benchmark: the data loader's throughput (BOS-aligned best-fit packing from prepared shards).

Batches of 8 x 256 tokens from the default corpus at vocab 4096 (what `make data` prepares), on
the CPU; the figure is tokens per second (``extra_info["tok_per_s"]``). Skipped in the normal
run (``--benchmark-skip``); run with ``make bench``. It skips when the data is not prepared.
"""

from __future__ import annotations

import time

import pytest

from nanochat.config import DataConfig, NanochatError
from nanochat.dataloader import PackedLoader
from nanochat.tokenizer import get_tokenizer

BATCH, SEQ, VOCAB = 8, 256, 4096
BATCHES_PER_ROUND = 50


@pytest.fixture(scope="module")
def tokenizer():
    try:
        return get_tokenizer(VOCAB)
    except NanochatError as err:
        pytest.skip(f"data not prepared ({err}); run `make data`")


def test_packed_loader_throughput(benchmark, tokenizer) -> None:
    loader = PackedLoader("train", BATCH, SEQ, tokenizer, DataConfig(), "cpu")
    batches = iter(loader)

    def round_of_batches() -> float:
        started = time.perf_counter()
        for _ in range(BATCHES_PER_ROUND):
            inputs, targets = next(batches)
        assert inputs.shape == (BATCH, SEQ) and targets.shape == (BATCH, SEQ)
        return BATCHES_PER_ROUND * BATCH * SEQ / (time.perf_counter() - started)

    rates = benchmark.pedantic(round_of_batches, rounds=10, warmup_rounds=1)
    benchmark.extra_info["tok_per_s"] = rates
