# harness-golden: path=nanochat/train.py
"""Evaluation logic buried six blocks deep in the step loop."""

import torch


def train(model, loader, cfg, log):
    for step in range(cfg.num_steps):
        if cfg.master_process:
            if step % cfg.eval_every == 0:
                for split in ("train", "val"):
                    with torch.no_grad():
                        if split == "val":  # expect: NC506
                            log(split, model(*next(loader)).item())
