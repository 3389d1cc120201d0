# harness-golden: path=nanochat/model.py
"""Buffers move with the module; forward only casts dtypes."""

import torch
from torch import nn


class Rotary(nn.Module):
    def __init__(self, dim, seq_len):
        super().__init__()
        freqs = torch.outer(torch.arange(seq_len), torch.arange(dim // 2))
        self.register_buffer("cos", freqs.cos().bfloat16(), persistent=False)

    def forward(self, x):
        cos = self.cos[: x.size(1)]
        return (x.float() * cos.to(torch.float32)).to(x.dtype)


def move_batch(batch, device):
    return batch.to(device, non_blocking=True)


class Wrapper(nn.Module):
    def to_device(self, device):
        return self.to(device)

    def forward(self, x):
        return x.to(dtype=torch.bfloat16)
