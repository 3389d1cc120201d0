# harness-golden: path=nanochat/train.py
"""Scalars under the logging guard, detached tensors elsewhere."""


def train(model, loader, optimizer, cfg):
    total = 0.0
    for step in range(cfg.num_steps):
        loss = model(*next(loader))
        loss.backward()
        optimizer.step()
        if step % cfg.log_every == 0:
            total += loss.item()
    return total
