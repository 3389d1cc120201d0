"""Model families for ``--model-family``: which model and optimizer the trainer builds.

``nanochat`` is the GPT of ``nanochat.model`` with Muon + AdamW (``nanochat.optim``); ``gpt2`` is
the plain GPT-2 baseline of ``nanochat.gpt2_baseline`` with AdamW alone, whose LR warm-up is
``gpt2_warmup_steps``. Both take ``build(config, device)`` and share the trainer's loop, schedule,
evaluation and summary.
"""

from __future__ import annotations

import torch

from nanochat import gpt2_baseline, optim
from nanochat.config import ModelConfig, OptimConfig, TrainConfig, with_overrides
from nanochat.model import GPT, check_model_config

# family -> (model class with ``build(config, device)``, optimizer builder)
MODEL_FAMILIES = {
    "nanochat": (GPT, optim.build_optimizer),
    "gpt2": (gpt2_baseline.GPT2, gpt2_baseline.build_optimizer),
}


def check_family_config(cfg: TrainConfig) -> None:
    """Raise ValueError naming the flag and value when the family's model or optimizer cannot use them."""
    family = cfg.model.model_family
    if family not in MODEL_FAMILIES:
        raise ValueError(f"--model-family {family!r}: use one of {', '.join(MODEL_FAMILIES)}")
    check_model_config(cfg.model)
    optim.check_optim_config(cfg.optim)
    if family == "gpt2":
        gpt2_baseline.check_gpt2_config(cfg.model, cfg.optim)


def model_class(config: ModelConfig) -> type[torch.nn.Module]:
    return MODEL_FAMILIES[config.model_family][0]


def build_model(config: ModelConfig, device) -> torch.nn.Module:
    """The family's model, materialised on ``device`` with its init scheme."""
    return model_class(config).build(config, device)


def build_optimizer(model, cfg: TrainConfig, total_batch: int) -> torch.optim.Optimizer:
    return MODEL_FAMILIES[cfg.model.model_family][1](model, cfg.optim, total_batch)


def schedule_config(cfg: TrainConfig) -> OptimConfig:
    """The OptimConfig the LR schedule reads: the baseline warms up over ``gpt2_warmup_steps``."""
    if cfg.model.model_family == "gpt2":
        return with_overrides(cfg, warmup_steps=cfg.optim.gpt2_warmup_steps).optim
    return cfg.optim
