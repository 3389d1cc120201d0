"""The metrics gate trains the base and the change for real and fails a change that learns worse.

A module-scoped clone of this repository is the base (its HEAD); each test edits the clone's
working tree as an agent would. The base is measured once (two seeds, cached by commit) on the
tiny tutorial corpus that ``prepared_base`` prepares, with the smoke-train tests' tiny run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.check import run_gate
from harness.gates import GateContext
from harness.gates.metrics import BASE_SEED, verdict
from nanochat.config import DataConfig
from nanochat.data import prepare
from nanochat.dataset import DEFAULT_CORPUS_DIR

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = Path(DEFAULT_CORPUS_DIR) / "tutorial"
VOCAB = 512
TINY_RUN = [
    "--depth", "2", "--sequence-len", "64", "--device-batch-size", "4", "--num-steps", "20",
    "--eval-every", "-1", "--eval-tokens", "4096", "--log-every", "5", "--vocab-size", str(VOCAB),
    "--lr-reference-batch", "256",
]  # fmt: skip
OPTIONS = {"args": TINY_RUN, "seeds": 2}
# The planted regression from the issue: the learning rate clamped for the first 50 steps.
LR_CLAMP = (
    '        group["lr"] = group["initial_lr"] * lrm\n',
    '        group["lr"] = group["initial_lr"] * lrm\n'
    "        if step < 50:\n"
    '            group["lr"] = min(group["lr"], 3e-4)\n',
)
pytestmark = pytest.mark.xdist_group("metrics-gate")


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not TUTORIAL.is_dir():
        pytest.skip(f"{TUTORIAL} missing: run `bash ci/ensure-corpus.sh`")
    root = tmp_path_factory.mktemp("metrics") / "repo"
    subprocess.run(["git", "clone", "-q", str(REPO), str(root)], check=True)
    corpus = root.parent / "corpus"
    shutil.copytree(TUTORIAL, corpus / "tutorial")
    env = {"NANOCHAT_BASE_DIR": str(root.parent / "base"), "NANOCHAT_CORPUS_DIR": str(corpus)}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        prepare(DataConfig(corpus_dir=str(corpus)), VOCAB, num_threads=2)
    return root


@pytest.fixture
def change(clone: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NANOCHAT_BASE_DIR", str(clone.parent / "base"))
    monkeypatch.setenv("NANOCHAT_CORPUS_DIR", str(clone.parent / "corpus"))
    yield clone
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=clone, check=True)


def check(root: Path):
    context = GateContext(root=root, base="HEAD", paths=("nanochat/optim.py",), options=OPTIONS)
    return run_gate("metrics", context)


def edit(root: Path, old: str, new: str) -> None:
    path = root / "nanochat/optim.py"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))


@pytest.mark.slow
def test_the_planted_lr_clamp_fails_naming_both_values_and_the_margin(change: Path) -> None:
    edit(change, *LR_CLAMP)
    result = check(change)
    assert not result.ok
    (finding,) = result.findings
    assert (finding.rule, finding.path) == ("METRIC001", "nanochat/optim.py")
    assert f"at HEAD (seed {BASE_SEED})" in finding.message
    assert "beyond the margin" in finding.message and "over 2 seeds" in finding.message
    assert result.metrics["val_bpb"] > result.metrics["base_val_bpb"] + result.metrics["margin"]


@pytest.mark.slow
def test_a_refactor_that_changes_no_numbers_passes_with_the_base_cached(change: Path) -> None:
    edit(
        change,
        '        group["lr"] = group["initial_lr"] * lrm\n',
        '        base_lr = group["initial_lr"]\n        group["lr"] = base_lr * lrm\n',
    )
    result = check(change)
    assert result.ok and result.findings == []
    assert result.metrics["val_bpb_delta"] == 0.0
    cached = list((change / ".harness_cache/metrics").glob("*.json"))
    assert len(cached) == 1 and len(json.loads(cached[0].read_text())["runs"]) == 2


def test_without_a_base_the_gate_is_skipped(tmp_path: Path) -> None:
    result = run_gate("metrics", GateContext(root=tmp_path))
    assert result.ok and result.skipped.startswith("no base ref")


def test_the_margin_is_the_seed_spread_times_sigmas_with_a_floor() -> None:
    runs = [{"seed": BASE_SEED, "val_bpb": 2.0}, {"seed": BASE_SEED + 1, "val_bpb": 2.02}]
    wide = verdict(2.05, runs, sigmas=3.0, min_margin=0.001)
    assert wide["margin"] == pytest.approx(3 * 0.0141421356, rel=1e-6)
    assert wide["regressed"] and wide["val_bpb_delta"] == pytest.approx(0.05)
    flat = verdict(2.0005, [{"seed": BASE_SEED, "val_bpb": 2.0}], sigmas=3.0, min_margin=0.001)
    assert flat["margin"] == 0.001 and not flat["regressed"] and not flat["improved"]
    assert verdict(1.9, runs, sigmas=3.0, min_margin=0.001)["improved"]
