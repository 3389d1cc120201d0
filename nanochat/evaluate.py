"""Validation bits-per-byte: the metric every training run and research candidate is judged by.

This module is sealed (the harness protects it); it imports only config, data and tokenizer. The
model is called as ``model(inputs)`` and must return logits (B, T, V); it never sees the targets.
The evaluator computes the loss itself, in fp32 nats:

    bpb = sum(CE nats over targets with byte length > 0) / (ln 2 * sum of those byte lengths)

Byte lengths come from ``Tokenizer.token_bytes()`` (raw token bytes; 0 for special tokens, so
BOS targets count neither nats nor bytes). Targets equal to -1 are ignored. The two sums are
all-reduced across ranks when torch.distributed is initialised, so every rank returns the same
value. The mean loss in nats per counted token is reported beside it as a secondary metric.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn.functional as F

from nanochat.config import DataConfig, NanochatError
from nanochat.data import PackedLoader

IGNORE_INDEX = -1


@dataclass(frozen=True)
class BpbResult:
    bpb: float
    nats_per_token: float  # mean cross-entropy over the counted targets
    tokens: int  # targets counted (byte length > 0)
    bytes: int


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    token_bytes: torch.Tensor,
    max_steps: int,
) -> BpbResult:
    """Sums over at most ``max_steps`` batches (-1: until ``batches`` is exhausted)."""
    was_training = model.training
    model.eval()
    sums = None  # float32 [nats, bytes, tokens], on the logits' device
    try:
        for step, (inputs, targets) in enumerate(batches):
            if 0 <= max_steps <= step:
                break
            logits = model(inputs)
            if logits.ndim != 3 or logits.shape[:2] != targets.shape:
                raise NanochatError(
                    f"model returned logits of shape {tuple(logits.shape)} for targets of shape "
                    f"{tuple(targets.shape)}; the model must return (B, T, V) logits"
                )
            step_sums = _batch_sums(logits, targets, token_bytes.to(logits.device))
            sums = step_sums if sums is None else sums + step_sums
    finally:
        model.train(was_training)
    is_distributed = dist.is_available() and dist.is_initialized()
    if sums is None and not is_distributed:
        raise NanochatError("evaluation received no batches; check the val split and max_steps")
    if is_distributed:
        # a rank without batches still joins the reduction, so the other ranks never hang
        sums = torch.zeros(3, device=token_bytes.device) if sums is None else sums
        dist.all_reduce(sums, op=dist.ReduceOp.SUM)
    nats, n_bytes, n_tokens = (float(v) for v in sums.cpu())
    if n_bytes <= 0:
        raise NanochatError(
            "evaluation counted no target bytes; every target was special or ignored"
        )
    return BpbResult(nats / (math.log(2) * n_bytes), nats / n_tokens, int(n_tokens), int(n_bytes))


def _batch_sums(
    logits: torch.Tensor, targets: torch.Tensor, token_bytes: torch.Tensor
) -> torch.Tensor:
    flat_logits = logits.reshape(-1, logits.size(-1)).float()
    flat_targets = targets.reshape(-1)
    nats = F.cross_entropy(flat_logits, flat_targets, ignore_index=IGNORE_INDEX, reduction="none")
    is_valid = flat_targets != IGNORE_INDEX
    n_bytes = torch.where(is_valid, token_bytes[flat_targets.clamp(min=0)], 0)
    is_counted = n_bytes > 0
    return torch.stack(
        [
            (nats * is_counted).sum(dtype=torch.float32),
            n_bytes.sum(dtype=torch.float32),
            is_counted.sum(dtype=torch.float32),
        ]
    )


def evaluate_bpb(
    model: torch.nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    token_bytes: torch.Tensor,
    max_steps: int,
) -> float:
    """Validation bits-per-byte over at most ``max_steps`` batches (see the module docstring)."""
    return evaluate(model, batches, token_bytes, max_steps).bpb


def val_bpb(
    model: torch.nn.Module,
    tokenizer,
    data_cfg: DataConfig,
    batch_size: int,
    seq_len: int,
    device,
    max_steps: int,
    rank: int = 0,
    world_size: int = 1,
) -> BpbResult:
    """bpb on a fresh pass over the prepared val split, so every call sees the same batches."""
    loader = PackedLoader("val", batch_size, seq_len, tokenizer, data_cfg, device, rank, world_size)
    return evaluate(model, loader, tokenizer.token_bytes(), max_steps)
