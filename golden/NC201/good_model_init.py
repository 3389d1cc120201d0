# harness-golden: path=nanochat/model.py
"""Weight init draws from torch's global generator, which the entry point seeds."""

import torch
from torch import nn


def init_weights(module: nn.Module, std: float) -> None:
    for p in module.parameters():
        with torch.no_grad():
            p.copy_(torch.randn(p.shape) * std)
