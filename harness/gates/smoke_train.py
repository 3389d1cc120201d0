"""The smoke-train gate: a tiny CPU training run through the real ``python -m nanochat.train``.

It passes when the run exits 0, every logged loss is finite and the last is below the first,
and ``--summary-json`` holds every summary key with a finite ``val_bpb``. The data must be
prepared (``make data``) where the trainer looks for it: ``NANOCHAT_BASE_DIR``, by default
``~/.cache/nanochat``.

Options (``[tool.harness.gates.smoke-train]``): ``args`` (the trainer flags, replacing the
default tiny run), ``extra_args`` (appended, e.g. ``["--vocab-size", "512"]``), ``timeout_s``
(default 300).
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path
from typing import Any

from harness.codes import Code
from harness.findings import Finding
from harness.gates import Gate, GateContext, GateOutput
from harness.gates.tool_run import code_under_check, python_tool, run_tool

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


WHY = "If the tiny run cannot train, no experiment on this code means anything."
RUN_FAILED = Code(
    "SMOKE001",
    "error",
    f"Run `python -m {TRAIN_MODULE}` with the same flags and fix the error it prints",
    "The smoke training run (`python -m nanochat.train` with a depth-2 model for 30 steps) exited "
    "with an error. The message carries the trainer's error line; rerun the command to see all "
    "of it.",
    WHY,
)
NO_DATA = Code(
    "SMOKE002",
    "error",
    "Run `make data` (or `python -m nanochat.data prepare`) before the smoke run",
    "The smoke run found no prepared data (tokenizer or token shards). Run `make data` or "
    "`python -m nanochat.data prepare`, or point NANOCHAT_BASE_DIR at prepared data.",
    WHY,
)
BAD_LOSS = Code(
    "SMOKE003",
    "error",
    "Check the optimizer step, the learning-rate schedule and the data order",
    "The smoke run's training loss is missing, not finite, or did not fall from the first logged "
    "step to the last: the model, optimizer or data order is broken.",
    WHY,
)
BAD_SUMMARY = Code(
    "SMOKE004",
    "error",
    "Write the summary with every key to the --summary-json path",
    "The run's --summary-json is missing, malformed, lacks one of the summary keys (val_bpb, "
    "training_seconds, total_seconds, peak_mem_mb, mfu_percent, total_tokens_M, num_steps, "
    "num_params_M, depth) or has a non-finite val_bpb.",
    WHY,
)
TIMED_OUT = Code(
    "SMOKE005",
    "error",
    "Make the tiny run faster, or raise the gate's timeout_s option",
    "The smoke run ran past its time limit (option timeout_s, default 300 s).",
    WHY,
)


def _finding(code: Code, message: str, fix_title: str = "") -> Finding:
    return code.finding(TRAIN_FILE, message, fix_title=fix_title)


def loss_findings(losses: list[float]) -> list[Finding]:
    """SMOKE003 when there is no loss, a non-finite loss, or a loss that did not fall."""
    if not losses:
        return [
            _finding(
                BAD_LOSS,
                "the run logged no `step N | loss X` lines",
                "Keep the trainer's step log format, or lower --log-every",
            )
        ]
    if not all(math.isfinite(x) for x in losses):
        return [
            _finding(
                BAD_LOSS,
                f"non-finite training loss in {losses}",
                "Find the NaN/inf: check the learning rates, init and loss scaling",
            )
        ]
    if losses[-1] >= losses[0]:
        return [
            _finding(
                BAD_LOSS,
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
                BAD_SUMMARY,
                f"no readable --summary-json ({err})",
                "Write the summary with every key to the --summary-json path",
            )
        ], {}
    if not isinstance(summary, dict):
        return [
            _finding(
                BAD_SUMMARY,
                "the summary JSON is not an object",
                "Write a JSON object of summary keys",
            )
        ], {}
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    if missing:
        return [
            _finding(
                BAD_SUMMARY,
                f"summary lacks {', '.join(missing)}",
                "Add the missing keys to the trainer's summary",
            )
        ], summary
    bpb = summary["val_bpb"]
    if not isinstance(bpb, int | float) or not math.isfinite(bpb):
        return [
            _finding(
                BAD_SUMMARY,
                f"val_bpb is {bpb!r}, not a finite number",
                "Make the final evaluation run and report val_bpb",
            )
        ], summary
    return [], summary


def _failure(output: str, returncode: int) -> Finding:
    if PREPARE_HINT in output:
        return _finding(
            NO_DATA,
            "training data is not prepared: " + _error_line(output),
            "Run `make data` (or `python -m nanochat.data prepare`) before the smoke run",
        )
    return _finding(
        RUN_FAILED,
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


def run(ctx: GateContext) -> GateOutput:
    env = code_under_check(ctx.root)
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
                    TIMED_OUT,
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
    return GateOutput(findings, metrics)


GATE = Gate(
    description="a tiny CPU run of python -m nanochat.train: finite loss that falls, "
    "well-formed summary",
    run=run,
    codes=(RUN_FAILED, NO_DATA, BAD_LOSS, BAD_SUMMARY, TIMED_OUT),
    options=OPTIONS,
)
