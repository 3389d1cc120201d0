# harness-golden: path=nanochat/dataloader.py
"""Random batch offsets drawn from torch's global generator: data order depends on model init."""

import torch


def random_batch(tokens, B, T):
    starts = torch.randint(0, tokens.numel() - T - 1, (B,))  # expect: NC201
    x = torch.stack([tokens[s : s + T] for s in starts.tolist()])
    y = torch.stack([tokens[s + 1 : s + T + 1] for s in starts.tolist()])
    return x, y
