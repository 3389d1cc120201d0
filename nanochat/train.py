"""The training entry point: ``python -m nanochat.train [flags]``, also under ``torchrun``.

Batch: ``total_batch_tokens`` -1 means one micro-step per device (B x T x world tokens); otherwise
the step accumulates gradients over ``total / (B x T x world)`` micro-steps. Horizon: ``num_steps``
if set, else a wall-clock ``time_budget_s`` (schedules then follow elapsed training time and the run
stops when the budget is spent), else ``target_param_data_ratio`` x matmul parameters tokens.

``training_seconds`` counts only optimizer steps after the first ``warmup_steps_excluded`` of this
process (they include compilation and allocator warm-up); evaluation and checkpointing are never
counted. The loss is read back to the host (a sync) only on logging steps; a non-finite loss or one
above ``max_loss`` is remembered on the device and stops the run at the next logging step.

The run ends with ``---`` and one ``key: value`` line per summary field (autoresearch format);
``--summary-json`` writes the same fields as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from nanochat import checkpoint as ckpt
from nanochat import device as dev
from nanochat.config import NanochatError, TrainConfig, with_overrides
from nanochat.data import PackedLoader
from nanochat.evaluate import evaluate_bpb
from nanochat.model import GPT, check_model_config
from nanochat.optim import apply_schedule, build_optimizer, check_optim_config
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


class TrainingDiverged(NanochatError):
    """The loss became non-finite or exceeded max_loss; the CLI exits with status 1."""


def check_config(cfg: TrainConfig) -> None:
    """Raise ValueError with a one-line fix for values the trainer cannot run with."""
    check_model_config(cfg.model)
    check_optim_config(cfg.optim)
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


def planned_steps(cfg: TrainConfig, model: GPT, total_batch_tokens: int) -> int | None:
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


def _evaluate(
    model: GPT, cfg: TrainConfig, tokenizer, token_bytes, device, amp, dist_: dev.DistInfo
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

    model: GPT
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
    model = GPT.build(cfg.model, device)
    total_batch, grad_accum = batch_plan(cfg, dist_.world_size)
    num_steps = planned_steps(cfg, model, total_batch)
    optimizer = build_optimizer(model, cfg.optim, total_batch)
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
    log(
        f"params {model.num_params_by_group()['total'] / 1e6:.2f}M | model_dim {cfg.model.model_dim} | "
        f"batch {total_batch} tokens ({grad_accum} micro-steps) | {horizon} | "
        f"{device.type} {str(dtype).removeprefix('torch.')}"
    )
    token_bytes = tokenizer.token_bytes().to(device)
    return _Setup(
        model, train_model, optimizer, loader, tokenizer, token_bytes, total_batch, grad_accum,
        num_steps, step, training_seconds,
    )  # fmt: skip


def _diverged(step: int, cfg: TrainConfig, loss: torch.Tensor | None) -> TrainingDiverged:
    shown = f"loss {loss.item():.4g}" if loss is not None else "the loss"
    return TrainingDiverged(
        f"step {step}: {shown} is not finite or above --max-loss {cfg.max_loss:g}; "
        "lower the learning rates (--matrix-lr, --embedding-lr) or check the data"
    )


def _run(cfg: TrainConfig, log, dist_: dev.DistInfo, device, dtype, t_start: float) -> dict:
    amp = dev.autocast(device, dtype)
    run = _setup(cfg, log, dist_, device, dtype)
    model, optimizer, loader, num_steps, total_batch = (
        run.model, run.optimizer, run.loader, run.num_steps, run.total_batch,
    )  # fmt: skip
    flops_per_token = model.estimate_flops_per_token()
    peak = dev.peak_flops(device) * dist_.world_size
    step, training_seconds = run.step, run.training_seconds
    start_step, timed_steps, val_bpb = step, 0, float("nan")
    is_bad = torch.zeros((), dtype=torch.bool, device=device)
    losses: list[torch.Tensor] = []
    while True:
        if num_steps is not None:
            is_last, progress = step >= num_steps, step / max(num_steps, 1)
        else:
            elapsed = dev.max_over_ranks(training_seconds, device, dist_)
            is_last, progress = elapsed >= cfg.time_budget_s, elapsed / cfg.time_budget_s
        if is_last or (cfg.eval_every > 0 and step > start_step and step % cfg.eval_every == 0):
            val_bpb = _evaluate(model, cfg, run.tokenizer, run.token_bytes, device, amp, dist_)
            log(f"step {step:05d} | val_bpb {val_bpb:.4f}")
        is_save_due = (
            cfg.checkpoint_every > 0 and step > start_step and step % cfg.checkpoint_every == 0
        )
        if cfg.checkpoint_dir and (is_last or is_save_due):
            directory = ckpt.step_dir(cfg.checkpoint_dir, step)
            meta = ckpt.train_meta(cfg, step, training_seconds)
            ckpt.save_checkpoint(directory, model, optimizer, loader.state_dict(), meta, dist_.rank)
            log(f"step {step:05d} | saved checkpoint {directory}")
        if is_last:
            break

        lrm = apply_schedule(optimizer, step, progress, cfg.optim)
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
            log(
                f"step {step:05d}{of} | loss {loss.item():.4f} | lrm {lrm:.2f} | {dt * 1000:.0f} ms | "
                f"tok/s {total_batch / dt:,.0f} | mfu {mfu:.1f}%"
            )

    if losses and is_bad.item():
        raise _diverged(step, cfg, None)
    timed_flops = flops_per_token * timed_steps * total_batch
    return {
        "val_bpb": val_bpb,
        "training_seconds": training_seconds,
        "total_seconds": time.perf_counter() - t_start,
        "peak_mem_mb": dev.peak_memory_mb(device),
        "mfu_percent": 100 * timed_flops / training_seconds / peak
        if peak and training_seconds > 0
        else 0.0,
        "total_tokens_M": step * total_batch / 1e6,
        "num_steps": step,
        "num_params_M": model.num_params_by_group()["total"] / 1e6,
        "depth": cfg.model.depth,
        "train_losses": [x.item() for x in losses],
    }


def format_summary(summary: dict) -> str:
    """The autoresearch-style block: ``---`` then ``key: value`` lines."""
    lines = ["---"]
    for key in SUMMARY_KEYS:
        value = summary[key]
        lines.append(f"{key}: {value:.6f}" if isinstance(value, float) else f"{key}: {value}")
    return "\n".join(lines)


def summary_fields(summary: dict) -> dict:
    """Just the SUMMARY_KEYS, JSON-ready (NaN becomes null)."""
    return {
        k: (None if isinstance(v, float) and math.isnan(v) else v)
        for k, v in summary.items()
        if k in SUMMARY_KEYS
    }


# Help for the flags people reach for; every other config field still gets a flag named after it.
HELP = {
    "depth": "transformer layers; width is depth x aspect_ratio (default %(default)s)",
    "sequence_len": "context length in tokens (default %(default)s)",
    "vocab_size": "tokenizer vocabulary; must match `python -m nanochat.data prepare --vocab-size` (default %(default)s)",
    "window_pattern": "per-layer attention windows, S(hort)/L(ong) tiled over depth, e.g. SSSL; keep L on CPU (default %(default)s)",
    "device_batch_size": "sequences per device per micro-step (default %(default)s)",
    "total_batch_tokens": "tokens per optimizer step across devices; -1 = B x T x world, no accumulation (default %(default)s)",
    "num_steps": "optimizer steps; -1 = derive from --time-budget or --target-param-data-ratio (default %(default)s)",
    "time_budget_s": "wall-clock training budget in seconds (schedules follow elapsed time); -1 = disable (default %(default)s)",
    "eval_every": "optimizer steps between val_bpb evaluations; -1 = only at the end (default %(default)s)",
    "eval_tokens": "validation tokens per evaluation (default %(default)s)",
    "log_every": "optimizer steps between log lines, which read the loss back to the host (default %(default)s)",
    "checkpoint_every": "optimizer steps between checkpoints; -1 = only at the end (default %(default)s)",
    "checkpoint_dir": "write checkpoints under DIR/step_NNNNNN/; empty = no checkpoints",
    "resume": "continue from this checkpoint (a step_NNNNNN dir or its parent, latest step)",
    "device": "torch device (cpu, cuda, cuda:1, mps); empty = autodetect",
    "dtype": "autocast dtype (bf16 or fp32); empty = bf16 on CUDA, fp32 elsewhere",
    "matrix_lr": "Muon LR for block matrices at the reference batch (default %(default)s)",
    "embedding_lr": "AdamW LR for token and value embeddings at the reference width and batch (default %(default)s)",
    "max_loss": "stop with an error when the loss exceeds this or is not finite (default %(default)s)",
    "target_param_data_ratio": "training tokens per matmul parameter when neither steps nor budget are set (default %(default)s)",
}
ALIASES = {"time_budget_s": ["--time-budget"]}


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"error: {message}; run `python -m nanochat.train --help`\n")


def build_parser() -> argparse.ArgumentParser:
    """One flag per config field (``--field-name``), grouped by config section."""
    parser = _OneLineParser(prog="python -m nanochat.train", description="Train the nanochat GPT.")
    parser.add_argument(
        "--summary-json", default="", metavar="PATH", help="also write the summary as JSON to PATH"
    )
    defaults = TrainConfig()
    sections = [("train", defaults)] + [
        (name, getattr(defaults, name)) for name in ("model", "optim", "data")
    ]
    for title, section in sections:
        group = parser.add_argument_group(title)
        for f in fields(section):
            if f.name in ("model", "optim", "data"):
                continue
            default = getattr(section, f.name)
            flags = [f"--{f.name.replace('_', '-')}", *ALIASES.get(f.name, [])]
            help_text = HELP.get(f.name, f"{type(section).__name__}.{f.name} (default %(default)s)")
            # Flags default to None so only given ones override the config; show the config's value.
            help_text = help_text.replace("%(default)s", str(default).replace("%", "%%"))
            if isinstance(default, bool):
                group.add_argument(
                    *flags,
                    dest=f.name,
                    default=None,
                    action=argparse.BooleanOptionalAction,
                    help=help_text,
                )
            elif isinstance(default, tuple):
                group.add_argument(
                    *flags,
                    dest=f.name,
                    default=None,
                    nargs=len(default),
                    type=type(default[0]),
                    help=help_text,
                )
            else:
                group.add_argument(
                    *flags, dest=f.name, default=None, type=type(default), help=help_text
                )
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """TrainConfig with every flag that was given applied over the defaults."""
    changes = {
        k: (tuple(v) if isinstance(v, list) else v)
        for k, v in vars(args).items()
        if v is not None and k != "summary_json"
    }
    return with_overrides(TrainConfig(), **changes)


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
