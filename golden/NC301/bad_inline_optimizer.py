# harness-golden: path=nanochat/train.py
"""Optimizer settings, schedule and logging cadence buried in the training module."""

import math

import torch

WARMUP_STEPS = 200  # expect: NC301


def get_lr(step, total_steps, max_lr=6e-4):  # expect: NC301
    if step < WARMUP_STEPS:
        return max_lr * (step + 1) / WARMUP_STEPS
    progress = (step - WARMUP_STEPS) / max(1, total_steps - WARMUP_STEPS)
    return max_lr * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_optimizer(model):
    return torch.optim.AdamW(
        model.parameters(),
        lr=3e-4,  # expect: NC301
        betas=(0.9, 0.95),  # expect: NC301
        weight_decay=0.1,  # expect: NC301
    )


def train(model, loader, cfg):
    opt = build_optimizer(model)
    for step in range(cfg.num_steps):
        loss = model(*next(loader))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.5)  # expect: NC301
        opt.step()
        if step % 50 == 0:  # expect: NC301
            print(f"step {step}")


if __name__ == "__main__":
    raise SystemExit("run through python -m nanochat.train")
