"""Tests for ``harness bench ttt``: the gpt2 baseline, the presets' plans, real tiny target runs."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F

from harness.bench.presets import PRESETS, format_plan, plan
from harness.bench.ttt import read_curve, time_to_target
from harness.errors import HarnessError
from nanochat.config import ModelConfig, OptimConfig
from nanochat.gpt2_baseline import GPT2, build_optimizer, matched_shape, param_count
from nanochat.model import GPT
from nanochat.optim import apply_schedule

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY_MODEL = ModelConfig(depth=2, vocab_size=512, sequence_len=64)
# A real target run small enough for a test: depth 2 on 4 x 64-token batches of the prepared
# tutorial corpus, evaluations every 5 steps, one untimed step so training_seconds starts at once.
TINY_FLAGS = [
    "--depth", "2", "--sequence-len", "64", "--vocab-size", "512", "--device-batch-size", "4",
    "--lr-reference-batch", "256", "--num-steps", "10", "--eval-every", "5",
    "--eval-tokens", "1024", "--warmup-steps-excluded", "1",
]  # fmt: skip
REACHED_AT_ONCE = 100.0  # far above any model's val_bpb, so the first evaluation reaches it


def nanochat_params(config: ModelConfig) -> int:
    with torch.device("meta"):
        return GPT(config).num_params_by_group()["total"]


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig(depth=2, vocab_size=512, sequence_len=64),
        ModelConfig(),  # the CPU preset's depth-4 model
        ModelConfig(depth=12, vocab_size=32768, sequence_len=2048),
        ModelConfig(depth=24, head_dim=128, vocab_size=32768, sequence_len=2048),
    ],
)
def test_gpt2_baseline_matches_the_modern_parameter_count_within_3_percent(config):
    width, n_head = matched_shape(config)
    with torch.device("meta"):
        baseline = GPT2(config)
    total = baseline.num_params_by_group()["total"]
    assert total == param_count(config, width)
    assert width % n_head == 0 and (width // n_head) % config.gpt2_head_dim_multiple == 0
    # The width moves in steps of n_head x 8; on these configs the nearest step is within 2.2%.
    assert total == pytest.approx(nanochat_params(config), rel=0.03)


def test_gpt2_baseline_has_the_modern_models_loss_and_logits_contract():
    torch.manual_seed(0)
    model = GPT2.build(TINY_MODEL, "cpu")
    idx = torch.randint(0, 512, (2, 16))
    targets = torch.randint(0, 512, (2, 16))
    targets[0, :4] = -1
    logits = model(idx)
    assert logits.shape == (2, 16, 512) and logits.dtype == torch.float32
    expected = F.cross_entropy(logits.view(-1, 512), targets.view(-1), ignore_index=-1)
    torch.testing.assert_close(model(idx, targets), expected)
    # Untrained at std 0.02 the logits are near zero: the loss starts near ln(vocab).
    assert expected.item() == pytest.approx(math.log(512), abs=0.1)


def test_gpt2_baseline_is_causal():
    torch.manual_seed(0)
    model = GPT2.build(TINY_MODEL, "cpu")
    idx = torch.randint(0, 512, (1, 32))
    changed = idx.clone()
    changed[0, 20:] = (changed[0, 20:] + 1) % 512
    torch.testing.assert_close(model(idx)[:, :20], model(changed)[:, :20])


def test_gpt2_baseline_trains_with_adamw_only_and_a_constant_weight_decay():
    model = GPT2.build(TINY_MODEL, "cpu")
    config = OptimConfig(lr_reference_batch=256)
    optimizer = build_optimizer(model, config, total_batch_tokens=256)
    assert {g["kind"] for g in optimizer.param_groups} == {"adamw"}
    apply_schedule(optimizer, step=90, progress=0.9, config=config)
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == config.gpt2_weight_decay and plain["weight_decay"] == 0.0
    # warmdown_ratio 0.5: at 90% of training the LR is 20% of its peak.
    assert decayed["lr"] == pytest.approx(0.2 * config.gpt2_lr)
    shared = {id(p) for g in optimizer.param_groups for p in g["params"]}
    assert shared == {id(p) for p in model.parameters()}  # the tied head is trained once


def test_dry_run_of_the_gpt2_preset_prints_its_plan_without_training():
    planned = plan("gpt2", measured_ms_per_step=650.0)
    run = planned["runs"]["nanochat"]
    # nanochat's leaderboard Run 1: 12 tokens per matmul parameter of its d24 model is 16,704 steps.
    assert run["num_steps"] == 16704 and run["batch_tokens"] == 524288 and run["grad_accum"] == 2
    assert run["estimated_training_s"] == pytest.approx(16704 * 0.650)
    text = format_plan(planned)
    assert "target: core >= 0.256525" in text
    assert "torchrun --standalone --nproc_per_node 8 -m nanochat.train --depth 24" in text
    assert "--parquet-dir PARQUET_DIR" in text and "steps 16,704" in text
    assert "needs: CUDA with 8 GPUs" in text


def test_a_plan_without_a_measured_step_time_estimates_from_flops_at_the_assumed_mfu():
    run = plan("gpt2")["runs"]["nanochat"]
    preset = PRESETS["gpt2"]
    seconds = run["flops_per_token"] * run["tokens"] / (8 * preset.peak_flops_per_device * 0.5)
    assert run["estimated_training_s"] == pytest.approx(seconds)
    assert "assumed 50% MFU" in run["estimate_from"]


def test_read_curve_skips_a_cut_short_last_line(tmp_path):
    path = tmp_path / "curve.jsonl"
    lines = [
        {"kind": "start", "model_family": "nanochat"},
        {"kind": "train", "step": 1, "training_seconds": 0.0, "tokens": 256, "loss": 6.2},
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"kind": "eval", "st')
    curve = read_curve(path)
    assert curve["start"] == {"model_family": "nanochat"}
    assert [r["step"] for r in curve["train"]] == [1]
    assert curve["eval"] == [] and curve["is_complete"] is False


@pytest.mark.slow
def test_ttt_with_compare_runs_both_families_and_writes_the_curve_and_png(prepared_env, tmp_path):
    result = time_to_target(
        tmp_path, "cpu", target_val_bpb=REACHED_AT_ONCE, compare="gpt2-baseline",
        extra_flags=TINY_FLAGS,
    )  # fmt: skip
    runs = result["runs"]
    assert set(runs) == {"nanochat", "gpt2"}
    for run in runs.values():
        assert run["status"] == "finished" and run["reached_target"] is True
        assert run["target_step"] == run["num_steps"] == 5  # stopped at the first evaluation
        assert run["time_to_target_s"] == run["training_seconds"] > 0
    assert "--model-family" in runs["gpt2"]["command"]
    assert result["ratio"] == pytest.approx(
        runs["nanochat"]["time_to_target_s"] / runs["gpt2"]["time_to_target_s"]
    )
    saved = json.loads((tmp_path / "curve.json").read_text())
    assert set(saved["curves"]) == {"nanochat", "gpt2"}
    assert all(c["is_complete"] and c["eval"] for c in saved["curves"].values())
    assert (tmp_path / "curve.png").read_bytes()[:8] == PNG_SIGNATURE


def test_unknown_preset_lists_the_known_ones(tmp_path):
    with pytest.raises(HarnessError) as exc:
        time_to_target(tmp_path, "gpt5")
    assert str(exc.value) == "unknown preset 'gpt5'; use one of cpu, gpt2"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({"target_val_bpb": 0.0}, "--target-val-bpb 0.0: impossible target; use a finite value above 0"),
        ({"target_val_bpb": -1.0}, "--target-val-bpb -1.0: impossible target; use a finite value above 0"),
        ({"target_val_bpb": math.nan}, "--target-val-bpb nan: impossible target; use a finite value above 0"),
        ({"target_val_bpb": math.inf}, "--target-val-bpb inf: impossible target; use a finite value above 0"),
        ({"target_core": 1.5, "core_bundle": "b"}, "--target-core 1.5: impossible target; CORE is at most 1"),
    ],
)  # fmt: skip
def test_an_impossible_target_is_a_one_line_error(tmp_path, target, expected):
    with pytest.raises(HarnessError) as exc:
        time_to_target(tmp_path, "cpu", **target)
    assert str(exc.value) == expected


def test_a_core_target_without_a_bundle_says_to_pass_one(tmp_path):
    with pytest.raises(HarnessError) as exc:
        time_to_target(tmp_path, "cpu", target_core=0.3)
    assert (
        str(exc.value) == "a CORE target (0.3) needs --core-bundle DIR (core.json plus task JSONL)"
    )


def test_a_missing_core_bundle_directory_is_named(tmp_path):
    missing = tmp_path / "no-bundle"
    with pytest.raises(HarnessError) as exc:
        time_to_target(tmp_path, "cpu", target_core=0.3, core_bundle=str(missing))
    assert str(exc.value) == (
        f"trainer flags: --core-bundle {missing}: not a directory; point it at a CORE bundle"
    )


def test_a_missing_corpus_says_to_run_make_data(tmp_path, monkeypatch):
    monkeypatch.setenv("NANOCHAT_BASE_DIR", str(tmp_path / "empty"))
    with pytest.raises(HarnessError) as exc:
        time_to_target(tmp_path / "out", "cpu")
    message = str(exc.value)
    assert "\n" not in message
    assert message.endswith(
        "no prepared corpus for vocab 4096; run `make data` or "
        "`python -m nanochat.data prepare --vocab-size 4096`"
    )


def test_a_missing_parquet_directory_is_named(tmp_path):
    missing = tmp_path / "shards"
    with pytest.raises(HarnessError) as exc:
        time_to_target(tmp_path, "cpu", parquet_dir=str(missing))
    assert (
        str(exc.value) == f"{missing}: parquet directory not found; pass an existing --parquet-dir"
    )


def test_a_missing_checkpoint_to_resume_from_is_named(prepared_env, tmp_path):
    missing = tmp_path / "ckpt"
    with pytest.raises(HarnessError) as exc:
        time_to_target(tmp_path, "cpu", extra_flags=[*TINY_FLAGS, "--resume", str(missing)])
    assert str(exc.value).startswith(f"{missing}: no checkpoint (meta.json) found")


def test_bad_trainer_flags_are_a_one_line_error(tmp_path):
    with pytest.raises(HarnessError) as exc:
        time_to_target(tmp_path, "cpu", extra_flags=["--depth", "two"])
    assert str(exc.value).startswith("trainer flags: argument --depth: invalid int value: 'two'")
    assert "\n" not in str(exc.value)


def test_an_unknown_comparison_names_the_supported_one(tmp_path):
    with pytest.raises(HarnessError) as exc:
        time_to_target(tmp_path, "cpu", compare="llama")
    assert str(exc.value) == "unknown comparison 'llama'; use gpt2-baseline"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_the_gpu_only_preset_without_cuda_says_where_to_run_it(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "core.json").write_text(
        json.dumps({"tasks": [{"label": "t", "task_type": "schema"}]})
    )
    (bundle / "t.jsonl").write_text(
        json.dumps({"context_options": ["a", "b"], "continuation": "c", "gold": 0})
    )
    with pytest.raises(HarnessError) as exc:
        time_to_target(tmp_path, "gpt2", parquet_dir=str(tmp_path), core_bundle=str(bundle))
    assert str(exc.value) == (
        "preset gpt2 needs CUDA (8 GPUs) and none is available; run it on a GPU node, "
        "or pass --dry-run to print its plan"
    )
