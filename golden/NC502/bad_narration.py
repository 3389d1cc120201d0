# harness-golden: path=nanochat/train.py
"""A step function narrated line by line."""

import torch.nn.functional as F


def train_step(model, x, y, opt):
    # Step 1: compute the logits  # expect: NC502
    logits = model(x)
    # Now we compute the loss  # expect: NC502
    loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
    # First, zero the gradients  # expect: NC502
    opt.zero_grad(set_to_none=True)
    loss.backward()  # Here we backpropagate  # expect: NC502
    # Let's take an optimizer step  # expect: NC502
    opt.step()
    return loss.detach()


def score_batches(model, batches):
    # Step 2: score every batch  # expect: NC502
    # (batches are already on the device)
    return [model(x, y) for x, y in batches]
