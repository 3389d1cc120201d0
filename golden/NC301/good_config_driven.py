# harness-golden: path=nanochat/train.py
"""Every tunable number comes from the config; shape arithmetic and trivial values stay inline."""

import math

import torch


def get_lr_multiplier(step, total_steps, cfg):
    warmup = cfg.optim.warmup_steps
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    return cfg.optim.final_lr_frac + 0.5 * (1.0 - cfg.optim.final_lr_frac) * (1.0 + math.cos(math.pi * progress))


def build_optimizer(model, cfg):
    return torch.optim.AdamW(
        model.parameters(),
        lr=cfg.optim.matrix_lr,
        betas=cfg.optim.adam_betas,
        weight_decay=0.0,
        eps=cfg.optim.adam_eps,
    )


def mlp_hidden(dim):
    return 4 * dim


def train(model, loader, cfg):
    opt = build_optimizer(model, cfg)
    for step in range(cfg.num_steps):
        loss = model(*next(loader))
        loss.backward()
        opt.step()
        if step % cfg.log_every == 0 or step == cfg.num_steps - 1:
            print(f"step {step}")


if __name__ == "__main__":
    raise SystemExit("run through python -m nanochat.train")
