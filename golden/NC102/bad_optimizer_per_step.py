# harness-golden: path=nanochat/train.py
"""An optimizer, a loss module and a compiled model rebuilt on every step."""

import torch
from torch import nn


def train(model, loader, cfg):
    for step in range(cfg.num_steps):
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)  # expect: NC102
        fast_model = torch.compile(model)  # expect: NC102
        x, y = next(loader)
        logits = fast_model(x)
        loss = nn.CrossEntropyLoss()(logits.flatten(0, 1), y.flatten())  # expect: NC102
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
