# harness-golden: path=nanochat/batching.py
"""Factories take device=; pinned host buffers are copied asynchronously on purpose."""

import torch


def positions(T, device):
    return torch.arange(T, device=device)


def to_batch(rows, device):
    host = torch.tensor(rows, dtype=torch.long).pin_memory()
    return host.to(device, non_blocking=True)


def upcast(T):
    return torch.zeros(T).to(torch.float64)


def like(t):
    return torch.ones(3).to(t)
