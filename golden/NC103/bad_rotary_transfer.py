# harness-golden: path=nanochat/model.py
"""Rotary tables and masks moved to the input's device on every forward call."""

import torch
from torch import nn


class Rotary(nn.Module):
    def __init__(self, dim, seq_len):
        super().__init__()
        freqs = torch.outer(torch.arange(seq_len), torch.arange(dim // 2))
        self.cos = freqs.cos()
        self.sin = freqs.sin()

    def forward(self, x):
        T = x.size(1)
        cos = self.cos[:T].to(x.device)  # expect: NC103
        sin = self.sin[:T].cuda()  # expect: NC103, NC104
        return x * cos + x.roll(1, -1) * sin


class Head(nn.Module):
    def __init__(self, dim, vocab, device):
        super().__init__()
        self.proj = nn.Linear(dim, vocab)
        self.device = device

    def forward(self, x):
        x = x.to(self.device, non_blocking=True)  # expect: NC103
        mask = torch.ones(x.size(1), dtype=torch.bool).to(device=x.device)  # expect: NC103, NC105
        logits = self.proj(x)
        return logits.masked_fill(~mask[None, :, None], 0.0).cpu()  # expect: NC103
