# harness-golden: path=nanochat/train.py
"""Train a GPT for ``cfg.num_steps`` steps: the shape of a training-loop module here.

Everything tunable comes from TrainConfig; the device comes from nanochat.device; batches come
from the data API; the loss stays on the device except at the logging interval, where one
``.item()`` per ``log_every`` steps is the only host-device sync; evaluation runs in its own
no-grad function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from nanochat import data
from nanochat.config import TrainConfig
from nanochat.device import detect_device


@dataclass
class TrainResult:
    final_loss: float
    val_loss: float
    steps: int


def lr_multiplier(step: int, cfg: TrainConfig) -> float:
    """Linear warmup to 1, then cosine decay to ``final_lr_frac`` at the last step."""
    warmup = cfg.optim.warmup_steps
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, cfg.num_steps - warmup)
    floor = cfg.optim.final_lr_frac
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(
        model.parameters(),
        lr=cfg.optim.lr,
        betas=cfg.optim.adam_betas,
        weight_decay=cfg.optim.weight_decay,
    )


@torch.no_grad()
def evaluate_loss(model: torch.nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """Mean validation loss in nats per token over ``batches``."""
    model.eval()
    total = torch.zeros(())
    for x, y in batches:
        total += model(x, y).float()
    model.train()
    return (total / max(1, len(batches))).item()


def train(model: torch.nn.Module, cfg: TrainConfig, log) -> TrainResult:
    """Runs the step loop; ``log`` receives one line per ``cfg.log_every`` steps."""
    torch.manual_seed(cfg.seed)
    device = detect_device(cfg.device)
    model = model.to(device)
    opt = build_optimizer(model, cfg)
    loader = data.train_loader(cfg, device)
    val_batches = data.val_batches(cfg, device)
    loss = torch.zeros((), device=device)
    val_loss = float("nan")
    for step in range(cfg.num_steps):
        for group in opt.param_groups:
            group["lr"] = cfg.optim.lr * lr_multiplier(step, cfg)
        x, y = next(loader)
        loss = model(x, y)
        loss.backward()
        if cfg.optim.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        is_last = step == cfg.num_steps - 1
        if step % cfg.log_every == 0 or is_last:
            log(f"step {step:05d}/{cfg.num_steps} | loss {loss.item():.4f}")
        if is_last or (cfg.eval_every > 0 and step % cfg.eval_every == 0):
            val_loss = evaluate_loss(model, val_batches)
    return TrainResult(final_loss=loss.item(), val_loss=val_loss, steps=cfg.num_steps)


if __name__ == "__main__":
    raise SystemExit("run training through `python -m nanochat.train`")
