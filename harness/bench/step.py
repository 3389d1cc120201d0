"""``harness bench step``: time forward + backward + optimizer steps of the real nanochat GPT.

What is timed is the trainer's own timed region, ``nanochat.train.train_step`` (``grad_accum``
micro-batches forward and backward, then the Muon/AdamW step and ``zero_grad``), on the model,
optimizer and loader that nanochat builds from the same ``TrainConfig``. ``warmup_steps`` steps run
first and are reported apart (with ``compile`` the first one includes compilation); then ``rounds``
rounds of ``steps_per_round`` steps each. On CUDA a round is timed with CUDA events recorded after
``torch.cuda.synchronize``; elsewhere with ``time.perf_counter`` around a synchronized round.

Figures: ms/step of every round and their median, IQR, min and max; tok/s, TFLOP/s and MFU at the
median (FLOPs from ``nanochat.flops.flops_per_token``, the trainer's formula; MFU only where
``nanochat.device`` knows the GPU's bf16 dense peak, so never on CPU); peak memory over the timed
rounds (see ``harness.bench.environment``); the loader share, host time spent fetching batches over
round time (on CUDA the copy to the device is asynchronous, so the GPU may hide part of it); the
environment, with the attention kernel the model actually called.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace

import torch

from harness.bench.environment import (
    environment,
    observed_attention,
    peak_memory,
    reset_peak_memory,
)
from harness.bench.stats import spread
from harness.errors import HarnessError
from nanochat import device as dev
from nanochat import flops
from nanochat.config import ModelConfig, NanochatError, TrainConfig
from nanochat.data import PackedLoader
from nanochat.model import GPT
from nanochat.optim import build_optimizer
from nanochat.tokenizer import get_tokenizer
from nanochat.train import batch_plan, check_config, train_step

DATA_SOURCES = ("real", "synthetic")
RESULT_KEYS = (
    "config",
    "environment",
    "warmup",
    "rounds_ms_per_step",
    "rounds_loader_ms_per_step",
    "ms_per_step",
    "tokens_per_step",
    "tok_per_s",
    "flops_per_token",
    "tflops_per_s",
    "peak_flops",
    "mfu_percent",
    "memory",
    "loader_share",
    "num_params",
    "final_loss",
)


@dataclass(frozen=True)
class StepBench:
    """One benchmark: the trainer settings it varies (defaults are nanochat's own) and how it times."""

    depth: int = ModelConfig.depth
    sequence_len: int = ModelConfig.sequence_len
    device_batch_size: int = TrainConfig.device_batch_size
    grad_accum: int = 1  # micro-batches per optimizer step
    vocab_size: int = ModelConfig.vocab_size
    window_pattern: str = ModelConfig.window_pattern
    device: str = TrainConfig.device  # empty: autodetect (cuda, then mps, then cpu)
    dtype: str = TrainConfig.dtype  # empty: bf16 on CUDA, fp32 elsewhere
    compile: bool = TrainConfig.compile
    warmup_steps: int = TrainConfig.warmup_steps_excluded  # untimed, as the trainer's first steps
    rounds: int = 10
    steps_per_round: int = 5
    seed: int = TrainConfig.seed
    threads: int = 0  # torch CPU threads (torch.set_num_threads); 0 = leave torch's default
    data: str = "real"  # real: PackedLoader over prepared shards; synthetic: random tokens

    @property
    def tokens_per_step(self) -> int:
        return self.device_batch_size * self.sequence_len * self.grad_accum

    def train_config(self) -> TrainConfig:
        """nanochat's default TrainConfig with this benchmark's fields replaced."""
        base = TrainConfig()
        model = replace(
            base.model,
            depth=self.depth,
            sequence_len=self.sequence_len,
            vocab_size=self.vocab_size,
            window_pattern=self.window_pattern,
        )
        return replace(
            base,
            model=model,
            device_batch_size=self.device_batch_size,
            total_batch_tokens=self.tokens_per_step,
            device=self.device,
            dtype=self.dtype,
            compile=self.compile,
            seed=self.seed,
        )


def check_bench(bench: StepBench) -> None:
    """Raise a one-line HarnessError naming the option and its bad value."""
    rules = [
        (bench.rounds >= 1, f"--rounds {bench.rounds}: must be at least 1"),
        (
            bench.steps_per_round >= 1,
            f"--steps-per-round {bench.steps_per_round}: must be at least 1",
        ),
        (bench.warmup_steps >= 0, f"--warmup-steps {bench.warmup_steps}: must be 0 or more"),
        (bench.grad_accum >= 1, f"--grad-accum {bench.grad_accum}: must be at least 1"),
        (bench.threads >= 0, f"--threads {bench.threads}: use 0 (torch's default) or a count"),
        (
            bench.data in DATA_SOURCES,
            f"--data {bench.data!r}: use one of {', '.join(DATA_SOURCES)}",
        ),
    ]
    for is_ok, message in rules:
        if not is_ok:
            raise HarnessError(message)
    try:
        check_config(bench.train_config())
    except ValueError as exc:
        raise HarnessError(str(exc)) from exc


@contextlib.contextmanager
def nanochat_errors() -> Iterator[None]:
    """nanochat's own one-line errors (no CUDA, bad dtype, bad shards) as HarnessError."""
    try:
        yield
    except NanochatError as exc:
        raise HarnessError(str(exc)) from exc


class _TimedBatches:
    """Wraps a batch iterator and adds up the host seconds spent in ``next``."""

    def __init__(self, batches: Iterator):
        self.batches = batches
        self.seconds = 0.0

    def __iter__(self):
        return self

    def __next__(self):
        t0 = time.perf_counter()
        batch = next(self.batches)
        self.seconds += time.perf_counter() - t0
        return batch


def synthetic_batches(bench: StepBench, device: torch.device) -> Iterator:
    """Uniform random (inputs, targets) of the loader's shape (B, T), drawn on ``device``."""
    generator = torch.Generator(device=device)
    generator.manual_seed(bench.seed)
    shape = (bench.device_batch_size, bench.sequence_len + 1)  # T + 1: targets are shifted inputs
    while True:
        rows = torch.randint(0, bench.vocab_size, shape, device=device, generator=generator)
        yield rows[:, :-1].contiguous(), rows[:, 1:].contiguous()


def real_batches(cfg: TrainConfig, device: torch.device) -> PackedLoader:
    """The trainer's PackedLoader over the prepared train shards; one-line error when unprepared."""
    try:
        tokenizer = get_tokenizer(cfg.model.vocab_size)
        return PackedLoader(
            "train", cfg.device_batch_size, cfg.model.sequence_len, tokenizer, cfg.data, device
        )
    except NanochatError as exc:
        hint = " (`make data` does this)" if cfg.model.vocab_size == ModelConfig.vocab_size else ""
        raise HarnessError(f"--data real: {exc}{hint}, or pass --data synthetic") from exc


class StepSession:
    """The model, optimizer and batches of one benchmark, built once; warm up, then time rounds."""

    def __init__(self, bench: StepBench):
        check_bench(bench)
        cfg = bench.train_config()
        with nanochat_errors():
            self.device = dev.detect_device(cfg.device)
            self.dtype = dev.detect_dtype(self.device, cfg.dtype)
        self.bench = bench
        if bench.threads:
            torch.set_num_threads(bench.threads)
        self.amp = dev.autocast(self.device, self.dtype)
        source = (
            real_batches(cfg, self.device)
            if bench.data == "real"
            else synthetic_batches(bench, self.device)
        )  # first: missing data fails before the model is built
        self.batches = _TimedBatches(source)
        dev.manual_seed(cfg.seed)
        self.model = GPT.build(cfg.model, self.device)
        self.total_batch, self.grad_accum = batch_plan(cfg, 1)
        self.optimizer = build_optimizer(self.model, cfg.optim, self.total_batch)
        self.attention = observed_attention(self.model, self.amp, self.device, bench.sequence_len)
        self.train_model = torch.compile(self.model) if cfg.compile else self.model
        self.flops_per_token = flops.flops_per_token(self.model, cfg.model.sequence_len)
        self.last_loss: torch.Tensor | None = None

    def _steps(self, n: int) -> None:
        with nanochat_errors():
            for _ in range(n):
                self.last_loss = train_step(
                    self.train_model, self.optimizer, self.batches, self.grad_accum, self.amp, False
                )

    def warm_up(self) -> dict:
        """Run the untimed steps one by one (compilation lands in the first); reset peak memory."""
        seconds = []
        for _ in range(self.bench.warmup_steps):
            dev.synchronize(self.device)
            t0 = time.perf_counter()
            self._steps(1)
            dev.synchronize(self.device)
            seconds.append(time.perf_counter() - t0)
        reset_peak_memory(self.device)
        return {
            "steps": len(seconds),
            "seconds": sum(seconds),
            "first_step_s": seconds[0] if seconds else None,
        }

    def time_round(self) -> dict:
        """Time ``steps_per_round`` steps as one round: ms per step and loader ms per step."""
        steps = self.bench.steps_per_round
        fetched = self.batches.seconds
        dev.synchronize(self.device)
        if dev.is_cuda(self.device):
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            self._steps(steps)
            end.record()
            end.synchronize()
            ms = start.elapsed_time(end)
        else:
            t0 = time.perf_counter()
            self._steps(steps)
            dev.synchronize(self.device)
            ms = (time.perf_counter() - t0) * 1e3
        loader_ms = (self.batches.seconds - fetched) * 1e3
        return {"ms_per_step": ms / steps, "loader_ms_per_step": loader_ms / steps}

    def facts(self) -> dict:
        """Everything but the timings, read after the rounds (peak memory, last loss)."""
        loss = float(self.last_loss) if self.last_loss is not None else None
        peak = dev.peak_flops(self.device)
        return {
            "environment": environment(self.device, self.dtype, self.bench.compile, self.attention),
            "memory": peak_memory(self.device),
            "tokens_per_step": self.total_batch,
            "flops_per_token": self.flops_per_token,
            "peak_flops": peak or None,
            "num_params": flops.params_by_group(self.model)["total"],
            "final_loss": loss,
        }


def summarize(bench: StepBench, facts: dict, warmup: dict, rounds: list[dict]) -> dict:
    """The JSON-ready result (RESULT_KEYS) from a session's facts, its warm-up and its rounds."""
    ms = [r["ms_per_step"] for r in rounds]
    loader_ms = [r["loader_ms_per_step"] for r in rounds]
    ms_spread = spread(ms)
    tok_per_s = facts["tokens_per_step"] / (ms_spread["median"] / 1e3)
    flops_per_s = facts["flops_per_token"] * tok_per_s
    peak = facts["peak_flops"]
    return {
        "config": asdict(bench),
        "environment": facts["environment"],
        "warmup": warmup,
        "rounds_ms_per_step": ms,
        "rounds_loader_ms_per_step": loader_ms,
        "ms_per_step": ms_spread,
        "tokens_per_step": facts["tokens_per_step"],
        "tok_per_s": tok_per_s,
        "flops_per_token": facts["flops_per_token"],
        "tflops_per_s": flops_per_s / 1e12,
        "peak_flops": peak,
        "mfu_percent": 100 * flops_per_s / peak if peak else None,
        "memory": facts["memory"],
        "loader_share": sum(loader_ms) / sum(ms),
        "num_params": facts["num_params"],
        "final_loss": facts["final_loss"],
    }


def bench_step(bench: StepBench) -> dict:
    """Build, warm up and time ``bench``; the result holds RESULT_KEYS (see the module docstring)."""
    session = StepSession(bench)
    warmup = session.warm_up()
    rounds = [session.time_round() for _ in range(bench.rounds)]
    return summarize(bench, session.facts(), warmup, rounds)
