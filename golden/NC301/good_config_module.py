# harness-golden: path=nanochat/config.py
"""The config module is where the numbers live."""

from dataclasses import dataclass


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 3e-4
    betas: tuple[float, float] = (0.9, 0.95)
    weight_decay: float = 0.1
    warmup_steps: int = 200
