"""The smoke-train gate: a tiny CPU training run through the real ``python -m nanochat.train``.

It passes when the run exits 0, every logged loss is finite and the last is below the first,
and ``--summary-json`` holds every summary key with a finite ``val_bpb``. The data must be
prepared (``make data``); when ``NANOCHAT_BASE_DIR`` is unset and ``.cache/nanochat`` exists
under the repository (where the Makefile prepares it), the run uses that.

Options (``[tool.harness.gates.smoke-train]``): ``args`` (the trainer flags, replacing the
default tiny run), ``extra_args`` (appended, e.g. ``["--vocab-size", "512"]``), ``timeout_s``
(default 300).
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.findings import Finding, GateResult
from harness.gates import Gate, GateContext
from harness.gates.tool_run import (
    OPTION_CODE,
    OPTION_DOC,
    code_under_check,
    option_findings,
    python_tool,
    run_tool,
    with_fingerprints,
)

TRAIN_MODULE = "nanochat.train"
TRAIN_FILE = "nanochat/train.py"
# A depth-2 model on 4 x 128 = 512-token batches. --lr-reference-batch 512 gives that batch the
# reference learning rates: scaled down from 2**19 tokens it barely learns in 30 steps (8.32 ->
# 8.18), at reference rates the loss falls clearly (8.32 -> 6.47, val_bpb 2.96 -> 2.40).
DEFAULT_ARGS = (
    "--depth", "2", "--sequence-len", "128", "--device-batch-size", "4", "--num-steps", "30",
    "--eval-every", "-1", "--eval-tokens", "16384", "--log-every", "5",
    "--lr-reference-batch", "512",
)  # fmt: skip
SUMMARY_KEYS = (
    "val_bpb", "training_seconds", "total_seconds", "peak_mem_mb", "mfu_percent",
    "total_tokens_M", "num_steps", "num_params_M", "depth",
)  # fmt: skip
DEFAULT_TIMEOUT_S = 300.0
PREPARE_HINT = "nanochat.data prepare"
_LOSS_LINE = re.compile(r"^step\s+\d+(?:/\d+)?\s*\|\s*loss\s+(\S+)", re.MULTILINE)


def parse_losses(log: str) -> list[float]:
    """The training losses from the trainer's ``step N/M | loss X | ...`` lines, in order."""
    losses = []
    for raw in _LOSS_LINE.findall(log):
        try:
            losses.append(float(raw))
        except ValueError:
            losses.append(math.nan)
    return losses


def _finding(code: str, message: str, fix_title: str) -> Finding:
    return Finding(
        rule=code,
        severity="error",
        path=TRAIN_FILE,
        line=1,
        col=1,
        message=message,
        fix_title=fix_title,
        why="If the tiny run cannot train, no experiment on this code means anything.",
        doc=f"harness explain {code}",
    )


def loss_findings(losses: list[float]) -> list[Finding]:
    """SMOKE003 when there is no loss, a non-finite loss, or a loss that did not fall."""
    if not losses:
        return [
            _finding(
                "SMOKE003",
                "the run logged no `step N | loss X` lines",
                "Keep the trainer's step log format, or lower --log-every",
            )
        ]
    if not all(math.isfinite(x) for x in losses):
        return [
            _finding(
                "SMOKE003",
                f"non-finite training loss in {losses}",
                "Find the NaN/inf: check the learning rates, init and loss scaling",
            )
        ]
    if losses[-1] >= losses[0]:
        return [
            _finding(
                "SMOKE003",
                f"loss did not fall: first {losses[0]:.4f}, last {losses[-1]:.4f}",
                "Check the optimizer step, the learning-rate schedule and the data order",
            )
        ]
    return []


def summary_findings(summary_path: Path) -> tuple[list[Finding], dict[str, Any]]:
    """SMOKE004 when the summary JSON is missing, malformed or lacks a finite val_bpb."""
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        return [
            _finding(
                "SMOKE004",
                f"no readable --summary-json ({err})",
                "Write the summary with every key to the --summary-json path",
            )
        ], {}
    if not isinstance(summary, dict):
        return [
            _finding(
                "SMOKE004",
                "the summary JSON is not an object",
                "Write a JSON object of summary keys",
            )
        ], {}
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    if missing:
        return [
            _finding(
                "SMOKE004",
                f"summary lacks {', '.join(missing)}",
                "Add the missing keys to the trainer's summary",
            )
        ], summary
    bpb = summary["val_bpb"]
    if not isinstance(bpb, int | float) or not math.isfinite(bpb):
        return [
            _finding(
                "SMOKE004",
                f"val_bpb is {bpb!r}, not a finite number",
                "Make the final evaluation run and report val_bpb",
            )
        ], summary
    return [], summary


def _failure(output: str, returncode: int) -> Finding:
    if PREPARE_HINT in output:
        return _finding(
            "SMOKE002",
            "training data is not prepared: " + _error_line(output),
            "Run `make data` (or `python -m nanochat.data prepare`) before the smoke run",
        )
    return _finding(
        "SMOKE001",
        f"the training run exited {returncode}: {_error_line(output)}",
        f"Run `python -m {TRAIN_MODULE}` with the same flags and fix the error it prints",
    )


def _error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [
        line for line in lines if line.lower().startswith("error") or "Error" in line.split(":")[0]
    ]
    return (errors or lines or ["no output"])[-1]


OPTIONS: dict[str, type | tuple[type, ...]] = {
    "args": list,
    "extra_args": list,
    "timeout_s": (int, float),
}


def run(ctx: GateContext) -> GateResult:
    start = time.perf_counter()
    bad_options = option_findings(ctx.root, "smoke-train", ctx.options, OPTIONS)
    if bad_options:
        return GateResult("smoke-train", ok=False, findings=bad_options)
    env = code_under_check(ctx.root)
    if "NANOCHAT_BASE_DIR" not in os.environ and (ctx.root / ".cache/nanochat").is_dir():
        env["NANOCHAT_BASE_DIR"] = str(ctx.root / ".cache/nanochat")
    flags = [str(a) for a in ctx.options.get("args", DEFAULT_ARGS)]
    flags += [str(a) for a in ctx.options.get("extra_args", [])]
    timeout_s = float(ctx.options.get("timeout_s", DEFAULT_TIMEOUT_S))
    with tempfile.TemporaryDirectory(prefix="harness-smoke-") as scratch:
        summary_path = Path(scratch) / "summary.json"
        args = [*python_tool(TRAIN_MODULE), *flags, "--summary-json", str(summary_path)]
        ran = run_tool(args, ctx.root, timeout_s=timeout_s, env=env)
        output = ran.stdout + "\n" + ran.stderr
        losses = parse_losses(ran.stdout)
        metrics: dict[str, Any] = {"wall_s": round(ran.duration_s, 2), "logged_losses": len(losses)}
        if ran.problem:
            findings = [
                _finding(
                    "SMOKE005",
                    ran.problem,
                    "Make the tiny run faster, or raise the gate's timeout_s option",
                )
            ]
        elif ran.returncode != 0:
            findings = [_failure(output, ran.returncode)]
        else:
            findings = loss_findings(losses)
            summary_problems, summary = summary_findings(summary_path)
            findings += summary_problems
            metrics.update(
                {k: summary[k] for k in SUMMARY_KEYS if isinstance(summary.get(k), int | float)}
            )
    if losses:
        metrics.update({"first_loss": losses[0], "last_loss": losses[-1]})
    return GateResult(
        "smoke-train",
        ok=not findings,
        duration_s=time.perf_counter() - start,
        findings=with_fingerprints(ctx.root, findings),
        metrics=metrics,
    )


GATE = Gate(
    id="smoke-train",
    tier="full",
    description="a tiny CPU run of python -m nanochat.train: finite loss that falls, well-formed summary",
    run=run,
    codes={
        OPTION_CODE: OPTION_DOC,
        "SMOKE001": "The smoke training run (`python -m nanochat.train` with a depth-2 model for "
        "30 steps) exited with an error. The message carries the trainer's error line; rerun "
        "the command to see all of it.",
        "SMOKE002": "The smoke run found no prepared data (tokenizer or token shards). Run "
        "`make data` or `python -m nanochat.data prepare`, or point NANOCHAT_BASE_DIR at "
        "prepared data.",
        "SMOKE003": "The smoke run's training loss is missing, not finite, or did not fall from "
        "the first logged step to the last: the model, optimizer or data order is broken.",
        "SMOKE004": "The run's --summary-json is missing, malformed, lacks one of the summary "
        "keys (val_bpb, training_seconds, total_seconds, peak_mem_mb, mfu_percent, "
        "total_tokens_M, num_steps, num_params_M, depth) or has a non-finite val_bpb.",
        "SMOKE005": "The smoke run ran past its time limit (option timeout_s, default 300 s).",
    },
)
