"""The sealed side of a trial: pinning, the training view, the audit hook and the evaluator process.

The evaluator tests score the checkpoint of the session's honest trial (``honest``) from eval
trees built out of edited candidates, running the real evaluator process as a trial does.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from dataclasses import asdict
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.research.dataview import (
    audited_train_command,
    file_sha256,
    pin_evaluator,
    training_view,
    verify_pinned,
    watched_paths,
)
from harness.research.sealed_eval import (
    SEALED_MODULES,
    build_eval_tree,
    causality_probe,
    eval_args,
    sealed_eval_command,
)
from nanochat.config import DataConfig
from nanochat.dataset import data_dir

EVAL_ROWS = 2  # rows per eval batch, as in the shared trial spec
SPLIT_TOKENS = 1024  # 4 batches of 2 x 128 per split
NONCE = "nonce-from-the-test"


def run_evaluator(
    research, tree: Path, checkpoint: Path, work: Path, dev=SPLIT_TOKENS, test=SPLIT_TOKENS
) -> dict:
    """The evaluator process on ``tree``'s eval tree, as run_trial starts it; its JSON result."""
    eval_tree = build_eval_tree(tree, research.pinned_dir, work / "eval_tree")
    out = work / "eval.json"
    argv = sealed_eval_command() + eval_args(
        research.pinned_dir, checkpoint, out, dev, test, EVAL_ROWS
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(eval_tree),
        "NANOCHAT_BASE_DIR": research.pinned["base_dir"],
    }
    subprocess.run(
        argv, cwd=work, env=env, input=NONCE + "\n", text=True, capture_output=True, timeout=120
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result.pop("nonce") == NONCE
    return result


@pytest.fixture
def checkpoint(honest) -> Path:
    spec, result = honest
    assert result.status == "ok"
    return Path(spec.run_dir) / "ckpt"


def test_pinning_records_the_base_data_config_vocab_and_sequence_len(research):
    pinned, data = research.pinned, research.data
    assert pinned["data"] == asdict(DataConfig(corpus_dir=str(data.corpus_dir.resolve())))
    assert (pinned["vocab_size"], pinned["sequence_len"]) == (512, 128)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=research.repo, capture_output=True, text=True
    )
    assert pinned["base_commit"] == head.stdout.strip()  # "HEAD" resolved, so it stays put
    assert json.loads((research.pinned_dir / "pinned.json").read_text()) == pinned
    val = Path(pinned["val_dir"])
    expected = {str(val / "shard_00000.tokens.npy"), str(val / "shard_00000.offsets.npy")}
    expected |= {pinned["manifest"], str(research.pinned_dir / "nanochat" / "evaluate.py")}
    expected |= {str(p) for p in Path(pinned["tokenizer_dir"]).iterdir()}
    assert expected <= set(pinned["hashes"])
    assert not any("/train/" in path for path in pinned["hashes"])  # the evaluator never reads it


def test_pinning_without_prepared_data_names_the_prepare_command(research, tmp_path, monkeypatch):
    monkeypatch.setenv("NANOCHAT_BASE_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("NANOCHAT_CORPUS_DIR", str(research.data.corpus_dir))
    where = data_dir(DataConfig(corpus_dir=str(research.data.corpus_dir)), 512)
    with pytest.raises(HarnessError) as raised:
        pin_evaluator(research.repo, "HEAD", tmp_path / "pinned", research.pinned["train_args"])
    assert str(raised.value) == (
        f"{where}: no prepared data for vocab size 512; "
        "run `python -m nanochat.data prepare --vocab-size 512`"
    )


def test_verify_pinned_names_the_first_changed_or_missing_file(tmp_path):
    first, second = tmp_path / "a.npy", tmp_path / "b.npy"
    first.write_bytes(b"pinned a")
    second.write_bytes(b"pinned b")
    pinned = {"hashes": {str(first): file_sha256(first), str(second): file_sha256(second)}}
    assert verify_pinned(pinned) == ""
    second.write_bytes(b"edited b")
    assert verify_pinned(pinned) == (
        f"{second}: changed since the evaluator was pinned "
        f"(sha256 {file_sha256(second)[:12]}, pinned {pinned['hashes'][str(second)][:12]})"
    )
    first.unlink()
    assert verify_pinned(pinned) == (
        f"{first}: missing since the evaluator was pinned; run `harness research init` again"
    )


def test_the_training_view_has_the_tokenizer_and_train_split_but_no_val_split(research, tmp_path):
    pinned = research.pinned
    view = training_view(pinned, tmp_path / "view")
    data = view / Path(pinned["data_dir"]).relative_to(pinned["base_dir"])
    assert sorted(p.name for p in data.iterdir()) == ["manifest.json", "train"]
    train = sorted(p.name for p in (data / "train").iterdir())
    assert train == sorted(p.name for p in Path(pinned["train_dir"]).iterdir())
    tokenizer = view / Path(pinned["tokenizer_dir"]).relative_to(pinned["base_dir"])
    assert sorted(p.name for p in tokenizer.iterdir()) == ["meta.json", "ranks.tiktoken"]


def test_the_audit_hook_logs_only_touches_of_watched_paths(research, tmp_path):
    val = Path(research.pinned["val_dir"])
    train_shard = Path(research.pinned["train_dir"]) / "shard_00000.tokens.npy"
    alias = tmp_path / "alias.npy"
    alias.symlink_to(val / "shard_00000.offsets.npy")
    package = tmp_path / "tree" / "nanochat"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "train.py").write_text(
        "import os, sys\n"
        f"open({str(train_shard)!r}, 'rb').close()\n"
        f"open({str(val / 'shard_00000.tokens.npy')!r}, 'rb').close()\n"
        f"os.listdir({str(val)!r})\n"
        f"open({str(alias)!r}, 'rb').close()\n"
        "print('trained with', sys.argv[1:])\n"
    )
    log = tmp_path / "audit.log"
    argv = audited_train_command(log, watched_paths(research.pinned)) + ["--seed", "3"]
    env = {**os.environ, "PYTHONPATH": str(package.parent)}
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "trained with ['--seed', '3']\n")
    assert log.read_text().splitlines() == [
        f"open {val / 'shard_00000.tokens.npy'}",
        f"os.listdir {val}",
        f"open {val / 'shard_00000.offsets.npy'}",  # through the symlink
    ]


def test_the_eval_tree_holds_the_pinned_sealed_modules_and_the_candidates_model(
    research, make_candidate, tmp_path
):
    tree = make_candidate(
        {
            "evaluate.py": [("IGNORE_INDEX = -1", "IGNORE_INDEX = 0")],
            "model.py": [("class GPT", "# candidate edit\nclass GPT")],
        }
    )
    (tree / "nanochat" / "evaluate").mkdir()  # a package would shadow evaluate.py at import
    (tree / "nanochat" / "evaluate" / "__init__.py").write_text("def evaluate(*a): return 0.0\n")
    package = build_eval_tree(tree, research.pinned_dir, tmp_path / "eval_tree") / "nanochat"
    pinned = research.pinned_dir / "nanochat"
    for name in SEALED_MODULES:
        assert (package / name).read_bytes() == (pinned / name).read_bytes()
    assert not (package / "evaluate").exists()
    assert "# candidate edit\nclass GPT" in (package / "model.py").read_text()


def test_the_evaluator_scores_test_on_the_batches_right_after_dev(research, checkpoint, tmp_path):
    split = run_evaluator(research, research.repo, checkpoint, tmp_path / "split")
    # dev over both halves; the val split holds one batch more, for the (ignored) test part
    whole = run_evaluator(
        research, research.repo, checkpoint, tmp_path / "whole", dev=2 * SPLIT_TOKENS, test=256
    )
    dev, test = split["dev"], split["test"]
    assert dev["tokens"] == test["tokens"] == SPLIT_TOKENS
    assert dev["bpb"] != test["bpb"]
    assert whole["dev"]["tokens"] == 2 * SPLIT_TOKENS
    nats = dev["nats_per_token"] * dev["tokens"] + test["nats_per_token"] * test["tokens"]
    combined = nats / (math.log(2) * (dev["bytes"] + test["bytes"]))
    # the same batches summed in one float32 pass instead of two: equal to float32 rounding
    assert whole["dev"]["bpb"] == pytest.approx(combined, rel=1e-6)
    assert split["causality"]["ok"] and split["causality"]["max_diff"] == 0.0


def test_the_causality_probe_flags_a_model_that_reads_the_next_token():
    import torch

    class CumulativeMean(torch.nn.Module):
        """Logits from the running mean of the embeddings up to each position (causal)."""

        def __init__(self, reverse: bool):
            super().__init__()
            self.embed = torch.nn.Embedding(64, 64)
            self.reverse = reverse

        def forward(self, idx):
            x = self.embed(idx.flip(1) if self.reverse else idx).cumsum(1)
            return x.flip(1) if self.reverse else x

    torch.manual_seed(0)
    rows = torch.randint(0, 64, (2, 16))
    assert causality_probe(CumulativeMean(reverse=False), rows, 64)["max_diff"] == 0.0
    reading_ahead = causality_probe(CumulativeMean(reverse=True), rows, 64)
    assert not reading_ahead["ok"] and reading_ahead["max_diff"] > 1e-3


def test_the_evaluator_reports_a_data_config_that_lost_a_pinned_field(
    research, make_candidate, checkpoint, tmp_path
):
    tree = make_candidate({"config.py": [("    loader_buffer_docs: int = 1000", "")]})
    result = run_evaluator(research, tree, checkpoint, tmp_path)
    assert (result["kind"], result["error"]) == (
        "crash",
        "nanochat/config.py: DataConfig no longer takes the pinned fields (DataConfig.__init__() "
        "got an unexpected keyword argument 'loader_buffer_docs'); keep every DataConfig field",
    )


def test_the_evaluator_refuses_a_candidate_that_moves_the_data(
    research, make_candidate, checkpoint, tmp_path
):
    elsewhere = tmp_path / "elsewhere"
    moved = ('    return Path(os.environ.get("NANOCHAT_BASE_DIR", Path.home() / ".cache" / "nanochat"))',
             f"    return Path({str(elsewhere)!r})")  # fmt: skip
    tree = make_candidate({"config.py": [moved]})
    result = run_evaluator(research, tree, checkpoint, tmp_path)
    found = elsewhere / Path(research.pinned["val_dir"]).relative_to(research.pinned["base_dir"])
    assert (result["kind"], result["error"]) == (
        "tamper",
        f"the candidate's nanochat resolves the val split to {found}, not the pinned "
        f"{research.pinned['val_dir']}; keep base_dir() and the data paths as they are",
    )


def test_the_evaluator_refuses_a_candidate_that_replaces_cross_entropy(
    research, make_candidate, checkpoint, tmp_path
):
    patch = "\n\nF.cross_entropy = lambda logits, targets, **kw: torch.zeros(targets.shape)\n"
    tree = make_candidate()
    with open(tree / "nanochat" / "model.py", "a", encoding="utf-8") as handle:
        handle.write(patch)
    result = run_evaluator(research, tree, checkpoint, tmp_path)
    assert (result["kind"], result["error"]) == (
        "tamper",
        "torch.nn.functional.cross_entropy was replaced while the candidate's code ran",
    )


def test_the_evaluator_refuses_splits_larger_than_the_val_split(research, checkpoint, tmp_path):
    result = run_evaluator(research, research.repo, checkpoint, tmp_path, dev=100_000)
    assert (result["kind"], result["error"]) == (
        "crash",
        f"{research.pinned['val_dir']}: the val split fills 9 batches of 2 x 128 tokens; "
        "dev (390) and test (4) need 394; lower dev-tokens/test-tokens or prepare a larger corpus",
    )
