"""harness.bench.step and harness.bench.compare on tiny CPU configs: the real model, optimizer and
loader at depth 2, sequence 64, batch 2, with two or three short rounds."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from harness.bench import compare
from harness.bench.compare import compare_step
from harness.bench.render import render_compare_text, render_text
from harness.bench.step import RESULT_KEYS, StepBench, bench_step, summarize
from harness.errors import HarnessError
from nanochat.device import peak_flops_for_name
from nanochat.flops import flops_per_token
from nanochat.model import GPT

REPO = Path(__file__).resolve().parents[2]
TINY = StepBench(
    depth=2,
    sequence_len=64,
    device_batch_size=2,
    grad_accum=2,
    device="cpu",
    warmup_steps=2,
    rounds=3,
    steps_per_round=2,
    data="synthetic",
)


@pytest.fixture(scope="module")
def tiny_result() -> dict:
    return bench_step(TINY)


def test_result_has_every_documented_key(tiny_result: dict) -> None:
    assert set(tiny_result) == set(RESULT_KEYS)
    assert set(tiny_result["environment"]) >= {
        "device",
        "torch",
        "cuda",
        "dtype",
        "attention",
        "compile",
    }
    assert (
        tiny_result["environment"]["attention"] == "sdpa"
    )  # CPU, all-long windows: is_causal path


def test_rounds_are_positive_and_the_spread_brackets_the_median(tiny_result: dict) -> None:
    rounds = tiny_result["rounds_ms_per_step"]
    ms = tiny_result["ms_per_step"]
    assert len(rounds) == TINY.rounds and all(r > 0 for r in rounds)
    assert ms["min"] <= ms["median"] <= ms["max"] and ms["iqr"] >= 0
    assert 0 < tiny_result["loader_share"] < 1


def test_tok_per_s_is_tokens_per_step_over_the_median_step(tiny_result: dict) -> None:
    assert tiny_result["tokens_per_step"] == 2 * 64 * 2  # batch x sequence x micro-steps
    expected = tiny_result["tokens_per_step"] / (tiny_result["ms_per_step"]["median"] / 1e3)
    assert tiny_result["tok_per_s"] == pytest.approx(expected, rel=1e-12)  # same arithmetic


def test_flop_count_is_the_trainers_formula(tiny_result: dict) -> None:
    model = GPT.build(TINY.train_config().model, "cpu")
    assert tiny_result["flops_per_token"] == flops_per_token(model, TINY.sequence_len)
    tflops = tiny_result["flops_per_token"] * tiny_result["tok_per_s"] / 1e12
    assert tiny_result["tflops_per_s"] == pytest.approx(tflops, rel=1e-12)


def test_mfu_is_none_on_cpu(tiny_result: dict) -> None:
    assert tiny_result["peak_flops"] is None
    assert tiny_result["mfu_percent"] is None
    assert tiny_result["memory"]["allocated_mb"] is None
    assert tiny_result["memory"]["max_rss_mb"] > 0


def test_mfu_is_achieved_flops_over_the_gpu_peak(tiny_result: dict) -> None:
    facts = {k: tiny_result[k] for k in ("environment", "memory", "tokens_per_step")}
    facts |= {k: tiny_result[k] for k in ("flops_per_token", "num_params", "final_loss")}
    rounds = [{"ms_per_step": 10.0, "loader_ms_per_step": 1.0}]
    result = summarize(TINY, {**facts, "peak_flops": 989e12}, tiny_result["warmup"], rounds)
    expected = (
        100 * tiny_result["flops_per_token"] * tiny_result["tokens_per_step"] / 0.010 / 989e12
    )
    assert result["mfu_percent"] == pytest.approx(expected, rel=1e-12)


def test_warmup_is_reported_apart_from_the_rounds(tiny_result: dict) -> None:
    warmup = tiny_result["warmup"]
    assert warmup["steps"] == TINY.warmup_steps
    assert warmup["seconds"] >= warmup["first_step_s"] > 0
    assert len(tiny_result["rounds_ms_per_step"]) == TINY.rounds


def test_result_is_strict_json(tiny_result: dict) -> None:
    assert json.loads(json.dumps(tiny_result, allow_nan=False)) == tiny_result
    assert math.isfinite(tiny_result["final_loss"])


def test_text_report_gives_ms_per_step_and_no_mfu_on_cpu(tiny_result: dict) -> None:
    lines = render_text(tiny_result).splitlines()
    assert lines[3].startswith("ms/step: median ")
    assert lines[4].endswith("MFU - (no bf16 peak known for this device)")


@pytest.mark.slow
def test_real_data_is_timed_through_the_packed_loader(prepared_env) -> None:
    bench = replace(TINY, data="real", vocab_size=prepared_env.vocab_size, grad_accum=1, rounds=2)
    result = bench_step(bench)
    assert result["config"]["data"] == "real"
    assert 0 < result["loader_share"] < 1
    assert math.isfinite(result["final_loss"])


def test_real_data_without_preparation_is_a_one_line_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NANOCHAT_BASE_DIR", str(tmp_path))
    with pytest.raises(HarnessError) as err:
        bench_step(replace(TINY, data="real"))
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("--data real: no tokenizer for vocab size 4096")
    assert message.endswith("(`make data` does this), or pass --data synthetic")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rounds": 0}, "--rounds 0: must be at least 1"),
        ({"data": "fake"}, "--data 'fake': use one of real, synthetic"),
        ({"depth": 0}, "--depth 0: must be at least 1"),
    ],
)
def test_bad_setting_is_a_one_line_error(change: dict, message: str) -> None:
    with pytest.raises(HarnessError, match=f"^{message}$"):
        bench_step(replace(TINY, **change))


@pytest.mark.parametrize(
    ("name", "peak"),
    [
        ("NVIDIA H100 80GB HBM3", 989e12),
        ("NVIDIA H100 PCIe", 756e12),
        ("NVIDIA H100 NVL", 835e12),
        ("NVIDIA H200", 989e12),
        ("NVIDIA H200 NVL", 835e12),
        ("NVIDIA A100-SXM4-80GB", 312e12),
        ("NVIDIA L40S", 362e12),
        ("NVIDIA GeForce RTX 4090", 165e12),
        ("NVIDIA A10G", 0.0),  # not an A10: no figure, so no MFU
    ],
)
def test_peak_table_matches_cuda_device_names(name: str, peak: float) -> None:
    assert peak_flops_for_name(name) == peak


@pytest.mark.slow
def test_compare_against_head_interleaves_rounds_and_gives_a_ratio_near_one() -> None:
    # One thread per worker: with two OpenMP threads on two cores, a test running beside this one
    # (pytest -n 2) slows whichever side it overlaps several-fold.
    result = compare_step(REPO, "HEAD", replace(TINY, threads=1))
    assert [(r["side"], r["index"]) for r in result["rounds"]] == [
        (side, i) for i in range(TINY.rounds) for side in ("a", "b")
    ]
    assert result["a"]["environment"]["nanochat"] != result["b"]["environment"]["nanochat"]
    assert result["b"]["environment"]["nanochat"] == str(REPO / "nanochat")
    ratio = result["ratio"]
    assert ratio["ci_low"] <= ratio["b_over_a"] <= ratio["ci_high"]
    # The same model on both sides; the bound only catches a broken pairing or unit, not noise.
    assert 0.5 < ratio["b_over_a"] < 2.0
    assert render_compare_text(result).splitlines()[-1].startswith("ratio B/A ")


def test_compare_with_an_unknown_ref_is_a_one_line_error() -> None:
    with pytest.raises(HarnessError) as err:
        compare_step(REPO, "no-such-ref-for-bench", TINY)
    assert str(err.value) == (
        "git ref 'no-such-ref-for-bench' not found; pass an existing branch, tag or commit"
    )


@pytest.mark.slow
def test_a_failing_worker_takes_the_other_one_down(tmp_path, monkeypatch) -> None:
    import shutil
    import subprocess

    root = tmp_path / "repo"
    shutil.copytree(
        REPO / "nanochat", root / "nanochat", ignore=shutil.ignore_patterns("__pycache__")
    )
    for args in (
        ["init", "-q"],
        ["add", "."],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    with (root / "nanochat" / "model.py").open("a") as model:
        model.write('\nraise RuntimeError("broken on purpose")\n')
    started: list[compare.Worker] = []

    class RecordedWorker(compare.Worker):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(compare, "Worker", RecordedWorker)
    with pytest.raises(HarnessError, match="^B: RuntimeError: broken on purpose$"):
        compare_step(root, "HEAD", TINY)
    assert len(started) == 2
    assert all(worker.process.poll() is not None for worker in started)
