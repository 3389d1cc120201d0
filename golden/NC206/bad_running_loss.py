# harness-golden: path=nanochat/train.py
"""Running totals that hold on to every step's autograd graph."""


def train(model, loader, opt, cfg):
    running_loss = 0.0
    for step in range(cfg.num_steps):
        x, y = next(loader)
        loss = model(x, y)
        loss.backward()
        opt.step()
        running_loss += loss  # expect: NC206
    return running_loss / cfg.num_steps


def train_epoch(model, batches, optimizer, stats):
    for x, y in batches:
        logits, loss = model(x, y)
        loss.backward()
        optimizer.step()
        stats.total_loss += loss  # expect: NC206


def train_with_history(model, loader, opt, num_steps):
    losses = []
    for step in range(num_steps):
        loss = model(*next(loader))
        loss.backward()
        opt.step()
        losses.append(loss)  # expect: NC206
    return losses
