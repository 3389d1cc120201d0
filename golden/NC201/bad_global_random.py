# harness-golden: path=nanochat/data.py
"""A document split and shuffle driven by global generators nobody seeds."""

import random

import numpy as np


def split_documents(docs, val_fraction):
    random.shuffle(docs)  # expect: NC201
    n_val = max(1, int(len(docs) * val_fraction))
    return docs[n_val:], docs[:n_val]


def sample_offsets(n_tokens, seq_len, count):
    return np.random.randint(0, n_tokens - seq_len, size=count)  # expect: NC201


def make_rng():
    return np.random.default_rng()  # expect: NC201
