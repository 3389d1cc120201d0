# harness-golden: path=nanochat/optim.py
"""Parameter updates under torch.no_grad(); reads of .data are harmless."""

import torch


@torch.no_grad()
def sgd_step(params, lr, weight_decay):
    for p in params:
        p.mul_(1 - lr * weight_decay)
        p.add_(p.grad, alpha=-lr)


@torch.no_grad()
def ema_update(ema_model, model, decay):
    for ema_p, p in zip(ema_model.parameters(), model.parameters()):
        ema_p.lerp_(p, 1 - decay)


def weight_norm(module):
    return module.weight.data.norm().item()


def batch_of(dataset, indices):
    rows = dataset.data[indices]
    return rows.clone()


class TokenDataset:
    def __init__(self, data):
        self.data = data
