# harness-golden: path=nanochat/optim.py
"""A hand-written optimizer step that edits parameters behind autograd's back."""

import torch


def sgd_step(params, lr, weight_decay):
    for p in params:
        p.data.mul_(1 - lr * weight_decay)  # expect: NC204
        p.data.add_(p.grad, alpha=-lr)  # expect: NC204


def ema_update(ema_model, model, decay):
    for ema_p, p in zip(ema_model.parameters(), model.parameters()):
        ema_p.data = decay * ema_p.data + (1 - decay) * p.data  # expect: NC204


def zero_padding_rows(embedding, n_real):
    embedding.weight.data[n_real:] = 0.0  # expect: NC204
    embedding.weight.data *= 1.0  # expect: NC204
    return torch.count_nonzero(embedding.weight)
