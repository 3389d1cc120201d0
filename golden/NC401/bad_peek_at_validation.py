# harness-golden: path=nanochat/train.py
"""A trainer that lists shards and reads text itself, validation shard included."""

import os
from pathlib import Path

import numpy as np


def all_text(cfg):
    shards = sorted(os.listdir(cfg.data.parquet_dir))  # expect: NC401
    texts = []
    for name in shards:
        with open(Path(cfg.data.parquet_dir) / name) as f:  # expect: NC401
            texts.append(f.read())
    return texts


def fit_vocab_on(cfg):
    corpus = Path(cfg.data.corpus_dir)
    return [p.read_text(encoding="utf-8") for p in corpus.rglob("*.rst")]  # expect: NC401, NC401


def cached_tokens(path):
    return np.load(path, mmap_mode="r")  # expect: NC401
