"""The smoke-train gate runs the real trainer once on a tiny corpus prepared in a temp base dir."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.check import run_gate
from harness.gates import GateContext
from harness.gates.smoke_train import loss_findings, parse_losses, summary_findings
from nanochat.config import DataConfig
from nanochat.data import prepare
from nanochat.dataset import DEFAULT_CORPUS_DIR

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = Path(DEFAULT_CORPUS_DIR) / "tutorial"
VOCAB = 512  # the smallest vocabulary the tokenizer trains quickly; the run only needs to learn
# The gate's default run, shrunk (seq 64, 20 steps, 4K eval tokens) to stay fast on 2 busy cores;
# at reference LRs for its 256-token batch the loss falls 6.24 -> about 5.5 (3 seeds).
TINY_RUN = [
    "--depth", "2", "--sequence-len", "64", "--device-batch-size", "4", "--num-steps", "20",
    "--eval-every", "-1", "--eval-tokens", "4096", "--log-every", "5", "--vocab-size", str(VOCAB),
    "--lr-reference-batch", "256",
]  # fmt: skip


@pytest.fixture
def prepared_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if not TUTORIAL.is_dir():
        pytest.skip(f"{TUTORIAL} missing: run `bash ci/ensure-corpus.sh`")
    corpus = tmp_path / "corpus"
    shutil.copytree(TUTORIAL, corpus / "tutorial")
    monkeypatch.setenv("NANOCHAT_BASE_DIR", str(tmp_path / "base"))
    monkeypatch.setenv("NANOCHAT_CORPUS_DIR", str(corpus))
    prepare(DataConfig(corpus_dir=str(corpus)), VOCAB, num_threads=2)
    return tmp_path / "base"


@pytest.mark.slow
def test_tiny_real_run_passes_with_falling_loss_and_a_summary(prepared_base: Path) -> None:
    result = run_gate("smoke-train", GateContext(root=REPO, options={"args": TINY_RUN}))
    assert result.ok, [f.message for f in result.findings]
    assert result.metrics["last_loss"] < result.metrics["first_loss"]
    assert result.metrics["num_steps"] == 20 and result.metrics["depth"] == 2
    assert 0 < result.metrics["val_bpb"] < 20
    assert result.metrics["training_seconds"] > 0


@pytest.mark.slow
def test_unprepared_data_is_smoke002_with_the_prepare_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NANOCHAT_BASE_DIR", str(tmp_path / "empty"))
    result = run_gate(
        "smoke-train",
        GateContext(root=REPO, options={"args": ["--depth", "2", "--num-steps", "2"]}),
    )
    assert [f.rule for f in result.findings] == ["SMOKE002"]
    assert "nanochat.data prepare" in result.findings[0].fix_title


def test_loss_lines_are_parsed_including_nan() -> None:
    log = "params 1M\nstep 00001/30 | loss 8.3177 | lrm 1.00\nstep 00005 | loss nan | lrm 1.00\n"
    losses = parse_losses(log)
    assert losses[0] == 8.3177 and losses[1] != losses[1]


def test_a_loss_that_does_not_fall_is_smoke003() -> None:
    (finding,) = loss_findings([5.0, 5.1, 5.2])
    assert finding.rule == "SMOKE003" and "first 5.0000, last 5.2000" in finding.message


def test_a_non_finite_loss_is_smoke003() -> None:
    assert [f.rule for f in loss_findings([5.0, float("inf")])] == ["SMOKE003"]


def test_summary_without_val_bpb_is_smoke004(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"training_seconds": 1.0}')
    (finding,), _ = summary_findings(path)
    assert finding.rule == "SMOKE004" and "val_bpb" in finding.message


def test_summary_with_null_val_bpb_is_smoke004(tmp_path: Path) -> None:
    keys = [
        "training_seconds",
        "total_seconds",
        "peak_mem_mb",
        "mfu_percent",
        "total_tokens_M",
        "num_steps",
        "num_params_M",
        "depth",
    ]
    path = tmp_path / "s.json"
    path.write_text("{" + ", ".join(f'"{k}": 1' for k in keys) + ', "val_bpb": null}')
    (finding,), _ = summary_findings(path)
    assert "not a finite number" in finding.message


@pytest.mark.slow
def test_a_run_that_exits_with_an_error_is_smoke001_with_its_error_line() -> None:
    result = run_gate("smoke-train", GateContext(root=REPO, options={"args": ["--no-such-flag"]}))
    (finding,) = result.findings
    assert finding.rule == "SMOKE001" and finding.path == "nanochat/train.py"
    assert "exited 2: error: unrecognized arguments: --no-such-flag" in finding.message
