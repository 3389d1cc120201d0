# harness-golden: path=nanochat/distributed.py
"""Per-rank devices spelled out by hand instead of asking the device module."""

import torch


def rank_device(local_rank):
    return torch.device(f"cuda:{local_rank}")  # expect: NC104


def to_rank(x, local_rank):
    return x.to(f"cuda:{local_rank}", non_blocking=True)  # expect: NC104
