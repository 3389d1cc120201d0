# harness-golden: path=nanochat/train.py
"""Comments that give a reason, a shape or a unit."""

import torch.nn.functional as F


def train_step(model, x, y, opt):
    logits = model(x)  # (B, T, V)
    # Flatten so cross_entropy sees (B*T, V) logits against (B*T,) targets.
    loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
    # set_to_none frees the grad tensors between steps instead of zero-filling them.
    opt.zero_grad(set_to_none=True)
    loss.backward()
    # Now that the loss is finite-checked upstream, stepping cannot poison the weights.
    opt.step()
    # Step size is in tokens, not sequences.
    return loss.detach()


def masked_mean(x, mask):
    # First, a fully masked row would divide by zero; the clamp keeps its mean at 0
    # instead of NaN, which the loss then ignores.
    return (x * mask).sum(-1) / mask.sum(-1).clamp(min=1)


def backward_twice(loss):
    # Backward pass runs twice on purpose: the first warms the compiled graph's caches.
    loss.backward(retain_graph=True)
    loss.backward()
