# harness-golden: path=nanochat/config.py
"""Every hyperparameter of the trainer, as frozen dataclasses with derived sizes as properties.

This is what a config module looks like here: the only place numbers that someone might tune
are written; each field carries its unit or its "-1 = disabled" convention; derived sizes are
properties, never stored twice; variants are made with ``dataclasses.replace``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def base_dir() -> Path:
    """Cache root for corpus, tokenizer and shards (override with NANOCHAT_BASE_DIR)."""
    return Path(os.environ.get("NANOCHAT_BASE_DIR", Path.home() / ".cache" / "nanochat"))


@dataclass(frozen=True)
class ModelConfig:
    depth: int = 4
    aspect_ratio: int = 64  # model_dim = depth * aspect_ratio, rounded up to head_dim
    head_dim: int = 64
    vocab_size: int = 4096
    sequence_len: int = 256

    @property
    def model_dim(self) -> int:
        raw = self.depth * self.aspect_ratio
        return ((raw + self.head_dim - 1) // self.head_dim) * self.head_dim

    @property
    def n_head(self) -> int:
        return self.model_dim // self.head_dim


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 3e-4
    adam_betas: tuple[float, float] = (0.8, 0.95)
    weight_decay: float = 0.1
    warmup_steps: int = 20
    final_lr_frac: float = 0.0  # LR at the last step as a fraction of the peak
    grad_clip: float = 1.0  # max global grad norm; <= 0 disables clipping


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    device_batch_size: int = 8  # sequences per device per micro-step
    num_steps: int = 200
    log_every: int = 10  # steps between host-synchronising log lines
    eval_every: int = 100  # steps between validation evaluations; -1 = only at the end
    device: str = ""  # empty: autodetect (cuda, then mps, then cpu)
    seed: int = 42

    @property
    def tokens_per_step(self) -> int:
        return self.device_batch_size * self.model.sequence_len
