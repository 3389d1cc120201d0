"""A declared objective (a command's `key: value` line) and the ideas file, through the real loop.

The command reads the candidate's config and prints it as the score, so the loop's behaviour is
exact and cheap (no training): the baseline seeds agree (zero spread, so `min-margin` is the
margin), the idea in `research/ideas.md` is tried first and marked kept, and the offline search
keeps climbing the declared direction. Everything else is the real loop: worktrees, commits, the
fast gates under the base's policy, the ledger.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.research.lab import Lab
from harness.research.launchers import make_launcher
from harness.research.loop import init_research, run_research
from harness.research.offline import OfflineProposer
from harness.research.settings import load_research_settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
COMMAND = f"{sys.executable} -c 'from nanochat.config import OptimConfig as O; print(\"score:\", O().matrix_lr)'"
TOML_COMMAND = COMMAND.replace('"', '\\"')  # a TOML basic string escapes its quotes
TABLE = f"""
[tool.harness.research]
seeds = 2
min-margin = 0.001
scale-every = 0
ideas = "research/ideas.md"

[tool.harness.research.objective]
key = "score"
direction = "max"
command = "{TOML_COMMAND}"

[[tool.harness.research.knobs]]
field = "matrix_lr"
scale = "log"
min = 0.001
max = 0.2
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, research_repo) -> Path:
    ideas = "# Ideas\n\n- try a cosine schedule\n- [priority 5] matrix_lr = 0.03\n"
    return research_repo(
        tmp_path_factory.mktemp("command") / "repo", TABLE, {"research/ideas.md": ideas}
    )


def _cli(repo: Path, *args: str):
    return CliRunner().invoke(
        main, ["research", *args, "--root", str(repo)], catch_exceptions=False
    )


def test_a_command_objective_is_searched_with_ideas_first(repo: Path) -> None:
    assert _cli(repo, "init", "--tag", "cmd").exit_code == 0
    lab = Lab.open(repo, "cmd")
    assert lab.meta["noise"]["scores"] == [0.02, 0.02]
    assert lab.floor.margin == 0.001
    result = _cli(repo, "run", "--tag", "cmd", "--proposer", "offline", "--max-experiments", "3")
    assert result.exit_code == 0, result.output
    experiments = lab.ledger.records("experiment")
    assert [(r["description"], r["status"]) for r in experiments] == [
        (f"idea {experiments[0]['idea']}: matrix_lr = 0.03", "keep"),
        ("matrix_lr 0.03 -> 0.06", "keep"),
        ("matrix_lr 0.06 -> 0.12", "keep"),
    ]
    assert [r["scores"] for r in experiments] == [
        {"42": 0.03, "43": 0.03}, {"42": 0.06, "43": 0.06}, {"42": 0.12, "43": 0.12},
    ]  # fmt: skip
    ideas = [(r["idea"], r["status"]) for r in lab.ledger.records("idea")]
    assert ideas == [(experiments[0]["idea"], "kept")]
    assert lab.best()["score"] == 0.12


def test_two_submitit_workers_share_one_ledger_and_never_run_the_same_point(repo: Path) -> None:
    assert _cli(repo, "init", "--tag", "pair").exit_code == 0
    lab = Lab.open(repo, "pair")
    result = _cli(
        repo, "run", "--tag", "pair", "--proposer", "offline", "--max-experiments", "4",
        "--workers", "2", "--launcher", "submitit",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    experiments = lab.ledger.records("experiment")
    assert len(experiments) == 4
    assert {r["worker"] for r in experiments} == {0, 1}
    ran = [r["fingerprint"] for r in experiments if "runs" in r]
    assert len(ran) == len(set(ran))
    kept = [r["score"] for r in experiments if r["status"] == "keep"]
    assert kept == sorted(kept) and lab.best()["score"] == max(kept)
    records = lab.ledger.records()
    assert [r["id"] for r in records] == [f"r{i:05d}" for i in range(1, len(records) + 1)]


def test_every_k_keeps_the_stack_is_remeasured_at_a_larger_depth(repo: Path) -> None:
    settings = dataclasses.replace(load_research_settings(repo), scale_every=2)
    pool = make_launcher("local", 1, repo / ".harness" / "pool")
    try:
        lab = init_research(repo, "scale", settings, pool)
        run_research(lab, lambda index: OfflineProposer(lab.settings, seed=index), pool, 3)
    finally:
        pool.close()
    kept = [r for r in lab.ledger.records("experiment") if r["status"] == "keep"]
    assert len(kept) == 3
    (scale,) = lab.ledger.records("scale")
    assert (scale["depth"], scale["commit"]) == (6, kept[1]["commit"])  # default depth 4, + 2
    assert (scale["base_score"], scale["stack_score"]) == (0.02, kept[1]["score"])
    assert scale["transfers"] is True
