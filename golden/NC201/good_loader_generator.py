# harness-golden: path=nanochat/dataloader.py
"""The loader owns a generator seeded from the config, so data order is reproducible on its own."""

import torch


def make_generator(seed):
    return torch.Generator().manual_seed(seed)


def random_batch(tokens, B, T, generator):
    starts = torch.randint(0, tokens.numel() - T - 1, (B,), generator=generator)
    x = torch.stack([tokens[s : s + T] for s in starts.tolist()])
    y = torch.stack([tokens[s + 1 : s + T + 1] for s in starts.tolist()])
    return x, y
