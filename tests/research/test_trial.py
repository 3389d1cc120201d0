"""run_trial end to end: a real 5-step depth-2 training and the sealed evaluator, per status.

Every candidate is the base's nanochat/ with one text edit (``make_candidate``); the honest base
is trained once per session (``honest``) and compared against where a test needs a reference.
"""

from __future__ import annotations

import math
import os
import pickle
import re
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from harness.research.dataview import file_sha256, pin_evaluator
from harness.research.settings import Objective
from harness.research.trial import run_trial

pytestmark = pytest.mark.slow

TRAIN_TOP = "from nanochat.tokenizer import get_tokenizer\n"  # train.py's last import line
TRAIN_BODY = '    """Run training as configured; returns the summary (SUMMARY_KEYS) plus ``train_losses`` per step."""\n'
PRINT_SUMMARY = "        print(format_summary(summary), flush=True)\n"
FORWARD_EMBED = "        x = norm(self.wte(idx))\n"


def test_an_honest_run_is_ok_with_finite_dev_and_test_scores_that_differ(honest):
    spec, result = honest
    assert (result.status, result.reason) == ("ok", "")
    assert math.isfinite(result.score) and math.isfinite(result.test_score)
    assert result.score != result.test_score
    assert result.secondary["dev_tokens"] == result.secondary["test_tokens"] == spec.dev_tokens
    assert result.secondary["causal_max_diff"] == 0.0
    assert result.metrics["num_steps"] == spec.num_steps
    assert result.memory_gb == result.metrics["peak_mem_mb"] / 1024
    assert set(result.timings) == {"train_s", "eval_s", "training_seconds", "wall_s"}
    # launchers ship results between processes; repr, because the printed val_bpb is nan
    assert repr(pickle.loads(pickle.dumps(result))) == repr(result)


@pytest.fixture(scope="module")
def rerun(honest, tmp_path_factory):
    """The honest trial once more, same seed, in a run dir of its own, checkpoint not kept."""
    spec = replace(honest[0], run_dir=str(tmp_path_factory.mktemp("rerun") / "run"))
    return spec, run_trial(replace(spec, keep_checkpoint=False))


def test_the_same_seed_gives_the_same_score_twice(honest, rerun):
    first, again = honest[1], rerun[1]
    assert again.status == "ok"
    # same code, seed, data and thread count on CPU: the runs are bit-identical
    assert (again.score, again.test_score) == (first.score, first.test_score)


def test_the_checkpoint_is_deleted_after_scoring_unless_kept(honest, rerun):
    assert any((Path(honest[0].run_dir) / "ckpt").glob("step_*/model.pt"))
    assert rerun[1].status == "ok"
    assert not (Path(rerun[0].run_dir) / "ckpt").exists()


def test_a_candidate_data_config_edit_does_not_change_the_dev_score(
    honest, make_candidate, spec_for, tmp_path
):
    edit = ("    val_fraction: float = 0.05", "    val_fraction: float = 0.5")
    tree = make_candidate({"config.py": [edit]})
    result = run_trial(spec_for(tree, tmp_path / "run"))
    assert result.status == "ok"
    assert result.score == honest[1].score


def test_a_model_that_looks_at_the_next_token_is_acausal(make_candidate, spec_for, tmp_path):
    peek = FORWARD_EMBED + "        x = x + norm(self.wte(torch.roll(idx, -1, dims=1)))\n"
    tree = make_candidate({"model.py": [(FORWARD_EMBED, peek)]})
    result = run_trial(spec_for(tree, tmp_path / "run", num_steps=2))
    diff = result.secondary["causal_max_diff"]
    assert result.status == "acausal"
    assert result.reason == (
        f"logits at positions <= t changed by {diff:.3g} when only later tokens changed "
        "(tolerance 1e-05); the model sees the future"
    )
    assert result.score is None


def test_a_trainer_that_opens_the_real_val_shards_is_a_leak(
    research, make_candidate, spec_for, tmp_path
):
    shard = Path(research.pinned["val_dir"]) / "shard_00000.tokens.npy"
    peek = TRAIN_BODY + f"    open({str(shard)!r}, 'rb').read()\n"
    tree = make_candidate({"train.py": [(TRAIN_BODY, peek)]})
    result = run_trial(spec_for(tree, tmp_path / "run", num_steps=1))
    assert (result.status, result.reason) == ("leak", f"training read validation data: {shard}")
    assert result.timings["eval_s"] == 0.0  # a leak is never scored


def test_a_trainer_that_prints_a_fake_val_bpb_is_a_fake_summary(
    honest, make_candidate, spec_for, tmp_path
):
    fake = '        summary["val_bpb"] = 0.1\n' + PRINT_SUMMARY
    tree = make_candidate({"train.py": [(PRINT_SUMMARY, fake)]})
    result = run_trial(spec_for(tree, tmp_path / "run"))
    assert result.metrics["val_bpb"] == 0.1
    # the weights are the honest run's (same code path and seed), so the sealed value is too
    assert (result.status, result.reason) == (
        "fake-summary",
        f"the trainer printed val_bpb 0.1; the sealed evaluator measured {honest[1].score:.6g}",
    )


def test_an_absurd_learning_rate_is_nan(spec_for, research, tmp_path):
    lrs = ("--matrix-lr", "1e9", "--embedding-lr", "1e9", "--unembedding-lr", "1e9")
    spec = spec_for(research.repo, tmp_path / "run")  # by step 5 the loss is past --max-loss
    result = run_trial(replace(spec, train_args=spec.train_args + lrs))
    assert result.status == "nan"
    assert re.fullmatch(
        r"training diverged: error: step \d+: loss \S+ is not finite or above --max-loss 20; "
        r"lower the learning rates \(--matrix-lr, --embedding-lr\) or check the data",
        result.reason,
    ), result.reason


def test_an_exception_in_training_is_a_crash(make_candidate, spec_for, tmp_path):
    boom = TRAIN_BODY + "    raise RuntimeError('boom from the candidate')\n"
    tree = make_candidate({"train.py": [(TRAIN_BODY, boom)]})
    result = run_trial(spec_for(tree, tmp_path / "run"))
    assert (result.status, result.reason) == (
        "crash",
        "training exited with status 1: RuntimeError: boom from the candidate",
    )
    assert result.log_tail.endswith("RuntimeError: boom from the candidate")


def test_a_trainer_that_sleeps_past_its_timeout_is_a_timeout(make_candidate, spec_for, tmp_path):
    tree = make_candidate({"train.py": [(TRAIN_TOP, TRAIN_TOP + "time.sleep(600)\n")]})
    result = run_trial(spec_for(tree, tmp_path / "run", timeout_s=3.0))
    assert (result.status, result.reason) == ("timeout", "training ran past its 3 s timeout")
    assert result.timings["train_s"] < 10.0  # killed at the limit, not at the sleep's end


def test_a_timed_out_trainers_own_children_are_killed_too(make_candidate, spec_for, tmp_path):
    pid_file = tmp_path / "child.pid"
    spawn = (
        "import subprocess\n"
        f"open({str(pid_file)!r}, 'w').write(str(subprocess.Popen(['sleep', '600']).pid))\n"
        "time.sleep(600)\n"
    )
    tree = make_candidate({"train.py": [(TRAIN_TOP, TRAIN_TOP + spawn)]})
    result = run_trial(spec_for(tree, tmp_path / "run", timeout_s=4.0))
    assert result.status == "timeout"
    assert _is_gone(int(pid_file.read_text()))


def test_a_killed_harness_takes_its_trainer_with_it(make_candidate, spec_for, tmp_path):
    pid_file = tmp_path / "trainer.pid"
    announce = (
        f"open({str(pid_file)!r} + '.tmp', 'w').write(str(os.getpid()))\n"
        f"os.replace({str(pid_file)!r} + '.tmp', {str(pid_file)!r})\n"
        "time.sleep(600)\n"
    )
    tree = make_candidate({"train.py": [(TRAIN_TOP, TRAIN_TOP + "import os\n" + announce)]})
    spec = spec_for(tree, tmp_path / "run", timeout_s=600.0)
    script = (
        "import pickle\nfrom harness.research.trial import run_trial\n"
        f"run_trial(pickle.loads({pickle.dumps(spec)!r}))\n"
    )
    harness = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline and harness.poll() is None:
        time.sleep(0.1)
    harness.kill()  # SIGKILL: the harness gets no chance to clean up
    harness.wait()
    assert _is_gone(int(pid_file.read_text()))


def _is_gone(pid: int, wait_s: float = 5.0) -> bool:
    """True once ``pid`` no longer runs (a zombie waiting for init to reap it counts as gone)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(
    ("raised", "last_line"),
    [
        ("MemoryError", "MemoryError"),
        (
            "torch.OutOfMemoryError('CUDA out of memory. Tried to allocate 2.00 GiB')",
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
        ),
    ],
)
def test_running_out_of_memory_is_oom(make_candidate, spec_for, tmp_path, raised, last_line):
    tree = make_candidate({"train.py": [(TRAIN_BODY, TRAIN_BODY + f"    raise {raised}\n")]})
    result = run_trial(spec_for(tree, tmp_path / "run"))
    assert (result.status, result.reason) == ("oom", f"training ran out of memory: {last_line}")


def test_a_val_shard_modified_after_pinning_is_tamper(research, spec_for, tmp_path, monkeypatch):
    data = research.data
    base = tmp_path / "base"
    shutil.copytree(data.base_dir, base)  # a private copy: the shared data stays intact
    monkeypatch.setenv("NANOCHAT_BASE_DIR", str(base))
    monkeypatch.setenv("NANOCHAT_CORPUS_DIR", str(data.corpus_dir))
    pinned = pin_evaluator(
        research.repo, "HEAD", tmp_path / "pinned", research.pinned["train_args"]
    )
    shard = Path(pinned["val_dir"]) / "shard_00000.tokens.npy"
    tokens = np.load(shard)
    tokens[:10] = tokens[10:20]
    np.save(shard, tokens)
    spec = spec_for(research.repo, tmp_path / "run", pinned_dir=str(tmp_path / "pinned"))
    result = run_trial(spec)
    assert (result.status, result.reason) == (
        "tamper",
        f"{shard}: changed since the evaluator was pinned "
        f"(sha256 {file_sha256(shard)[:12]}, pinned {pinned['hashes'][str(shard)][:12]})",
    )


def test_the_command_objective_scores_the_printed_key(research, spec_for, tmp_path):
    command = (
        "echo 'step 1 | loss 3.0'; echo '---'; echo 'val_bpb: 1.25'; echo 'peak_vram_mb: 2048.0'"
    )
    spec = spec_for(research.repo, tmp_path / "run", objective=Objective(command=command))
    result = run_trial(spec)
    assert (result.status, result.reason, result.score) == ("ok", "", 1.25)
    assert result.memory_gb == 2.0


def test_the_command_objective_sees_the_seed_and_the_tree(research, spec_for, tmp_path):
    command = 'echo "---"; echo "seed: $HARNESS_SEED"; echo "here: $(pwd)"'
    spec = spec_for(research.repo, tmp_path / "run", objective=Objective("seed", command=command))
    result = run_trial(spec)
    assert (result.status, result.score) == ("ok", 7.0)
    assert result.metrics["here"] == os.path.realpath(research.repo)


def test_a_command_that_never_prints_the_key_is_a_crash(research, spec_for, tmp_path):
    spec = spec_for(
        research.repo, tmp_path / "run", objective=Objective(command="echo 'loss: 2.5'")
    )
    result = run_trial(spec)
    assert (result.status, result.reason) == (
        "crash",
        "the objective command printed no `val_bpb: value` line",
    )
