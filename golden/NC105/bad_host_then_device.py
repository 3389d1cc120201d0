# harness-golden: path=nanochat/batching.py
"""Batches and masks built on the host and copied over each step."""

import torch


def causal_mask(T, device):
    return torch.ones(T, T, dtype=torch.bool).tril().to(device)


def positions(T, device):
    return torch.arange(T).to(device)  # expect: NC105


def noise_like(shape, device):
    return torch.randn(*shape).to(device)  # expect: NC105


def to_batch(rows, device):
    x = torch.tensor(rows, dtype=torch.long).to(device=device)  # expect: NC105
    return x


def zeros_on(shape, device):
    return torch.zeros(shape).to(device, non_blocking=True)  # expect: NC105
