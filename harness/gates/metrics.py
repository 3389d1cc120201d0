"""The metrics gate: with ``--base``, did the change make the smoke run's val_bpb worse?

The change's tiny CPU run (the smoke config, one seed) is compared with the base's run at the
same seed and config. The base is measured from its own ``nanochat/``, exported from git into a
temporary folder, over several seeds; the result is cached by base commit, config and torch
version under ``.harness_cache/metrics/``, so it runs once per base. The margin is the base's
measured seed-to-seed spread times ``sigmas`` (never below ``min_margin_bpb``, which only
guards a zero spread): a change whose val_bpb rises past it is METRIC001, one that falls is
reported in the metrics as an improvement. ms/step is reported, not judged: shared CI machines
are too noisy for it (see the opt-in bench gate).

Options (``[tool.harness.gates.metrics]``): ``seeds`` (base seeds, default 3), ``sigmas``
(default 3.0), ``min_margin_bpb`` (default 0.002), ``args`` (trainer flags, default the smoke
config), ``timeout_s`` (per run, default 300).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import statistics
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from harness import git
from harness.codes import Code
from harness.gates import Gate, GateContext, GateOutput
from harness.gates.smoke_train import DEFAULT_ARGS, TRAIN_FILE, TRAIN_MODULE
from harness.gates.tool_run import python_tool, run_tool

BASE_SEED = 42  # TrainConfig.seed's default: the change runs at this seed
DEFAULT_SEEDS = 3
DEFAULT_SIGMAS = 3.0
DEFAULT_MIN_MARGIN_BPB = 0.002
DEFAULT_TIMEOUT_S = 300.0
CACHE_DIR = ".harness_cache/metrics"
WHY = "A change that makes the model learn worse must not pass because its tests still do."

REGRESSED = Code(
    "METRIC001",
    "error",
    "Find what in the change makes the model learn worse (learning rates, schedule, init, "
    "data order) and fix it, or show with a larger run that it helps",
    "With --base, the smoke run's val_bpb (the sealed evaluator's bits per byte, lower is better) "
    "rose past the noise margin against the base at the same seed and config. The margin is the "
    "base's seed-to-seed spread times `sigmas`, measured over several seeds and cached per base "
    "commit. The message names both values, the difference and the margin.",
    WHY,
)
RUN_FAILED = Code(
    "METRIC002",
    "error",
    f"Run `python -m {TRAIN_MODULE}` with the smoke flags in the base and in the change, and "
    "fix what stops it",
    "The metrics gate could not measure: a training run of the base or of the change failed, "
    "timed out, or wrote no summary. The message names which run and its last error line.",
    WHY,
)


def _run_training(tree: Path, cwd: Path, flags: list[str], seed: int, timeout_s: float) -> dict:
    """One training run importing ``nanochat`` from ``tree``; its summary, or ``{"error"}``."""
    with tempfile.TemporaryDirectory(prefix="harness-metrics-") as scratch:
        summary = Path(scratch) / "summary.json"
        args = [*python_tool(TRAIN_MODULE), *flags, "--seed", str(seed)]
        args += ["--summary-json", str(summary)]
        ran = run_tool(args, cwd, timeout_s=timeout_s, env={"PYTHONPATH": str(tree)})
        try:
            result = json.loads(summary.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {"error": ran.problem or ran.tail(2) or f"exit {ran.returncode}"}
    bpb = result.get("val_bpb")
    if ran.returncode != 0 or not isinstance(bpb, int | float) or not math.isfinite(bpb):
        return {"error": ran.problem or ran.tail(2) or f"val_bpb {bpb!r}"}
    steps = max(int(result.get("num_steps") or 0), 1)
    return {"val_bpb": float(bpb), "ms_per_step": 1000 * result["training_seconds"] / steps}


def _cache_key(commit: str, flags: list[str], seeds: int) -> str:
    text = json.dumps([commit, flags, seeds, version("torch"), os.cpu_count()])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def measure_base(root: Path, commit: str, flags: list[str], seeds: int, timeout_s: float) -> dict:
    """The base's runs over ``seeds`` seeds, from the cache or measured now (then cached)."""
    cache = root / CACHE_DIR / f"{commit[:12]}-{_cache_key(commit, flags, seeds)}.json"
    try:
        return json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        pass
    runs = []
    with tempfile.TemporaryDirectory(prefix="harness-base-") as scratch:
        tree = Path(scratch)
        git.export_tree(root, commit, ["nanochat"], tree)
        for seed in range(BASE_SEED, BASE_SEED + seeds):
            run = _run_training(tree, tree, flags, seed, timeout_s)
            if "error" in run:
                return {"error": f"base {commit[:10]} seed {seed}: {run['error']}"}
            runs.append({"seed": seed, **run})
    measured = {"commit": commit, "flags": flags, "torch": version("torch"), "runs": runs}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(measured, indent=2) + "\n", encoding="utf-8")
    return measured


def verdict(change_bpb: float, base_runs: list[dict], sigmas: float, min_margin: float) -> dict:
    """The comparison at the base seed: delta, spread, margin and whether it regressed."""
    values = [r["val_bpb"] for r in base_runs]
    at_seed = next(r["val_bpb"] for r in base_runs if r["seed"] == BASE_SEED)
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    margin = max(sigmas * spread, min_margin)
    delta = change_bpb - at_seed
    return {
        "val_bpb": change_bpb,
        "base_val_bpb": at_seed,
        "val_bpb_delta": delta,
        "base_seed_spread": spread,
        "margin": margin,
        "regressed": delta > margin,
        "improved": delta < -margin,
    }


OPTIONS: dict[str, type | tuple[type, ...]] = {
    "seeds": int,
    "sigmas": (int, float),
    "min_margin_bpb": (int, float),
    "args": list,
    "timeout_s": (int, float),
}


def run(ctx: GateContext) -> GateOutput:
    if not ctx.base:
        return GateOutput(skipped="no base ref: pass --base REF to compare val_bpb with it")
    flags = [str(a) for a in ctx.options.get("args", DEFAULT_ARGS)]
    seeds = max(int(ctx.options.get("seeds", DEFAULT_SEEDS)), 1)
    timeout_s = float(ctx.options.get("timeout_s", DEFAULT_TIMEOUT_S))
    commit = git.resolve(ctx.root, ctx.base)
    base = measure_base(ctx.root, commit, flags, seeds, timeout_s)
    if "error" in base:
        return GateOutput([RUN_FAILED.finding(TRAIN_FILE, f"cannot measure {base['error']}")])
    change = _run_training(ctx.root, ctx.root, flags, BASE_SEED, timeout_s)
    if "error" in change:
        message = f"cannot measure the change (seed {BASE_SEED}): {change['error']}"
        return GateOutput([RUN_FAILED.finding(TRAIN_FILE, message)])
    sigmas = float(ctx.options.get("sigmas", DEFAULT_SIGMAS))
    min_margin = float(ctx.options.get("min_margin_bpb", DEFAULT_MIN_MARGIN_BPB))
    result = verdict(change["val_bpb"], base["runs"], sigmas, min_margin)
    base_ms = statistics.median(r["ms_per_step"] for r in base["runs"])
    metrics: dict[str, Any] = {
        **{k: round(v, 6) if isinstance(v, float) else v for k, v in result.items()},
        "base_seeds": len(base["runs"]),
        "ms_per_step": round(change["ms_per_step"], 2),
        "base_ms_per_step": round(base_ms, 2),
    }
    if not result["regressed"]:
        return GateOutput(metrics=metrics)
    message = (
        f"val_bpb {result['val_bpb']:.4f} against {result['base_val_bpb']:.4f} at {ctx.base} "
        f"(seed {BASE_SEED}): +{result['val_bpb_delta']:.4f}, beyond the margin "
        f"{result['margin']:.4f} ({sigmas:g} x the base's seed spread "
        f"{result['base_seed_spread']:.4f} over {len(base['runs'])} seeds)"
    )
    return GateOutput([REGRESSED.finding(_blamed_file(ctx), message)], metrics)


def _blamed_file(ctx: GateContext) -> str:
    """The first changed trainer module, where a reader starts looking (else train.py)."""
    changed = [p for p in ctx.paths if p.startswith("nanochat/") and p.endswith(".py")]
    return changed[0] if changed else TRAIN_FILE


GATE = Gate(
    description="with --base, the smoke run's val_bpb is not worse than the base's beyond its "
    "seed spread",
    run=run,
    codes=(REGRESSED, RUN_FAILED),
    options=OPTIONS,
)
