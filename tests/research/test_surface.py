"""The editable surface: what a proposal may change, refused before anything runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.config import ConfigError
from harness.research.settings import DEFAULT_SURFACE
from harness.research.surface import check_surface_settings, edit_problem, edits_problem

SEALED = ("nanochat/evaluate.py", "nanochat/data*.py", "harness/**", "rules/**", "golden/**")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("nanochat/model.py", ""),
        ("nanochat/evaluate.py", "nanochat/evaluate.py: sealed or never editable"),
        ("nanochat/dataloader.py", "nanochat/dataloader.py: sealed or never editable"),
        ("tests/nanochat/test_train.py", "tests/nanochat/test_train.py: sealed or never editable"),
        ("harness/research/noise.py", "harness/research/noise.py: sealed or never editable"),
        ("pyproject.toml", "pyproject.toml: sealed or never editable"),
        ("nanochat/sample.py", "nanochat/sample.py: outside the editable surface"),
        ("../outside.py", "../outside.py: escapes or is not normalised"),
        ("nanochat/../harness/cli.py", "nanochat/../harness/cli.py: escapes or is not normalised"),
        ("/etc/passwd", "/etc/passwd: absolute paths escape the worktree"),
    ],
)
def test_edit_problem(tmp_path: Path, path: str, expected: str) -> None:
    problem = edit_problem(tmp_path, path, DEFAULT_SURFACE, SEALED)
    assert problem.startswith(expected) and bool(problem) == bool(expected)


def test_a_symlink_that_leads_out_of_the_worktree_is_refused(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "nanochat").mkdir(parents=True)
    os.symlink(tmp_path / "elsewhere.py", tree / "nanochat" / "model.py")
    assert edit_problem(tree, "nanochat/model.py", DEFAULT_SURFACE, SEALED) == (
        "nanochat/model.py: resolves outside the worktree (a symlink leads out)"
    )


def test_an_empty_proposal_is_refused(tmp_path: Path) -> None:
    assert edits_problem(tmp_path, {}, DEFAULT_SURFACE, SEALED) == "the proposal changes no file"


def test_a_surface_glob_over_sealed_files_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"surface 'nanochat/\*' covers nanochat/evaluate.py"):
        check_surface_settings(
            ["nanochat/*"], SEALED, ["nanochat/model.py", "nanochat/evaluate.py"]
        )
