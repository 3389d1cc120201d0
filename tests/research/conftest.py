"""Fixtures for the research tests: ``prepared_data`` and ``prepared_env`` from tests/nanochat/conftest.py.

Fixtures of a conftest reach only its own folder, so that module is loaded by path and its two
fixtures are re-exported here; the session-scoped preparation then runs once more for this folder
(about 2 s on the 17-file tutorial corpus).

On top of them: ``research`` (session) commits a copy of this repo's ``nanochat/`` into a temp
git repo and pins the evaluator from it; ``honest`` (session) is one sealed trial of that base,
checkpoint kept; ``make_candidate`` copies the base's package into a tree with text edits, and
``trial_spec`` builds the tiny trial every test runs; ``research_repo`` makes a committed, approved
copy of this project with a research table, for the loop's end-to-end tests.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from harness.research.dataview import pin_evaluator
from harness.research.settings import Objective
from harness.research.trial import TrialSpec, run_trial

_PATH = Path(__file__).parents[1] / "nanochat" / "conftest.py"
_SPEC = importlib.util.spec_from_file_location("nanochat_test_fixtures", _PATH)
_FIXTURES = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = _FIXTURES  # dataclasses look their module up there
_SPEC.loader.exec_module(_FIXTURES)

prepared_data = _FIXTURES.prepared_data
prepared_env = _FIXTURES.prepared_env

# The tiny trial every research test shares: a depth-2 model, seq 128, 5 steps on the tutorial
# corpus. The val split holds 18 documents, i.e. 18 rows of 128 tokens (each row crops one
# document), so the sealed splits are 4 batches of 2 rows each: dev and test are 1,024 tokens.
TRAIN_ARGS = (
    "--depth", "2", "--sequence-len", "128", "--device-batch-size", "4",
    "--lr-reference-batch", "512", "--vocab-size", "512",
)  # fmt: skip
NUM_STEPS = 5
EVAL_BATCH_SIZE = 2
SPLIT_TOKENS = 1024
TIMEOUT_S = 120.0  # a hang fails the test instead of stalling the suite


@dataclass(frozen=True)
class Research:
    """A research base (git repo with nanochat/ committed), its pinned evaluator and data."""

    repo: Path
    pinned_dir: Path
    pinned: dict
    data: object  # the PreparedData of tests/nanochat/conftest.py


@pytest.fixture(scope="session")
def research(prepared_data, tmp_path_factory: pytest.TempPathFactory) -> Research:
    root = tmp_path_factory.mktemp("research")
    repo = root / "repo"
    shutil.copytree(
        Path(__file__).parents[2] / "nanochat",
        repo / "nanochat",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *_GIT_IDENTITY, *args], cwd=repo, check=True)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in prepared_data.env.items():
            patch.setenv(key, value)
        pinned = pin_evaluator(repo, "HEAD", root / "pinned", TRAIN_ARGS)
    return Research(repo, root / "pinned", pinned, prepared_data)


_GIT_IDENTITY = ("-c", "user.name=research tests", "-c", "user.email=tests@example.invalid")


@pytest.fixture
def make_candidate(research: Research, tmp_path: Path):
    """``make_candidate({"model.py": [(old, new), ...]})``: a tree holding the base's nanochat/
    with each ``old`` text (which must occur) replaced by ``new``."""

    def make(edits: dict[str, list[tuple[str, str]]] | None = None, name: str = "tree") -> Path:
        tree = tmp_path / name
        shutil.copytree(research.repo / "nanochat", tree / "nanochat")
        for file, replacements in (edits or {}).items():
            path = tree / "nanochat" / file
            text = path.read_text(encoding="utf-8")
            for old, new in replacements:
                assert old in text, f"{file}: {old!r} not found; update the test's edit"
                text = text.replace(old, new, 1)
            path.write_text(text, encoding="utf-8")
        return tree

    return make


def trial_spec(research: Research, tree: Path, run_dir: Path, **changes) -> TrialSpec:
    """The tiny sealed trial of ``tree`` (seed 7); ``changes`` replace any field."""
    spec = TrialSpec(
        tree=str(tree),
        run_dir=str(run_dir),
        seed=7,
        budget_s=0.0,
        num_steps=NUM_STEPS,
        train_args=TRAIN_ARGS,
        timeout_s=TIMEOUT_S,
        objective=Objective(),
        pinned_dir=str(research.pinned_dir),
        dev_tokens=SPLIT_TOKENS,
        test_tokens=SPLIT_TOKENS,
        eval_batch_size=EVAL_BATCH_SIZE,
    )
    return replace(spec, **changes)


@pytest.fixture(scope="session")
def honest(research: Research, tmp_path_factory: pytest.TempPathFactory):
    """(spec, result) of the unedited base, trained once per session; its checkpoint is kept."""
    root = tmp_path_factory.mktemp("honest")
    spec = trial_spec(research, research.repo, root / "run", keep_checkpoint=True)
    return spec, run_trial(spec)


@pytest.fixture
def spec_for(research: Research):
    """``spec_for(tree, run_dir, **changes)``: ``trial_spec`` bound to the session's research base."""
    return lambda tree, run_dir, **changes: trial_spec(research, tree, run_dir, **changes)


PROJECT_ROOT = Path(__file__).parents[2]
GIT_COMMIT_AS_TESTS = (*_GIT_IDENTITY, "-c", "commit.gpgsign=false")


def _research_repo(repo: Path, research_table: str, files: dict[str, str] | None = None) -> Path:
    """A committed copy of this project (tracked and untracked, not ignored, files) at ``repo``,
    with ``research_table`` appended to pyproject.toml and ``files`` (path -> text) written,
    approved as its maintainer would before the research base is committed."""
    from harness.protect import approve

    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    for path in (p for p in listed if (PROJECT_ROOT / p).is_file()):
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / path, repo / path)
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + research_table)
    for path, text in (files or {}).items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    approve(repo, "the research test's settings", "research tests")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "research base"]):
        subprocess.run(
            ["git", *GIT_COMMIT_AS_TESTS, *args], cwd=repo, check=True, capture_output=True
        )
    return repo


@pytest.fixture(scope="session")
def research_repo():
    """``research_repo(repo, research_table, files=None)``: see ``_research_repo``."""
    return _research_repo
