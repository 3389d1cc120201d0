"""``harness bench ttt``: time to target through the real entry point, alone or against GPT-2.

``time_to_target`` launches ``python -m nanochat.train`` (or torchrun, per the preset) as a
subprocess with ``--target-val-bpb``/``--target-core``, ``--curve-jsonl`` and ``--summary-json``;
the trainer stops at the first scheduled evaluation that reaches the target and reports
``time_to_target_s``, its own training clock (optimizer steps after the first 10; evaluation and
compilation never counted). With ``compare="gpt2-baseline"`` the plain GPT-2 recipe of matched
parameter count (``--model-family gpt2``: learned positions, LayerNorm, GELU, AdamW only) runs next
with the same data, seed, batch, horizon and target, and the result carries the ratio
modern / baseline of training seconds to the target. When only the modern run gets there the
ratio is unknown but bounded: ``ratio_upper_bound`` is its time over all the baseline's training.

Files in ``out_dir``, per run ``<family>.curve.jsonl`` (flushed line by line, so a run killed
mid-way leaves a readable partial curve; ``read_curve`` skips a cut-short last line),
``<family>.summary.json`` and ``<family>.log``; then ``curve.json`` (every run's curve, summary and
command) and ``curve.png`` (train loss and the target metric against training seconds).

Before anything trains, bad input is one-line ``HarnessError``: an unknown preset or comparison,
an impossible target, a corpus that is not prepared, a missing parquet directory, CORE bundle or
checkpoint, a GPU-only preset without CUDA (or with too few GPUs), bad trainer flags. A trainer
that exits 2 is reported with its own error line; one that diverges (exit 1), times out or is
killed ends as a run that did not reach the target, its partial curve kept.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

from harness.bench.presets import (
    Preset,
    baseline_flags,
    get_preset,
    horizon,
    launcher,
    resolve_config,
    resolve_target,
    train_flags,
)
from harness.errors import HarnessError

COMPARISONS = ("gpt2-baseline",)
RUN_KEYS = (
    "reached_target", "time_to_target_s", "target_step", "target_tokens_M", "training_seconds",
    "num_steps", "total_tokens_M", "val_bpb", "num_params_M",
)  # fmt: skip


def time_to_target(
    out_dir: str | Path,
    preset: str = "cpu",
    *,
    target_val_bpb: float | None = None,
    target_core: float | None = None,
    compare: str | None = None,
    parquet_dir: str = "",
    core_bundle: str = "",
    extra_flags: Sequence[str] = (),
    timeout_s: float | None = None,
    cwd: str | Path | None = None,
) -> dict:
    """Train to the target (the preset's unless one is given) and report time, steps and tokens.

    ``extra_flags`` are trainer flags appended after the preset's (the last occurrence wins).
    ``timeout_s`` caps each run (default: the preset's). The trainer inherits this process's
    environment (NANOCHAT_BASE_DIR, NANOCHAT_CORPUS_DIR), which the data checks read too.
    """
    spec = get_preset(preset)
    metric, value = resolve_target(spec, target_val_bpb, target_core)
    if metric == "core" and not core_bundle:
        raise HarnessError(
            f"a CORE target ({value:g}) needs --core-bundle DIR (core.json plus task JSONL)"
        )
    if compare is not None and compare not in COMPARISONS:
        raise HarnessError(f"unknown comparison {compare!r}; use {', '.join(COMPARISONS)}")
    flags = train_flags(spec, metric, value, parquet_dir, core_bundle, list(extra_flags))
    cfg = resolve_config(flags)
    _check_can_run(spec, cfg)
    runs = {"nanochat": flags}
    if compare:
        runs["gpt2"] = baseline_flags(spec, flags, horizon(cfg, spec.nproc))
        resolve_config(runs["gpt2"])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    limit = timeout_s if timeout_s is not None else (spec.timeout_s or None)
    results = {
        family: _train(spec, family, run_flags, out, limit, cwd)
        for family, run_flags in runs.items()
    }
    report = _report(spec, metric, value, results, out)
    (out / "curve.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    plot_curves(report, out / "curve.png")
    return {k: v for k, v in report.items() if k != "curves"}


def _check_can_run(spec: Preset, cfg) -> None:
    """One-line errors for what would only fail after launch: GPUs, data, bundle, checkpoint."""
    import torch

    from nanochat.checkpoint import resolve_checkpoint
    from nanochat.config import NanochatError
    from nanochat.dataset import data_dir, read_manifest
    from nanochat.tokenizer import tokenizer_dir

    if spec.needs_cuda and not torch.cuda.is_available():
        raise HarnessError(
            f"preset {spec.name} needs CUDA ({spec.nproc} GPUs) and none is available; "
            f"run it on a GPU node, or pass --dry-run to print its plan"
        )
    if spec.needs_cuda and torch.cuda.device_count() < spec.nproc:
        raise HarnessError(
            f"preset {spec.name} launches {spec.nproc} processes, one per GPU, but "
            f"{torch.cuda.device_count()} GPUs are visible; run it on an {spec.nproc}-GPU node"
        )
    if spec.needs_parquet and not cfg.data.parquet_dir:
        raise HarnessError(
            f"preset {spec.name} trains on parquet shards; pass --parquet-dir DIR "
            "(*.parquet with a text column)"
        )
    if cfg.data.parquet_dir and not Path(cfg.data.parquet_dir).is_dir():
        raise HarnessError(
            f"{cfg.data.parquet_dir}: parquet directory not found; pass an existing --parquet-dir"
        )
    vocab = cfg.model.vocab_size
    prepared = data_dir(cfg.data, vocab)
    if read_manifest(prepared) is None or not (tokenizer_dir(vocab) / "meta.json").is_file():
        source = f" --parquet-dir {cfg.data.parquet_dir}" if cfg.data.parquet_dir else ""
        raise HarnessError(
            f"{prepared}: no prepared corpus for vocab {vocab}; run `make data` or "
            f"`python -m nanochat.data prepare --vocab-size {vocab}{source}`"
        )
    if cfg.resume:
        try:
            resolve_checkpoint(cfg.resume)
        except NanochatError as exc:
            raise HarnessError(str(exc)) from exc


def _train(spec: Preset, family: str, flags: list[str], out: Path, timeout_s, cwd) -> dict:
    """One trainer subprocess; its summary and curve, and how it ended."""
    curve_path, summary_path = out / f"{family}.curve.jsonl", out / f"{family}.summary.json"
    log_path = out / f"{family}.log"
    summary_path.unlink(missing_ok=True)
    argv = [*launcher(spec), *flags, "--curve-jsonl", str(curve_path)]
    argv += ["--summary-json", str(summary_path)]
    with log_path.open("w", encoding="utf-8") as log:
        code = _run_child(argv, log, timeout_s, cwd)
    status = "finished" if code is not None else "timed out"
    error = _last_error(log_path)
    if code == 2:
        raise HarnessError(f"{family} run: {error or 'exit 2'}; see {log_path}")
    if code == 1:
        status = "diverged"
    elif code not in (0, None):
        status = f"killed (exit {code})"
    curve = read_curve(curve_path)
    summary = _load_json(summary_path) or curve["end"] or {}
    return {
        "status": status,
        "error": error if status != "finished" else "",
        "summary": summary,
        "curve": curve,
        "command": argv,
        "log": str(log_path),
    }


def _run_child(argv: list[str], log, timeout_s: float | None, cwd) -> int | None:
    """The trainer's exit status, or None when it ran past ``timeout_s`` and was killed.

    The trainer runs in its own process group, so a timeout or an interrupt of this process
    also ends every torchrun worker, not only the launcher.
    """
    child = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
    )  # fmt: skip
    try:
        return child.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        return None
    except BaseException:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        raise


def _last_error(log_path: Path) -> str:
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    return next((x.strip() for x in reversed(lines) if x.startswith("error:")), "")


def _load_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def read_curve(path: str | Path) -> dict:
    """A ``--curve-jsonl`` file as {"start", "train", "eval", "end", "is_complete"}.

    Lines that do not parse (the cut-short last line of a killed run) are skipped; ``end`` is
    None and ``is_complete`` False until the run wrote its summary record.
    """
    curve = {"start": None, "train": [], "eval": [], "end": None}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        text = ""
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        kind = record.pop("kind", None) if isinstance(record, dict) else None
        if kind in ("train", "eval"):
            curve[kind].append(record)
        elif kind in ("start", "end"):
            curve[kind] = record
    curve["is_complete"] = curve["end"] is not None
    return curve


def _run_report(result: dict, metric: str) -> dict:
    summary, curve = result["summary"], result["curve"]
    run = {key: summary.get(key) for key in RUN_KEYS}
    if run["reached_target"] is None:  # a killed run has no summary: read its curve
        hits = [e for e in curve["eval"] if e.get("reached_target")]
        run["reached_target"] = bool(hits)
        if hits:
            run["time_to_target_s"] = hits[0]["training_seconds"]
            run["target_step"], run["target_tokens_M"] = hits[0]["step"], hits[0]["tokens"] / 1e6
    if run["training_seconds"] is None and curve["train"]:
        last = curve["train"][-1]
        run["training_seconds"], run["num_steps"] = last["training_seconds"], last["step"]
        run["total_tokens_M"] = last["tokens"] / 1e6
    start = curve["start"] or {}
    best = [e[metric] for e in curve["eval"] if e.get(metric) is not None]
    pick = min if metric == "val_bpb" else max
    timed_steps = (run["num_steps"] or 0) - start.get("warmup_steps_excluded", 0)
    seconds = run["training_seconds"]
    return {
        **run,
        "best": pick(best) if best else None,
        "ms_per_step": 1000 * seconds / timed_steps if timed_steps > 0 and seconds else None,
        "flops_per_token": start.get("flops_per_token"),
        "status": result["status"],
        "error": result["error"],
        "command": result["command"],
        "log": result["log"],
    }


def _report(spec: Preset, metric: str, value: float, results: dict, out: Path) -> dict:
    runs = {family: _run_report(r, metric) for family, r in results.items()}
    report = {
        "schema": 1,
        "preset": spec.name,
        "target": {"metric": metric, "value": value},
        "runs": runs,
        "ratio": None,
        "ratio_upper_bound": None,
        "steps_ratio": None,
        "curve_json": str(out / "curve.json"),
        "curve_png": str(out / "curve.png"),
        "curves": {family: r["curve"] for family, r in results.items()},
    }
    modern, baseline = runs.get("nanochat"), runs.get("gpt2")
    if modern and baseline and modern["reached_target"]:
        mine = modern["time_to_target_s"]
        if baseline["reached_target"] and baseline["time_to_target_s"]:
            report["ratio"] = mine / baseline["time_to_target_s"]
            report["steps_ratio"] = modern["target_step"] / baseline["target_step"]
        elif baseline["training_seconds"]:
            report["ratio_upper_bound"] = mine / baseline["training_seconds"]
    return report


def plot_curves(report: dict, path: str | Path) -> Path:
    """``curve.png``: train loss (left) and the target metric (right) against training seconds."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metric, value = report["target"]["metric"], report["target"]["value"]
    figure = Figure(figsize=(11, 4.2), dpi=110)
    FigureCanvasAgg(figure)
    loss_axes, metric_axes = figure.subplots(1, 2)
    for family, curve in report["curves"].items():
        train = curve["train"]
        evals = [e for e in curve["eval"] if e.get(metric) is not None]
        label = "nanochat (modern)" if family == "nanochat" else "gpt2 baseline"
        losses = [math.nan if r["loss"] is None else r["loss"] for r in train]  # null: not finite
        loss_axes.plot([r["training_seconds"] for r in train], losses, label=label)
        metric_axes.plot(
            [e["training_seconds"] for e in evals], [e[metric] for e in evals], "o-", label=label
        )
        hit = report["runs"][family]["time_to_target_s"]
        if report["runs"][family]["reached_target"] and hit is not None and math.isfinite(hit):
            metric_axes.axvline(hit, linestyle=":", linewidth=1, color="gray")
    metric_axes.axhline(
        value, linestyle="--", color="black", linewidth=1, label=f"target {value:g}"
    )
    loss_axes.set(xlabel="training seconds", ylabel="train loss (nats)", title="train loss")
    metric_axes.set(
        xlabel="training seconds", ylabel=metric, title=f"{metric} at scheduled evaluations"
    )
    for axes in (loss_axes, metric_axes):
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle(f"time to {metric} {'<=' if metric == 'val_bpb' else '>='} {value:g}")
    figure.tight_layout()
    figure.savefig(path)
    return Path(path)


def format_result(result: dict) -> str:
    """The result as text lines: one per run, then the ratio and where the curve went.

    ms/step is training seconds over the timed steps (all but the first warmup_steps_excluded).
    """
    target = result["target"]
    sign = "<=" if target["metric"] == "val_bpb" else ">="
    lines = [f"preset {result['preset']}: time to {target['metric']} {sign} {target['value']:g}"]
    for family, run in result["runs"].items():
        if run["reached_target"]:
            where = (
                f"reached in {run['time_to_target_s']:.1f} s of training, step {run['target_step']}, "
                f"{run['target_tokens_M']:.3f}M tokens"
            )
        if run["ms_per_step"] is not None:
            where += f" ({run['ms_per_step']:.0f} ms/step)"
        else:
            best = "-" if run["best"] is None else f"{run['best']:.4f}"
            seconds = run["training_seconds"] or 0.0
            where = (
                f"not reached ({run['status']}) after {seconds:.1f} s, step {run['num_steps']}; "
                f"best {target['metric']} {best}"
            )
        lines.append(f"{family}: {where}")
    if result["ratio"] is not None:
        lines.append(
            f"ratio nanochat / gpt2: {result['ratio']:.3f} of the time, "
            f"{result['steps_ratio']:.3f} of the steps"
        )
    elif result["ratio_upper_bound"] is not None:
        lines.append(f"ratio nanochat / gpt2: at most {result['ratio_upper_bound']:.3f}")
    lines.append(f"curve: {result['curve_json']}, {result['curve_png']}")
    return "\n".join(lines)
