# harness-golden: path=nanochat/config.py
"""Config classes documented by their own names."""

from dataclasses import dataclass


@dataclass(frozen=True)
class OptimConfig:
    """Optimizer configuration."""  # expect: NC503

    matrix_lr: float = 0.02


@dataclass(frozen=True)
class DataConfig:
    """Data config."""  # expect: NC503

    corpus_dir: str = ""
