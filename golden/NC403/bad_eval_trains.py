# harness-golden: path=nanochat/evaluate.py
"""An 'evaluation' that fine-tunes on the validation batches before scoring them."""

import torch


def evaluate(model, val_batches, opt):  # expect: NC402, NC404
    losses = []
    for x, y in val_batches:
        loss = model(x, y)
        loss.backward()  # expect: NC403
        opt.step()  # expect: NC403
        opt.zero_grad(set_to_none=True)
        losses.append(loss.detach())
    return torch.stack(losses).mean().item()
