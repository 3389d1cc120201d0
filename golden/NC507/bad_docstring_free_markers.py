# harness-golden: path=nanochat/optim.py
"""Markers hiding in trailing comments."""


def lr_for(step, cfg):
    return cfg.lr  # XXX ignores warmup  # expect: NC507
