# harness-golden: path=nanochat/train.py
"""Detached totals for logging; a differentiated sum for gradient accumulation."""

import torch


def train(model, loader, opt, cfg):
    running_loss = torch.zeros(())
    for step in range(cfg.num_steps):
        loss_accum = 0.0
        for micro_step in range(cfg.grad_accum_steps):
            x, y = next(loader)
            loss = model(x, y) / cfg.grad_accum_steps
            loss_accum += loss
        loss_accum.backward()
        opt.step()
        running_loss += loss_accum.detach()
    return running_loss


def count_tokens(loader, num_steps):
    seen = 0
    for step in range(num_steps):
        x, _ = next(loader)
        seen += x.numel()
    return seen


def train_with_history(model, loader, opt, num_steps):
    losses = []
    for step in range(num_steps):
        loss = model(*next(loader))
        loss.backward()
        opt.step()
        losses.append(loss.detach())
    return torch.stack(losses)
