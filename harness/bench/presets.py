"""Named time-to-target setups for ``harness bench ttt``, and their plan (``--dry-run``).

A ``Preset`` is the trainer flags, the target, how to launch (one process, or torchrun with one
process per GPU) and what the run needs (CUDA, parquet shards, a CORE bundle). ``plan`` resolves
the flags through nanochat's own parser and horizon rule (``nanochat.train.planned_steps``, on a
model built on the meta device, so nothing is allocated or trained) and reports tokens, steps,
batch and an estimated training time: from a measured ms/step when one is given (``harness bench
step`` measures it), else from FLOPs at the preset's assumed MFU.

Presets:

- ``cpu``: what this 2-core machine can run in minutes; the default depth-4, 256-token GPT,
  batch 8 x 256 at the reference LRs (``--lr-reference-batch 2048``), a 2000-step horizon (so the
  LR is constant until step 1000), val_bpb <= 1.85 on the default corpus (``make data``),
  evaluated every 10 steps on 32,768 validation tokens; the baseline at its swept LR.
- ``gpt2``: nanochat's time-to-GPT-2 run (leaderboard "Run 1", commit 348fbb3, 2026-01-29):
  depth 24, head_dim 128, SSSL windows, sequence 2048, vocab 32768, 524,288 tokens per step
  (16 x 2048 per GPU x 8 GPUs, 2 micro-steps), horizon 12 tokens per matmul parameter (16,704
  steps), CORE >= 0.256525 (GPT-2 1.6B's score) on parquet shards, ``torchrun --standalone
  --nproc_per_node 8``. That run took 10,949 s of training at about 50% MFU on 8 H100s, which is
  the assumed MFU here.
"""

from __future__ import annotations

import contextlib
import io
import shlex
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from harness.errors import HarnessError

TRAIN_MODULE = "nanochat.train"
METRICS = ("val_bpb", "core")
PARQUET_PLACEHOLDER = "PARQUET_DIR"
BUNDLE_PLACEHOLDER = "CORE_BUNDLE"


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    train_flags: tuple[str, ...]  # trainer flags; the target and output flags are added per run
    target_metric: str  # "val_bpb" (reached at or below) or "core" (reached at or above)
    target: float
    baseline_flags: tuple[str, ...] = ()  # added for the --compare gpt2-baseline run only
    nproc: int = 1  # processes; above 1 the run goes through torchrun, one per GPU
    needs_cuda: bool = False
    needs_parquet: bool = False
    peak_flops_per_device: float = 0.0  # for the FLOPs-based estimate; 0 = none
    assumed_mfu: float = 0.0
    timeout_s: float = 0.0  # per run; 0 = none


PRESETS = {
    "cpu": Preset(
        name="cpu",
        description="depth 4, sequence 256, batch 8 x 256 on this CPU; val_bpb target, default corpus",
        train_flags=tuple(
            "--device cpu --depth 4 --sequence-len 256 --vocab-size 4096 --device-batch-size 8 "
            "--num-steps 2000 --lr-reference-batch 2048 --eval-every 10 --eval-tokens 32768 "
            "--log-every 5".split()
        ),
        target_metric="val_bpb",
        target=1.85,
        # the best of a CPU sweep (docs/benchmarks-trainer.md): 1e-3 with 100 warm-up steps
        baseline_flags=("--gpt2-lr", "0.001", "--gpt2-warmup-steps", "100"),
        timeout_s=3600.0,
    ),
    "gpt2": Preset(
        name="gpt2",
        description="nanochat's time-to-GPT-2 run: depth 24 on 8 GPUs until CORE >= 0.256525",
        train_flags=tuple(
            "--depth 24 --head-dim 128 --window-pattern SSSL --sequence-len 2048 "
            "--vocab-size 32768 --device-batch-size 16 --total-batch-tokens 524288 "
            "--target-param-data-ratio 12 --eval-every 250 --eval-tokens 20971520 "
            "--core-every 3000 --log-every 100".split()
        ),
        target_metric="core",
        target=0.256525,
        nproc=8,
        needs_cuda=True,
        needs_parquet=True,
        peak_flops_per_device=989e12,  # H100 SXM bf16 dense
        assumed_mfu=0.5,
    ),
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; a one-line HarnessError listing the known ones otherwise."""
    if name not in PRESETS:
        raise HarnessError(f"unknown preset {name!r}; use one of {', '.join(PRESETS)}")
    return PRESETS[name]


def check_target(metric: str, value: float) -> None:
    """Reject a target no run can be judged against: NaN, infinite, <= 0, or a CORE above 1.

    A val_bpb target above the untrained model's is allowed: it is reached at the first evaluation.
    """
    if metric not in METRICS:
        raise HarnessError(f"target metric {metric!r}: use one of {', '.join(METRICS)}")
    flag = f"--target-{metric.replace('_', '-')}"
    if not value > 0 or value == float("inf"):
        raise HarnessError(f"{flag} {value}: impossible target; use a finite value above 0")
    if metric == "core" and value > 1:
        raise HarnessError(f"{flag} {value}: impossible target; CORE is at most 1")


def resolve_target(
    preset: Preset, target_val_bpb: float | None = None, target_core: float | None = None
) -> tuple[str, float]:
    """(metric, value): the one target given, else the preset's; checked by ``check_target``."""
    if target_val_bpb is not None and target_core is not None:
        raise HarnessError("--target-val-bpb and --target-core both given; pass only one")
    if target_core is not None:
        metric, value = "core", target_core
    elif target_val_bpb is not None:
        metric, value = "val_bpb", target_val_bpb
    else:
        metric, value = preset.target_metric, preset.target
    check_target(metric, value)
    return metric, value


def train_flags(
    preset: Preset,
    metric: str,
    target: float,
    parquet_dir: str = "",
    core_bundle: str = "",
    extra: tuple[str, ...] | list[str] = (),
) -> list[str]:
    """The preset's trainer flags with the data, bundle, target and any extra flags (last wins)."""
    flags = list(preset.train_flags)
    if parquet_dir or preset.needs_parquet:
        flags += ["--parquet-dir", parquet_dir or PARQUET_PLACEHOLDER]
    if core_bundle or metric == "core":
        flags += ["--core-bundle", core_bundle or BUNDLE_PLACEHOLDER]
    flags += [f"--target-{metric.replace('_', '-')}", repr(float(target))]
    return flags + list(extra)


def launcher(preset: Preset) -> list[str]:
    """``python -m nanochat.train``, or ``torchrun --standalone --nproc_per_node N -m nanochat.train``."""
    if preset.nproc <= 1:
        return [sys.executable, "-m", TRAIN_MODULE]
    torchrun = Path(sys.executable).with_name("torchrun")
    head = [str(torchrun)] if torchrun.is_file() else [shutil.which("torchrun") or "torchrun"]
    return [*head, "--standalone", "--nproc_per_node", str(preset.nproc), "-m", TRAIN_MODULE]


def resolve_config(flags: list[str]):
    """The TrainConfig nanochat builds from ``flags``; a bad flag or value is a HarnessError."""
    from nanochat.config import NanochatError
    from nanochat.flags import build_parser, config_from_args
    from nanochat.train import check_config

    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            args = build_parser().parse_args(flags)
    except SystemExit as exc:
        message = captured.getvalue().strip().removeprefix("error: ") or f"exit {exc.code}"
        raise HarnessError(f"trainer flags: {message}") from exc
    cfg = config_from_args(args)
    checked = cfg
    if cfg.core_bundle == BUNDLE_PLACEHOLDER:  # a plan without a bundle: check everything else
        checked = replace(cfg, core_bundle="", target_core=-1.0)
    try:
        check_config(checked)
    except (ValueError, NanochatError) as exc:
        raise HarnessError(f"trainer flags: {exc}") from exc
    return cfg


def plan(
    preset: str | Preset,
    measured_ms_per_step: float | None = None,
    *,
    compare: bool = False,
    target_val_bpb: float | None = None,
    target_core: float | None = None,
    parquet_dir: str = "",
    core_bundle: str = "",
    extra_flags: tuple[str, ...] | list[str] = (),
) -> dict:
    """The run ``harness bench ttt`` would launch, without training: flags, tokens, steps, time.

    With ``compare`` the gpt2 baseline is planned too, at the modern run's horizon; a measured
    ms/step is taken as the modern model's and scaled by FLOPs per token for the baseline.
    """
    preset = get_preset(preset) if isinstance(preset, str) else preset
    metric, value = resolve_target(preset, target_val_bpb, target_core)
    if measured_ms_per_step is not None and not measured_ms_per_step > 0:
        raise HarnessError(f"--measured-ms-per-step {measured_ms_per_step}: must be above 0")
    flags = train_flags(preset, metric, value, parquet_dir, core_bundle, extra_flags)
    planned = {"nanochat": _run_plan(preset, flags, measured_ms_per_step)}
    if compare:
        modern = planned["nanochat"]
        ms = None
        if measured_ms_per_step is not None:  # the baseline's step scaled by its FLOPs per token
            ms = measured_ms_per_step * _baseline_flops(flags, preset) / modern["flops_per_token"]
        planned["gpt2"] = _run_plan(preset, baseline_flags(preset, flags, modern["num_steps"]), ms)
    return {
        "preset": preset.name,
        "description": preset.description,
        "target": {"metric": metric, "value": value},
        "nproc": preset.nproc,
        "needs": _needs(preset, metric, parquet_dir, core_bundle),
        "runs": planned,
    }


def baseline_flags(preset: Preset, flags: list[str], num_steps: int | None) -> list[str]:
    """The --compare gpt2-baseline run's flags: the same run, the gpt2 family, the same horizon."""
    horizon = [] if num_steps is None else ["--num-steps", str(num_steps)]
    return [*flags, "--model-family", "gpt2", *preset.baseline_flags, *horizon]


def _baseline_flops(flags: list[str], preset: Preset) -> float:
    return _meta_model(
        resolve_config(baseline_flags(preset, flags, None))
    ).estimate_flops_per_token()


def _meta_model(cfg):
    """The run's model on the meta device: shapes and counts, no memory, no init."""
    import torch

    from nanochat.families import MODEL_FAMILIES

    with torch.device("meta"):
        return MODEL_FAMILIES[cfg.model.model_family][0](cfg.model)


def horizon(cfg, nproc: int) -> int | None:
    """The optimizer steps the trainer will plan for ``cfg`` on ``nproc`` processes (None: a budget)."""
    from nanochat.train import batch_plan, planned_steps

    return planned_steps(cfg, _meta_model(cfg), batch_plan(cfg, nproc)[0])


def _run_plan(preset: Preset, flags: list[str], ms_per_step: float | None) -> dict:
    from nanochat.train import batch_plan, planned_steps

    cfg = resolve_config(flags)
    total_batch, grad_accum = batch_plan(cfg, preset.nproc)
    model = _meta_model(cfg)
    steps = planned_steps(cfg, model, total_batch)
    flops_per_token = model.estimate_flops_per_token()
    command = shlex.join([*launcher(preset), *flags])
    tokens = None if steps is None else steps * total_batch
    if steps is not None and ms_per_step is not None:
        seconds, source = steps * ms_per_step / 1000, f"{ms_per_step:.4g} ms/step"
    elif tokens is not None and preset.assumed_mfu > 0:
        rate = preset.nproc * preset.peak_flops_per_device * preset.assumed_mfu
        seconds = flops_per_token * tokens / rate
        source = (
            f"FLOPs at an assumed {100 * preset.assumed_mfu:.0f}% MFU of "
            f"{preset.nproc} x {preset.peak_flops_per_device / 1e12:g} TFLOP/s"
        )
    else:
        seconds, source = None, "no estimate: pass a measured ms/step (harness bench step)"
    return {
        "command": command,
        "model_family": cfg.model.model_family,
        "num_params": model.num_params_by_group()["total"],
        "flops_per_token": flops_per_token,
        "num_steps": steps,
        "time_budget_s": cfg.time_budget_s if steps is None else None,
        "batch_tokens": total_batch,
        "device_batch": f"{cfg.device_batch_size} x {cfg.model.sequence_len}",
        "grad_accum": grad_accum,
        "tokens": tokens,
        "eval_every": cfg.eval_every,
        "estimated_training_s": seconds,
        "estimate_from": source,
    }


def _needs(preset: Preset, metric: str, parquet_dir: str, core_bundle: str) -> list[str]:
    needs = []
    if preset.needs_cuda:
        needs.append(f"CUDA with {preset.nproc} GPUs")
    if preset.needs_parquet and not parquet_dir:
        needs.append(
            f"--parquet-dir (replaces {PARQUET_PLACEHOLDER}): *.parquet shards with a text column, "
            "prepared with `python -m nanochat.data prepare --parquet-dir DIR --vocab-size 32768`"
        )
    if metric == "core" and not core_bundle:
        needs.append(f"--core-bundle (replaces {BUNDLE_PLACEHOLDER}): a CORE bundle (core.json)")
    return needs


def format_plan(planned: dict) -> str:
    """The plan as text lines, one block per run (what ``--dry-run`` prints)."""
    target = planned["target"]
    sign = "<=" if target["metric"] == "val_bpb" else ">="
    lines = [
        f"preset {planned['preset']}: {planned['description']}",
        f"target: {target['metric']} {sign} {target['value']:g}",
    ]
    for family, run in planned["runs"].items():
        steps = run["num_steps"]
        tokens = "-" if run["tokens"] is None else f"{run['tokens']:,}"
        seconds = run["estimated_training_s"]
        estimate = "-" if seconds is None else f"{seconds:,.0f} s ({seconds / 3600:.2f} h)"
        lines += [
            f"{family}: {run['num_params'] / 1e6:,.1f}M params, "
            f"{run['flops_per_token'] / 1e9:.3f} GFLOP/token",
            f"  steps {'-' if steps is None else f'{steps:,}'} (at most; stops at the target), "
            f"batch {run['batch_tokens']:,} tokens = {run['device_batch']} per device x "
            f"{planned['nproc']} x {run['grad_accum']} micro-steps, tokens {tokens}",
            f"  estimated training time {estimate}; {run['estimate_from']}",
            f"  command: {run['command']}",
        ]
    lines += [f"needs: {need}" for need in planned["needs"]]
    return "\n".join(lines)
