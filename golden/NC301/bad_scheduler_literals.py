# harness-golden: path=nanochat/optim.py
"""A scheduler and a momentum ramp with their numbers written in place."""

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR


def make_schedule(opt, total_steps):
    return CosineAnnealingLR(opt, total_steps, 1e-5)  # expect: NC301


def muon_momentum(step, cfg):
    frac = min(step / cfg.muon_momentum_warmup_steps, 1)
    momentum = (1 - frac) * 0.85 + frac * 0.95  # expect: NC301, NC301
    return momentum


def param_groups(model):
    return [{"params": model.embed.parameters(), "lr": 0.3}]  # expect: NC301


def init_linear(module):
    return torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)  # expect: NC301
