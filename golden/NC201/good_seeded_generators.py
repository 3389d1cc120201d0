# harness-golden: path=nanochat/data.py
"""Splits and offsets come from generators seeded from DataConfig.split_seed."""

import random

import numpy as np
import torch


def split_documents(docs, val_fraction, seed):
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    n_val = max(1, int(len(docs) * val_fraction))
    return [docs[i] for i in order[n_val:]], [docs[i] for i in order[:n_val]]


def sample_offsets(n_tokens, seq_len, count, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_tokens - seq_len, size=count)


def init_weights(weight, init_std):
    return torch.nn.init.normal_(weight, std=init_std)


class ShuffledShards:
    """Shard order from a generator that is created empty and seeded per epoch."""

    def __init__(self, shards, seed):
        self.shards = list(shards)
        self.seed = seed
        self._rng = random.Random()

    def epoch_order(self, epoch):
        self._rng.seed(self.seed + epoch)
        order = list(self.shards)
        self._rng.shuffle(order)
        return order
