# harness-golden: path=nanochat/batching.py
"""Moving tensors that already exist (loaded batches, model outputs) is not a factory detour."""

import torch


def to_device(batch, device):
    x, y = batch
    return x.to(device, non_blocking=True), y.to(device, non_blocking=True)


def arange_cast(T, device):
    return torch.arange(T, device=device).to(torch.float32)
