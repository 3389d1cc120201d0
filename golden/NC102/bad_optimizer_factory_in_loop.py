# harness-golden: path=nanochat/train.py
"""The optimizer factory runs every step, so AdamW/Muon state never accumulates."""


def train(model, loader, cfg):
    step = 0
    while step < cfg.num_steps:
        optimizer = model.setup_optimizers(cfg.optim)  # expect: NC102
        loss = model(*next(loader))
        loss.backward()
        optimizer.step()
        step += 1
