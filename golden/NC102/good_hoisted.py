# harness-golden: path=nanochat/train.py
"""Everything is built once before the loop; the loop only steps."""

import torch
from torch import nn


def train(model, loader, cfg):
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    model = torch.compile(model) if cfg.compile else model
    criterion = nn.CrossEntropyLoss()
    for step in range(cfg.num_steps):
        x, y = next(loader)
        loss = criterion(model(x).flatten(0, 1), y.flatten())
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)


def build_layers(depth, dim):
    layers = []
    for _ in range(depth):
        layers.append(nn.Linear(dim, dim))
    return nn.ModuleList(layers)


def sweep(make_model, loader, lrs):
    for lr in [3e-4, 1e-3]:
        model = make_model()
        opt = torch.optim.AdamW(model.parameters(), lr=lr)
        model(*next(loader)).backward()
        opt.step()
    return lrs
