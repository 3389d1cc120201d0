"""The bench gate (opt-in): with ``--base``, is the change's training step slower than the base's?

It times the base's ``nanochat/`` against the working tree's in one interleaved A/B run
(``harness.bench.compare.compare_step``, the smoke config at one CPU thread by default) and
fails when even the low end of the 95% interval of the B/A ms/step ratio is above
``max_slowdown``. Opt-in (``harness check --gate bench``) because shared CI machines are noisy:
beside another training run on these 2 cores, one-thread rounds still varied by about 10% and a
10-pair interval came out narrower than that noise, so the default limit is 1.25.

Options (``[tool.harness.gates.bench]``): ``max_slowdown`` (default 1.25), ``depth``,
``sequence_len``, ``device_batch_size`` (default the smoke config 2 / 128 / 4), ``rounds``
(default 10), ``threads`` (default 1), ``data`` (``real`` or ``synthetic``, default real).
"""

from __future__ import annotations

from typing import Any

from harness.codes import Code
from harness.gates import Gate, GateContext, GateOutput
from harness.gates.smoke_train import TRAIN_FILE

DEFAULT_MAX_SLOWDOWN = 1.25
SMOKE = {"depth": 2, "sequence_len": 128, "device_batch_size": 4, "rounds": 10, "threads": 1}

SLOWER = Code(
    "BENCH001",
    "error",
    "Find what makes the step slower (a host sync, a copy, an op moved off the fast path) and "
    "remove it, or show with `harness bench step --compare` on the target hardware that it pays",
    "With --base, the training step of the change is slower than the base's beyond the limit: the "
    "low end of the 95% bootstrap interval of the interleaved B/A ms/step ratio is above "
    "`max_slowdown`. Both sides run the same config in one run, rounds alternating A/B.",
    "Throughput is half of what users judge nanochat by; a slower step costs every run.",
)


OPTIONS: dict[str, type | tuple[type, ...]] = {
    "max_slowdown": (int, float),
    "depth": int,
    "sequence_len": int,
    "device_batch_size": int,
    "rounds": int,
    "threads": int,
    "data": str,
}


def run(ctx: GateContext) -> GateOutput:
    if not ctx.base:
        return GateOutput(skipped="no base ref: pass --base REF to time the step against it")
    from harness.bench.compare import compare_step
    from harness.bench.step import StepBench

    settings: dict[str, Any] = {**SMOKE, "data": "real"}
    settings.update({k: v for k, v in ctx.options.items() if k != "max_slowdown"})
    limit = float(ctx.options.get("max_slowdown", DEFAULT_MAX_SLOWDOWN))
    result = compare_step(ctx.root, ctx.base, StepBench(device="cpu", **settings))
    ratio = result["ratio"]
    metrics = {
        "ratio": round(ratio["b_over_a"], 4),
        "ci_low": round(ratio["ci_low"], 4),
        "ci_high": round(ratio["ci_high"], 4),
        "base_ms_per_step": round(result["a"]["ms_per_step"]["median"], 2),
        "ms_per_step": round(result["b"]["ms_per_step"]["median"], 2),
        "max_slowdown": limit,
    }
    if ratio["ci_low"] <= limit:
        return GateOutput(metrics=metrics)
    message = (
        f"ms/step {metrics['ms_per_step']} against {metrics['base_ms_per_step']} at {ctx.base}: "
        f"ratio {metrics['ratio']:.3f} (95% CI {metrics['ci_low']:.3f}-{metrics['ci_high']:.3f}), "
        f"above the limit {limit:g}"
    )
    return GateOutput([SLOWER.finding(TRAIN_FILE, message)], metrics)


GATE = Gate(
    description="opt-in: with --base, the training step is not slower than the base's (A/B)",
    run=run,
    codes=(SLOWER,),
    options=OPTIONS,
)
