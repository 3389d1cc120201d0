# harness-golden: path=nanochat/evaluate.py
"""Evaluation under no_grad / inference_mode; training helpers are not evaluation."""

import torch


@torch.no_grad()
def evaluate_bpb(model, batches):
    model.eval()
    return sum(model(x, y).item() for x, y in batches)


def validation_loss(model, batches):
    model.eval()
    with torch.inference_mode():
        losses = [model(x, y) for x, y in batches]
    model.train()
    return torch.stack(losses).mean().item()


def train_step(model, batch, opt):
    loss = model(*batch)
    loss.backward()
    opt.step()
    return loss.detach()


def validate_batch_shapes(model, batches):
    return all(model(x, y).shape == y.shape for x, y in batches)
