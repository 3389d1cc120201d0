# harness-golden: path=tests/nanochat/test_schedule.py
"""Tests for the LR schedule: real functions on tiny configs, one behaviour per test.

This is what a test module looks like here: no mocks, each test named as a sentence, every test
asserts, and each tolerance says why it is what it is.
"""

from __future__ import annotations

import dataclasses

import pytest

from nanochat.config import OptimConfig, TrainConfig
from nanochat.train import lr_multiplier


def tiny_config(**optim_changes) -> TrainConfig:
    optim = dataclasses.replace(OptimConfig(), **optim_changes)
    return dataclasses.replace(TrainConfig(), num_steps=10, optim=optim)


def test_warmup_reaches_the_peak_on_its_last_step() -> None:
    cfg = tiny_config(warmup_steps=4)
    assert lr_multiplier(3, cfg) == 1.0


def test_schedule_ends_at_the_final_fraction() -> None:
    cfg = tiny_config(warmup_steps=0, final_lr_frac=0.1)
    # cos(pi) is exact to float rounding, so 1e-12 only absorbs the last-bit error.
    assert lr_multiplier(cfg.num_steps, cfg) == pytest.approx(0.1, abs=1e-12)


def test_schedule_never_increases_after_warmup() -> None:
    cfg = tiny_config(warmup_steps=2)
    values = [lr_multiplier(step, cfg) for step in range(2, cfg.num_steps)]
    assert values == sorted(values, reverse=True)
