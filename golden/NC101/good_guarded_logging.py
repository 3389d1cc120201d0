# harness-golden: path=nanochat/train.py
"""Syncs only at the logging and evaluation intervals; the loss accumulates on the device."""

import torch


def train(model, loader, opt, cfg):
    loss_sum = torch.zeros(())
    for step in range(cfg.num_steps):
        x, y = next(loader)
        loss = model(x, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss_sum += loss.detach()
        if step % cfg.log_every == 0:
            print(f"step {step:05d} | loss {loss.item():.4f}")
        is_last_step = step == cfg.num_steps - 1
        if is_last_step:
            print(f"final mean loss {(loss_sum / cfg.num_steps).item():.4f}")
    return float(loss_sum)


@torch.no_grad()
def evaluate(model, batches):
    model.eval()
    total = 0.0
    for x, y in batches:
        total += model(x, y).item()
    return total


if __name__ == "__main__":
    raise SystemExit("run through python -m nanochat.train")


def train_epochs(model, train_loader, val_loader, opt, epochs):
    for epoch in range(epochs):
        for x, y in train_loader:
            model(x, y).backward()
            opt.step()
        val_total = 0.0
        for x, y in val_loader:
            val_total += model(x, y).item()
    return val_total
