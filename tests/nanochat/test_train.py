"""Tests for the training loop and its CLI: real tiny runs on the prepared tutorial corpus."""

from __future__ import annotations

import itertools
import json
import math

import pytest
import torch

from nanochat import device as dev
from nanochat.config import ModelConfig, OptimConfig, TrainConfig, with_overrides
from nanochat.data import PackedLoader
from nanochat.model import GPT
from nanochat.optim import build_optimizer
from nanochat.train import (
    SUMMARY_KEYS,
    batch_plan,
    main,
    planned_steps,
    train,
    train_step,
)

# A 2-layer, 128-wide model on 64-token rows; LRs referenced to this batch so no batch down-scaling.
TINY_FLAGS = [
    "--depth",
    "2",
    "--sequence-len",
    "64",
    "--vocab-size",
    "512",
    "--device-batch-size",
    "4",
]
TINY_FLAGS += [
    "--lr-reference-batch",
    "256",
    "--eval-tokens",
    "1024",
    "--log-every",
    "5",
    "--device",
    "cpu",
]


def tiny_config(**changes) -> TrainConfig:
    base = with_overrides(
        TrainConfig(),
        depth=2,
        sequence_len=64,
        vocab_size=512,
        device_batch_size=4,
        lr_reference_batch=256,
        eval_tokens=1024,
        log_every=5,
        device="cpu",
    )
    return with_overrides(base, **changes)


def test_two_layer_model_overfits_a_fixed_batch(prepared_env):
    cfg = tiny_config()
    torch.manual_seed(0)
    model = GPT.build(cfg.model, "cpu")
    optimizer = build_optimizer(model, cfg.optim, total_batch_tokens=256)
    batch = next(PackedLoader("train", 4, 64, prepared_env.tokenizer, prepared_env.data_cfg, "cpu"))
    batches = itertools.repeat(batch)
    losses = [
        train_step(
            model, optimizer, batches, 1, dev.autocast(torch.device("cpu"), torch.float32), False
        ).item()
        for _ in range(30)
    ]
    # ln(512) = 6.24 at init; memorising 256 tokens in 30 steps takes it well below half of that.
    assert losses[0] == pytest.approx(math.log(512), abs=0.3)
    assert losses[-1] < 0.5 * losses[0]


def test_gradient_accumulation_matches_one_large_batch(prepared_env):
    cfg = tiny_config()
    inputs, targets = next(
        PackedLoader("train", 4, 64, prepared_env.tokenizer, prepared_env.data_cfg, "cpu")
    )
    amp = dev.autocast(torch.device("cpu"), torch.float32)
    params = []
    for micro_batches in (
        [(inputs, targets)],
        [(inputs[:2], targets[:2]), (inputs[2:], targets[2:])],
    ):
        torch.manual_seed(0)
        model = GPT.build(cfg.model, "cpu")
        # SGD with lr 1 makes the parameter change equal the accumulated gradient; Adam's first step
        # is sign-like and would turn rounding noise in near-zero gradients into full-size steps.
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
        train_step(model, optimizer, iter(micro_batches), len(micro_batches), amp, False)
        params.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    # Equal-sized halves give the same mean gradient up to fp32 summation order (~1e-7 relative).
    torch.testing.assert_close(params[0], params[1], atol=1e-5, rtol=1e-5)


def test_train_returns_every_summary_field_and_the_loss_falls(prepared_env):
    summary = train(tiny_config(num_steps=30, warmup_steps_excluded=2))
    assert set(SUMMARY_KEYS) <= set(summary)
    assert summary["num_steps"] == 30
    assert summary["total_tokens_M"] == pytest.approx(30 * 256 / 1e6)
    assert summary["depth"] == 2
    assert 0 < summary["training_seconds"] < summary["total_seconds"]
    assert summary["peak_mem_mb"] > 0
    assert summary["mfu_percent"] == 0.0  # no nominal CPU peak: MFU is reported as 0 on CPU
    assert math.isfinite(summary["val_bpb"]) and summary["val_bpb"] > 0
    losses = summary["train_losses"]
    # Single 256-token batch losses scatter by ~0.5 nats; the mean of the last 10 (~5.0 here)
    # sits ~3 standard errors below the bound, which is 0.8 nats under the init loss ln(512).
    assert sum(losses[-10:]) / 10 < losses[0] - 0.8


def test_time_budget_stops_once_the_budget_is_spent(prepared_env):
    summary = train(tiny_config(time_budget_s=0.5, warmup_steps_excluded=1))
    # The loop checks the budget between steps, so it overshoots by at most one step: ~20 ms
    # quiet, but a step has taken over a second on this shared 2-core machine, hence 3 s.
    assert 0.5 <= summary["training_seconds"] < 3.5
    assert summary["num_steps"] >= 2


def test_horizon_comes_from_the_tokens_per_param_ratio_when_unset():
    cfg = tiny_config(target_param_data_ratio=2.0)
    model = GPT.build(cfg.model, "cpu")
    counts = model.num_params_by_group()
    assert planned_steps(cfg, model, 256) == round(
        2.0 * (counts["matrices"] + counts["lm_head"]) / 256
    )
    assert planned_steps(tiny_config(time_budget_s=5.0), model, 256) is None
    assert planned_steps(tiny_config(num_steps=7), model, 256) == 7


def test_batch_plan_derives_gradient_accumulation():
    assert batch_plan(tiny_config(), world_size=1) == (256, 1)
    assert batch_plan(tiny_config(total_batch_tokens=1024), world_size=2) == (1024, 2)


def test_cli_prints_the_summary_block_and_writes_json(prepared_env, tmp_path, capsys):
    summary_path = tmp_path / "summary.json"
    assert main([*TINY_FLAGS, "--num-steps", "3", "--summary-json", str(summary_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    block = out[out.index("---") + 1 :]
    assert [line.split(":")[0] for line in block] == list(SUMMARY_KEYS)
    assert "num_steps: 3" in block
    written = json.loads(summary_path.read_text())
    assert list(written) == list(SUMMARY_KEYS)
    assert written["num_steps"] == 3


def test_cli_logs_step_lines_with_loss_lr_speed_and_mfu(prepared_env, capsys):
    assert main([*TINY_FLAGS, "--num-steps", "5"]) == 0
    step_lines = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("step 00005/5 |")
    ]
    assert len(step_lines) == 1
    for field in ("loss ", "lrm ", " ms", "tok/s ", "mfu "):
        assert field in step_lines[0]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--depth", "0"], "error: --depth 0: must be at least 1"),
        (
            ["--window-pattern", "SXL"],
            "error: --window-pattern 'SXL': use only the letters S and L, e.g. SSSL",
        ),
        (["--total-batch-tokens", "300"], "error: --total-batch-tokens 300 is not a multiple"),
        (["--warmdown-ratio", "2"], "error: --warmdown-ratio 2.0: must be in [0, 1]"),
    ],
)
def test_bad_config_values_give_one_line_errors_and_exit_2(prepared_env, capsys, flags, expected):
    assert main([*TINY_FLAGS, "--num-steps", "1", *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(expected)


def test_unparseable_flag_gives_one_line_error_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--depth", "two"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: argument --depth: invalid int value: 'two'")


def test_missing_data_says_what_to_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NANOCHAT_BASE_DIR", str(tmp_path))
    assert main([*TINY_FLAGS, "--num-steps", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "run `python -m nanochat.data prepare --vocab-size 512`" in err


def test_exploding_loss_fails_fast_with_exit_1(prepared_env, capsys):
    # Any real loss (~6 nats at init) is above a max_loss of 0.5.
    assert main([*TINY_FLAGS, "--num-steps", "50", "--max-loss", "0.5"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: step 1: loss ") and "--max-loss 0.5" in err
    assert err.count("\n") == 1


def test_value_embeddings_and_gqa_knobs_reach_the_model(prepared_env):
    cfg = tiny_config(num_steps=2, value_embeds=False, n_kv_head_ratio=2, eval_tokens=256)
    assert isinstance(cfg.model, ModelConfig) and isinstance(cfg.optim, OptimConfig)
    summary = train(cfg)
    no_ve = GPT.build(cfg.model, "cpu").num_params_by_group()
    assert no_ve["value_embeds"] == 0
    assert summary["num_params_M"] == pytest.approx(no_ve["total"] / 1e6)


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="needs a machine without CUDA to request a missing GPU"
)
def test_requesting_a_missing_gpu_is_a_one_line_error(prepared_env, capsys):
    assert main([*TINY_FLAGS, "--device", "cuda", "--num-steps", "1"]) == 2
    err = capsys.readouterr().err
    assert err == "error: --device 'cuda' requested but CUDA is not available; use --device cpu\n"
