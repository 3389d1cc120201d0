# harness-golden: path=nanochat/evaluate.py
"""Evaluation switches to eval mode and restores the caller's mode."""

import torch


@torch.no_grad()
def evaluate_loss(model, batches):
    was_training = model.training
    model.eval()
    total = torch.zeros(())
    for x, y in batches:
        total += model(x, y)
    model.train(was_training)
    return (total / len(batches)).item()


@torch.inference_mode()
def eval_frozen(model, x, y):
    model.requires_grad_(False)
    return model(x, y).item()


def train_step(model, x, y):
    return model(x, y)
