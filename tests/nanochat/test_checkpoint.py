"""Tests for checkpoint save/resume and sampling from a checkpoint, on real tiny training runs."""

from __future__ import annotations

import json

import pytest
import torch

from nanochat import checkpoint as ckpt
from nanochat import sample
from nanochat.config import NanochatError, TrainConfig, with_overrides
from nanochat.train import main, train

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


def tiny_config(**changes):
    """A 2-layer, 128-wide model on 64-token rows of the prepared 512-token vocabulary."""
    base = dict(
        depth=2,
        sequence_len=64,
        vocab_size=512,
        device_batch_size=4,
        lr_reference_batch=256,
        device="cpu",
    )
    return with_overrides(TrainConfig(), **{**base, **changes})


@pytest.fixture(scope="module")
def run_with_checkpoints(prepared_data, tmp_path_factory):
    """A 4-step run that checkpoints at steps 2 and 4; returns (checkpoint dir, summary)."""
    directory = tmp_path_factory.mktemp("ckpt")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in prepared_data.env.items():
            patch.setenv(key, value)
        summary = train(
            tiny_config(
                num_steps=4, checkpoint_every=2, checkpoint_dir=str(directory), eval_tokens=256
            )
        )
    return directory, summary


def test_checkpoint_holds_model_optimizer_loader_rng_and_meta(run_with_checkpoints):
    directory, _ = run_with_checkpoints
    step2 = directory / "step_000002"
    assert sorted(p.name for p in step2.iterdir()) == [
        "loader_rank0.json",
        "meta.json",
        "model.pt",
        "optim.pt",
        "rng.pt",
    ]
    meta = json.loads((step2 / "meta.json").read_text())
    assert meta["step"] == 2
    assert meta["train_config"]["model"]["depth"] == 2
    assert json.loads((step2 / "loader_rank0.json").read_text())["split"] == "train"


def test_resume_reproduces_the_next_steps_losses_exactly(run_with_checkpoints, prepared_env):
    directory, full = run_with_checkpoints
    resumed = train(
        tiny_config(num_steps=4, resume=str(directory / "step_000002"), eval_tokens=256)
    )
    assert resumed["num_steps"] == 4
    # Same weights, optimizer moments, batches and schedule on CPU fp32: bit-identical losses.
    assert resumed["train_losses"] == full["train_losses"][2:]
    assert resumed["val_bpb"] == full["val_bpb"]


def test_resolving_a_parent_directory_picks_the_latest_step(run_with_checkpoints):
    directory, _ = run_with_checkpoints
    assert ckpt.resolve_checkpoint(directory) == directory / "step_000004"
    assert ckpt.resolve_checkpoint(directory / "step_000002") == directory / "step_000002"


def test_a_directory_without_checkpoints_is_a_one_line_error(tmp_path):
    with pytest.raises(NanochatError, match="no checkpoint"):
        ckpt.resolve_checkpoint(tmp_path)


def test_resume_from_a_missing_checkpoint_exits_2_with_one_line(prepared_env, tmp_path, capsys):
    assert main([*TINY_FLAGS, "--num-steps", "1", "--resume", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no checkpoint" in err


def test_resume_with_different_model_flags_is_refused(run_with_checkpoints, prepared_env):
    directory, _ = run_with_checkpoints
    cfg = with_overrides(tiny_config(num_steps=5, resume=str(directory)), aspect_ratio=32)
    with pytest.raises(NanochatError, match="other model settings"):
        train(cfg)


def test_loaded_model_reproduces_the_saved_weights(run_with_checkpoints):
    directory, _ = run_with_checkpoints
    model = sample.load_model(str(directory), torch.device("cpu"))
    saved = torch.load(directory / "step_000004" / "model.pt", weights_only=True)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in saved.items())
    assert not model.training


def test_sample_cli_continues_a_prompt(run_with_checkpoints, prepared_env, capsys):
    directory, _ = run_with_checkpoints
    argv = [
        "--checkpoint",
        str(directory),
        "--prompt",
        "The list",
        "--max-new-tokens",
        "8",
        "--device",
        "cpu",
    ]
    assert sample.main(argv) == 0
    first = capsys.readouterr().out
    assert first.startswith("The list") and len(first.strip()) > len("The list")
    assert sample.main(argv) == 0
    assert capsys.readouterr().out == first  # same seed, same text


def test_sample_cli_without_a_checkpoint_exits_2_with_one_line(tmp_path, capsys):
    assert sample.main(["--checkpoint", str(tmp_path), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {tmp_path}: no checkpoint")
