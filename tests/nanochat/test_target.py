"""Tests for time to target and the curve file: real tiny runs on the prepared tutorial corpus."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from nanochat.config import TrainConfig, with_overrides
from nanochat.train import main, train

# The tiny run of test_train.py: a 2-layer, 128-wide model on 4 x 64-token batches at reference LRs.
TINY = {
    "depth": 2, "sequence_len": 64, "vocab_size": 512, "device_batch_size": 4,
    "lr_reference_batch": 256, "eval_tokens": 1024, "log_every": 5, "device": "cpu",
}  # fmt: skip
TINY_FLAGS = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items()]
# Evaluations every 5 steps of a 20-step horizon; one untimed step so training_seconds starts early.
TARGET_RUN = {"num_steps": 20, "eval_every": 5, "warmup_steps_excluded": 1}


def tiny_config(**changes) -> TrainConfig:
    return with_overrides(TrainConfig(), **{**TINY, **changes})


@pytest.fixture(scope="module")
def reference_run(prepared_data, tmp_path_factory):
    """TARGET_RUN without a target, with its curve: the val_bpb values a target is set from."""
    curve = tmp_path_factory.mktemp("reference") / "curve.jsonl"
    with pytest.MonkeyPatch.context() as patch:
        for key, value in prepared_data.env.items():
            patch.setenv(key, value)
        summary = train(tiny_config(**TARGET_RUN, curve_jsonl=str(curve)))
    lines = curve.read_text(encoding="utf-8").splitlines()
    return summary, [json.loads(line) for line in lines]


def test_the_run_stops_at_the_first_evaluation_that_reaches_the_target(prepared_env, reference_run):
    _, records = reference_run
    before_end = {
        r["step"]: r["val_bpb"] for r in records if r["kind"] == "eval" and r["step"] < 20
    }
    best_step = min(before_end, key=before_end.get)
    # The best val_bpb before the horizon (plus 1e-9 for summation-order rounding): the same seed
    # and horizon reproduce the reference run step for step, so the evaluation at best_step is the
    # first to reach it, and the run must stop there, before the horizon.
    target = before_end[best_step] + 1e-9
    summary = train(tiny_config(**TARGET_RUN, target_val_bpb=target))
    assert summary["reached_target"] is True
    assert summary["target_step"] == summary["num_steps"] == best_step
    assert summary["val_bpb"] <= target
    assert summary["time_to_target_s"] == summary["training_seconds"] > 0
    assert summary["target_tokens_M"] == pytest.approx(best_step * 256 / 1e6)


def test_a_target_not_reached_runs_the_whole_horizon_and_says_so(prepared_env):
    summary = train(tiny_config(num_steps=3, eval_every=-1, target_val_bpb=0.01))
    assert summary["num_steps"] == 3
    assert summary["reached_target"] is False
    assert summary["target_step"] == -1
    assert math.isnan(summary["time_to_target_s"]) and math.isnan(summary["target_tokens_M"])


def test_the_curve_holds_a_start_record_logged_steps_evaluations_and_the_summary(reference_run):
    summary, records = reference_run
    kinds = [r["kind"] for r in records]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert records[0]["model_family"] == "nanochat" and records[0]["num_steps"] == 20
    train_steps = [r["step"] for r in records if r["kind"] == "train"]
    assert train_steps == [1, 5, 10, 15, 20]  # log_every 5, plus the first step
    evals = [r for r in records if r["kind"] == "eval"]
    assert [r["step"] for r in evals] == [5, 10, 15, 20]
    assert all(r["training_seconds"] >= 0 and r["tokens"] == r["step"] * 256 for r in evals)
    seconds = [r["training_seconds"] for r in records if "training_seconds" in r]
    assert seconds == sorted(seconds)  # the trainer's clock never runs backwards
    assert records[-1]["val_bpb"] == summary["val_bpb"] == evals[-1]["val_bpb"]


def test_a_core_target_stops_the_run_at_the_first_core_evaluation(prepared_env, tmp_path):
    # Every item has a single choice, the gold one: accuracy 1 against a 0% baseline is CORE 1.0
    # whatever the model has learnt.
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    task = {"label": "same", "task_type": "multiple_choice", "random_baseline": 0.0}
    (bundle / "core.json").write_text(json.dumps({"tasks": [task]}))
    items = [{"query": f"Item {i} is", "choices": ["here"], "gold": 0} for i in range(3)]
    (bundle / "same.jsonl").write_text("\n".join(json.dumps(x) for x in items))
    cfg = tiny_config(
        num_steps=20, eval_every=-1, core_bundle=str(bundle), core_every=5, target_core=0.5
    )
    summary = train(cfg)
    assert summary["core"] == 1.0
    assert summary["reached_target"] is True and summary["target_step"] == 5


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--target-val-bpb", "0"], "error: --target-val-bpb 0.0: use -1 (no target) or a finite"),
        (["--target-val-bpb", "nan"], "error: --target-val-bpb nan: use -1 (no target)"),
        (["--target-core", "1.5"], "error: --target-core 1.5: use -1 (no target) or a CORE score"),
        (["--target-core", "0.3"], "error: --target-core 0.3 needs --core-bundle DIR"),
        (
            ["--target-core", "0.3", "--target-val-bpb", "2"],
            "error: --target-val-bpb and --target-core both set",
        ),
        (["--model-family", "gpt3"], "error: --model-family 'gpt3': use one of nanochat, gpt2"),
    ],
)
def test_bad_targets_and_families_are_one_line_errors_with_exit_2(
    prepared_env, capsys, flags, expected
):
    assert main([*TINY_FLAGS, "--num-steps", "1", *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(expected)


@pytest.mark.slow
def test_a_run_killed_mid_way_leaves_a_readable_partial_curve(prepared_env, tmp_path):
    curve = tmp_path / "curve.jsonl"
    flags = [*TINY_FLAGS, "--num-steps", "100000", "--eval-every", "5", "--log-every", "1"]
    child = subprocess.Popen(
        [sys.executable, "-m", "nanochat.train", *flags, "--curve-jsonl", str(curve)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **prepared_env.env},
    )
    try:
        deadline = time.monotonic() + 60  # start-up is ~3 s; a loaded 2-core machine is slower
        while time.monotonic() < deadline and child.poll() is None:
            if curve.is_file() and curve.read_text(encoding="utf-8").count('"eval"') >= 2:
                break
            time.sleep(0.05)
        assert child.poll() is None, "the trainer exited before it could be killed"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    records = [json.loads(line) for line in curve.read_text(encoding="utf-8").splitlines()]
    kinds = [r["kind"] for r in records]
    assert kinds[0] == "start" and "end" not in kinds
    assert kinds.count("eval") >= 2
    train_steps = [r["step"] for r in records if r["kind"] == "train"]
    assert train_steps == list(range(1, len(train_steps) + 1))
