"""Time to target: when a run may stop early, and CORE as a scheduled evaluation.

A target is one of ``--target-val-bpb X`` (reached when the sealed evaluator's val_bpb <= X) or
``--target-core X`` (reached when CORE >= X; needs ``--core-bundle``). The trainer checks it at
every scheduled evaluation and stops at the first one that reaches it; ``time_to_target_s`` is
``training_seconds`` at that evaluation (the trainer's clock: optimizer steps after the first
``warmup_steps_excluded``, evaluation never counted). A target above the untrained model's
val_bpb is allowed and is simply reached at the first evaluation.

CORE comes from the sealed ``nanochat.core_eval.evaluate_core`` on the unwrapped model. Under DDP
every rank scores the whole bundle (the sealed evaluator has no sharding, and re-implementing its
loop outside the seal would defeat it) and the ranks' scores are averaged, so every rank takes the
same stop decision; use ``--core-max-per-task`` or ``--core-every`` to bound its cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist

from nanochat.config import TrainConfig
from nanochat.core_eval import evaluate_core, load_bundle

TARGET_KEYS = ("reached_target", "time_to_target_s", "target_step", "target_tokens_M")


def check_target_config(cfg: TrainConfig) -> None:
    """Raise ValueError with a one-line fix for a target or CORE setting the trainer cannot use."""
    bpb, core = cfg.target_val_bpb, cfg.target_core
    rules = [
        (
            bpb == -1 or (math.isfinite(bpb) and bpb > 0),
            f"--target-val-bpb {bpb}: use -1 (no target) or a finite bits-per-byte > 0",
        ),
        (
            core == -1 or 0 < core <= 1,
            f"--target-core {core}: use -1 (no target) or a CORE score in (0, 1]",
        ),
        (
            bpb == -1 or core == -1,
            "--target-val-bpb and --target-core both set: pass only one of them",
        ),
        (
            core == -1 or bool(cfg.core_bundle),
            f"--target-core {core} needs --core-bundle DIR (a CORE bundle with core.json)",
        ),
        (
            not cfg.core_bundle or Path(cfg.core_bundle).is_dir(),
            f"--core-bundle {cfg.core_bundle}: not a directory; point it at a CORE bundle",
        ),
        (
            cfg.core_every == -1 or cfg.core_every >= 1,
            f"--core-every {cfg.core_every}: use -1 (at every evaluation) or steps >= 1",
        ),
    ]
    for is_ok, message in rules:
        if not is_ok:
            raise ValueError(message)
    if cfg.core_bundle:
        load_bundle(cfg.core_bundle)  # a malformed bundle fails now, not after the first steps


def is_core_due(
    cfg: TrainConfig, step: int, start_step: int, is_last: bool, is_bpb_due: bool
) -> bool:
    """Whether this step's evaluation includes CORE (always at the end when a bundle is set)."""
    if not cfg.core_bundle:
        return False
    if is_last or (cfg.core_every == -1 and is_bpb_due):
        return True
    return cfg.core_every > 0 and step > start_step and step % cfg.core_every == 0


def core_score(model, tokenizer, cfg: TrainConfig, device, amp, is_ddp: bool) -> float:
    """CORE of ``model`` (unwrapped) on the configured bundle, averaged over ranks under DDP."""
    with amp:
        score = evaluate_core(
            model,
            tokenizer,
            cfg.core_bundle,
            max_per_task=cfg.core_max_per_task,
            device=device,
            max_seq_len=cfg.model.sequence_len,
        )["core"]
    if is_ddp:
        value = torch.tensor(score, dtype=torch.float64, device=device)
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        score = float(value.item()) / dist.get_world_size()
    return score


@dataclass
class Target:
    """The configured target and, once reached, where: step, training seconds and tokens."""

    val_bpb: float = -1.0
    core: float = -1.0
    step: int = -1
    seconds: float = math.nan
    tokens: int = 0

    @classmethod
    def from_config(cls, cfg: TrainConfig) -> Target:
        return cls(val_bpb=cfg.target_val_bpb, core=cfg.target_core)

    @property
    def is_set(self) -> bool:
        return self.val_bpb > 0 or self.core > 0

    @property
    def is_reached(self) -> bool:
        return self.step >= 0

    def describe(self) -> str:
        return f"val_bpb <= {self.val_bpb:g}" if self.val_bpb > 0 else f"CORE >= {self.core:g}"

    def check(self, metrics: dict, step: int, training_seconds: float, tokens: int) -> bool:
        """Record and return True when ``metrics`` reach the target for the first time."""
        if not self.is_set or self.is_reached:
            return False
        bpb, core = metrics.get("val_bpb", math.nan), metrics.get("core")
        is_hit = bpb <= self.val_bpb if self.val_bpb > 0 else core is not None and core >= self.core
        if is_hit:
            self.step, self.seconds, self.tokens = step, training_seconds, tokens
        return is_hit

    def summary(self) -> dict:
        """The TARGET_KEYS fields (time and tokens NaN, step -1 while not reached)."""
        return {
            "reached_target": self.is_reached,
            "time_to_target_s": self.seconds,
            "target_step": self.step,
            "target_tokens_M": self.tokens / 1e6 if self.is_reached else math.nan,
        }
