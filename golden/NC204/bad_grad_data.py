# harness-golden: path=nanochat/optim.py
"""Gradient surgery through .data."""


def scale_grads(params, factor):
    for p in params:
        if p.grad is not None:
            p.grad.data.mul_(factor)  # expect: NC204
            p.grad.data = p.grad.data.clamp(-1, 1)  # expect: NC204
