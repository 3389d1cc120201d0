"""The training entry point: ``python -m nanochat.train [flags]``, also under ``torchrun``.

Batch: ``total_batch_tokens`` -1 means one micro-step per device (B x T x world tokens); otherwise
the step accumulates gradients over ``total / (B x T x world)`` micro-steps. Horizon: ``num_steps``
if set, else a wall-clock ``time_budget_s`` (schedules then follow elapsed training time and the run
stops when the budget is spent), else ``target_param_data_ratio`` x matmul parameters tokens.

``training_seconds`` counts only optimizer steps after the first ``warmup_steps_excluded`` of this
process (they include compilation and allocator warm-up); evaluation and checkpointing are never
counted. The loss is read back to the host (a sync) only on logging steps; a non-finite loss or one
above ``max_loss`` is remembered on the device and stops the run at the next logging step.

``--model-family gpt2`` trains the plain GPT-2 baseline (``nanochat.gpt2_baseline``, AdamW only)
instead of the GPT. A target (``--target-val-bpb`` or ``--target-core``, see ``nanochat.target``)
ends the run at the first scheduled evaluation that reaches it; ``--curve-jsonl`` records the
loss-vs-time curve as it goes (``nanochat.curve``).

The run ends with ``---`` and one ``key: value`` line per summary field (autoresearch format), plus
``core`` when a CORE bundle is set and the TARGET_KEYS when a target is; ``--summary-json`` writes
the same fields as JSON.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from nanochat import checkpoint as ckpt
from nanochat import device as dev
from nanochat.config import NanochatError, TrainConfig
from nanochat.curve import CurveWriter
from nanochat.data import PackedLoader
from nanochat.evaluate import evaluate_bpb
from nanochat.families import build_model, build_optimizer, check_family_config, schedule_config
from nanochat.flags import build_parser, config_from_args
from nanochat.optim import apply_schedule
from nanochat.target import TARGET_KEYS, Target, check_target_config, core_score, is_core_due
from nanochat.tokenizer import get_tokenizer

SUMMARY_KEYS = (
    "val_bpb",
    "training_seconds",
    "total_seconds",
    "peak_mem_mb",
    "mfu_percent",
    "total_tokens_M",
    "num_steps",
    "num_params_M",
    "depth",
)
OPTIONAL_KEYS = ("core", *TARGET_KEYS)  # core when --core-bundle is set; the rest with a target


class TrainingDiverged(NanochatError):
    """The loss became non-finite or exceeded max_loss; the CLI exits with status 1."""


def check_config(cfg: TrainConfig) -> None:
    """Raise ValueError with a one-line fix for values the trainer cannot run with."""
    check_family_config(cfg)
    check_target_config(cfg)
    rules = [
        (cfg.device_batch_size >= 1, f"--device-batch-size {cfg.device_batch_size}: must be >= 1"),
        (
            cfg.total_batch_tokens == -1 or cfg.total_batch_tokens >= 1,
            f"--total-batch-tokens {cfg.total_batch_tokens}: use -1 (auto) or a positive count",
        ),
        (cfg.num_steps >= -1, f"--num-steps {cfg.num_steps}: use -1 (derive) or a count >= 0"),
        (
            cfg.time_budget_s == -1 or cfg.time_budget_s > 0,
            f"--time-budget {cfg.time_budget_s}: use -1 (disabled) or seconds > 0",
        ),
        (cfg.log_every >= 1, f"--log-every {cfg.log_every}: must be at least 1"),
        (cfg.eval_tokens >= 1, f"--eval-tokens {cfg.eval_tokens}: must be at least 1"),
        (cfg.max_loss > 0, f"--max-loss {cfg.max_loss}: must be positive"),
        (
            cfg.eval_every != 0 or (cfg.target_val_bpb < 0 and cfg.target_core < 0),
            "--eval-every 0 never evaluates, so a target cannot be reached; use -1 or a step count",
        ),
    ]
    for is_ok, message in rules:
        if not is_ok:
            raise ValueError(message)


def batch_plan(cfg: TrainConfig, world_size: int) -> tuple[int, int]:
    """(total batch tokens per optimizer step, gradient-accumulation micro-steps)."""
    per_step = cfg.device_batch_size * cfg.model.sequence_len * world_size
    total = per_step if cfg.total_batch_tokens == -1 else cfg.total_batch_tokens
    if total % per_step:
        raise NanochatError(
            f"--total-batch-tokens {total} is not a multiple of device_batch_size x sequence_len x world "
            f"= {per_step}; use a multiple of {per_step} or -1"
        )
    return total, total // per_step


def planned_steps(cfg: TrainConfig, model, total_batch_tokens: int) -> int | None:
    """Optimizer steps to run, or None when a time budget decides."""
    if cfg.num_steps >= 0:
        return cfg.num_steps
    if cfg.time_budget_s > 0:
        return None
    counts = model.num_params_by_group()
    scaling_params = counts["matrices"] + counts["lm_head"]
    return max(1, round(cfg.target_param_data_ratio * scaling_params / total_batch_tokens))


def train_step(
    model, optimizer, batches: Iterator, grad_accum: int, amp, is_ddp: bool
) -> torch.Tensor:
    """One optimizer step over ``grad_accum`` micro-batches; returns the mean loss (on device, no sync)."""
    total = None
    for micro in range(grad_accum):
        inputs, targets = next(batches)
        no_sync = model.no_sync() if is_ddp and micro < grad_accum - 1 else contextlib.nullcontext()
        with no_sync:
            with amp:
                loss = model(inputs, targets)
            (loss / grad_accum).backward()
        total = loss.detach() if total is None else total + loss.detach()
    optimizer.step()
    model.zero_grad(set_to_none=True)
    return total / grad_accum


def _evaluate_bpb(
    model, cfg: TrainConfig, tokenizer, token_bytes, device, amp, dist_: dev.DistInfo
) -> float:
    batches = PackedLoader(
        "val",
        cfg.device_batch_size,
        cfg.model.sequence_len,
        tokenizer,
        cfg.data,
        device,
        dist_.rank,
        dist_.world_size,
    )
    max_steps = max(
        1, cfg.eval_tokens // (cfg.device_batch_size * cfg.model.sequence_len * dist_.world_size)
    )
    model.eval()
    with torch.no_grad(), amp:
        bpb = evaluate_bpb(model, batches, token_bytes, max_steps)
    model.train()
    return float(bpb)


def train(
    cfg: TrainConfig, log: Callable[[str], None] | None = None, dist_: dev.DistInfo | None = None
) -> dict:
    """Run training as configured; returns the summary (SUMMARY_KEYS) plus ``train_losses`` per step."""
    t_start = time.perf_counter()
    log = log or logging.getLogger(__name__).info
    check_config(cfg)
    dist_ = dist_ or dev.dist_info_from_env()
    device = dev.rank_device(dev.detect_device(cfg.device), dist_.local_rank)
    dtype = dev.detect_dtype(device, cfg.dtype)
    owns_group = dev.init_distributed(dist_, device)
    try:
        return _run(cfg, log, dist_, device, dtype, t_start)
    finally:
        if owns_group:
            dist.destroy_process_group()


@dataclass
class _Setup:
    """Everything the loop needs, built (or resumed) before the first step."""

    model: torch.nn.Module  # a GPT, or a GPT2 under --model-family gpt2
    train_model: torch.nn.Module  # compiled and/or DDP-wrapped view of ``model``
    optimizer: torch.optim.Optimizer
    loader: PackedLoader
    tokenizer: object
    token_bytes: torch.Tensor
    total_batch: int
    grad_accum: int
    num_steps: int | None
    step: int
    training_seconds: float


def _setup(cfg: TrainConfig, log, dist_: dev.DistInfo, device, dtype) -> _Setup:
    dev.manual_seed(cfg.seed)
    tokenizer = get_tokenizer(cfg.model.vocab_size)
    model = build_model(cfg.model, device)
    total_batch, grad_accum = batch_plan(cfg, dist_.world_size)
    num_steps = planned_steps(cfg, model, total_batch)
    optimizer = build_optimizer(model, cfg, total_batch)
    step, training_seconds, loader_state = 0, 0.0, None
    if cfg.resume:
        resume_dir, step, training_seconds, loader_state = ckpt.resume_into(
            cfg.resume, model, optimizer, dist_.rank, device
        )
        log(f"resumed from {resume_dir} at step {step}")
    loader = PackedLoader(
        "train", cfg.device_batch_size, cfg.model.sequence_len, tokenizer, cfg.data, device,
        dist_.rank, dist_.world_size, state=loader_state,
    )  # fmt: skip
    train_model = torch.compile(model) if cfg.compile else model
    if dist_.is_ddp:
        device_ids = [device.index] if dev.is_cuda(device) else None
        train_model = DistributedDataParallel(train_model, device_ids=device_ids)
    horizon = f"{num_steps} steps" if num_steps is not None else f"a {cfg.time_budget_s:g}s budget"
    width = getattr(model, "width", cfg.model.model_dim)  # the gpt2 baseline's matched width
    log(
        f"params {model.num_params_by_group()['total'] / 1e6:.2f}M | model_dim {width} | "
        f"batch {total_batch} tokens ({grad_accum} micro-steps) | {horizon} | "
        f"{device.type} {str(dtype).removeprefix('torch.')} | {cfg.model.model_family}"
    )
    token_bytes = tokenizer.token_bytes().to(device)
    return _Setup(
        model, train_model, optimizer, loader, tokenizer, token_bytes, total_batch, grad_accum,
        num_steps, step, training_seconds,
    )  # fmt: skip


def _diverged(step: int, cfg: TrainConfig, loss: torch.Tensor | None) -> TrainingDiverged:
    shown = f"loss {loss.item():.4g}" if loss is not None else "the loss"
    lr_flags = "--gpt2-lr" if cfg.model.model_family == "gpt2" else "--matrix-lr, --embedding-lr"
    return TrainingDiverged(
        f"step {step}: {shown} is not finite or above --max-loss {cfg.max_loss:g}; "
        f"lower the learning rates ({lr_flags}) or check the data"
    )


def _is_due(every: int, step: int, start_step: int) -> bool:
    return every > 0 and step > start_step and step % every == 0


def _scheduled_eval(
    run: _Setup, cfg: TrainConfig, step: int, start_step: int, is_last: bool, device, amp, dist_
) -> dict | None:
    """{"val_bpb", and "core" when due} if an evaluation is scheduled at this step, else None."""
    is_bpb_due = cfg.eval_every != 0 and (is_last or _is_due(cfg.eval_every, step, start_step))
    with_core = is_core_due(cfg, step, start_step, is_last, is_bpb_due)
    if not (is_bpb_due or with_core):
        return None
    metrics = {
        "val_bpb": _evaluate_bpb(run.model, cfg, run.tokenizer, run.token_bytes, device, amp, dist_)
    }
    if with_core:
        metrics["core"] = core_score(run.model, run.tokenizer, cfg, device, amp, dist_.is_ddp)
    return metrics


def _record_eval(
    metrics: dict, target: Target, curve, log, step: int, training_seconds: float, total_batch: int
) -> bool:
    """Log an evaluation, check the target and append it to the curve; True when it hit the target."""
    log(f"step {step:05d} | " + " | ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    tokens = step * total_batch
    is_hit = target.check(metrics, step, training_seconds, tokens)
    hit = {"reached_target": True} if is_hit else {}
    curve.write(
        "eval", step=step, training_seconds=training_seconds, tokens=tokens, **metrics, **hit
    )
    if is_hit:
        log(f"step {step:05d} | reached {target.describe()} after {training_seconds:.2f}s")
    return is_hit


def _start_record(cfg: TrainConfig, run: _Setup, device, flops_per_token: float) -> dict:
    return {
        "model_family": cfg.model.model_family,
        "depth": cfg.model.depth,
        "num_params": run.model.num_params_by_group()["total"],
        "flops_per_token": flops_per_token,
        "total_batch_tokens": run.total_batch,
        "num_steps": run.num_steps,
        "target_val_bpb": cfg.target_val_bpb,
        "target_core": cfg.target_core,
        "seed": cfg.seed,
        "device": device.type,
        "warmup_steps_excluded": cfg.warmup_steps_excluded,
    }


def _run(cfg: TrainConfig, log, dist_: dev.DistInfo, device, dtype, t_start: float) -> dict:
    amp = dev.autocast(device, dtype)
    run = _setup(cfg, log, dist_, device, dtype)
    flops_per_token = run.model.estimate_flops_per_token()
    curve = CurveWriter(cfg.curve_jsonl if dist_.is_master else "", is_append=bool(cfg.resume))
    try:
        curve.write("start", **_start_record(cfg, run, device, flops_per_token))
        summary = _loop(cfg, log, dist_, device, amp, run, curve, flops_per_token)
        summary["total_seconds"] = time.perf_counter() - t_start
        curve.write("end", **summary_fields(summary))
    finally:
        curve.close()
    return summary


def _loop(cfg: TrainConfig, log, dist_, device, amp, run: _Setup, curve, flops_per_token) -> dict:
    """Train until the horizon, the budget or the target; returns the summary (no total_seconds)."""
    model, optimizer, loader, num_steps, total_batch = (
        run.model, run.optimizer, run.loader, run.num_steps, run.total_batch,
    )  # fmt: skip
    schedule = schedule_config(cfg)
    peak = dev.peak_flops(device) * dist_.world_size
    step, training_seconds = run.step, run.training_seconds
    start_step, timed_steps, val_bpb, core = step, 0, float("nan"), float("nan")
    target = Target.from_config(cfg)
    is_bad = torch.zeros((), dtype=torch.bool, device=device)
    losses: list[torch.Tensor] = []
    while True:
        if num_steps is not None:
            is_last, progress = step >= num_steps, step / max(num_steps, 1)
        else:
            elapsed = dev.max_over_ranks(training_seconds, device, dist_)
            is_last, progress = elapsed >= cfg.time_budget_s, elapsed / cfg.time_budget_s
        metrics = _scheduled_eval(run, cfg, step, start_step, is_last, device, amp, dist_)
        if metrics is not None:
            val_bpb, core = metrics["val_bpb"], metrics.get("core", core)
            is_hit = _record_eval(metrics, target, curve, log, step, training_seconds, total_batch)
            is_last = is_last or is_hit
        is_save_due = _is_due(cfg.checkpoint_every, step, start_step)
        if cfg.checkpoint_dir and (is_last or is_save_due):
            directory = ckpt.step_dir(cfg.checkpoint_dir, step)
            meta = ckpt.train_meta(cfg, step, training_seconds)
            ckpt.save_checkpoint(directory, model, optimizer, loader.state_dict(), meta, dist_.rank)
            log(f"step {step:05d} | saved checkpoint {directory}")
        if is_last:
            break

        lrm = apply_schedule(optimizer, step, progress, schedule)
        dev.synchronize(device)
        t0 = time.perf_counter()
        loss = train_step(run.train_model, optimizer, loader, run.grad_accum, amp, dist_.is_ddp)
        is_bad |= ~torch.isfinite(loss) | (loss > cfg.max_loss)
        losses.append(loss)
        dev.synchronize(device)
        dt = time.perf_counter() - t0
        if step - start_step >= cfg.warmup_steps_excluded:
            training_seconds += dt
            timed_steps += 1
        step += 1
        is_final = num_steps is not None and step == num_steps
        if step % cfg.log_every == 0 or step == start_step + 1 or is_final:
            if is_bad.item():
                raise _diverged(step, cfg, loss)
            mfu = 100 * flops_per_token * total_batch / dt / peak if peak else 0.0
            of = (
                f"/{num_steps}"
                if num_steps is not None
                else f" ({100 * min(progress, 1):.0f}% of budget)"
            )
            loss_value = loss.item()
            log(
                f"step {step:05d}{of} | loss {loss_value:.4f} | lrm {lrm:.2f} | {dt * 1000:.0f} ms | "
                f"tok/s {total_batch / dt:,.0f} | mfu {mfu:.1f}%"
            )
            curve.write(
                "train", step=step, training_seconds=training_seconds,
                tokens=step * total_batch, loss=loss_value,
            )  # fmt: skip

    if losses and is_bad.item():
        raise _diverged(step, cfg, None)
    timed_flops = flops_per_token * timed_steps * total_batch
    summary = {
        "val_bpb": val_bpb,
        "training_seconds": training_seconds,
        "total_seconds": float("nan"),  # set by the caller, which started the clock
        "peak_mem_mb": dev.peak_memory_mb(device),
        "mfu_percent": 100 * timed_flops / training_seconds / peak
        if peak and training_seconds > 0
        else 0.0,
        "total_tokens_M": step * total_batch / 1e6,
        "num_steps": step,
        "num_params_M": model.num_params_by_group()["total"] / 1e6,
        "depth": cfg.model.depth,
    }
    if cfg.core_bundle:
        summary["core"] = core
    if target.is_set:
        summary.update(target.summary())
    summary["train_losses"] = [x.item() for x in losses]
    return summary


def _printed_keys(summary: dict) -> list[str]:
    return [*SUMMARY_KEYS, *(k for k in OPTIONAL_KEYS if k in summary)]


def format_summary(summary: dict) -> str:
    """The autoresearch-style block: ``---`` then ``key: value`` lines."""
    lines = ["---"]
    for key in _printed_keys(summary):
        value = summary[key]
        if isinstance(value, bool):
            lines.append(f"{key}: {str(value).lower()}")
        else:
            lines.append(f"{key}: {value:.6f}" if isinstance(value, float) else f"{key}: {value}")
    return "\n".join(lines)


def summary_fields(summary: dict) -> dict:
    """The printed fields (SUMMARY_KEYS, then core and TARGET_KEYS when set), JSON-ready (NaN is null)."""
    return {
        k: (None if isinstance(v, float) and math.isnan(v) else v)
        for k, v in ((k, summary[k]) for k in _printed_keys(summary))
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    dist_ = dev.dist_info_from_env()
    say = (lambda line: print(line, flush=True)) if dist_.is_master else (lambda line: None)
    try:
        summary = train(config_from_args(args), log=say, dist_=dist_)
    except TrainingDiverged as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except (NanochatError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    if dist_.is_master:
        print(format_summary(summary), flush=True)
        if args.summary_json:
            Path(args.summary_json).write_text(
                json.dumps(summary_fields(summary), indent=2) + "\n", encoding="utf-8"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
