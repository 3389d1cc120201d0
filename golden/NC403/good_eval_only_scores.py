# harness-golden: path=nanochat/evaluate.py
"""Evaluation scores; training steps live in training functions."""

import torch


@torch.no_grad()
def evaluate(model, val_batches, scheduler_log):
    model.eval()
    losses = [model(x, y) for x, y in val_batches]
    scheduler_log.step_count = len(losses)
    return torch.stack(losses).mean().item()


def train_step(model, batch, opt):
    loss = model(*batch)
    loss.backward()
    opt.step()
    return loss.detach()
