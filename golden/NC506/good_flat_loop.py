# harness-golden: path=nanochat/train.py
"""The same logic, flattened with a combined guard and a helper; elif chains add no depth."""

import torch


@torch.no_grad()
def log_validation(model, loader, log):
    log("val", model(*next(loader)).item())


def train(model, loader, cfg, log):
    for step in range(cfg.num_steps):
        if cfg.master_process and step % cfg.eval_every == 0:
            log_validation(model, loader, log)


def classify(value):
    for item in value:
        if item < 0:
            return "negative"
        elif item == 0:
            return "zero"
        elif item < 10:
            return "small"
        elif item < 100:
            return "medium"
        elif item < 1000:
            return "large"
    return "empty"
